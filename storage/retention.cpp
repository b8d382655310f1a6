#include "storage/retention.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "storage/segment.hpp"
#include "storage/snapshot.hpp"
#include "storage/store.hpp"

namespace storage {

namespace fs = std::filesystem;

namespace {

// The seq below which segments may go: the oldest snapshot that must stay
// reachable. nullopt without a valid snapshot — then nothing may go.
std::optional<std::uint64_t> floor_seq(const std::vector<std::uint64_t>& valid, std::size_t keep) {
  if (valid.empty()) return std::nullopt;
  keep = std::max<std::size_t>(keep, 1);
  return valid.size() >= keep ? valid[valid.size() - keep] : valid.front();
}

// Snapshots that replay can no longer start from, once segments [0, k) are gone:
// a snapshot after seq s needs record s+1, so s+1 below the first kept seq is out of reach.
std::vector<std::size_t> unreachable_snapshots(const std::vector<SegmentInfo>& segments,
                                               const std::vector<SnapshotInfo>& snapshots,
                                               std::size_t k) {
  std::vector<std::size_t> out;
  if (k == 0 || k >= segments.size()) return out;  // nothing deleted: every snapshot stays
  const std::uint64_t first_kept = segments[k].first_seq;
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    if (snapshots[i].seq + 1 < first_kept) out.push_back(i);
  }
  return out;
}

}  // namespace

RetentionPlan plan_retention(const std::vector<SegmentInfo>& segments,
                             const std::vector<SnapshotInfo>& snapshots,
                             const std::vector<std::uint64_t>& valid_snapshot_seqs,
                             const RetentionPolicy& policy,
                             std::chrono::system_clock::time_point now) {
  RetentionPlan plan;
  const std::optional<std::uint64_t> floor = floor_seq(valid_snapshot_seqs, policy.keep_snapshots);
  if (!floor) return plan;
  // Segment i may go when it is closed and all its records are at or before the floor.
  auto may_delete = [&](std::size_t i) {
    return i + 1 < segments.size() && segments[i + 1].first_seq <= *floor + 1;
  };
  std::size_t k = 0;
  if (policy.max_age) {
    while (may_delete(k) && now - segments[k].modified > *policy.max_age) ++k;
  }
  if (policy.max_bytes) {
    auto total_after = [&](std::size_t deleted) {
      std::uint64_t total = 0;
      for (std::size_t i = deleted; i < segments.size(); ++i) total += segments[i].bytes;
      const std::vector<std::size_t> gone = unreachable_snapshots(segments, snapshots, deleted);
      for (std::size_t i = 0; i < snapshots.size(); ++i) {
        if (std::find(gone.begin(), gone.end(), i) == gone.end()) total += snapshots[i].bytes;
      }
      return total;
    };
    while (may_delete(k) && total_after(k) > *policy.max_bytes) ++k;
  }
  plan.segments = k;
  plan.snapshots = unreachable_snapshots(segments, snapshots, k);
  return plan;
}

Result<RetentionReport> Store::apply_retention(std::string_view symbol,
                                               const RetentionPolicy& policy,
                                               std::chrono::system_clock::time_point now) const {
  RetentionReport report;
  Result<fs::path> dir = symbol_dir(symbol);
  if (!dir) return rt::Err{dir.error()};
  Result<std::vector<SegmentInfo>> segs = segments(symbol);
  if (!segs) return rt::Err{segs.error()};
  Result<std::vector<SnapshotInfo>> snaps = snapshots(symbol);
  if (!snaps) return rt::Err{snaps.error()};

  // Reading snapshots to check them costs their size: first see whether the
  // policy would delete anything even if they all were valid.
  std::vector<std::uint64_t> seqs;
  for (const SnapshotInfo& s : *snaps) seqs.push_back(s.seq);
  if (plan_retention(*segs, *snaps, seqs, policy, now).segments == 0) return report;

  std::vector<std::uint64_t> valid;  // newest first, until enough are found
  for (auto it = snaps->rbegin();
       it != snaps->rend() && valid.size() < std::max<std::size_t>(policy.keep_snapshots, 1);
       ++it) {
    Result<std::string> file = read_file(it->path);
    if (file && decode_snapshot(*file, it->seq)) valid.push_back(it->seq);
  }
  std::reverse(valid.begin(), valid.end());
  const RetentionPlan plan = plan_retention(*segs, *snaps, valid, policy, now);

  auto unlink_counted = [&](const fs::path& p) -> Status {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return rt::Ok{};
    if (::unlink(p.c_str()) != 0 && errno != ENOENT)
      return fail_errno(errno, "unlink " + p.string());
    report.deleted.push_back(p);
    report.bytes_freed += static_cast<std::uint64_t>(st.st_size);
    return rt::Ok{};
  };
  // Oldest first: a pass cut short leaves the journal contiguous.
  for (std::size_t i = 0; i < plan.segments; ++i) {
    for (bool compressed : {false, true}) {
      const fs::path p = *dir / segment_file_name((*segs)[i].first_seq, compressed);
      if (Status s = unlink_counted(p); !s) return rt::Err{s.error()};
    }
  }
  for (std::size_t i : plan.snapshots) {
    if (Status s = unlink_counted((*snaps)[i].path); !s) return rt::Err{s.error()};
  }
  if (!report.deleted.empty()) {
    if (Status s = sync_directory(file_ops(), *dir); !s) return rt::Err{s.error()};
  }
  return report;
}

}  // namespace storage
