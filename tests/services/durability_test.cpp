// Durability (API.md "Durability", issue 16): books journaled under a data
// directory come back — after their server crashes, and after the whole
// Application restarts — with their seq, resting orders, ids and trade ids;
// a journal that cannot write refuses changes and says so; damage is
// quarantined and reported; DELETE removes the journal.

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <random>

#include "orderbook/decimal.hpp"
#include "services/application.hpp"
#include "services/book_history.hpp"
#include "services/journal_replay.hpp"
#include "services/symbol_directory.hpp"
#include "tests/services/service_fixture.hpp"
#include "tests/storage/storage_fixture.hpp"

namespace services::test {
namespace {

using storage_test::TempDir;
using testing_support::eventually;
using testing_support::Inbox;

/// The real system calls, but writes fail with ENOSPC while `full` is set.
class FillableDisk final : public storage::FileOps {
 public:
  int write_at(int fd, std::string_view data, std::uint64_t offset) override {
    if (full.load()) return ENOSPC;
    return storage::FileOps::write_at(fd, data, offset);
  }
  std::atomic<bool> full{false};
};

class DurabilityTest : public ::testing::Test {
 protected:
  DurabilityTest() { start(); }
  /// Snapshots every `records` records, retention, and small segments (so they close).
  void snapshot_every(std::uint64_t records,
                      std::optional<storage::RetentionPolicy> retention = std::nullopt) {
    policy.every_records = records;
    policy.retention = retention;
    segment_bytes = 512;
    restart();
  }
  ~DurabilityTest() override {
    for (const auto& c : collectors_) rt::stop(c);
    if (app) app->stop();
  }

  /// Starts an Application on the test's data directory (with `symbols` configured).
  rt::Result<std::unique_ptr<Application>, std::string> try_start(
      std::vector<SymbolDefinition> symbols = {}) {
    ApplicationConfig cfg;
    cfg.partitions = 2;
    cfg.symbols = std::move(symbols);
    JournalConfig j;
    j.data_dir = dir.path();
    j.store.file_ops = &disk;
    j.writer.fsync = storage::FsyncPolicy::batch;
    j.writer.window = std::chrono::milliseconds(1);
    j.writer.segment_bytes = segment_bytes;
    j.snapshots = policy;
    cfg.journal = j;
    return Application::start(runtime, std::move(cfg));
  }
  void start() {
    auto started = try_start();
    ASSERT_TRUE(started.ok()) << started.error();
    app = std::move(*started);
  }
  /// Stops the Application and starts another on the same data directory.
  void restart() {
    app->stop();
    app.reset();
    start();
  }

  SymbolInfoPtr create(const std::string& symbol, ob::Mode mode = ob::Mode::venue) {
    auto made = app->ensure_symbol(symbol, *SymbolSpec::parse("0.01", "0.0001", mode));
    EXPECT_TRUE(made.ok());
    return made ? made->info : nullptr;
  }
  BookHandle book(std::string_view symbol) { return *find_book(*app->context(), symbol); }
  SymbolInfoPtr info(std::string_view symbol) { return book(symbol).info; }

  ob::Result<OrderReport> place(std::string_view symbol, ob::Side side, std::string_view price,
                                std::string_view q, std::string owner = "k1",
                                std::string client_order_id = "") {
    const SymbolInfoPtr s = info(symbol);
    auto r = rt::call(book(symbol).server,
                      OrderBookServer::PlaceOrder{{side, ob::OrderType::limit, ob::TimeInForce::gtc,
                                                   *ob::parse_price(price, s->spec.book),
                                                   *ob::parse_qty(q, s->spec.book),
                                                   std::move(client_order_id), std::move(owner)}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : ob::Result<OrderReport>(ob::ErrorCode::invalid_field);
  }
  Depth depth(std::string_view symbol) {
    return *rt::call(book(symbol).server, OrderBookServer::GetDepth{50});
  }
  /// Waits until `symbol`'s book server is another process than `old`.
  void wait_for_successor(std::string_view symbol, const rt::Pid& old) {
    ASSERT_TRUE(eventually([&] {
      auto b = find_book(*app->context(), symbol);
      return b && b->server.pid() != old;
    }));
  }
  rt::Ref<Collector> collector(std::shared_ptr<Inbox> inbox,
                               std::shared_ptr<Inbox> resubscribes = nullptr) {
    auto c = *rt::start<Collector>(runtime, {}, std::move(inbox), app->context(),
                                   std::move(resubscribes));
    collectors_.push_back(c);
    return c;
  }

  /// The ticker the symbol's PriceFeedHandler reports (empty while it restarts).
  wire::Ticker ticker(std::string_view symbol) {
    auto f = find_feed(*app->context(), symbol);
    if (!f) return {};
    auto r = rt::call(f->server, PriceFeedHandler::GetTicker{});
    return r.ok() ? r->ticker : wire::Ticker{};
  }
  std::string dump(std::string_view symbol) {
    return *rt::call(book(symbol).server, OrderBookServer::Dump{});
  }
  /// Random orders, cancels and crossing orders of several owners on a venue book.
  void trade_randomly(std::string_view symbol, int n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::pair<std::string, std::string>> resting;  // id, owner
    for (int i = 0; i < n; ++i) {
      if (!resting.empty() && rng() % 4 == 0) {
        const auto [id, owner] = resting[rng() % resting.size()];
        (void)rt::call(book(symbol).server, OrderBookServer::CancelOrder{id, owner});
        continue;
      }
      const std::string owner = "k" + std::to_string(rng() % 3);
      auto r = place(symbol, rng() % 2 ? ob::Side::buy : ob::Side::sell,
                     std::to_string(95 + rng() % 10), std::to_string(1 + rng() % 4), owner,
                     rng() % 5 == 0 ? "c" + std::to_string(i) : "");
      ASSERT_TRUE(r.ok());
      if (r->remaining.positive()) resting.emplace_back(r->order_id, owner);
    }
  }

  SnapshotPolicy policy;
  std::uint64_t segment_bytes = std::uint64_t{32} << 20;
  TempDir dir;
  FillableDisk disk;
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 2}}};
  std::unique_ptr<Application> app;

 private:
  std::vector<rt::Ref<Collector>> collectors_;
};

bool same_depth(const Depth& a, const Depth& b) {
  return a.seq == b.seq && a.bids == b.bids && a.asks == b.asks;
}

/// `dump` decoded, with `clear` applied, encoded again.
template <class Clear>
std::string dump_without(const std::string& dump, Clear clear) {
  auto s = decode_book_snapshot(dump);
  EXPECT_TRUE(s.ok()) << s.error();
  if (!s) return {};
  clear(*s);
  return encode(*s);
}

/// Two dumps of one book are the same but for its next order id (each start
/// of a book server takes a new block of ids: by design, it differs).
std::string without_next_id(const std::string& dump) {
  return dump_without(dump, [](BookSnapshot& s) { s.book.next_id = 0; });
}

/// A normalized event at `s`'s scale; an empty price or qty is left unset.
feeds::Event make_event(const SymbolInfoPtr& s, feeds::EventType t, std::string id,
                        std::string_view price, std::string_view q,
                        std::uint64_t upstream_seq = 0) {
  feeds::Event e;
  e.type = t;
  e.side = ob::Side::buy;
  e.order_id = std::move(id);
  if (!price.empty()) e.price = *ob::parse_price(price, s->spec.book);
  if (!q.empty()) e.qty = *ob::parse_qty(q, s->spec.book);
  e.upstream_seq = upstream_seq;
  return e;
}

TEST_F(DurabilityTest, ARestartedServiceHasEveryBookWithItsSeqOrdersAndIds) {
  create("BTC-USD");
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "100", "1").ok());
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "101", "2", "k2", "c-1").ok());
  auto crossing = place("BTC-USD", ob::Side::sell, "101", "0.5");
  ASSERT_TRUE(crossing.ok());
  ASSERT_EQ(crossing->trades.size(), 1u);
  const ob::TradeId last_trade = crossing->trades[0].trade_id;
  auto resting = place("BTC-USD", ob::Side::sell, "105", "3");
  ASSERT_TRUE(resting.ok());
  const Depth before = depth("BTC-USD");
  const std::uint64_t highest_id = std::stoull(resting->order_id);
  ASSERT_TRUE(eventually([&] { return ticker("BTC-USD").seq == 1; }));
  const wire::Ticker ticker_before = ticker("BTC-USD");

  restart();

  // The trade stream's ticker came back with its seq.
  ASSERT_TRUE(eventually([&] { return ticker("BTC-USD").seq == 1; }));
  EXPECT_EQ(ticker("BTC-USD"), ticker_before);

  // Listed again, without being configured, with the spec it had.
  auto listed = rt::call(*app->directory(), SymbolDirectory::List{});
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0]->symbol, "BTC-USD");
  EXPECT_TRUE(same_depth(depth("BTC-USD"), before));
  // A resting order is still its owner's, with its client_order_id...
  auto got = rt::call(book("BTC-USD").server, OrderBookServer::GetOrder{resting->order_id, "k1"});
  ASSERT_TRUE(got->ok());
  EXPECT_EQ((*got)->remaining, resting->remaining);
  EXPECT_EQ(app->context()->resting_orders->count("k1"), 2u);
  // ...an idempotent repeat is still recognised...
  auto again = place("BTC-USD", ob::Side::buy, "101", "2", "k2", "c-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->repeated);
  // ...and new ids and trade ids are past every earlier one.
  auto next = place("BTC-USD", ob::Side::buy, "105", "1");
  ASSERT_TRUE(next.ok());
  EXPECT_GT(std::stoull(next->order_id), highest_id);
  EXPECT_GT(std::stoull(next->order_id), OrderIdSeeds::kBlock);
  ASSERT_EQ(next->trades.size(), 1u);
  EXPECT_EQ(next->trades[0].trade_id, last_trade + 1);
  EXPECT_EQ(depth("BTC-USD").seq, before.seq + 1);
  ASSERT_TRUE(eventually([&] { return ticker("BTC-USD").seq == 2; }));
  EXPECT_EQ(ticker("BTC-USD").volume,
            ob::saturating_add(ticker_before.volume, next->trades[0].qty));
}

TEST_F(DurabilityTest, ACrashedFeedHandlerGetsItsTickerBackFromTheBook) {
  create("BTC-USD");
  ASSERT_TRUE(place("BTC-USD", ob::Side::sell, "100", "2").ok());
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "100", "1").ok());
  ASSERT_TRUE(eventually([&] { return ticker("BTC-USD").seq == 1; }));
  const wire::Ticker before = ticker("BTC-USD");
  const rt::Pid old = find_feed(*app->context(), "BTC-USD")->server.pid();
  rt::exit(old, rt::ExitReason::kill());
  ASSERT_TRUE(eventually([&] {
    auto f = find_feed(*app->context(), "BTC-USD");
    return f && f->server.pid() != old && ticker("BTC-USD").seq == 1;
  }));
  EXPECT_EQ(ticker("BTC-USD"), before);
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "100", "1").ok());
  ASSERT_TRUE(eventually([&] { return ticker("BTC-USD").seq == 2; }));
}

/// The book frames among what a collector received, once there are `n` of them.
std::vector<std::string> book_frames(const Inbox& inbox, std::size_t n) {
  std::vector<std::string> out;
  eventually([&] {
    out.clear();
    for (std::string& f : inbox.items()) {
      if (f.starts_with(R"({"type":"book_)")) out.push_back(std::move(f));
    }
    return out.size() >= n;
  });
  return out;
}

TEST_F(DurabilityTest, ACrashedBookComesBackAndItsSubscribersGetASnapshotThatContinuesTheSeq) {
  create("BTC-USD");
  auto inbox = std::make_shared<Inbox>();
  auto resubscribed = std::make_shared<Inbox>();
  rt::cast(collector(inbox, resubscribed), Collector::Watch{"BTC-USD", {Channel::book}});
  ASSERT_EQ(book_frames(*inbox, 1).size(), 1u);  // the empty snapshot
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(place("BTC-USD", ob::Side::buy, std::to_string(100 + i), "1").ok());
  }
  ASSERT_EQ(book_frames(*inbox, 6).size(), 6u);
  const Depth before = depth("BTC-USD");
  const rt::Pid old = book("BTC-USD").server.pid();
  rt::exit(old, rt::ExitReason::error("injected crash"));
  wait_for_successor("BTC-USD", old);
  ASSERT_EQ(resubscribed->wait_for(1).size(), 1u);
  auto frames = book_frames(*inbox, 7);
  ASSERT_EQ(frames.size(), 7u);
  EXPECT_EQ(type_of(frames[6]), "book_snapshot");
  EXPECT_EQ(seq_of(frames[6]), before.seq);
  EXPECT_TRUE(same_depth(depth("BTC-USD"), before));
  // The next change continues the seq.
  ASSERT_TRUE(place("BTC-USD", ob::Side::sell, "200", "1").ok());
  frames = book_frames(*inbox, 8);
  ASSERT_EQ(frames.size(), 8u);
  EXPECT_EQ(seq_of(frames[7]), before.seq + 1);
}

TEST_F(DurabilityTest, IngestedEventsReplayWithTheirVerdicts) {
  const SymbolInfoPtr s = create("ETH-USD", ob::Mode::mirror);
  auto event = [&](feeds::EventType t, std::string id, std::string_view price, std::string_view q,
                   std::uint64_t upstream_seq = 0) {
    return make_event(s, t, std::move(id), price, q, upstream_seq);
  };
  using T = feeds::EventType;
  auto failures = rt::call(book("ETH-USD").server,
                           OrderBookServer::ApplyReport{
                               {event(T::add, "a", "10", "1"), event(T::add, "b", "11", "2"),
                                event(T::cancel, "nope", "", ""), event(T::reduce, "b", "", "0.5"),
                                event(T::tick, "", "10", "1", 7)},
                               1});
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].code, feeds::EventError::unknown_order);
  const Depth before = depth("ETH-USD");

  restart();

  EXPECT_TRUE(same_depth(depth("ETH-USD"), before));
  // The upstream seq came back with the book: an old one is still stale.
  failures = rt::call(book("ETH-USD").server,
                      OrderBookServer::ApplyReport{{event(T::tick, "", "10", "1", 7)}, 2});
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].code, feeds::EventError::stale_seq);
}

TEST_F(DurabilityTest, AFullDiskRefusesChangesSaysWhyAndLosesNothingAcknowledged) {
  create("BTC-USD");
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "100", "1").ok());
  const Depth before = depth("BTC-USD");
  const rt::Pid old = book("BTC-USD").server.pid();

  disk.full = true;
  auto refused = place("BTC-USD", ob::Side::buy, "99", "1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), ob::ErrorCode::unavailable);
  // Its book held the change its journal lost: it starts again from the journal.
  wait_for_successor("BTC-USD", old);
  EXPECT_TRUE(same_depth(depth("BTC-USD"), before));
  auto reason = app->not_ready_reason();
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("journal cannot write"), std::string::npos) << *reason;
  EXPECT_NE(reason->find("no_space"), std::string::npos) << *reason;
  // Refused at once while the journal does not write, and nothing changes.
  auto again = place("BTC-USD", ob::Side::buy, "98", "1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), ob::ErrorCode::unavailable);
  EXPECT_TRUE(same_depth(depth("BTC-USD"), before));

  // Space again: the next probe finds it and changes are taken.
  disk.full = false;
  ASSERT_TRUE(eventually([&] { return place("BTC-USD", ob::Side::buy, "97", "1").ok(); }));
  ASSERT_TRUE(eventually([&] { return !app->not_ready_reason(); }));
  const Depth after = depth("BTC-USD");
  restart();
  EXPECT_TRUE(same_depth(depth("BTC-USD"), after));
  EXPECT_EQ(after.bids.size(), 2u);  // 100 and 97: never the refused ones
}

TEST_F(DurabilityTest, DamageInTheMiddleIsQuarantinedTheBookStartsFromBeforeItAndReadyzSaysSo) {
  create("BTC-USD");
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(place("BTC-USD", ob::Side::buy, std::to_string(100 + i), "1").ok());
  }
  app->stop();
  app.reset();
  // Flip a byte inside the fourth record (spec, then orders): its CRC fails.
  auto segments = *storage::Store::open(dir.path())->segments("BTC-USD");
  ASSERT_EQ(segments.size(), 1u);
  std::string bytes = storage_test::slurp(segments[0].path);
  std::size_t at = storage::kSegmentHeaderSize;
  for (int r = 0; r < 3; ++r) at += storage::get_u32(bytes.data() + at) + storage::kFrameHeaderSize;
  bytes[at + storage::kRecordOverhead + 2] ^= 0x40;
  storage_test::spit(segments[0].path, bytes);

  start();
  const Depth d = depth("BTC-USD");
  EXPECT_EQ(d.seq, 2u);  // the two orders before the damage
  EXPECT_EQ(d.bids.size(), 2u);
  auto reason = app->not_ready_reason();
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("journal damage found: BTC-USD"), std::string::npos) << *reason;
  bool quarantined = false;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "BTC-USD")) {
    quarantined |= e.path().filename().string().starts_with("damaged-");
  }
  EXPECT_TRUE(quarantined);
  // The symbol starts stale: what came after the damage may be missing.
  auto feed_state = [&] {
    auto feed = find_feed(*app->context(), "BTC-USD");
    return rt::call(feed->server, PriceFeedHandler::GetTicker{})->state;
  };
  EXPECT_TRUE(eventually([&] { return feed_state() == wire::FeedState::stale; }));
  // It goes on from there (live at the next update), and that survives a restart.
  ASSERT_TRUE(place("BTC-USD", ob::Side::sell, "200", "1").ok());
  EXPECT_TRUE(eventually([&] { return feed_state() == wire::FeedState::live; }));
  restart();
  EXPECT_EQ(depth("BTC-USD").seq, 3u);
  EXPECT_FALSE(app->not_ready_reason());  // found and dealt with once
}

TEST_F(DurabilityTest, DeletingASymbolDeletesItsJournal) {
  create("BTC-USD");
  create("ETH-USD");
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "100", "1").ok());
  ASSERT_TRUE(rt::call(*app->directory(), SymbolDirectory::Remove{"BTC-USD"})->ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "BTC-USD"));
  restart();
  auto listed = rt::call(*app->directory(), SymbolDirectory::List{});
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0]->symbol, "ETH-USD");
  // The name can be used again, from a blank book.
  create("BTC-USD");
  EXPECT_EQ(depth("BTC-USD").seq, 0u);
}

TEST_F(DurabilityTest, AConfiguredSymbolThatDisagreesWithItsJournalStopsTheStart) {
  create("BTC-USD");
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "100", "1").ok());
  app->stop();
  app.reset();
  auto started = try_start({{"BTC-USD", *SymbolSpec::parse("0.5", "1")}});
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("BTC-USD"), std::string::npos) << started.error();
}

TEST_F(DurabilityTest, ABookRebuiltFromSnapshotAndTailEqualsTheLiveBookByteForByte) {
  snapshot_every(7);
  create("BTC-USD");
  trade_randomly("BTC-USD", 200, 1);
  const std::string live = dump("BTC-USD");
  const auto snapshots = *storage::Store::open(dir.path())->snapshots("BTC-USD");
  ASSERT_GE(snapshots.size(), 2u);

  restart();                              // newest snapshot + the records after it
  EXPECT_FALSE(app->not_ready_reason());  // the snapshot loaded: nothing reported
  EXPECT_EQ(without_next_id(dump("BTC-USD")), without_next_id(live));
  // And the records alone, from the spec on, rebuild the same.
  app->stop();
  app.reset();
  const storage::Store store = *storage::Store::open(dir.path());
  const auto written = *store.snapshots("BTC-USD");
  for (const auto& s : written) std::filesystem::remove(s.path);
  start();
  EXPECT_EQ(without_next_id(dump("BTC-USD")), without_next_id(live));
}

TEST_F(DurabilityTest, RetentionDeletesOldSegmentsAndRecoveryStillHasEverything) {
  snapshot_every(5, storage::RetentionPolicy{.max_bytes = 1, .keep_snapshots = 1});
  create("BTC-USD");
  trade_randomly("BTC-USD", 120, 2);
  const std::string live = dump("BTC-USD");
  const Depth before = depth("BTC-USD");
  auto segments = *storage::Store::open(dir.path())->segments("BTC-USD");
  ASSERT_FALSE(segments.empty());
  EXPECT_GT(segments.front().first_seq, 1u) << "the oldest segments were deleted";
  restart();
  EXPECT_TRUE(same_depth(depth("BTC-USD"), before));
  EXPECT_EQ(without_next_id(dump("BTC-USD")), without_next_id(live));
  // The spec now comes from the snapshot: the symbol came back by itself.
  EXPECT_EQ(rt::call(*app->directory(), SymbolDirectory::List{})->size(), 1u);
}

// ---- depth?at=T: the past, rebuilt from snapshots and journal ----

/// Now, once the clock has moved past every record so far.
std::int64_t moment() {
  const std::int64_t t = wall_clock_ns();
  while (wall_clock_ns() <= t) {
  }
  return t;
}

rt::Result<Depth, PastError> past(const Application& app, std::string_view symbol, std::int64_t t) {
  return depth_at(app.context()->journals->store, symbol,
                  *SymbolSpec::parse("0.01", "0.0001", ob::Mode::venue), t, 50, wall_clock_ns());
}

TEST_F(DurabilityTest, TheBookAtATimeIsTheBookAsItWasThenFromASnapshotOrTheJournalStart) {
  snapshot_every(7);
  create("BTC-USD");
  std::vector<std::pair<std::int64_t, Depth>> then;
  for (unsigned round = 0; round < 6; ++round) {
    trade_randomly("BTC-USD", 15, round);
    then.emplace_back(moment(), depth("BTC-USD"));
  }
  ASSERT_GE(storage::Store::open(dir.path())->snapshots("BTC-USD")->size(), 4u);
  auto check = [&](std::string_view from) {
    for (const auto& [t, d] : then) {
      auto p = past(*app, "BTC-USD", t);
      ASSERT_TRUE(p.ok()) << from << ": " << p.error().message;
      EXPECT_TRUE(same_depth(*p, d)) << from << " seq " << p->seq << " vs " << d.seq;
      EXPECT_EQ(p->ts_ns, d.ts_ns) << from;
    }
  };
  check("snapshots");
  const auto snapshots = *storage::Store::open(dir.path())->snapshots("BTC-USD");
  for (const auto& s : snapshots) std::filesystem::remove(s.path);
  check("the journal's start");
}

TEST_F(DurabilityTest, ATimeOutsideTheRecordedPastIsOutOfRange) {
  create("BTC-USD");
  const std::int64_t before = moment();
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "100", "1").ok());
  auto early = past(*app, "BTC-USD", before);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, PastError::Code::out_of_range);
  EXPECT_NE(early.error().message.find("first recorded change"), std::string::npos);
  auto future = past(*app, "BTC-USD", wall_clock_ns() + 1'000'000'000);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code, PastError::Code::out_of_range);
  auto unknown = past(*app, "NOPE", moment());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, PastError::Code::out_of_range);
  EXPECT_TRUE(past(*app, "BTC-USD", moment()).ok());
}

TEST_F(DurabilityTest, ATimeWhoseRecordsRetentionDeletedIsOutOfRangeAndLaterOnesAnswer) {
  snapshot_every(5, storage::RetentionPolicy{.max_bytes = 1, .keep_snapshots = 1});
  create("BTC-USD");
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "90", "1").ok());
  const std::int64_t early = moment();
  trade_randomly("BTC-USD", 120, 3);
  const Depth now = depth("BTC-USD");
  ASSERT_GT(storage::Store::open(dir.path())->segments("BTC-USD")->front().first_seq, 1u);
  auto gone = past(*app, "BTC-USD", early);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, PastError::Code::out_of_range);
  EXPECT_NE(gone.error().message.find("oldest retained"), std::string::npos)
      << gone.error().message;
  auto latest = past(*app, "BTC-USD", moment());
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  EXPECT_TRUE(same_depth(*latest, now));
}

TEST_F(DurabilityTest, CandlesOlderThanTheRingHoldsAreRebuiltFromTheJournal) {
  const SymbolInfoPtr s = create("ETH-USD", ob::Mode::mirror);
  constexpr std::int64_t kS = 1'000'000'000;
  constexpr std::int64_t t0 = 1'765'000'000 * kS;
  constexpr std::int64_t kEnd = std::numeric_limits<std::int64_t>::max();
  std::vector<feeds::Event> ticks;
  for (int k = 0; k < 700; ++k) {  // one 1s candle each: 100 more than the ring keeps
    feeds::Event e = make_event(s, feeds::EventType::tick, "", k % 2 ? "10" : "11", "1");
    e.ts_ns = t0 + k * kS;
    ticks.push_back(std::move(e));
  }
  auto applied = rt::call(book("ETH-USD").server, OrderBookServer::ApplyReport{ticks, t0});
  ASSERT_TRUE(applied.ok() && applied->empty());
  auto ring = rt::call(book("ETH-USD").server,
                       OrderBookServer::GetCandles{CandleInterval::s1, t0, kEnd, 1000});
  ASSERT_TRUE(ring.ok());
  EXPECT_FALSE(ring->complete);
  ASSERT_EQ(ring->candles.size(), candle_capacity(CandleInterval::s1));

  auto all = candles_from_journal(app->context()->journals->store, "ETH-USD", s->spec,
                                  CandleInterval::s1, t0, kEnd, 1000);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 700u);
  EXPECT_EQ(all->front().start_ns, t0);
  EXPECT_EQ(all->front().open, ticks[0].price);
  EXPECT_EQ(std::vector<Candle>(all->end() - 600, all->end()), ring->candles);
  // A window and a limit, as the ring answers them.
  auto some = candles_from_journal(app->context()->journals->store, "ETH-USD", s->spec,
                                   CandleInterval::s1, t0 + 10 * kS, t0 + 20 * kS, 3);
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 3u);
  EXPECT_EQ(some->front().start_ns, t0 + 17 * kS);
  // The 1m ring holds all twelve minutes: complete.
  EXPECT_TRUE(rt::call(book("ETH-USD").server,
                       OrderBookServer::GetCandles{CandleInterval::m1, t0, kEnd, 1000})
                  ->complete);
}

TEST(BookHistory, AtMostItsLimitOfQueriesRunAtOnce) {
  BookHistory history(2);
  std::optional<BookHistory::Slot> a = history.try_begin();
  std::optional<BookHistory::Slot> b = history.try_begin();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(history.try_begin());
  a.reset();
  std::optional<BookHistory::Slot> c = history.try_begin();
  EXPECT_TRUE(c);
  EXPECT_FALSE(history.try_begin());
}

// ---- --replay-journal: a recording made by one marketd feeds another ----

/// A second service, on its own runtime, with no journal: where a recording is replayed.
struct Target {
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 1}}};
  std::unique_ptr<Application> app = start(runtime);
  static std::unique_ptr<Application> start(rt::Runtime& r) {
    auto started = Application::start(r, ApplicationConfig{});
    EXPECT_TRUE(started.ok()) << started.error();
    return started ? std::move(*started) : nullptr;
  }
  ~Target() { app->stop(); }
  std::string dump(std::string_view symbol) {
    return *rt::call(find_book(*app->context(), symbol)->server, OrderBookServer::Dump{});
  }
};

/// A book's dump but for what only its own service stamps: the next order id
/// and the receipt times of its last changes (a replay is received anew).
std::string replayable(const std::string& dump) {
  return dump_without(dump, [](BookSnapshot& s) {
    s.book.next_id = 0;
    s.top_ts_ns = s.book_ts_ns = s.last_record_ns = s.ticker.ts_ns = 0;
    // Ticks without an event time fall in the candles of their receipt.
    s.candles = {};
    std::deque<TradeRecord> trades = s.recent_trades.all();
    for (TradeRecord& t : trades) t.ts_ns = 0;
    (void)s.recent_trades.restore(std::move(trades));
  });
}

class JournalReplayTest : public DurabilityTest {
 protected:
  /// A feed batch as if received at `receipt_ns`.
  void feed(std::string_view symbol, std::vector<feeds::Event> events, std::int64_t receipt_ns) {
    ASSERT_TRUE(
        rt::call(book(symbol).server, OrderBookServer::ApplyReport{std::move(events), receipt_ns})
            .ok());
  }
};

TEST_F(JournalReplayTest, AnotherServiceRebuildsTheBooksOfTheRecordedFeed) {
  using T = feeds::EventType;
  const SymbolInfoPtr eth = create("ETH-USD", ob::Mode::mirror);
  create("BTC-USD", ob::Mode::venue);
  feed("ETH-USD",
       {make_event(eth, T::add, "a", "10", "1"), make_event(eth, T::add, "b", "11", "2")}, 100);
  ASSERT_TRUE(place("BTC-USD", ob::Side::buy, "100", "1").ok());  // an API order: not re-emitted
  feed("ETH-USD",
       {make_event(eth, T::cancel, "nope", "", ""), make_event(eth, T::reduce, "b", "", "0.5")},
       200);
  feed("ETH-USD", {make_event(eth, T::tick, "", "10", "1")}, 300);

  Target target;
  auto replay = JournalReplay::start(*target.app, dir.path(), {});
  ASSERT_TRUE(replay.ok()) << replay.error();
  auto totals = (*replay)->wait(std::chrono::seconds(10));
  ASSERT_TRUE(totals.ok()) << totals.error();
  EXPECT_EQ(totals->batches, 3u);
  EXPECT_EQ(totals->events, 5u);
  EXPECT_EQ(totals->rejected, 1u);  // the cancel of an unknown order, as when recorded
  EXPECT_EQ(totals->api_records, 1u);
  EXPECT_TRUE(totals->stopped_symbols.empty());
  EXPECT_EQ(replayable(target.dump("ETH-USD")), replayable(dump("ETH-USD")));
  // The venue symbol exists with its spec, without the desk's order.
  const auto btc = find_book(*target.app->context(), "BTC-USD");
  ASSERT_TRUE(btc);
  EXPECT_EQ(btc->info->spec, info("BTC-USD")->spec);
  EXPECT_TRUE(rt::call(btc->server, OrderBookServer::GetDepth{10})->bids.empty());
}

TEST_F(JournalReplayTest, PacedReplayKeepsTheRecordedGapsAndNeverRunsEarly) {
  using T = feeds::EventType;
  const SymbolInfoPtr eth = create("ETH-USD", ob::Mode::mirror);
  const std::int64_t t0 = 1'000'000'000;
  feed("ETH-USD", {make_event(eth, T::add, "a", "10", "1")}, t0);
  feed("ETH-USD", {make_event(eth, T::add, "b", "11", "1")}, t0 + 150'000'000);  // 150 ms later
  Target target;
  const auto started = std::chrono::steady_clock::now();
  auto replay = JournalReplay::start(*target.app, dir.path(), {"ETH-USD"}, {.paced = true});
  ASSERT_TRUE(replay.ok()) << replay.error();
  ASSERT_TRUE((*replay)->wait(std::chrono::seconds(10)).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150));
  EXPECT_EQ(replayable(target.dump("ETH-USD")), replayable(dump("ETH-USD")));
}

TEST_F(JournalReplayTest, ASymbolThatExistsWithAnotherSpecIsSkippedAndSaidWhy) {
  using T = feeds::EventType;
  const SymbolInfoPtr eth = create("ETH-USD", ob::Mode::mirror);
  const SymbolInfoPtr sol = create("SOL-USD", ob::Mode::mirror);
  feed("ETH-USD", {make_event(eth, T::add, "a", "10", "1")}, 100);
  feed("SOL-USD", {make_event(sol, T::add, "a", "10", "1")}, 200);
  Target target;
  ASSERT_TRUE(target.app->ensure_symbol("ETH-USD", *SymbolSpec::parse("1", "1", ob::Mode::l2)));
  auto replay = JournalReplay::start(*target.app, dir.path(), {});
  ASSERT_TRUE(replay.ok()) << replay.error();
  auto totals = (*replay)->wait(std::chrono::seconds(10));
  ASSERT_TRUE(totals.ok());
  ASSERT_EQ(totals->stopped_symbols.size(), 1u);
  EXPECT_TRUE(totals->stopped_symbols[0].starts_with("ETH-USD: cannot create it here"))
      << totals->stopped_symbols[0];
  EXPECT_EQ(totals->batches, 1u);  // SOL-USD's
  EXPECT_EQ(replayable(target.dump("SOL-USD")), replayable(dump("SOL-USD")));
}

TEST_F(JournalReplayTest, AJournalWhoseStartRetentionDeletedIsNotReplayedAndSaidWhy) {
  snapshot_every(5, storage::RetentionPolicy{.max_bytes = 1, .keep_snapshots = 1});
  create("BTC-USD");
  trade_randomly("BTC-USD", 120, 2);
  ASSERT_GT(storage::Store::open(dir.path())->segments("BTC-USD")->front().first_seq, 1u);
  Target target;
  // Named twice: replayed once.
  auto replay = JournalReplay::start(*target.app, dir.path(), {"BTC-USD", "BTC-USD"});
  ASSERT_TRUE(replay.ok()) << replay.error();
  auto totals = (*replay)->wait(std::chrono::seconds(10));
  ASSERT_TRUE(totals.ok());
  ASSERT_EQ(totals->stopped_symbols.size(), 1u);
  EXPECT_NE(totals->stopped_symbols[0].find("after a snapshot"), std::string::npos)
      << totals->stopped_symbols[0];
  EXPECT_EQ(totals->batches + totals->api_records, 0u);
  EXPECT_FALSE(find_book(*target.app->context(), "BTC-USD"));
}

TEST_F(JournalReplayTest, ItRefusesItsOwnDataDirectoryAMissingOneAndAnUnrecordedSymbol) {
  create("ETH-USD", ob::Mode::mirror);
  auto own = JournalReplay::start(*app, dir.path(), {});
  ASSERT_FALSE(own.ok());
  EXPECT_NE(own.error().find("own data directory"), std::string::npos) << own.error();
  Target target;
  auto missing = JournalReplay::start(*target.app, dir.path() / "nowhere", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("no data directory"), std::string::npos) << missing.error();
  auto unrecorded = JournalReplay::start(*target.app, dir.path(), {"XRP-USD"});
  ASSERT_FALSE(unrecorded.ok());
  EXPECT_NE(unrecorded.error().find("no journal for XRP-USD"), std::string::npos)
      << unrecorded.error();
}

}  // namespace
}  // namespace services::test
