#pragma once
// Segments: the files a symbol's journal is cut into, and how one is checked.
//
// `<data-dir>/<SYMBOL>/<first seq, 20 digits>.log` holds records from its
// name's seq on; the names sort by seq. The newest is the open segment, the
// only one ever appended to; the others are closed and, once compressed,
// become `<first seq>.log.zst` (segment decompressed == segment before).
// A file starts with the 8-byte magic "MDJRNL01" (format version 1), then
// records (record.hpp) back to back.
//
// Checking a segment's image (its bytes, decompressed) yields its good records
// and says how it ends: clean; a torn tail (the open segment only: a crash
// mid-write left a short or failing record with nothing valid after it — the
// writer truncates it, nothing in it was acknowledged); or corrupt (a bad
// record followed by valid data, a bad magic, a seq out of order, any damage
// in a closed segment) — reported with its offset, never silently skipped.
// The one exception is damage the caller has said it does not need: with
// `skip_damage_below` = N, a bad stretch whose next valid record has a seq
// <= N (so every record lost in it was below N) is passed over and noted in
// SegmentCursor::skipped() — recovery from a snapshot at N-1 must not lose
// the intact records after it to old damage in front of it.
// Thread-safety: pure functions; a SegmentCursor is used by one thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "storage/record.hpp"

namespace storage {

/// The magic (and format version) every segment file starts with.
inline constexpr std::string_view kSegmentMagic{"MDJRNL01", 8};
/// Bytes of the segment file header (the magic).
inline constexpr std::size_t kSegmentHeaderSize = 8;

/// A segment's identity as its file name carries it.
struct SegmentName {
  std::uint64_t first_seq = 0;
  bool compressed = false;  ///< `.log.zst` rather than `.log`
};

/// The file name of a segment: "00000000000000000042.log" or ".log.zst" when compressed.
std::string segment_file_name(std::uint64_t first_seq, bool compressed);
/// Parses a segment file name; nullopt for anything else (tmp files, snapshots, strays).
std::optional<SegmentName> parse_segment_name(std::string_view file_name);

/// How a segment's image may end.
enum class TailMode : std::uint8_t {
  open_segment,  ///< the newest segment: a bad tail with nothing valid after it is torn
  closed,        ///< fully written and synced once: any bad byte is corruption
};

/// What to hold a segment's records to.
struct SegmentCheck {
  TailMode tail = TailMode::closed;
  /// The first record's seq must equal this (the name's seq), when set.
  std::optional<std::uint64_t> first_seq;
  /// Every seq must be above this (the previous segment's last seq).
  std::uint64_t after_seq = 0;
  std::uint32_t max_length = kMaxRecordLength;
  /// Pass over bad bytes whose next valid record has a seq <= this (0: never).
  std::uint64_t skip_damage_below = 0;
};

/// How the good part of a segment's image ends.
struct SegmentEnd {
  enum class Kind : std::uint8_t { clean, torn_tail, corrupt };
  Kind kind = Kind::clean;
  std::uint64_t offset = 0;  ///< where the good bytes end: the image size when clean
  std::string reason;        ///< what is wrong at `offset` (empty when clean)
};

/// Walks a segment image record by record, stopping at the first damage.
class SegmentCursor {
 public:
  /// `image` must outlive the cursor and the views it returns.
  SegmentCursor(std::string_view image, SegmentCheck check);

  /// The next good record; nullopt once the good records are exhausted (see end()).
  std::optional<RecordView> next();
  /// How the image ends; final once next() has returned nullopt.
  const SegmentEnd& end() const noexcept { return end_; }
  /// The seq of the last good record returned, or `after_seq` when none.
  std::uint64_t last_seq() const noexcept { return last_seq_; }
  /// Good records returned so far.
  std::uint64_t records() const noexcept { return records_; }
  /// The first damage passed over under `skip_damage_below`, if any.
  const std::optional<SegmentEnd>& skipped() const noexcept { return skipped_; }

 private:
  void stop(SegmentEnd::Kind kind, std::string reason);
  bool skip_bad_record(DecodeStatus status);
  void stop_at_bad_record(DecodeStatus status);

  std::string_view image_;
  SegmentCheck check_;
  std::uint64_t pos_ = 0;
  std::uint64_t last_seq_;
  std::uint64_t records_ = 0;
  std::uint64_t resync_budget_;  // CRC'd bytes the search for valid records after damage may spend
  bool done_ = false;
  SegmentEnd end_;
  std::optional<SegmentEnd> skipped_;
};

/// Scans a whole image (the writer's open, tests): how it ends and its last good seq.
struct SegmentScan {
  SegmentEnd end;
  std::uint64_t records = 0;
  std::uint64_t last_seq = 0;         ///< `after_seq` when there are no records
  std::optional<SegmentEnd> skipped;  ///< the first damage passed over, if any
};
SegmentScan scan_segment(std::string_view image, const SegmentCheck& check);

/// One segment as the directory listing shows it.
struct SegmentInfo {
  std::uint64_t first_seq = 0;
  std::filesystem::path path;  ///< the file to read: the plain one while it exists, else the `.zst`
  bool compressed = false;     ///< `path` is the `.log.zst`
  std::uint64_t bytes = 0;     ///< bytes on disk, both files counted while both exist
  std::chrono::system_clock::time_point modified;  ///< when its last record was written
};

/// Where a symbol's journal stops being readable, as a reader found it.
struct Corruption {
  std::filesystem::path segment;  ///< the damaged file
  std::uint64_t first_seq = 0;    ///< that segment's name
  std::uint64_t offset = 0;  ///< where its good records end (in the decompressed image for `.zst`)
  std::uint64_t last_good_seq = 0;  ///< the last good record's seq before it (0: none)
  std::string reason;
  /// "<file> at offset <n>: <reason>".
  std::string to_string() const;
};

}  // namespace storage
