#pragma once
// Retention (`--retain`): what of a symbol's journal may be deleted, by age
// and by total size. Deletion is by whole segments, oldest first, and stops
// at the first that must stay, so the journal stays one contiguous run.
// Never deleted: the open (newest) segment; any segment holding a record
// after the floor snapshot — the oldest of the `keep_snapshots` newest valid
// ones, so a damaged newest snapshot still has an older one and the journal
// after it to fall back on; everything, when there is no valid snapshot
// (the journal is then the only copy of the state). Snapshots are deleted
// once the retained journal no longer reaches back to them.
// Thread-safety: pure functions and value types.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace storage {

struct SegmentInfo;
struct SnapshotInfo;

/// How much of a symbol's journal to keep; no limit set = keep everything.
struct RetentionPolicy {
  /// Delete closed segments whose last record is older than this.
  std::optional<std::chrono::seconds> max_age;
  /// Delete the oldest closed segments while the symbol's segments and snapshots exceed this.
  std::optional<std::uint64_t> max_bytes;
  /// Valid snapshots that are never out of reach of the journal (at least 1).
  std::size_t keep_snapshots = 2;
};

/// What a retention pass deleted.
struct RetentionReport {
  std::vector<std::filesystem::path> deleted;
  std::uint64_t bytes_freed = 0;
};

/// What to delete: segments [0, segments) and the listed snapshots.
struct RetentionPlan {
  std::size_t segments = 0;
  std::vector<std::size_t> snapshots;  ///< indexes into the snapshot list
};

/// Plans a pass. `segments` and `snapshots` sorted by seq as listed;
/// `valid_snapshot_seqs` the seqs of the snapshots whose checks pass, sorted.
RetentionPlan plan_retention(const std::vector<SegmentInfo>& segments,
                             const std::vector<SnapshotInfo>& snapshots,
                             const std::vector<std::uint64_t>& valid_snapshot_seqs,
                             const RetentionPolicy& policy,
                             std::chrono::system_clock::time_point now);

}  // namespace storage
