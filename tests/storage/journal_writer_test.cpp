// Group commit: answers in append order, one sync per record with `always`,
// appends that arrive during a sync share the next one, failures reported
// and never acknowledged, shutdown answers everything accepted, remove().
#include "storage/journal_writer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/file_ops.hpp"
#include "tests/storage/storage_fixture.hpp"

namespace {

using namespace storage;
using namespace storage_test;

// Counts and logs the durability calls; can fail them or hold a sync.
class RecordingOps final : public FileOps {
 public:
  int write_at(int fd, std::string_view data, std::uint64_t offset) override {
    const bool header = data == kSegmentMagic;
    if (!header) {
      if (const int err = write_errno.exchange(0)) {
        // The kernel may have written part of it before failing.
        if (partial) FileOps::write_at(fd, data.substr(0, data.size() / 2), offset);
        return err;
      }
    }
    const int err = FileOps::write_at(fd, data, offset);
    log(header ? "header" : "write");
    if (!header) record_writes.fetch_add(1);
    return err;
  }
  int sync_data(int fd) override {
    if (hold.exchange(false)) {
      held.set_value();
      release.get_future().wait();
    }
    if (const int err = sync_errno.exchange(0)) return err;
    if (syncs_before_eio.load() >= 0 && syncs_before_eio.fetch_sub(1) == 0) return EIO;
    syncs.fetch_add(1);
    log("sync");
    return FileOps::sync_data(fd);
  }
  int sync(int fd) override {  // directories
    log("dirsync");
    return FileOps::sync(fd);
  }
  int sync_filesystem(int fd) override {
    if (const int err = syncfs_errno.exchange(0)) return err;
    log("syncfs");
    return FileOps::sync_filesystem(fd);
  }
  void log(const char* what) {
    std::lock_guard lk(m);
    events.emplace_back(what);
  }
  std::vector<std::string> event_log() {
    std::lock_guard lk(m);
    return events;
  }

  std::atomic<int> write_errno{0};        // fail the next record write with this
  bool partial = false;                   // ... after writing half of it
  std::atomic<int> sync_errno{0};         // fail the next data sync with this
  std::atomic<int> syncs_before_eio{-1};  // let this many data syncs pass, fail the next
  std::atomic<int> syncfs_errno{0};       // fail the next syncfs with this
  std::atomic<bool> hold{false};          // block the next data sync until `release`
  std::promise<void> held, release;
  std::atomic<int> syncs{0}, record_writes{0};

 private:
  std::mutex m;
  std::vector<std::string> events;
};

// Appends and remembers each answer in the order the answers came.
struct Answers {
  void expect(std::size_t n) { all = std::promise<void>(), want = n; }
  JournalWriter::OnDurable cb(std::string tag) {
    return [this, tag = std::move(tag)](const Status& s) {
      std::lock_guard lk(m);
      got.emplace_back(tag, s);
      if (got.size() == want) all.set_value();
    };
  }
  // Then takes the lock: the last answer holds it while setting the promise,
  // and must be out of this object before the caller may destroy it.
  void wait() {
    all.get_future().wait();
    std::lock_guard lk(m);
  }
  std::mutex m;
  std::vector<std::pair<std::string, Status>> got;
  std::promise<void> all;
  std::size_t want = 0;
};

class JournalWriterTest : public ::testing::Test {
 protected:
  TempDir tmp;
  RecordingOps ops;
  Store store = open_store(tmp.path(), StoreOptions{.file_ops = &ops});
  fs::path segment(std::uint64_t first_seq = 1) {
    return tmp.path() / "BTC-USD" / segment_file_name(first_seq, false);
  }
};

TEST_F(JournalWriterTest, AnswersComeInAppendOrderPerSymbol) {
  Answers answers;
  constexpr int kThreads = 4, kPerThread = 300;
  answers.expect(kThreads * kPerThread);
  {
    JournalWriter w(store, {.fsync = FsyncPolicy::batch, .segment_bytes = 4096});
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const std::string sym = "SYM" + std::to_string(t);
        for (std::uint64_t s = 1; s <= kPerThread; ++s) {
          ASSERT_TRUE(
              w.append(sym, s, payload_for(s), answers.cb(sym + ":" + std::to_string(s))).ok());
        }
      });
    }
    for (std::thread& t : threads) t.join();
    answers.wait();
  }
  std::map<std::string, std::uint64_t> last;
  for (const auto& [tag, status] : answers.got) {
    EXPECT_TRUE(status.ok()) << tag;
    const std::string sym = tag.substr(0, tag.find(':'));
    const std::uint64_t seq = std::stoull(tag.substr(tag.find(':') + 1));
    EXPECT_EQ(seq, last[sym] + 1) << tag;
    last[sym] = seq;
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(read_all(store, "SYM" + std::to_string(t)).records, expected(1, kPerThread));
  }
}

TEST_F(JournalWriterTest, AnswersFollowAcceptanceOrderAcrossSymbols) {
  Answers answers;
  answers.expect(30);
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  std::vector<std::string> sent;
  for (std::uint64_t s = 1; s <= 10; ++s) {
    for (const char* sym : {"A", "B", "C"}) {
      sent.push_back(std::string(sym) + std::to_string(s));
      ASSERT_TRUE(w.append(sym, s, "x", answers.cb(sent.back())).ok());
    }
  }
  answers.wait();
  std::vector<std::string> order;
  for (const auto& [tag, status] : answers.got) order.push_back(tag);
  EXPECT_EQ(order, sent);
}

TEST_F(JournalWriterTest, AppendsArrivingDuringASyncShareTheNextOne) {
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  ASSERT_TRUE(append_sync(w, "BTC-USD", 1, payload_for(1)).ok());  // segment created
  ops.hold = true;
  Answers answers;
  answers.expect(50);
  ASSERT_TRUE(w.append("BTC-USD", 2, payload_for(2), answers.cb("2")).ok());
  ops.held.get_future().wait();  // the I/O thread is inside seq 2's sync
  for (std::uint64_t s = 3; s <= 51; ++s) {
    ASSERT_TRUE(w.append("BTC-USD", s, payload_for(s), answers.cb(std::to_string(s))).ok());
  }
  const int writes = ops.record_writes, syncs = ops.syncs;
  ops.release.set_value();
  answers.wait();
  EXPECT_EQ(ops.record_writes - writes, 1);  // seqs 3..51: one write
  EXPECT_EQ(ops.syncs - syncs, 2);           // seq 2's sync, then one for 3..51
  for (std::size_t i = 0; i < answers.got.size(); ++i) {
    EXPECT_EQ(answers.got[i].first, std::to_string(i + 2));
    EXPECT_TRUE(answers.got[i].second.ok());
  }
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 51));
}

TEST_F(JournalWriterTest, AlwaysSyncsEachRecordBeforeItsAnswer) {
  constexpr int kRecords = 30;
  std::vector<int> syncs_seen(kRecords + 1, -1);
  Answers answers;
  answers.expect(kRecords);
  {
    JournalWriter w(store, {.fsync = FsyncPolicy::always});
    for (int s = 1; s <= kRecords; ++s) {
      ASSERT_TRUE(w.append("BTC-USD", s, payload_for(s), [&, s](const Status& st) {
                     EXPECT_TRUE(st.ok());
                     syncs_seen[s] = ops.syncs;
                     answers.cb(std::to_string(s))(st);
                   }).ok());
    }
    answers.wait();
  }
  // One per record (the new segment's header and name go with the first).
  EXPECT_EQ(ops.syncs, kRecords);
  for (int s = 1; s <= kRecords; ++s) EXPECT_GE(syncs_seen[s], s) << "seq " << s;
  // Every record write is followed by its sync before the next write.
  const std::vector<std::string> ev = ops.event_log();
  int writes = 0;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    if (ev[i] != "write") continue;
    ++writes;
    ASSERT_LT(i + 1, ev.size());
    EXPECT_EQ(ev[i + 1], "sync") << "after write " << writes;
  }
  EXPECT_EQ(writes, kRecords);
}

TEST_F(JournalWriterTest, NeverAnswersAfterTheWriteWithoutSyncing) {
  {
    JournalWriter w(store, {.fsync = FsyncPolicy::never});
    for (std::uint64_t s = 1; s <= 20; ++s) ASSERT_TRUE(w.append("BTC-USD", s, "x", {}).ok());
    flush_sync(w, "BTC-USD");
    EXPECT_EQ(w.stats().records, 20u);
  }
  EXPECT_EQ(ops.syncs, 0);
}

TEST_F(JournalWriterTest, ClosingASegmentSyncsItWhateverThePolicy) {
  {
    JournalWriter w(store, {.fsync = FsyncPolicy::never, .segment_bytes = 256, .compress = false});
    for (std::uint64_t s = 1; s <= 40; ++s)
      ASSERT_TRUE(w.append("BTC-USD", s, payload_for(s), {}).ok());
    flush_sync(w, "BTC-USD");
  }
  const std::size_t closed = store.segments("BTC-USD")->size() - 1;
  ASSERT_GT(closed, 2u);
  EXPECT_EQ(ops.syncs, static_cast<int>(closed));
}

TEST_F(JournalWriterTest, AFailedWriteIsReportedAndNeverAcknowledged) {
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  ASSERT_TRUE(append_sync(w, "BTC-USD", 1, payload_for(1)).ok());
  EXPECT_TRUE(w.health().healthy);
  const auto size = fs::file_size(segment());
  for (bool partial : {false, true}) {
    ops.partial = partial;
    ops.write_errno = ENOSPC;
    const Status s = append_sync(w, "BTC-USD", 2, payload_for(2));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::no_space);
    EXPECT_EQ(s.error().sys_errno, ENOSPC);
    const Health h = w.health();
    EXPECT_FALSE(h.healthy);
    EXPECT_NE(h.reason.find("No space left on device"), std::string::npos) << h.reason;
    EXPECT_NE(h.reason.find(segment().string()), std::string::npos) << h.reason;
    // Cut back: not even half a record of it stays.
    EXPECT_EQ(fs::file_size(segment()), size) << (partial ? "partial" : "whole");
    const ReadBack rb = read_all(store, "BTC-USD");
    EXPECT_EQ(rb.records, expected(1, 1));
    EXPECT_EQ(rb.end.kind, ReadEnd::Kind::clean);
  }
  // Space again: the same seq goes in (it never did), and health comes back.
  ASSERT_TRUE(append_sync(w, "BTC-USD", 2, payload_for(2)).ok());
  EXPECT_TRUE(w.health().healthy);
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 2));
  EXPECT_EQ(w.stats().failures, 2u);
}

TEST_F(JournalWriterTest, AFailedSyncFailsItsRecordsAndCutsThemOff) {
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  ASSERT_TRUE(append_sync(w, "BTC-USD", 1, payload_for(1)).ok());
  const auto size = fs::file_size(segment());
  ops.sync_errno = EIO;
  const Status s = append_sync(w, "BTC-USD", 2, payload_for(2));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
  EXPECT_EQ(s.error().sys_errno, EIO);
  EXPECT_FALSE(w.health().healthy);
  EXPECT_EQ(fs::file_size(segment()), size);
  ASSERT_TRUE(append_sync(w, "BTC-USD", 2, payload_for(2)).ok());
  EXPECT_TRUE(w.health().healthy);
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 2));
}

TEST_F(JournalWriterTest, ASegmentWhoseFirstRecordFailedIsNotKept) {
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  // The first record of a new segment fails to be written, then to be synced.
  ops.write_errno = ENOSPC;
  EXPECT_EQ(append_sync(w, "BTC-USD", 1, payload_for(1)).error().code, Errc::no_space);
  ops.syncs_before_eio = 0;  // the new segment's first sync (header, name, record) fails
  EXPECT_EQ(append_sync(w, "BTC-USD", 2, payload_for(2)).error().code, Errc::io);
  // Neither name survives to promise a first seq that never made it.
  EXPECT_FALSE(fs::exists(segment(1)));
  EXPECT_FALSE(fs::exists(segment(2)));
  ASSERT_TRUE(append_sync(w, "BTC-USD", 7, payload_for(7)).ok());
  const ReadBack rb = read_all(store, "BTC-USD");
  EXPECT_EQ(rb.records, expected(7, 7));
  EXPECT_EQ(rb.end.kind, ReadEnd::Kind::clean);
  EXPECT_EQ(store.segments("BTC-USD")->front().first_seq, 7u);
}

TEST_F(JournalWriterTest, NeverKeepsWhatItAnsweredWhenClosingASegmentFails) {
  JournalWriter w(store, {.fsync = FsyncPolicy::never, .segment_bytes = 256, .compress = false});
  std::uint64_t s = 1;
  for (; store.segments("BTC-USD")->size() < 2; ++s) {
    ASSERT_TRUE(append_sync(w, "BTC-USD", s, payload_for(s)).ok());
  }
  const std::size_t closed_records = s - 2;  // the last one opened the second segment
  // Fill the second segment; the sync that closes it fails.
  const std::uint64_t second = store.segments("BTC-USD")->back().first_seq;
  ops.sync_errno = EIO;
  Status st = rt::Ok{};
  for (; st.ok(); ++s) st = append_sync(w, "BTC-USD", s, payload_for(s));
  EXPECT_EQ(st.error().code, Errc::earlier_failed);
  EXPECT_FALSE(w.health().healthy);
  // Everything answered before is still there.
  const ReadBack rb = read_all(store, "BTC-USD");
  EXPECT_EQ(rb.records, expected(1, s - 2));
  EXPECT_GT(s - 2, second);
  EXPECT_GT(closed_records, 0u);
  ASSERT_TRUE(append_sync(w, "BTC-USD", s - 1, payload_for(s - 1)).ok());
}

TEST_F(JournalWriterTest, RecordsAfterAFailureInTheSameBatchAreNotAttempted) {
  JournalWriter w(store, {.fsync = FsyncPolicy::always});
  ASSERT_TRUE(append_sync(w, "BTC-USD", 1, payload_for(1)).ok());
  ASSERT_TRUE(append_sync(w, "OTHER", 1, payload_for(1)).ok());
  ops.hold = true;
  Answers answers;
  answers.expect(5);
  ASSERT_TRUE(w.append("BTC-USD", 2, payload_for(2), answers.cb("2")).ok());
  ops.held.get_future().wait();  // seq 2 is being synced; 3, 4 and OTHER 2 queue behind it
  ops.write_errno = ENOSPC;
  ASSERT_TRUE(w.append("BTC-USD", 3, payload_for(3), answers.cb("3")).ok());
  ASSERT_TRUE(w.append("BTC-USD", 4, payload_for(4), answers.cb("4")).ok());
  ASSERT_TRUE(w.append("OTHER", 2, payload_for(2), answers.cb("other")).ok());
  ASSERT_TRUE(w.append("BTC-USD", 5, payload_for(5), answers.cb("5")).ok());
  ops.release.set_value();
  answers.wait();
  ASSERT_EQ(answers.got.size(), 5u);
  EXPECT_TRUE(answers.got[0].second.ok());
  EXPECT_EQ(answers.got[1].second.error().code, Errc::no_space);
  EXPECT_EQ(answers.got[2].second.error().code, Errc::earlier_failed);
  EXPECT_TRUE(answers.got[3].second.ok());  // another symbol's journal is not held back
  EXPECT_EQ(answers.got[4].second.error().code, Errc::earlier_failed);
  EXPECT_TRUE(w.health().healthy);  // OTHER's record was made durable after the failure
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 2));
  // The next batch tries again.
  EXPECT_TRUE(append_sync(w, "BTC-USD", 3, payload_for(3)).ok());
}

TEST_F(JournalWriterTest, AFlushOfANeverAppendedSymbolDoesNotWaitForTheIoThread) {
  JournalWriter w(store, {.fsync = FsyncPolicy::always});
  ops.hold = true;
  Answers answers;
  answers.expect(1);
  ASSERT_TRUE(w.append("BTC-USD", 1, payload_for(1), answers.cb("1")).ok());
  ops.held.get_future().wait();  // the I/O thread is inside BTC-USD's sync
  std::promise<Status> fresh;
  ASSERT_TRUE(w.flush("NEW-SYM", [&fresh](const Status& s) { fresh.set_value(s); }).ok());
  auto fresh_done = fresh.get_future();
  ASSERT_EQ(fresh_done.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_TRUE(fresh_done.get().ok());
  // One that was appended to waits for its record.
  std::promise<Status> held;
  ASSERT_TRUE(w.flush("BTC-USD", [&held](const Status& s) { held.set_value(s); }).ok());
  auto held_done = held.get_future();
  EXPECT_EQ(held_done.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  ops.release.set_value();
  EXPECT_TRUE(held_done.get().ok());
  answers.wait();
  EXPECT_TRUE(answers.got[0].second.ok());
}

TEST_F(JournalWriterTest, CloseAnswersEverythingAndDropsTheCallbacksThatHoldTheWriter) {
  auto w = std::make_shared<JournalWriter>(store, WriterOptions{.fsync = FsyncPolicy::batch});
  std::atomic<int> answered{0};
  for (std::uint64_t s = 1; s <= 10; ++s) {
    // Each answer holds the writer, as a book server's reference does through its context.
    ASSERT_TRUE(w->append("BTC-USD", s, payload_for(s), [w, &answered](const Status& st) {
                   if (st.ok()) answered.fetch_add(1);
                 }).ok());
  }
  w->close();
  EXPECT_EQ(answered.load(), 10);
  EXPECT_EQ(w.use_count(), 1);  // no callback left to keep it alive
  EXPECT_EQ(w->append("BTC-USD", 11, payload_for(11), {}).error().code, Errc::stopped);
  w->close();  // idempotent
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 10));
}

TEST_F(JournalWriterTest, ANewSymbolsNamesAreSyncedWithItsFirstRecordBeforeItsAnswer) {
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  ASSERT_TRUE(append_sync(w, "BTC-USD", 1, payload_for(1)).ok());
  // One sync of the file (header and record), then the segment's name in the
  // symbol's directory and the symbol's name in the data directory.
  EXPECT_EQ(ops.event_log(),
            (std::vector<std::string>{"header", "write", "sync", "dirsync", "dirsync"}));
  // The next record of the same segment needs neither name again.
  ASSERT_TRUE(append_sync(w, "BTC-USD", 2, payload_for(2)).ok());
  EXPECT_EQ(ops.event_log().size(), 7u);
  EXPECT_EQ(ops.event_log().back(), "sync");
}

// Appends one record to each of `n` symbols while the I/O thread is held in
// a sync of HOLD, so that they all land in the next batch; waits for them.
void one_batch_over_many_symbols(JournalWriter& w, RecordingOps& ops, int n) {
  ASSERT_TRUE(append_sync(w, "HOLD", 1, payload_for(1)).ok());
  ops.hold = true;
  Answers answers;
  answers.expect(static_cast<std::size_t>(n) + 1);
  ASSERT_TRUE(w.append("HOLD", 2, payload_for(2), answers.cb("hold")).ok());
  ops.held.get_future().wait();
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(w.append("SYM" + std::to_string(i), 1, payload_for(1), answers.cb("s")).ok());
  }
  ops.release.set_value();
  answers.wait();
  for (const auto& [tag, s] : answers.got) EXPECT_TRUE(s.ok()) << tag;
}

TEST_F(JournalWriterTest, ABatchOverManySymbolsIsSyncedWithOneSyncfs) {
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  one_batch_over_many_symbols(w, ops, 20);
  const auto ev = ops.event_log();
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "syncfs"), 1);
  // HOLD's two records (its header went with the first); the 20 new
  // segments, headers, names and records, all with the one syncfs.
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "sync"), 2);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(read_all(store, "SYM" + std::to_string(i)).records, expected(1, 1));
  }
}

TEST_F(JournalWriterTest, AFailedSyncfsFallsBackToSyncingEachFile) {
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  ops.syncfs_errno = EIO;
  one_batch_over_many_symbols(w, ops, 20);  // every record durable, through fdatasync
  const auto ev = ops.event_log();
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "syncfs"), 0);
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "sync"), 2 + 20);
  EXPECT_TRUE(w.health().healthy);
}

// RLIMIT_FSIZE set for the test, restored however it ends.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
    ::getrlimit(RLIMIT_FSIZE, &old_);
    struct rlimit lim = old_;
    lim.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }

 private:
  struct rlimit old_ {};
  sighandler_t old_handler_;
};

TEST(JournalWriterLimits, AFileSizeLimitIsReportedAsNoSpaceAndNothingIsAcknowledged) {
  TempDir tmp;
  const Store store = open_store(tmp.path());  // the real system calls
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  ASSERT_TRUE(append_sync(w, "BTC-USD", 1, payload_for(1)).ok());
  const fs::path seg = tmp.path() / "BTC-USD" / segment_file_name(1, false);
  const auto size = fs::file_size(seg);
  {
    const FileSizeLimit limit(size + 20);  // room for part of the next record only
    const Status s = append_sync(w, "BTC-USD", 2, std::string(200, 'p'));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::no_space);
    EXPECT_EQ(s.error().sys_errno, EFBIG);
    EXPECT_FALSE(w.health().healthy);
    EXPECT_EQ(fs::file_size(seg), size);
  }
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 1));
  ASSERT_TRUE(append_sync(w, "BTC-USD", 2, payload_for(2)).ok());
  EXPECT_TRUE(w.health().healthy);
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 2));
}

TEST_F(JournalWriterTest, DestructionAnswersEverythingAccepted) {
  Answers answers;
  answers.expect(2000);
  {
    JournalWriter w(store, {.fsync = FsyncPolicy::batch, .segment_bytes = 8192});
    for (std::uint64_t s = 1; s <= 2000; ++s) {
      ASSERT_TRUE(w.append("BTC-USD", s, payload_for(s), answers.cb(std::to_string(s))).ok());
    }
  }  // no flush: the destructor must do it
  ASSERT_EQ(answers.got.size(), 2000u);
  for (const auto& [tag, s] : answers.got) EXPECT_TRUE(s.ok()) << tag;
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 2000));
}

TEST_F(JournalWriterTest, AFullQueueRefusesWithoutAnswering) {
  JournalWriter w(store, {.fsync = FsyncPolicy::batch, .max_queued_bytes = 10'000});
  ASSERT_TRUE(append_sync(w, "BTC-USD", 1, "x").ok());
  ops.hold = true;
  Answers answers;
  answers.expect(1);
  ASSERT_TRUE(w.append("BTC-USD", 2, "x", answers.cb("2")).ok());
  ops.held.get_future().wait();
  std::uint64_t seq = 3;
  Status refused = rt::Ok{};
  for (; seq < 100; ++seq) {
    refused = w.append("BTC-USD", seq, std::string(1000, 'q'), answers.cb(std::to_string(seq)));
    if (!refused.ok()) break;
  }
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::overloaded);
  EXPECT_EQ(seq, 3u + 10'000 / (1000 + kQueuedRecordOverhead));
  answers.expect(seq - 2);  // 2 .. seq-1 accepted; the refused one is never answered
  ops.release.set_value();
  answers.wait();
  EXPECT_EQ(answers.got.size(), seq - 2);
}

TEST_F(JournalWriterTest, BadAppendsAreRefusedWithoutAnswering) {
  JournalWriter w(store, {});
  bool called = false;
  auto cb = [&called](const Status&) { called = true; };
  EXPECT_EQ(w.append("../x", 1, "x", cb).error().code, Errc::invalid_argument);
  EXPECT_EQ(w.append("", 1, "x", cb).error().code, Errc::invalid_argument);
  EXPECT_EQ(w.append("BTC-USD", 1, std::string(kMaxRecordLength, 'x'), cb).error().code,
            Errc::invalid_argument);
  flush_sync(w, "BTC-USD");
  EXPECT_FALSE(called);
}

TEST_F(JournalWriterTest, RemoveDeletesTheJournalAfterItsRecords) {
  JournalWriter w(store, {.fsync = FsyncPolicy::batch, .segment_bytes = 512});
  ASSERT_TRUE(store.write_snapshot("BTC-USD", 5, "state").ok());
  Answers answers;
  answers.expect(50);
  for (std::uint64_t s = 1; s <= 50; ++s) {
    ASSERT_TRUE(w.append("BTC-USD", s, payload_for(s), answers.cb(std::to_string(s))).ok());
  }
  std::promise<Status> removed;
  ASSERT_TRUE(w.remove("BTC-USD", [&](const Status& s) {
                 // Everything accepted before it was answered first.
                 EXPECT_EQ(answers.got.size(), 50u);
                 removed.set_value(s);
               }).ok());
  ASSERT_TRUE(removed.get_future().get().ok());
  EXPECT_FALSE(fs::exists(tmp.path() / "BTC-USD"));
  EXPECT_TRUE(store.symbols()->empty());
  EXPECT_TRUE(read_all(store, "BTC-USD").records.empty());
  EXPECT_FALSE(store.latest_snapshot("BTC-USD")->snapshot);
  // The name can be used again: a new journal from seq 1.
  ASSERT_TRUE(append_sync(w, "BTC-USD", 1, payload_for(1)).ok());
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 1));
}

TEST(StoreRemove, AnInterruptedRemoveIsFinishedOnOpenAndNeverListed) {
  TempDir tmp;
  {
    const Store store = open_store(tmp.path());
    write_records(store, "BTC-USD", 1, 10);
    write_records(store, "ETH-USD", 1, 10);
    // A crash after the rename, before the recursive delete.
    fs::rename(tmp.path() / "ETH-USD", tmp.path() / ".deleted-ETH-USD-1-2");
    EXPECT_EQ(*store.symbols(), std::vector<std::string>{"BTC-USD"});
  }
  const Store store = open_store(tmp.path());
  EXPECT_FALSE(fs::exists(tmp.path() / ".deleted-ETH-USD-1-2"));
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 10));
  ASSERT_TRUE(store.remove("BTC-USD").ok());
  EXPECT_TRUE(store.symbols()->empty());
  EXPECT_TRUE(store.remove("BTC-USD").ok());  // nothing to remove is fine
}

TEST(FsyncPolicyNames, ParseBack) {
  for (FsyncPolicy p : {FsyncPolicy::always, FsyncPolicy::batch, FsyncPolicy::never}) {
    EXPECT_EQ(parse_fsync_policy(to_string(p)), p);
  }
  EXPECT_FALSE(parse_fsync_policy("sometimes"));
}

}  // namespace
