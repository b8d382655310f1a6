// BookState (services/book_state.hpp), without a runtime: journal records
// replayed into another state rebuild the same state byte for byte, what the
// changes produced is handed over once, owners' resting counts follow the
// orders, and a listener hears every change.

#include "services/book_state.hpp"

#include <gtest/gtest.h>

#include <random>

#include "services/context.hpp"

namespace services {
namespace {

const SymbolSpec kVenue = *SymbolSpec::parse("0.01", "0.0001", ob::Mode::venue);
const SymbolSpec kMirror = *SymbolSpec::parse("0.01", "0.0001", ob::Mode::mirror);

OrderRequest limit(ob::Side side, std::int64_t price, std::int64_t qty, std::string owner,
                   std::string client_order_id = "") {
  return OrderRequest{
      side,         ob::OrderType::limit,       ob::TimeInForce::gtc, ob::Price(price),
      ob::Qty(qty), std::move(client_order_id), std::move(owner)};
}

/// Places and cancels at random through `live`, returning each request as
/// the journal record the server would have appended before applying it.
std::vector<journal::Record> trade_randomly(BookState& live, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<journal::Record> records{journal::SpecRecord{live.spec(), 1}};
  std::vector<std::pair<std::string, std::string>> resting;  // id, owner
  std::int64_t now = 1'000;
  for (int i = 0; i < n; ++i, now += 10) {
    if (!resting.empty() && rng() % 4 == 0) {
      const auto [id, owner] = resting[rng() % resting.size()];
      if (std::optional<ob::OrderId> found = live.find_api_order(id, owner)) {
        records.push_back(journal::CancelRecord{id, owner, now});
        (void)live.cancel(*found, now);
      }
      continue;
    }
    const std::string owner = "k" + std::to_string(rng() % 3);
    OrderRequest o = limit(rng() % 2 ? ob::Side::buy : ob::Side::sell, 95 + rng() % 10,
                           1 + rng() % 4, owner, rng() % 5 == 0 ? "c" + std::to_string(i) : "");
    records.push_back(journal::OrderRecord{o, now});
    auto r = live.place(o, now);
    EXPECT_TRUE(r.ok());
    if (r && r->remaining.positive()) resting.emplace_back(r->order_id, owner);
  }
  return records;
}

TEST(BookState, RecordsReplayedIntoAnotherStateRebuildItByteForByte) {
  BookState live(kVenue, 1);
  const std::vector<journal::Record> records = trade_randomly(live, 300, 7);
  ASSERT_GT(live.book().order_count(), 0u);
  ASSERT_GT(live.book().seq(), 100u);

  BookState replayed(kVenue, 999);  // the spec record sets where ids start
  for (const journal::Record& r : records) ASSERT_FALSE(replayed.apply(r));
  EXPECT_EQ(encode(replayed.snapshot()), encode(live.snapshot()));
  EXPECT_EQ(replayed.last_record_ns(), live.last_record_ns());

  // And a snapshot restored equals it too.
  BookState restored(kVenue, 1);
  ASSERT_FALSE(restored.restore(live.snapshot()));
  EXPECT_EQ(encode(restored.snapshot()), encode(live.snapshot()));
}

TEST(BookState, ASpecRecordOfAnotherBookOrAfterChangesIsRefused) {
  BookState s(kVenue, 1);
  EXPECT_TRUE(s.apply(journal::SpecRecord{kMirror, 1}));
  ASSERT_FALSE(s.apply(journal::SpecRecord{kVenue, 1}));
  ASSERT_TRUE(s.place(limit(ob::Side::buy, 100, 1, "k"), 5).ok());
  EXPECT_TRUE(s.apply(journal::SpecRecord{kVenue, 1}));
  EXPECT_EQ(s.book().order_count(), 1u) << "a refused record changes nothing";
}

TEST(BookState, EffectsHoldTheTradesAndCountsUntilTakenOnce) {
  BookState s(kVenue, 1);
  ASSERT_TRUE(s.place(limit(ob::Side::sell, 100, 3, "maker"), 10).ok());
  ASSERT_TRUE(s.place(limit(ob::Side::buy, 100, 2, "taker"), 20).ok());
  BookState::Effects e = s.take_effects();
  EXPECT_EQ(e.orders, 2u);
  EXPECT_EQ(e.trades, 1u);
  EXPECT_TRUE(e.touched);
  ASSERT_EQ(e.ticks.size(), 1u);
  EXPECT_EQ(e.ticks[0].price, ob::Price(100));
  EXPECT_EQ(e.ticks[0].size, ob::Qty(2));
  EXPECT_EQ(e.ticks[0].side, ob::Side::buy);
  EXPECT_EQ(e.ticks[0].ts_ns, 20);
  const BookState::Effects none = s.take_effects();
  EXPECT_TRUE(none.ticks.empty());
  EXPECT_EQ(none.orders + none.trades, 0u);
  EXPECT_FALSE(none.touched);
}

TEST(BookState, ItsTickerCountsEveryTradeAndIngestedTickAndSurvivesASnapshot) {
  BookState s(kVenue, 1);
  ASSERT_TRUE(s.place(limit(ob::Side::sell, 100, 3, "m"), 10).ok());
  ASSERT_TRUE(s.place(limit(ob::Side::sell, 102, 3, "m"), 11).ok());
  ASSERT_TRUE(s.place(limit(ob::Side::buy, 102, 4, "t"), 20).ok());  // two trades
  feeds::Event tick;
  tick.type = feeds::EventType::tick;
  tick.price = ob::Price(99);
  tick.qty = ob::Qty(5);
  tick.side = ob::Side::sell;
  ASSERT_TRUE(s.apply_events({tick}, 30, 100).empty());

  const wire::Ticker& k = s.ticker();
  EXPECT_EQ(k.seq, 3u);
  EXPECT_EQ(k.tick_count, 3u);
  EXPECT_EQ(k.open, ob::Price(100));
  EXPECT_EQ(k.high, ob::Price(102));
  EXPECT_EQ(k.low, ob::Price(99));
  EXPECT_EQ(k.last_price, ob::Price(99));
  EXPECT_EQ(k.last_size, ob::Qty(5));
  EXPECT_EQ(k.last_side, ob::Side::sell);
  EXPECT_EQ(k.volume, ob::Qty(9));
  EXPECT_EQ(k.ts_ns, 30);
  BookState restored(kVenue, 1);
  ASSERT_FALSE(restored.restore(s.snapshot()));
  EXPECT_EQ(restored.ticker(), k);
}

TEST(BookState, IngestedTicksAreJudgedByTheirUpstreamSeq) {
  BookState s(kMirror, 1);
  auto tick = [](std::uint64_t seq) {
    feeds::Event e;
    e.type = feeds::EventType::tick;
    e.price = ob::Price(100);
    e.qty = ob::Qty(1);
    e.upstream_seq = seq;
    return e;
  };
  const auto failures = s.apply_events({tick(1), tick(3), tick(3), tick(2)}, 50, 100);
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].index, 2u);
  EXPECT_EQ(failures[0].code, feeds::EventError::stale_seq);
  EXPECT_EQ(failures[1].index, 3u);
  const BookState::Effects e = s.take_effects();
  EXPECT_EQ(e.ticks.size(), 2u);
  EXPECT_EQ(e.seq_rejects, 2u);
  EXPECT_EQ(e.seq_gaps, 1u);
  EXPECT_EQ(s.last_record_ns(), 50);
}

TEST(BookState, OwnersRestingCountsFollowTheirOrdersAndAreReleasedAtTheEnd) {
  RestingOrderCounts counts;
  {
    BookState s(kVenue, 1, &counts);
    // The server reserves before it places; the state releases what does not rest.
    ASSERT_TRUE(counts.try_reserve("a", 10));
    ASSERT_TRUE(s.place(limit(ob::Side::sell, 100, 1, "a"), 1).ok());
    ASSERT_TRUE(counts.try_reserve("a", 10));
    auto second = s.place(limit(ob::Side::sell, 101, 1, "a"), 2);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(counts.count("a"), 2u);
    ASSERT_TRUE(counts.try_reserve("b", 10));
    ASSERT_TRUE(s.place(limit(ob::Side::buy, 100, 1, "b"), 3).ok());  // fills a's first
    EXPECT_EQ(counts.count("a"), 1u);
    EXPECT_EQ(counts.count("b"), 0u) << "filled at once: never rests";
    (void)s.cancel(*s.find_api_order(second->order_id, "a"), 4);
    EXPECT_EQ(counts.count("a"), 0u);

    ASSERT_TRUE(counts.try_reserve("a", 10));
    ASSERT_TRUE(s.place(limit(ob::Side::sell, 105, 1, "a"), 5).ok());
    // A replay counts what it rebuilds, unconditionally.
    BookState replayed(kVenue, 1, &counts);
    ASSERT_FALSE(replayed.restore(s.snapshot()));
    EXPECT_EQ(counts.count("a"), 2u);
    replayed.release_resting();
    s.release_resting();
  }
  EXPECT_EQ(counts.count("a"), 0u);
}

TEST(BookState, AnotherOwnersOrderAndAnUpstreamIdAreNoOrder) {
  BookState s(kMirror, 1);
  feeds::Event add;
  add.type = feeds::EventType::add;
  add.order_id = "1";
  add.side = ob::Side::buy;
  add.price = ob::Price(100);
  add.qty = ob::Qty(1);
  ASSERT_TRUE(s.apply_events({add}, 1, 100).empty());
  EXPECT_FALSE(s.find_api_order("1", ""));

  BookState v(kVenue, 1);
  auto r = v.place(limit(ob::Side::buy, 100, 1, "a"), 1);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(v.find_api_order(r->order_id, "a"));
  EXPECT_FALSE(v.find_api_order(r->order_id, "b"));
  EXPECT_FALSE(v.find_api_order("0", "a"));
  EXPECT_FALSE(v.find_api_order(r->order_id + "x", "a"));
}

TEST(BookState, AClientOrderIsRememberedWithItsLastState) {
  BookState s(kVenue, 1);
  auto r = s.place(limit(ob::Side::sell, 100, 2, "a", "c-1"), 1);
  ASSERT_TRUE(r.ok());
  const BookState::ClientOrder* c = s.remembered_order("a", "c-1");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->last.status, ob::OrderStatus::resting);
  EXPECT_EQ(s.remembered_order("b", "c-1"), nullptr);
  ASSERT_TRUE(s.place(limit(ob::Side::buy, 100, 2, "b"), 2).ok());  // fills it
  EXPECT_EQ(s.remembered_order("a", "c-1")->last.status, ob::OrderStatus::filled);
}

struct Recorder final : BookState::ChangeListener {
  void on_change(const ob::ChangeSet& c) override { seqs.push_back(c.seq); }
  std::vector<std::uint64_t> seqs;
};

TEST(BookState, TheListenerHearsEveryChangeAsItHappens) {
  Recorder heard;
  BookState s(kVenue, 1, nullptr, &heard);
  ASSERT_TRUE(s.place(limit(ob::Side::sell, 100, 1, "a"), 1).ok());
  ASSERT_TRUE(s.place(limit(ob::Side::sell, 101, 1, "a"), 2).ok());
  ASSERT_TRUE(s.place(limit(ob::Side::buy, 101, 2, "b"), 3).ok());
  EXPECT_EQ(heard.seqs.size(), 3u);
  EXPECT_EQ(heard.seqs.back(), s.book().seq());
  const Depth d = s.depth(10);
  EXPECT_EQ(d.seq, s.book().seq());
  EXPECT_TRUE(d.asks.empty());
  EXPECT_EQ(d.ts_ns, 3);
}

}  // namespace
}  // namespace services
