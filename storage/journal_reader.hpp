#pragma once
// JournalReader: a symbol's records from a given seq on, across its segments,
// compressed or not — for recovery (snapshot seq + 1 onward), `?at=` queries
// and journal replay.
//
//   auto r = JournalReader::open(store, "BTC-USD", snapshot_seq + 1);
//   while (std::optional<RecordView> rec = r->next()) apply(rec->seq, rec->payload);
//   switch (r->end().kind) { ... }   // clean, torn_tail, corrupt (where), io_error
//
// It reads what the directory held when opened, segment by segment, one
// segment image in memory at a time. It never changes a file: a torn tail of
// the open segment ends the read quietly (end().kind == torn_tail: those
// bytes were never acknowledged; the writer truncates them when it opens the
// symbol); damage anywhere else stops the read at the last good record and
// is reported with file and offset (Store::quarantine() takes it from there)
// — unless every record it can have cost is below `from_seq`: recovery from
// a snapshot does not need them, so the read passes over it (passed_over()).
// A reader running beside a JournalWriter sees records as soon as they are
// written, including ones not yet synced, and may stop at a record being
// written (torn_tail).
// Thread-safety: one reader per thread; any number of readers at once.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/error.hpp"
#include "storage/record.hpp"
#include "storage/segment.hpp"

namespace storage {

class Store;
struct StoreOptions;

/// A segment's records as bytes, decompressed if need be.
struct SegmentImage {
  std::string bytes;
  /// Why decompression stopped early (then `bytes` holds what came before).
  std::optional<std::string> zstd_error;
};

/// Reads a listed segment's image; a plain file gone since the listing is read as its `.zst`.
Result<SegmentImage> read_segment_image(const SegmentInfo& segment, const StoreOptions& options);

/// How a read ended.
struct ReadEnd {
  enum class Kind : std::uint8_t {
    reading,    ///< not yet ended
    clean,      ///< every record read
    torn_tail,  ///< the open segment ends in a partial record (never acknowledged)
    corrupt,    ///< damage: `corruption` says where; records after it are not read
    io_error,   ///< a file could not be read: `error` says which
  };
  Kind kind = Kind::reading;
  std::optional<Corruption> corruption;  ///< for torn_tail and corrupt
  std::optional<Error> error;            ///< for io_error
};

/// A symbol's records in seq order, from a seq on.
class JournalReader {
 public:
  /// Records of `symbol` with seq >= `from_seq`. A symbol without a journal reads as empty.
  static Result<JournalReader> open(const Store& store, std::string_view symbol,
                                    std::uint64_t from_seq = 0);

  /// The next record (a view valid until the next call), or nullopt at the end (see end()).
  std::optional<RecordView> next();
  /// How the read ended; kind == reading until next() has returned nullopt.
  const ReadEnd& end() const noexcept { return end_; }
  /// The seq of the last good record passed (returned or skipped as below `from_seq`); 0 if none.
  std::uint64_t last_seq() const noexcept { return last_seq_; }
  /// The first damage passed over because it only held records below `from_seq`
  /// (file, offset and reason; last_good_seq is left 0).
  const std::optional<Corruption>& passed_over() const noexcept { return passed_over_; }
  /// The segments being read, as listed at open.
  const std::vector<SegmentInfo>& segments() const noexcept { return segments_; }

 private:
  JournalReader(const StoreOptions& options, std::vector<SegmentInfo> segments, std::size_t first,
                std::uint64_t from_seq);
  bool load(std::size_t index);
  void finish(ReadEnd::Kind kind, std::string reason = {});

  std::uint32_t max_record_length_;
  std::uint64_t max_segment_image_;
  std::vector<SegmentInfo> segments_;
  std::size_t index_;  // the segment being read
  std::uint64_t from_seq_;
  std::uint64_t last_seq_ = 0;
  std::unique_ptr<SegmentImage> image_;  // on the heap: the cursor's views survive a move
  std::optional<SegmentCursor> cursor_;
  ReadEnd end_;
  std::optional<Corruption> passed_over_;
};

}  // namespace storage
