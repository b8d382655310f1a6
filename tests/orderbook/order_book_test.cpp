// OrderBook behaviour: matching, order kinds, L3 operations, modes, events.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "orderbook/checksum.hpp"
#include "orderbook/order_book.hpp"

namespace {

using namespace ob;

NewOrder limit(Side s, std::int64_t px, std::int64_t q, TimeInForce tif = TimeInForce::gtc) {
  return NewOrder{s, Price(px), Qty(q), OrderType::limit, tif};
}
NewOrder market(Side s, std::int64_t q) {
  return NewOrder{s, Price(), Qty(q), OrderType::market, TimeInForce::ioc};
}
OrderId add_ok(OrderBook& b, const NewOrder& o) {
  auto r = b.add(o);
  EXPECT_TRUE(r.ok());
  return r->id;
}
void expect_valid(const OrderBook& b) {
  EXPECT_EQ(b.check_invariants(), std::nullopt);
}

TEST(Venue, IdsAreSequentialAndConsumedByEveryAdd) {
  OrderBook b;
  EXPECT_EQ(add_ok(b, limit(Side::sell, 101, 5)).value(), 1u);
  EXPECT_EQ(add_ok(b, limit(Side::buy, 101, 5)).value(), 2u);                   // fills at once
  EXPECT_EQ(add_ok(b, limit(Side::buy, 90, 5, TimeInForce::ioc)).value(), 3u);  // cancelled
  EXPECT_EQ(b.add(limit(Side::buy, 0, 5)).error(), ErrorCode::invalid_price);   // consumes nothing
  EXPECT_EQ(add_ok(b, limit(Side::buy, 90, 5)).value(), 4u);
}

TEST(Venue, RestingOrdersAreCountedPerSide) {
  OrderBook b;
  add_ok(b, limit(Side::buy, 99, 1));
  add_ok(b, limit(Side::buy, 98, 1));
  const OrderId ask = add_ok(b, limit(Side::sell, 101, 2));
  EXPECT_EQ(b.order_count(Side::buy), 2u);
  EXPECT_EQ(b.order_count(Side::sell), 1u);
  add_ok(b, limit(Side::buy, 101, 1));  // partial fill: the ask still rests
  EXPECT_EQ(b.order_count(Side::sell), 1u);
  ASSERT_TRUE(b.cancel(ask).ok());
  EXPECT_EQ(b.order_count(Side::sell), 0u);
  EXPECT_EQ(b.order_count(), 2u);
}

TEST(Venue, CrossingAddTradesAtRestingPricesInPriceTimeOrder) {
  OrderBook b;
  const OrderId a1 = add_ok(b, limit(Side::sell, 101, 5));
  const OrderId a2 = add_ok(b, limit(Side::sell, 100, 3));
  const OrderId a3 = add_ok(b, limit(Side::sell, 100, 4));
  auto r = b.add(limit(Side::buy, 101, 10));
  ASSERT_TRUE(r.ok());
  const auto& trades = b.last_change().trades;
  ASSERT_EQ(trades.size(), 3u);
  EXPECT_EQ(trades[0], (Trade{1, Price(100), Qty(3), a2, r->id, Side::buy}));
  EXPECT_EQ(trades[1], (Trade{2, Price(100), Qty(4), a3, r->id, Side::buy}));
  EXPECT_EQ(trades[2], (Trade{3, Price(101), Qty(3), a1, r->id, Side::buy}));
  EXPECT_EQ(r->status, OrderStatus::filled);
  EXPECT_EQ(r->filled, Qty(10));
  EXPECT_EQ(b.order(a1)->qty, Qty(2));
  EXPECT_FALSE(b.order(a2));
  expect_valid(b);
}

TEST(Venue, RemainderRestsAndTheBookIsNeverCrossed) {
  OrderBook b;
  add_ok(b, limit(Side::sell, 100, 3));
  auto r = b.add(limit(Side::buy, 102, 10));
  EXPECT_EQ(r->status, OrderStatus::partially_filled);
  EXPECT_EQ(r->remaining, Qty(7));
  EXPECT_EQ(b.best(Side::buy), (LevelView{Price(102), Qty(7), 1}));
  EXPECT_FALSE(b.best(Side::sell));
  expect_valid(b);
}

TEST(Venue, IocRemainderIsCancelled) {
  OrderBook b;
  add_ok(b, limit(Side::sell, 100, 3));
  auto r = b.add(limit(Side::buy, 100, 10, TimeInForce::ioc));
  EXPECT_EQ(r->status, OrderStatus::cancelled);
  EXPECT_EQ(r->filled, Qty(3));
  EXPECT_EQ(b.order_count(), 0u);
  EXPECT_FALSE(b.best(Side::buy));
}

TEST(Venue, FokThatCannotFillLeavesBookUnchanged) {
  OrderBook b;
  add_ok(b, limit(Side::sell, 100, 3));
  add_ok(b, limit(Side::sell, 101, 3));
  add_ok(b, limit(Side::sell, 105, 30));
  const auto seq = b.seq();
  auto r = b.add(limit(Side::buy, 101, 7, TimeInForce::fok));
  EXPECT_EQ(r->status, OrderStatus::cancelled);
  EXPECT_EQ(r->filled, Qty(0));
  EXPECT_EQ(b.seq(), seq);
  EXPECT_FALSE(b.last_change().changed);
  EXPECT_TRUE(b.last_change().deltas.empty());
  EXPECT_EQ(b.best(Side::sell)->qty, Qty(3));
  EXPECT_EQ(b.order_count(), 3u);
}

TEST(Venue, FokThatCanFillFillsCompletely) {
  OrderBook b;
  add_ok(b, limit(Side::sell, 100, 3));
  add_ok(b, limit(Side::sell, 101, 3));
  auto r = b.add(limit(Side::buy, 101, 6, TimeInForce::fok));
  EXPECT_EQ(r->status, OrderStatus::filled);
  EXPECT_EQ(b.order_count(), 0u);
}

TEST(Venue, MarketOrderSweepsAnyPriceAndNeverRests) {
  OrderBook b;
  add_ok(b, limit(Side::buy, 100, 3));
  add_ok(b, limit(Side::buy, 50, 3));
  auto r = b.add(market(Side::sell, 10));
  EXPECT_EQ(r->status, OrderStatus::cancelled);
  EXPECT_EQ(r->filled, Qty(6));
  EXPECT_EQ(b.order_count(), 0u);
  EXPECT_EQ(b.last_change().trades.back().aggressor, Side::sell);
}

TEST(Venue, MarketOrderOnAnEmptyBookChangesNothing) {
  OrderBook b;
  auto r = b.add(market(Side::buy, 10));
  EXPECT_EQ(r->status, OrderStatus::cancelled);
  EXPECT_EQ(b.seq(), 0u);
}

TEST(Venue, SweepThroughAHundredLevelsReportsEachLevelOnce) {
  OrderBook b;
  for (int i = 0; i < 100; ++i) add_ok(b, limit(Side::sell, 1000 + i * 7, 2));
  b.add(limit(Side::buy, 1000 + 99 * 7, 250)).value();
  const ChangeSet& c = b.last_change();
  EXPECT_EQ(c.trades.size(), 100u);
  EXPECT_EQ(c.deltas.size(), 101u);  // 100 emptied ask levels + the resting bid
  EXPECT_EQ(b.best(Side::buy), (LevelView{Price(1693), Qty(50), 1}));
  EXPECT_EQ(b.level_count(Side::sell), 0u);
  EXPECT_TRUE(c.top_changed);
  expect_valid(b);
}

TEST(Venue, CancelRemovesTheOrderAndReportsTheLevel) {
  OrderBook b;
  const OrderId a = add_ok(b, limit(Side::buy, 100, 3));
  const OrderId c = add_ok(b, limit(Side::buy, 100, 4));
  ASSERT_TRUE(b.cancel(a).ok());
  EXPECT_EQ(b.last_change().deltas, (std::vector<LevelDelta>{{Side::buy, Price(100), Qty(4)}}));
  EXPECT_EQ(b.cancel(a).error(), ErrorCode::unknown_order);
  ASSERT_TRUE(b.cancel(c).ok());
  EXPECT_EQ(b.last_change().deltas, (std::vector<LevelDelta>{{Side::buy, Price(100), Qty(0)}}));
  EXPECT_EQ(b.level_count(Side::buy), 0u);
}

TEST(Venue, ReduceKeepsPriorityAndRejectsTooMuch) {
  OrderBook b;
  const OrderId a = add_ok(b, limit(Side::sell, 100, 5));
  const OrderId c = add_ok(b, limit(Side::sell, 100, 5));
  EXPECT_EQ(*b.reduce(a, Qty(2)), Qty(3));
  EXPECT_EQ(b.reduce(a, Qty(4)).error(), ErrorCode::invalid_quantity);
  EXPECT_EQ(b.reduce(a, Qty(0)).error(), ErrorCode::invalid_quantity);
  b.add(limit(Side::buy, 100, 1)).value();
  EXPECT_EQ(b.last_change().trades[0].maker, a);  // still first in the queue
  EXPECT_EQ(*b.reduce(a, Qty(2)), Qty(0));
  EXPECT_FALSE(b.order(a));
  EXPECT_TRUE(b.order(c));
  expect_valid(b);
}

TEST(Venue, ModifyDownKeepsPriorityUpLosesIt) {
  OrderBook b;
  const OrderId a = add_ok(b, limit(Side::sell, 100, 5));
  const OrderId c = add_ok(b, limit(Side::sell, 100, 5));
  b.modify(a, Price(100), Qty(4)).value();
  std::vector<OrderView> q;
  b.level_orders(Side::sell, Price(100), q);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].id, a);
  b.modify(a, Price(100), Qty(6)).value();
  b.level_orders(Side::sell, Price(100), q);
  EXPECT_EQ(q[0].id, c);
  EXPECT_EQ(q[1].id, a);
  EXPECT_EQ(b.last_change().deltas, (std::vector<LevelDelta>{{Side::sell, Price(100), Qty(11)}}));
  expect_valid(b);
}

TEST(Venue, ModifyWithUnchangedValuesChangesNothing) {
  OrderBook b;
  const OrderId a = add_ok(b, limit(Side::sell, 100, 5));
  const auto seq = b.seq();
  b.modify(a, Price(100), Qty(5)).value();
  EXPECT_EQ(b.seq(), seq);
  EXPECT_FALSE(b.last_change().changed);
}

TEST(Venue, ModifyToACrossingPriceMatches) {
  OrderBook b;
  const OrderId bid = add_ok(b, limit(Side::buy, 99, 5));
  add_ok(b, limit(Side::sell, 101, 2));
  auto r = b.modify(bid, Price(101), Qty(5));
  EXPECT_EQ(r->filled, Qty(2));
  EXPECT_EQ(r->id, bid);
  EXPECT_EQ(b.order(bid)->qty, Qty(3));
  expect_valid(b);
}

TEST(Venue, ReplaceTakesANewIdAndLosesPriority) {
  OrderBook b;
  const OrderId a = add_ok(b, limit(Side::buy, 100, 5));
  add_ok(b, limit(Side::buy, 100, 5));
  auto r = b.replace(a, Price(100), Qty(5));
  EXPECT_EQ(r->id.value(), 3u);
  EXPECT_FALSE(b.order(a));
  std::vector<OrderView> q;
  b.level_orders(Side::buy, Price(100), q);
  EXPECT_EQ(q.back().id, r->id);
}

TEST(Venue, ExecuteFillsAtTheRestingPriceOrTheGivenOne) {
  OrderBook b;
  const OrderId a = add_ok(b, limit(Side::buy, 100, 5));
  EXPECT_EQ(*b.execute(a, Qty(2)), Qty(3));
  EXPECT_EQ(b.last_change().trades[0], (Trade{1, Price(100), Qty(2), a, OrderId(), Side::sell}));
  EXPECT_EQ(*b.execute(a, Qty(3), Price(99)), Qty(0));
  EXPECT_EQ(b.last_change().trades[0].price, Price(99));
  EXPECT_EQ(b.order_count(), 0u);
  EXPECT_EQ(b.execute(a, Qty(1)).error(), ErrorCode::unknown_order);
}

TEST(Venue, BadInputChangesNothing) {
  OrderBook b;
  const OrderId a = add_ok(b, limit(Side::buy, 100, 5));
  const auto seq = b.seq();
  EXPECT_EQ(b.add(limit(Side::buy, -1, 5)).error(), ErrorCode::invalid_price);
  EXPECT_EQ(b.add(limit(Side::buy, Price::kMaxTicks + 1, 5)).error(), ErrorCode::invalid_price);
  EXPECT_EQ(b.add(limit(Side::buy, 100, 0)).error(), ErrorCode::invalid_quantity);
  EXPECT_EQ(b.add(limit(Side::buy, 100, -3)).error(), ErrorCode::invalid_quantity);
  EXPECT_EQ(b.execute(a, Qty(6)).error(), ErrorCode::invalid_quantity);
  EXPECT_EQ(b.execute(a, Qty(1), Price(0)).error(), ErrorCode::invalid_price);
  EXPECT_EQ(b.modify(a, Price(0), Qty(1)).error(), ErrorCode::invalid_price);
  EXPECT_EQ(b.modify(OrderId(77), Price(1), Qty(1)).error(), ErrorCode::unknown_order);
  EXPECT_EQ(b.set_level(Side::buy, Price(1), Qty(1)).error(), ErrorCode::mode_mismatch);
  EXPECT_EQ(b.seq(), seq);
  EXPECT_EQ(b.order_count(), 1u);
  EXPECT_EQ(b.next_order_id().value(), 2u);
  expect_valid(b);
}

// Finding 10: a resting order of the maximum quantity made every later order
// at its price fail invalid_quantity. Level totals are 128-bit now: exact.
TEST(Venue, AMaximumQuantityRestingOrderNeverRefusesLaterOrdersAtItsPrice) {
  OrderBook b;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  add_ok(b, limit(Side::buy, 100, kMax));
  add_ok(b, limit(Side::buy, 100, 11));
  add_ok(b, limit(Side::buy, 100, kMax));
  const LevelQty::Rep total = LevelQty::Rep{kMax} * 2 + 11;
  EXPECT_TRUE(b.best(Side::buy)->qty.lots() == total);
  EXPECT_TRUE(b.last_change().deltas.at(0).qty.lots() == total);  // book_update's total
  std::vector<LevelView> depth;
  b.depth(Side::buy, 10, depth);
  EXPECT_TRUE(depth.at(0).qty.lots() == total);
  // A huge aggressor takes the first order; the rest of the level stays exact.
  auto r = b.add(limit(Side::sell, 1, kMax));
  EXPECT_EQ(r->filled.lots(), kMax);
  EXPECT_TRUE(b.best(Side::buy)->qty.lots() == LevelQty::Rep{kMax} + 11);
  EXPECT_EQ(b.best(Side::buy)->orders, 2u);
  expect_valid(b);
}

TEST(Mirror, UpstreamOrdersAtOnePriceMayTotalBeyondSixtyFourBits) {
  OrderBook b(Mode::mirror);
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (const char* id : {"A", "B", "C"}) {
    ASSERT_TRUE(b.add_external(id, Side::sell, Price(7), Qty(kMax)).ok()) << id;
  }
  EXPECT_TRUE(b.best(Side::sell)->qty.lots() == LevelQty::Rep{kMax} * 3);
  ASSERT_TRUE(b.execute(*b.resolve("B"), Qty(kMax)).ok());
  EXPECT_TRUE(b.best(Side::sell)->qty.lots() == LevelQty::Rep{kMax} * 2);
  ASSERT_TRUE(b.modify(*b.resolve("A"), Price(7), Qty(kMax)).ok());  // unchanged: no-op
  ASSERT_TRUE(b.replace_external(*b.resolve("A"), "D", Price(7), Qty(kMax)).ok());
  EXPECT_TRUE(b.best(Side::sell)->qty.lots() == LevelQty::Rep{kMax} * 2);
  expect_valid(b);
}

TEST(Checksum, ShowsTheExactTotalOfALevelBeyondSixtyFourBits) {
  OrderBook b;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  add_ok(b, limit(Side::sell, 5, kMax));
  add_ok(b, limit(Side::sell, 5, kMax));
  add_ok(b, limit(Side::sell, 5, 11));
  const BookSpec s = *BookSpec::parse("1", "0.00000001");
  // 2 * (2^63 - 1) + 11 = 18446744073709551625 lots: "5" then the digits.
  EXPECT_EQ(book_checksum(b, s), crc32("518446744073709551625"));
}

TEST(Venue, TenThousandOrdersAtOneLevelKeepTimePriority) {
  OrderBook b;
  for (int i = 0; i < 10'000; ++i) add_ok(b, limit(Side::sell, 500, 1 + i % 3));
  EXPECT_EQ(b.best(Side::sell)->orders, 10'000u);
  for (int i = 1; i <= 10'000; i += 2) {
    ASSERT_TRUE(b.cancel(OrderId(i)).ok());
  }
  b.add(limit(Side::buy, 500, 3)).value();
  EXPECT_EQ(b.last_change().trades[0].maker.value(), 2u);
  expect_valid(b);
}

TEST(Venue, TopChangedOnlyWhenTheBestLevelChanges) {
  OrderBook b;
  add_ok(b, limit(Side::buy, 100, 1));
  EXPECT_TRUE(b.last_change().top_changed);
  add_ok(b, limit(Side::buy, 90, 1));
  EXPECT_FALSE(b.last_change().top_changed);
  add_ok(b, limit(Side::buy, 100, 1));
  EXPECT_TRUE(b.last_change().top_changed);  // quantity at the best changed
  EXPECT_EQ(b.seq(), 3u);
  EXPECT_EQ(b.last_change().seq, 3u);
}

TEST(Venue, FarPricesAndDriftKeepTheLadderConsistent) {
  OrderBook b;
  // Price jumps of thousands of ticks, then a drift of 100,000 ticks.
  add_ok(b, limit(Side::buy, 1'000'000, 1));
  add_ok(b, limit(Side::buy, 1'000'000 - 50'000, 1));
  add_ok(b, limit(Side::buy, 1'000'000 + 9'000, 1));
  add_ok(b, limit(Side::sell, 2'000'000, 1));
  add_ok(b, limit(Side::sell, 1'500'000, 1));
  expect_valid(b);
  for (std::int64_t p = 1'100'000; p < 1'200'000; p += 3) {
    add_ok(b, limit(Side::buy, p, 1));
    if (p % 2 == 0) {
      ASSERT_TRUE(b.cancel(OrderId(b.next_order_id().value() - 1)).ok());
    }
  }
  EXPECT_EQ(b.best(Side::buy)->price.ticks(), 1'199'999);
  std::vector<LevelView> d;
  b.depth(Side::buy, 5, d);
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(d[1].price.ticks(), 1'199'993);
  expect_valid(b);
  // Sell all of it down: the best falls back through the far levels.
  b.add(market(Side::sell, 1'000'000)).value();
  EXPECT_FALSE(b.best(Side::buy));
  EXPECT_EQ(b.best(Side::sell)->price.ticks(), 1'500'000);
  expect_valid(b);
}

TEST(Mirror, AddsRestAsGivenEvenWhenCrossed) {
  OrderBook b(Mode::mirror);
  ASSERT_TRUE(b.add_external("A1", Side::sell, Price(100), Qty(5)).ok());
  ASSERT_TRUE(b.add_external("B1", Side::buy, Price(101), Qty(5)).ok());
  EXPECT_TRUE(b.last_change().trades.empty());
  EXPECT_EQ(b.best(Side::buy)->price, Price(101));
  EXPECT_EQ(b.best(Side::sell)->price, Price(100));
  expect_valid(b);
}

TEST(Mirror, UpstreamIdsAreMappedAndExecutesReportThem) {
  OrderBook b(Mode::mirror);
  b.add_external("A1", Side::sell, Price(100), Qty(5)).value();
  EXPECT_EQ(b.add_external("A1", Side::sell, Price(100), Qty(5)).error(),
            ErrorCode::duplicate_order);
  EXPECT_EQ(b.add_external("", Side::sell, Price(100), Qty(5)).error(), ErrorCode::invalid_field);
  const OrderId a1 = *b.resolve("A1");
  EXPECT_TRUE(a1.external());
  EXPECT_EQ(*b.execute(a1, Qty(5)), Qty(0));
  EXPECT_EQ(b.external_id(b.last_change().trades[0].maker), "A1");  // still nameable
  EXPECT_EQ(b.resolve("A1").error(), ErrorCode::unknown_order);
  expect_valid(b);
}

TEST(Mirror, ReplaceExternalMovesTheOrderUnderItsNewId) {
  OrderBook b(Mode::mirror);
  b.add_external("A1", Side::sell, Price(100), Qty(5)).value();
  auto r = b.replace_external(*b.resolve("A1"), "A2", Price(99), Qty(3));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(b.resolve("A1").error(), ErrorCode::unknown_order);
  EXPECT_EQ(*b.resolve("A2"), r->id);
  EXPECT_EQ(b.external_id(r->id), "A2");
  EXPECT_EQ(b.best(Side::sell)->price, Price(99));
  expect_valid(b);
}

TEST(Mirror, OrderKindsThatMatchAreModeMismatch) {
  OrderBook b(Mode::mirror);
  EXPECT_EQ(b.add(market(Side::buy, 1)).error(), ErrorCode::mode_mismatch);
  EXPECT_EQ(b.add(limit(Side::buy, 1, 1, TimeInForce::ioc)).error(), ErrorCode::mode_mismatch);
  EXPECT_EQ(b.set_level(Side::buy, Price(1), Qty(1)).error(), ErrorCode::mode_mismatch);
  EXPECT_TRUE(b.add(limit(Side::buy, 1, 1)).ok());
}

TEST(L2, SetLevelAddsChangesAndRemoves) {
  OrderBook b(Mode::l2);
  ASSERT_TRUE(b.set_level(Side::buy, Price(100), Qty(5)).ok());
  EXPECT_EQ(b.best(Side::buy), (LevelView{Price(100), Qty(5), 0}));
  ASSERT_TRUE(b.set_level(Side::buy, Price(100), Qty(5)).ok());
  EXPECT_FALSE(b.last_change().changed);
  ASSERT_TRUE(b.set_level(Side::buy, Price(100), Qty(0)).ok());
  EXPECT_EQ(b.last_change().deltas, (std::vector<LevelDelta>{{Side::buy, Price(100), Qty(0)}}));
  EXPECT_FALSE(b.best(Side::buy));
  ASSERT_TRUE(b.set_level(Side::buy, Price(100), Qty(0)).ok());  // removing a missing level
  EXPECT_EQ(b.seq(), 2u);
  EXPECT_EQ(b.add(limit(Side::buy, 1, 1)).error(), ErrorCode::mode_mismatch);
  EXPECT_EQ(b.cancel(OrderId(1)).error(), ErrorCode::mode_mismatch);
}

TEST(L2, SnapshotReportsOnlyTheLevelsThatDiffer) {
  OrderBook b(Mode::l2);
  b.set_level(Side::buy, Price(100), Qty(5)).ok();
  b.set_level(Side::buy, Price(99), Qty(5)).ok();
  b.set_level(Side::sell, Price(101), Qty(5)).ok();
  const std::vector<LevelView> bids{{Price(100), Qty(5), 0}, {Price(98), Qty(1), 0}};
  const std::vector<LevelView> asks{{Price(101), Qty(6), 0}};
  ASSERT_TRUE(b.apply_snapshot(bids, asks).ok());
  auto d = b.last_change().deltas;
  std::sort(d.begin(), d.end(), [](const LevelDelta& x, const LevelDelta& y) {
    return std::tie(x.side, x.price) < std::tie(y.side, y.price);
  });
  EXPECT_EQ(d, (std::vector<LevelDelta>{{Side::buy, Price(98), Qty(1)},
                                        {Side::buy, Price(99), Qty(0)},
                                        {Side::sell, Price(101), Qty(6)}}));
  const std::vector<LevelView> dup{{Price(1), Qty(1), 0}, {Price(1), Qty(2), 0}};
  EXPECT_EQ(b.apply_snapshot(dup, {}).error(), ErrorCode::invalid_price);
  expect_valid(b);
}

TEST(Checksum, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
}

TEST(Checksum, ConcatenatesAsksThenBidsWithoutDotsOrLeadingZeros) {
  const BookSpec s = *BookSpec::parse("0.1", "0.00000001");
  const std::vector<LevelView> asks{{Price(5541), Qty(100000000), 0}};
  const std::vector<LevelView> bids{{Price(5540), Qty(2500000), 0}};
  // "554.1" "1.00000000" -> "5541" "100000000"; "554.0" "0.02500000" -> "5540" "2500000".
  EXPECT_EQ(book_checksum(bids, asks, s), crc32("554110000000055402500000"));
}

// The README's worked example (section "Book checksum"), to the number.
TEST(Checksum, TheReadmesWorkedExample) {
  const BookSpec s = *BookSpec::parse("0.01", "0.00001");
  const std::vector<LevelView> asks{{Price(6'400'005), Qty(25'000), 0},
                                    {Price(6'400'010), Qty(100'000), 0}};
  const std::vector<LevelView> bids{{Price(6'399'995), Qty(500), 0},
                                    {Price(6'399'990), Qty(200'000), 0}};
  EXPECT_EQ(book_checksum(bids, asks, s), 2'087'436'628u);
}

TEST(Venue, NextWorseIsTheFirstLevelBeyondAPriceOnEachSide) {
  OrderBook b;
  for (std::int64_t px : {100, 98, 95, 20}) add_ok(b, limit(Side::buy, px, 1));
  for (std::int64_t px : {101, 103, 500'000}) add_ok(b, limit(Side::sell, px, 2));
  auto bid_after = [&](std::int64_t px) {
    auto l = b.next_worse(Side::buy, Price(px));
    return l ? l->price.ticks() : -1;
  };
  auto ask_after = [&](std::int64_t px) {
    auto l = b.next_worse(Side::sell, Price(px));
    return l ? l->price.ticks() : -1;
  };
  EXPECT_EQ(bid_after(1000), 100);  // better than the best: the best
  EXPECT_EQ(bid_after(100), 98);
  EXPECT_EQ(bid_after(97), 95);  // no level at 97
  EXPECT_EQ(bid_after(95), 20);
  EXPECT_EQ(bid_after(20), -1);
  EXPECT_EQ(ask_after(0), 101);
  EXPECT_EQ(ask_after(101), 103);
  EXPECT_EQ(ask_after(200'000), 500'000);  // far beyond the ladder's window
  EXPECT_EQ(ask_after(500'000), -1);
  auto l = b.next_worse(Side::sell, Price(101));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->qty, Qty(2));
  EXPECT_EQ(l->orders, 1u);
}

}  // namespace
