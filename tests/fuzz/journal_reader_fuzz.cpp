// libFuzzer target over what the journal reads back from disk: a segment
// file (docs/decisions/022-storage-layer.md), which a crash, a bad disk or a
// stray file can fill with anything.
//
// The input is written as a symbol's only segment and read with the real
// JournalReader, from seq 0 and from a seq the input picks (exercising the
// pass-over of damage below it). Every record returned must be a frame of
// the input whose CRC32C — recomputed here with Boost.CRC directly, not
// through the storage code — matches, with seqs strictly increasing from the
// segment's name; the read must end (clean, torn tail or corrupt) at or
// after the last record returned. The input compressed with zstd reads back
// the same records in closed-segment mode, and the raw input given as a
// `.log.zst` must be refused or read without crashing, its records again
// re-checked against the decompressed image.

#include <unistd.h>
#include <zstd.h>

#include <boost/crc.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/compression.hpp"
#include "storage/journal_reader.hpp"
#include "storage/record.hpp"
#include "storage/segment.hpp"
#include "storage/store.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

namespace {

namespace fs = std::filesystem;

std::uint32_t le32(std::string_view b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

std::uint64_t le64(std::string_view b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

// The record at `r.offset` of `image` really is one: framed, CRC32C right.
void require_genuine(std::string_view image, const storage::RecordView& r) {
  require(r.offset + 16 <= image.size());
  const std::uint32_t length = le32(image, r.offset);
  require(length == 8 + r.payload.size());
  require(r.offset + 8 + length <= image.size());
  require(le64(image, r.offset + 8) == r.seq);
  require(image.substr(r.offset + 16, r.payload.size()) == r.payload);
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(image.data() + r.offset, 4);
  crc.process_bytes(image.data() + r.offset + 8, length);
  require(crc.checksum() == le32(image, r.offset + 4));
}

struct Seen {
  std::uint64_t seq;
  std::string payload;
  bool operator==(const Seen&) const = default;
};

// Reads `symbol` from `from`, checking every record against `image`.
std::vector<Seen> read_checked(const storage::Store& store, const char* symbol, std::uint64_t from,
                               std::string_view image) {
  std::vector<Seen> out;
  auto reader = storage::JournalReader::open(store, symbol, from);
  require(reader.ok());
  std::uint64_t last_seq = 0, last_end = storage::kSegmentHeaderSize;
  while (auto r = reader->next()) {
    require_genuine(image, *r);
    require(r->seq >= from);
    require(out.empty() ? r->seq == 1 || from > 1 : r->seq > last_seq);
    last_seq = r->seq;
    last_end = r->offset + storage::framed_size(r->payload.size());
    out.push_back(Seen{r->seq, std::string(r->payload)});
  }
  const storage::ReadEnd& end = reader->end();
  require(end.kind != storage::ReadEnd::Kind::reading);
  if (end.kind == storage::ReadEnd::Kind::clean) {
    require(out.empty() || last_end == image.size());
  } else if (end.kind != storage::ReadEnd::Kind::io_error) {
    require(end.corruption.has_value());
    require(end.corruption->offset <= image.size());
    require(out.empty() || end.corruption->offset >= last_end);
  }
  return out;
}

void write(const fs::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  require(f.good());
}

struct Fixture {
  Fixture() {
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    dir = base / ("journal_reader_fuzz-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    for (const char* s : {"PLAIN", "PACKED", "RAWZST"}) fs::create_directories(dir / s);
    // A small decompression cap keeps zip bombs cheap (the real one is 1 GiB).
    store.emplace(*storage::Store::open(dir, storage::StoreOptions{.max_segment_image = 1 << 24}));
  }
  ~Fixture() {
    fs::remove_all(dir);
    ZSTD_freeCCtx(cctx);
  }
  // One context for every input: creating one per call would dominate the run.
  std::string_view compress(std::string_view in) {
    out.resize(ZSTD_compressBound(in.size()));
    const std::size_t n = ZSTD_compressCCtx(cctx, out.data(), out.size(), in.data(), in.size(), 1);
    require(!ZSTD_isError(n));
    return std::string_view(out.data(), n);
  }
  fs::path dir;
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out;
  std::optional<storage::Store> store;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fx;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string name = storage::segment_file_name(1, false);
  const std::string zname = storage::segment_file_name(1, true);

  // As the open (only) segment, read from the start and from a seq the input picks.
  write(fx.dir / "PLAIN" / name, input);
  const std::vector<Seen> all = read_checked(*fx.store, "PLAIN", 0, input);
  const std::uint64_t from = size >= 8 ? le64(input, size - 8) % 64 : 2;
  read_checked(*fx.store, "PLAIN", from, input);

  // The writer's scan finds an end inside the input and a last seq it returned.
  const storage::SegmentScan scan =
      storage::scan_segment(input, storage::SegmentCheck{storage::TailMode::open_segment, 1, 0,
                                                         storage::kMaxRecordLength, UINT64_MAX});
  require(scan.end.offset <= size);
  require(scan.records >= all.size());

  // Compressed, it is a closed segment: the same records up to the first damage.
  write(fx.dir / "PACKED" / zname, fx.compress(input));
  const std::vector<Seen> unpacked = read_checked(*fx.store, "PACKED", 0, input);
  require(unpacked == all);

  // The raw bytes posing as a compressed segment: refused or checked.
  write(fx.dir / "RAWZST" / zname, input);
  const storage::Decompressed image = storage::zstd_decompress(input, 1 << 24);
  read_checked(*fx.store, "RAWZST", 0, image.bytes);
  return 0;
}
