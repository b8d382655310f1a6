// Store::quarantine: takes the damage a reader reported out of a symbol's
// journal without destroying it, so that appending can continue after the
// last good record.
#include <unistd.h>

#include <fmt/format.h>

#include <system_error>

#include "storage/compression.hpp"
#include "storage/journal_reader.hpp"
#include "storage/segment.hpp"
#include "storage/store.hpp"

namespace storage {

namespace fs = std::filesystem;

namespace {

// Moves every file of segment `seq` (plain and compressed) into `to`.
Status move_segment(const fs::path& dir, std::uint64_t seq, const fs::path& to) {
  for (bool compressed : {false, true}) {
    const std::string name = segment_file_name(seq, compressed);
    if (::rename((dir / name).c_str(), (to / name).c_str()) != 0 && errno != ENOENT) {
      return fail_errno(errno, "rename " + (dir / name).string());
    }
  }
  return rt::Ok{};
}

// Gives every file of segment `seq` a second name in `to`: the damaged bytes
// stay reachable there after their first name is replaced by the good prefix.
Status link_segment(const fs::path& dir, std::uint64_t seq, const fs::path& to) {
  for (bool compressed : {false, true}) {
    const std::string name = segment_file_name(seq, compressed);
    if (::link((dir / name).c_str(), (to / name).c_str()) != 0 && errno != ENOENT &&
        errno != EEXIST) {
      return fail_errno(errno, "link " + (dir / name).string());
    }
  }
  return rt::Ok{};
}

// Is the damage `c` describes still in this segment?
bool still_damaged(const SegmentImage& image, const SegmentInfo& seg, bool last,
                   const Corruption& c, std::uint32_t max_length) {
  const TailMode mode = last && !seg.compressed ? TailMode::open_segment : TailMode::closed;
  const SegmentScan full =
      scan_segment(image.bytes, SegmentCheck{mode, seg.first_seq, 0, max_length});
  if (full.end.offset != c.offset) return false;
  if (full.end.kind != SegmentEnd::Kind::clean || image.zstd_error) return true;
  if (full.records == 0) return !last;  // a closed segment without records
  // The first record may not follow the previous segment (the scan could not tell).
  const Decoded first =
      decode_record(std::string_view(image.bytes).substr(kSegmentHeaderSize), max_length);
  return c.offset == kSegmentHeaderSize && first.status == DecodeStatus::ok &&
         first.record.seq <= c.last_good_seq;
}

}  // namespace

Status Store::quarantine(std::string_view symbol, const Corruption& c) const {
  Result<fs::path> dir = symbol_dir(symbol);
  if (!dir) return rt::Err{dir.error()};
  Result<std::vector<SegmentInfo>> segs = segments(symbol);
  if (!segs) return rt::Err{segs.error()};
  std::size_t i = 0;
  while (i < segs->size() && (*segs)[i].first_seq != c.first_seq) ++i;
  if (i == segs->size()) {
    return fail(Errc::invalid_argument, "no segment " + segment_file_name(c.first_seq, false) +
                                            " in " + dir->string() + ": the journal changed");
  }
  const SegmentInfo& seg = (*segs)[i];
  Result<SegmentImage> image = read_segment_image(seg, options_);
  if (!image) return rt::Err{image.error()};

  // The report must still describe this file: the bytes before the damage are
  // good records ending at the reported seq, and the damage is still there.
  // A stale report (say, applied twice, or after appends) must not move good
  // records aside.
  if (c.offset > image->bytes.size()) {
    return fail(Errc::invalid_argument, "corruption offset beyond " + seg.path.string());
  }
  const std::string_view prefix(image->bytes.data(), c.offset);
  const SegmentScan scan = scan_segment(
      prefix, SegmentCheck{TailMode::closed, seg.first_seq, 0, options_.max_record_length});
  const bool keeps_records = scan.end.kind == SegmentEnd::Kind::clean && scan.records > 0;
  if (keeps_records && scan.last_seq != c.last_good_seq) {
    return fail(Errc::invalid_argument, fmt::format("{} no longer ends at seq {} before offset {}",
                                                    seg.path.string(), c.last_good_seq, c.offset));
  }
  if (!still_damaged(*image, seg, i + 1 == segs->size(), c, options_.max_record_length)) {
    return fail(Errc::invalid_argument,
                fmt::format("{} is no longer damaged at offset {}", seg.path.string(), c.offset));
  }

  const fs::path damaged = *dir / fmt::format("damaged-{:020}-{}", c.first_seq, c.offset);
  if (Status s = ensure_directory(file_ops(), damaged); !s) return s;
  // Later segments first: until the damaged file itself is replaced, a crash
  // leaves the damage in place and a second quarantine() finishes the job.
  for (std::size_t j = segs->size(); j-- > i + 1;) {
    if (Status s = move_segment(*dir, (*segs)[j].first_seq, damaged); !s) return s;
  }
  if (Status s = link_segment(*dir, seg.first_seq, damaged); !s) return s;
  if (Status s = sync_directory(file_ops(), damaged); !s) return s;
  if (Status s = sync_directory(file_ops(), *dir); !s) return s;

  // Replace the damaged file by its good prefix (a rename: the damaged inode
  // lives on under damaged/), or drop it when nothing before the damage is good.
  const fs::path other = *dir / segment_file_name(seg.first_seq, !seg.compressed);
  if (::unlink(other.c_str()) != 0 && errno != ENOENT) {
    return fail_errno(errno, "unlink " + other.string());
  }
  if (!keeps_records) {
    if (::unlink(seg.path.c_str()) != 0 && errno != ENOENT) {
      return fail_errno(errno, "unlink " + seg.path.string());
    }
    return sync_directory(file_ops(), *dir);
  }
  if (!seg.compressed) return write_file_atomically(file_ops(), seg.path, prefix);
  Result<std::string> packed = zstd_compress(prefix);
  if (!packed) return rt::Err{packed.error()};
  return write_file_atomically(file_ops(), seg.path, *packed);
}

}  // namespace storage
