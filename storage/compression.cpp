#include "storage/compression.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>

#include "storage/segment.hpp"

namespace storage {

namespace fs = std::filesystem;

namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* c) const noexcept { ZSTD_freeDCtx(c); }
};
using CCtx = std::unique_ptr<ZSTD_CCtx, CCtxDeleter>;
using DCtx = std::unique_ptr<ZSTD_DCtx, DCtxDeleter>;

Result<CCtx> make_cctx(int level) {
  CCtx c(ZSTD_createCCtx());
  if (!c) return fail(Errc::io, "zstd: out of memory");
  // The content checksum lets a reader tell a damaged frame even where the
  // records' CRCs would also catch it: two independent checks, one cheap.
  if (ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, level)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, 1))) {
    return fail(Errc::invalid_argument, "zstd: bad compression level");
  }
  return c;
}

}  // namespace

Decompressed zstd_decompress(std::string_view compressed, std::uint64_t max_size) {
  Decompressed out;
  DCtx d(ZSTD_createDCtx());
  if (!d) {
    out.error = "zstd: out of memory";
    return out;
  }
  // Decode straight into the result. Our frames record their size, so the
  // first step usually fits it whole; the limit bounds what a lie can cost.
  const unsigned long long declared =
      ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  std::uint64_t step = declared < max_size ? declared + 1 : std::uint64_t{1} << 16;
  step = std::clamp<std::uint64_t>(step, 256, std::uint64_t{1} << 20);
  std::size_t used = 0;
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  for (;;) {
    // At the limit, a one-byte probe tells "complete" from "one byte too many".
    char probe = 0;
    const bool at_limit = used >= max_size;
    if (!at_limit && used == out.bytes.size()) {
      out.bytes.resize(static_cast<std::size_t>(std::min<std::uint64_t>(used + step, max_size)));
      step = std::min<std::uint64_t>(step * 2, std::uint64_t{1} << 24);
    }
    ZSTD_outBuffer o = at_limit
                           ? ZSTD_outBuffer{&probe, 1, 0}
                           : ZSTD_outBuffer{out.bytes.data() + used, out.bytes.size() - used, 0};
    const std::size_t r = ZSTD_decompressStream(d.get(), &o, &in);
    if (at_limit && o.pos > 0) {
      out.bytes.resize(used);
      out.error = "zstd: decompressed size above the limit of " + std::to_string(max_size);
      return out;
    }
    if (!at_limit) used += o.pos;
    if (ZSTD_isError(r)) {
      out.bytes.resize(used);
      out.error = std::string("zstd: ") + ZSTD_getErrorName(r);
      return out;
    }
    // Done when the input is consumed and either a frame just ended, fully
    // flushed (r == 0), or the decoder had room to spare (a full buffer may
    // mean more output is waiting).
    if (in.pos == in.size && (r == 0 || o.pos < o.size)) {
      out.bytes.resize(used);
      if (r != 0) out.error = "zstd: truncated frame";
      return out;
    }
  }
}

Result<std::string> zstd_compress(std::string_view bytes, int level) {
  Result<CCtx> c = make_cctx(level);
  if (!c) return rt::Err{c.error()};
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const std::size_t n =
      ZSTD_compress2(c->get(), out.data(), out.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(n)) return fail(Errc::io, std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

struct SegmentCompressor::State {
  FileOps* ops = nullptr;
  fs::path plain, target, tmp;
  UniqueFd in, out;
  CCtx cctx;
  std::uint64_t in_offset = 0, in_size = 0, out_offset = 0;
  std::string in_buf, out_buf;
  bool input_done = false;
  struct timespec mtime {};  // the plain file's: retention ages a segment by its last write
};

SegmentCompressor::SegmentCompressor(std::unique_ptr<State> s) noexcept : s_(std::move(s)) {}
SegmentCompressor::SegmentCompressor(SegmentCompressor&&) noexcept = default;
SegmentCompressor& SegmentCompressor::operator=(SegmentCompressor&& o) noexcept {
  if (this != &o) {
    abandon();
    s_ = std::move(o.s_);
  }
  return *this;
}
SegmentCompressor::~SegmentCompressor() {
  abandon();
}

const fs::path& SegmentCompressor::source() const noexcept {
  return s_->plain;
}

Result<SegmentCompressor> SegmentCompressor::start(FileOps& ops, const fs::path& plain, int level) {
  const std::optional<SegmentName> name = parse_segment_name(plain.filename().string());
  if (!name || name->compressed) {
    return fail(Errc::invalid_argument, "not a plain segment: " + plain.string());
  }
  auto s = std::make_unique<State>();
  s->ops = &ops;
  s->plain = plain;
  s->target = plain.parent_path() / segment_file_name(name->first_seq, true);
  s->tmp = s->target;
  s->tmp += kTmpSuffix;
  Result<CCtx> c = make_cctx(level);
  if (!c) return rt::Err{c.error()};
  s->cctx = std::move(*c);
  Result<UniqueFd> in = open_file(plain, O_RDONLY);
  if (!in) return rt::Err{in.error()};
  s->in = std::move(*in);
  struct stat st {};
  if (::fstat(s->in.get(), &st) != 0) return fail_errno(errno, "fstat " + plain.string());
  s->in_size = static_cast<std::uint64_t>(st.st_size);
  s->mtime = st.st_mtim;
  ZSTD_CCtx_setPledgedSrcSize(s->cctx.get(), s->in_size);  // the frame records its size
  Result<UniqueFd> out = open_file(s->tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (!out) return rt::Err{out.error()};
  s->out = std::move(*out);
  s->out_buf.resize(ZSTD_CStreamOutSize());
  return SegmentCompressor(std::move(s));
}

Result<bool> SegmentCompressor::step(std::size_t budget) {
  State& s = *s_;
  auto write_out = [&](std::size_t n) -> Status {
    if (n == 0) return rt::Ok{};
    if (const int err = s.ops->write_at(s.out.get(), {s.out_buf.data(), n}, s.out_offset)) {
      return fail_errno(err, "write " + s.tmp.string());
    }
    s.out_offset += n;
    return rt::Ok{};
  };
  std::size_t consumed = 0;
  while (!s.input_done && consumed < budget) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(s.in_size - s.in_offset, 1 << 16));
    if (want == 0) {
      s.input_done = true;
      break;
    }
    s.in_buf.resize(want);
    const ssize_t n = ::pread(s.in.get(), s.in_buf.data(), want, static_cast<off_t>(s.in_offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, "read " + s.plain.string());
    }
    if (n == 0) return fail(Errc::io, "segment shrank while compressing: " + s.plain.string());
    s.in_offset += static_cast<std::uint64_t>(n);
    consumed += static_cast<std::size_t>(n);
    ZSTD_inBuffer in{s.in_buf.data(), static_cast<std::size_t>(n), 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer o{s.out_buf.data(), s.out_buf.size(), 0};
      const std::size_t r = ZSTD_compressStream2(s.cctx.get(), &o, &in, ZSTD_e_continue);
      if (ZSTD_isError(r)) return fail(Errc::io, std::string("zstd: ") + ZSTD_getErrorName(r));
      if (Status w = write_out(o.pos); !w) return rt::Err{w.error()};
    }
  }
  if (!s.input_done) return false;
  // End the frame, then make the result durable before the plain file goes.
  for (;;) {
    ZSTD_inBuffer in{nullptr, 0, 0};
    ZSTD_outBuffer o{s.out_buf.data(), s.out_buf.size(), 0};
    const std::size_t r = ZSTD_compressStream2(s.cctx.get(), &o, &in, ZSTD_e_end);
    if (ZSTD_isError(r)) return fail(Errc::io, std::string("zstd: ") + ZSTD_getErrorName(r));
    if (Status w = write_out(o.pos); !w) return rt::Err{w.error()};
    if (r == 0) break;
  }
  const struct timespec times[2] = {s.mtime, s.mtime};
  if (::futimens(s.out.get(), times) != 0) return fail_errno(errno, "futimens " + s.tmp.string());
  if (const int err = s.ops->sync_data(s.out.get())) {
    return fail_errno(err, "fdatasync " + s.tmp.string());
  }
  s.out.reset();
  if (::rename(s.tmp.c_str(), s.target.c_str()) != 0) {
    return fail_errno(errno, "rename " + s.tmp.string());
  }
  s.tmp.clear();  // nothing left to abandon
  if (Status d = sync_directory(*s.ops, s.target.parent_path()); !d) return rt::Err{d.error()};
  // Both names now hold the same records; readers that still open the plain
  // one read it whole, and a crash before this unlink leaves both (the
  // store's open removes the plain one then).
  ::unlink(s.plain.c_str());
  s.in.reset();
  return true;
}

void SegmentCompressor::abandon() noexcept {
  if (!s_) return;
  s_->out.reset();
  if (!s_->tmp.empty()) ::unlink(s_->tmp.c_str());
  s_->tmp.clear();
  s_.reset();
}

Status compress_segment(FileOps& ops, const fs::path& plain, int level) {
  Result<SegmentCompressor> c = SegmentCompressor::start(ops, plain, level);
  if (!c) return rt::Err{c.error()};
  for (;;) {
    Result<bool> done = c->step(std::size_t{1} << 20);
    if (!done) return rt::Err{done.error()};
    if (*done) return rt::Ok{};
  }
}

}  // namespace storage
