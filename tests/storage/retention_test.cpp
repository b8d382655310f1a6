// Retention by size and by age: whole segments, oldest first, never the open
// one, never past the floor snapshot; snapshots out of reach go too.
#include "storage/retention.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <future>

#include "storage/journal_writer.hpp"
#include "storage/store.hpp"
#include "tests/storage/storage_fixture.hpp"

namespace {

using namespace storage;
using namespace storage_test;
using namespace std::chrono_literals;
using SysClock = std::chrono::system_clock;

const SysClock::time_point kBase = SysClock::time_point(std::chrono::seconds(1'800'000'000));

void set_mtime(const fs::path& p, SysClock::time_point t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  const struct timespec ts[2] = {{ns / 1'000'000'000, ns % 1'000'000'000},
                                 {ns / 1'000'000'000, ns % 1'000'000'000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, 0), 0);
}

class Retention : public ::testing::Test {
 protected:
  void SetUp() override {
    write_records(
        store, "BTC-USD", 1, 400,
        WriterOptions{.fsync = FsyncPolicy::never, .segment_bytes = 1024, .compress = false});
    segs = *store.segments("BTC-USD");
    ASSERT_GE(segs.size(), 10u);
    // Segment i was last written i minutes after kBase.
    for (std::size_t i = 0; i < segs.size(); ++i) set_mtime(segs[i].path, kBase + i * 1min);
    segs = *store.segments("BTC-USD");
  }
  std::uint64_t total_bytes() const {
    std::uint64_t n = 0;
    const std::vector<SegmentInfo> segments = *store.segments("BTC-USD");
    const std::vector<SnapshotInfo> snapshots = *store.snapshots("BTC-USD");
    for (const SegmentInfo& s : segments) n += s.bytes;
    for (const SnapshotInfo& s : snapshots) n += s.bytes;
    return n;
  }
  std::vector<std::uint64_t> first_seqs() const {
    std::vector<std::uint64_t> out;
    const std::vector<SegmentInfo> segments = *store.segments("BTC-USD");
    for (const SegmentInfo& s : segments) out.push_back(s.first_seq);
    return out;
  }

  TempDir tmp;
  Store store = open_store(tmp.path());
  std::vector<SegmentInfo> segs;
};

TEST_F(Retention, NothingGoesWithoutAValidSnapshot) {
  const RetentionPolicy p{.max_age = 0s, .max_bytes = 1};
  auto r = store.apply_retention("BTC-USD", p, kBase + 24h);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->deleted.empty());
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 399, "s").ok());
  spit(tmp.path() / "BTC-USD" / snapshot_file_name(399), "damaged");
  r = store.apply_retention("BTC-USD", p, kBase + 24h);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->deleted.empty());
  EXPECT_EQ(store.segments("BTC-USD")->size(), segs.size());
}

TEST_F(Retention, BySizeDeletesOldestSegmentsOnlyUpToTheSnapshot) {
  const std::uint64_t snap = segs[5].first_seq + 2;  // inside segment 5
  ASSERT_TRUE(store.write_snapshot("BTC-USD", snap, "state").ok());
  auto r =
      store.apply_retention("BTC-USD", RetentionPolicy{.max_bytes = 1, .keep_snapshots = 1}, kBase);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted.size(), 5u);  // segments 0..4: wholly at or before the snapshot
  EXPECT_EQ(first_seqs().front(), segs[5].first_seq);
  EXPECT_GT(r->bytes_freed, 0u);
  // Recovery still works: the snapshot, then the journal from snap + 1.
  EXPECT_EQ(read_all(store, "BTC-USD", snap + 1).records, expected(snap + 1, 400));
}

TEST_F(Retention, BySizeStopsOnceUnderTheLimit) {
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 400, "state").ok());
  const std::uint64_t limit = total_bytes() - segs[0].bytes - segs[1].bytes;
  auto r = store.apply_retention("BTC-USD", RetentionPolicy{.max_bytes = limit}, kBase);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted.size(), 2u);
  EXPECT_EQ(first_seqs().front(), segs[2].first_seq);
  EXPECT_LE(total_bytes(), limit);
  // Under the limit already: nothing more goes.
  EXPECT_TRUE(store.apply_retention("BTC-USD", RetentionPolicy{.max_bytes = limit}, kBase)
                  ->deleted.empty());
}

TEST_F(Retention, ByAgeDeletesSegmentsLastWrittenBeforeTheCutoff) {
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 400, "state").ok());
  // now = 10.5 min after kBase, max age 5 min: segments 0..5 are older.
  auto r = store.apply_retention("BTC-USD", RetentionPolicy{.max_age = 5min}, kBase + 10min + 30s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted.size(), 6u);
  EXPECT_EQ(first_seqs().front(), segs[6].first_seq);
}

TEST_F(Retention, TheOpenSegmentIsNeverDeleted) {
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 400, "state").ok());
  auto r = store.apply_retention(
      "BTC-USD", RetentionPolicy{.max_age = 0s, .max_bytes = 1, .keep_snapshots = 1}, kBase + 24h);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(first_seqs().size(), 1u);
  EXPECT_EQ(first_seqs().front(), segs.back().first_seq);
}

TEST_F(Retention, TwoSnapshotsAreKeptWithinReachByDefault) {
  const std::uint64_t older = segs[3].first_seq;
  const std::uint64_t newer = segs[7].first_seq;
  ASSERT_TRUE(store.write_snapshot("BTC-USD", older, "old").ok());
  ASSERT_TRUE(store.write_snapshot("BTC-USD", newer, "new").ok());
  auto r = store.apply_retention("BTC-USD", RetentionPolicy{.max_bytes = 1}, kBase);
  ASSERT_TRUE(r.ok());
  // The floor is the older snapshot: if the newer one turns out damaged, replay from the older.
  EXPECT_EQ(first_seqs().front(), segs[3].first_seq);  // replay from older + 1 stays possible
  EXPECT_EQ(read_all(store, "BTC-USD", older + 1).records, expected(older + 1, 400));
}

TEST_F(Retention, ADamagedNewestSnapshotDoesNotCount) {
  const std::uint64_t older = segs[3].first_seq + 1;
  const std::uint64_t newer = segs[7].first_seq + 1;
  ASSERT_TRUE(store.write_snapshot("BTC-USD", older, "old").ok());
  ASSERT_TRUE(store.write_snapshot("BTC-USD", newer, "new").ok());
  spit(tmp.path() / "BTC-USD" / snapshot_file_name(newer), "damaged");
  auto r =
      store.apply_retention("BTC-USD", RetentionPolicy{.max_bytes = 1, .keep_snapshots = 1}, kBase);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(first_seqs().front(), segs[3].first_seq);  // up to the valid one only
}

TEST_F(Retention, SnapshotsOutOfReachOfTheJournalGo) {
  const std::uint64_t ancient = segs[1].first_seq;
  const std::uint64_t floor = segs[6].first_seq + 1;
  ASSERT_TRUE(store.write_snapshot("BTC-USD", ancient, "a").ok());
  ASSERT_TRUE(store.write_snapshot("BTC-USD", floor, "f").ok());
  auto r =
      store.apply_retention("BTC-USD", RetentionPolicy{.max_bytes = 1, .keep_snapshots = 1}, kBase);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(first_seqs().front(), segs[6].first_seq);
  const auto snaps = *store.snapshots("BTC-USD");
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps.front().seq, floor);
}

TEST_F(Retention, NoLimitKeepsEverything) {
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 400, "state").ok());
  EXPECT_TRUE(store.apply_retention("BTC-USD", RetentionPolicy{}, kBase + 1000h)->deleted.empty());
}

TEST_F(Retention, RunsOnTheWritersThreadWithItsClock) {
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 400, "state").ok());
  JournalWriter w(store, {.fsync = FsyncPolicy::batch, .compress = false, .clock = [] {
                            return kBase + 3min + 30s;
                          }});
  std::promise<Result<RetentionReport>> done;
  ASSERT_TRUE(w.retain("BTC-USD", RetentionPolicy{.max_age = 1min},
                       [&done](const Result<RetentionReport>& r) { done.set_value(r); })
                  .ok());
  const Result<RetentionReport> r = done.get_future().get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted.size(), 3u);  // last written at 0, 1, 2 min: older than 1 min at 3.5
  // Appending carries on.
  EXPECT_TRUE(append_sync(w, "BTC-USD", 401, payload_for(401)).ok());
  EXPECT_EQ(read_all(store, "BTC-USD", 390).records, expected(390, 401));
}

TEST(RetentionPlan, IsAPrefixBoundedByTheFloor) {
  std::vector<SegmentInfo> segs;
  for (std::uint64_t i = 0; i < 5; ++i) {
    segs.push_back(SegmentInfo{
        .first_seq = 1 + 10 * i, .bytes = 100, .modified = kBase + std::chrono::minutes(i)});
  }
  std::vector<SnapshotInfo> snaps{SnapshotInfo{.seq = 25, .bytes = 10}};
  // Floor 25: segments [1,10] and [11,20] are wholly before it, [21,30] is not.
  auto plan = plan_retention(segs, snaps, {25}, RetentionPolicy{.max_bytes = 0}, kBase);
  EXPECT_EQ(plan.segments, 2u);
  EXPECT_TRUE(plan.snapshots.empty());
  // A snapshot at exactly a segment's last seq lets that segment go.
  plan = plan_retention(segs, snaps, {30}, RetentionPolicy{.max_bytes = 0}, kBase);
  EXPECT_EQ(plan.segments, 3u);
  // Age and size together: age first, size after.
  plan = plan_retention(segs, snaps, {40}, RetentionPolicy{.max_age = 150s, .max_bytes = 1000},
                        kBase + 3min);
  EXPECT_EQ(plan.segments, 1u);  // only segment 0 is older than 2.5 min; 410 bytes are within 1000
}

}  // namespace
