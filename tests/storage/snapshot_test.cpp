// Snapshots: written atomically, checked on read; a leftover tmp file is
// ignored, a damaged newest snapshot falls back to the previous one.
#include "storage/snapshot.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "storage/file_ops.hpp"
#include "storage/store.hpp"
#include "tests/storage/storage_fixture.hpp"

namespace {

using namespace storage;
using namespace storage_test;

TEST(Snapshot, RoundTripsTheNewest) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  EXPECT_FALSE(store.latest_snapshot("BTC-USD")->snapshot);  // none yet
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 100, "state@100").ok());
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 250, std::string("state\0@250", 10)).ok());
  const SnapshotLookup found = *store.latest_snapshot("BTC-USD");
  ASSERT_TRUE(found.snapshot);
  EXPECT_EQ(found.snapshot->seq, 250u);
  EXPECT_EQ(found.snapshot->bytes, std::string("state\0@250", 10));
  EXPECT_TRUE(found.skipped.empty());
  EXPECT_EQ(found.snapshot->path.filename(), "00000000000000000250.snap");
}

TEST(Snapshot, AnEmptyAndALargeSnapshotRoundTrip) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  ASSERT_TRUE(store.write_snapshot("A", 1, "").ok());
  EXPECT_EQ(store.latest_snapshot("A")->snapshot->bytes, "");
  const std::string big(5 << 20, 'b');  // above a journal record's default limit is fine here
  ASSERT_TRUE(store.write_snapshot("A", 2, big).ok());
  EXPECT_EQ(store.latest_snapshot("A")->snapshot->bytes, big);
}

TEST(Snapshot, ALeftoverTmpFileIsIgnoredAndClearedOnOpen) {
  TempDir tmp;
  {
    const Store store = open_store(tmp.path());
    ASSERT_TRUE(store.write_snapshot("BTC-USD", 100, "state@100").ok());
    // A crash while writing seq 200: its tmp file holds whatever got there.
    spit(tmp.path() / "BTC-USD" / (snapshot_file_name(200) + ".tmp"),
         std::string(kSnapshotMagic) + "partial");
    const SnapshotLookup found = *store.latest_snapshot("BTC-USD");
    ASSERT_TRUE(found.snapshot);
    EXPECT_EQ(found.snapshot->seq, 100u);
    EXPECT_TRUE(found.skipped.empty());  // a tmp file is not a snapshot at all
  }
  const Store reopened = open_store(tmp.path());
  EXPECT_FALSE(fs::exists(tmp.path() / "BTC-USD" / (snapshot_file_name(200) + ".tmp")));
  EXPECT_EQ(reopened.latest_snapshot("BTC-USD")->snapshot->seq, 100u);
}

TEST(Snapshot, ADamagedNewestFallsBackToThePrevious) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 100, "state@100").ok());
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 200, "state@200").ok());
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 300, "state@300").ok());
  const fs::path newest = tmp.path() / "BTC-USD" / snapshot_file_name(300);
  const fs::path middle = tmp.path() / "BTC-USD" / snapshot_file_name(200);
  std::string bytes = slurp(newest);
  bytes[bytes.size() - 1] ^= 0x01;  // a flipped bit in the payload
  spit(newest, bytes);
  spit(middle, slurp(middle).substr(0, 20));  // cut short
  const SnapshotLookup found = *store.latest_snapshot("BTC-USD");
  ASSERT_TRUE(found.snapshot);
  EXPECT_EQ(found.snapshot->seq, 100u);
  EXPECT_EQ(found.snapshot->bytes, "state@100");
  ASSERT_EQ(found.skipped.size(), 2u);
  EXPECT_NE(found.skipped[0].find("CRC"), std::string::npos) << found.skipped[0];
  EXPECT_NE(found.skipped[1].find("truncated"), std::string::npos) << found.skipped[1];
}

TEST(Snapshot, EveryDamageIsDetected) {
  const std::string good = *encode_snapshot(7, "payload bytes");
  EXPECT_TRUE(decode_snapshot(good, 7).ok());
  EXPECT_FALSE(decode_snapshot(good, 8).ok());        // name and content disagree
  EXPECT_FALSE(decode_snapshot(good + "x", 7).ok());  // trailing bytes
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x08;
    EXPECT_FALSE(decode_snapshot(bad, 7).ok()) << "byte " << i;
    EXPECT_FALSE(decode_snapshot(std::string_view(good).substr(0, i), 7).ok()) << "cut " << i;
  }
}

TEST(Snapshot, OnlyIfAllDamagedThereIsNone) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  ASSERT_TRUE(store.write_snapshot("X", 5, "s").ok());
  spit(tmp.path() / "X" / snapshot_file_name(5), "garbage");
  const SnapshotLookup found = *store.latest_snapshot("X");
  EXPECT_FALSE(found.snapshot);
  EXPECT_EQ(found.skipped.size(), 1u);
}

// Fails the n-th data sync, to see a write that cannot be made durable.
class FailingSync final : public FileOps {
 public:
  int sync_data(int fd) override {
    if (fail.exchange(false)) return EIO;
    return FileOps::sync_data(fd);
  }
  std::atomic<bool> fail{false};
};

TEST(Snapshot, AWriteThatCannotBeSyncedLeavesNoFileBehind) {
  TempDir tmp;
  FailingSync ops;
  const Store store = open_store(tmp.path(), StoreOptions{.file_ops = &ops});
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 100, "state@100").ok());
  ops.fail = true;
  const Status s = store.write_snapshot("BTC-USD", 200, "state@200");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
  EXPECT_EQ(s.error().sys_errno, EIO);
  EXPECT_FALSE(fs::exists(tmp.path() / "BTC-USD" / snapshot_file_name(200)));
  EXPECT_FALSE(fs::exists(tmp.path() / "BTC-USD" / (snapshot_file_name(200) + ".tmp")));
  EXPECT_EQ(store.latest_snapshot("BTC-USD")->snapshot->seq, 100u);
}

TEST(Snapshot, NamesParseBackAndNothingElseDoes) {
  EXPECT_EQ(parse_snapshot_name(snapshot_file_name(123)), 123u);
  EXPECT_FALSE(parse_snapshot_name(snapshot_file_name(123) + ".tmp"));
  EXPECT_FALSE(parse_snapshot_name("00000000000000000123.log"));
  EXPECT_FALSE(parse_snapshot_name("123.snap"));
}

}  // namespace
