// The symbol directory, PriceFeedHandler and OrderBookServer, through a
// running Application.

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <random>

#include "orderbook/decimal.hpp"
#include "tests/services/service_fixture.hpp"
#include "tests/support/book_replica.hpp"
#include "tests/support/wire_shapes.hpp"

namespace services::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;
using testing_support::Inbox;

using SymbolServersTest = ServiceTest;

ob::Price px(const SymbolInfoPtr& s, std::string_view text) {
  return *ob::parse_price(text, s->spec.book);
}
ob::Qty qty(const SymbolInfoPtr& s, std::string_view text) {
  return *ob::parse_qty(text, s->spec.book);
}

TEST_F(SymbolServersTest, CreatingASymbolStartsAndRegistersBothServers) {
  auto info = create("BTC-USD");
  ASSERT_TRUE(info);
  auto b = find_book(*app->context(), "BTC-USD");
  auto f = find_feed(*app->context(), "BTC-USD");
  ASSERT_TRUE(b && f);
  EXPECT_EQ(b->info->spec.tick_size(), "0.01");
  EXPECT_EQ(f->info->spec.lot_size(), "0.0001");
  EXPECT_NE(b->server.pid(), f->server.pid());
  auto list = rt::call(*app->directory(), SymbolDirectory::List{});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0]->symbol, "BTC-USD");
}

TEST_F(SymbolServersTest, EnsureIsIdempotentForTheSameSpecAndAConflictForAnother) {
  create("ETH-USD", "0.01", "0.001");
  auto again = app->ensure_symbol("ETH-USD", *SymbolSpec::parse("0.010", "0.0010"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  auto other = app->ensure_symbol("ETH-USD", *SymbolSpec::parse("0.1", "0.001"));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, DirectoryError::Code::conflict);
  EXPECT_EQ(other.error().existing->spec.tick_size(), "0.01");
  auto bad = app->ensure_symbol("eth-usd", *SymbolSpec::parse("0.1", "0.001"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, DirectoryError::Code::invalid_symbol);
  EXPECT_EQ(app->context()->books.count(), 1u);
}

TEST_F(SymbolServersTest, TicksBuildTheTickerAndReachTradeSubscribersWithContiguousSeq) {
  auto s = create("BTC-USD");
  auto inbox = std::make_shared<Inbox>();
  auto c = collector(inbox);
  rt::cast(c, Collector::Watch{"BTC-USD", {Channel::trades, Channel::ticker}});
  auto first = inbox->wait_for(1);  // the current ticker, before any tick
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(type_of(first[0]), "ticker");
  EXPECT_NE(first[0].find(R"("last_price":null)"), std::string::npos);

  auto h = feed("BTC-USD");
  rt::cast(h.server, PriceFeedHandler::Tick{px(s, "100.50"), qty(s, "0.5"), ob::Side::buy,
                                            1'790'000'000'000'000'000});
  rt::cast(h.server, PriceFeedHandler::Tick{px(s, "99.00"), qty(s, "1"), ob::Side::sell, 0});
  rt::cast(h.server, PriceFeedHandler::Tick{px(s, "101.25"), qty(s, "0.25"), ob::Side::buy, 0});
  // Each tick: a tick frame and a ticker frame.
  auto got = inbox->wait_for(1 + 6);
  std::vector<std::uint64_t> tick_seqs;
  for (const auto& j : got) {
    if (type_of(j) == "tick") tick_seqs.push_back(seq_of(j));
  }
  EXPECT_EQ(tick_seqs, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_NE(got[1].find(R"("price":"100.50","size":"0.5000","side":"buy")"), std::string::npos);
  EXPECT_NE(got[1].find(R"("ts":"2026-09-21T)"), std::string::npos) << got[1];

  auto report = rt::call(h.server, PriceFeedHandler::GetTicker{});
  ASSERT_TRUE(report.ok());
  const wire::Ticker& t = report->ticker;
  EXPECT_EQ(t.tick_count, 3u);
  EXPECT_EQ(t.seq, 3u);
  EXPECT_EQ(t.open, px(s, "100.50"));
  EXPECT_EQ(t.high, px(s, "101.25"));
  EXPECT_EQ(t.low, px(s, "99"));
  EXPECT_EQ(t.last_price, px(s, "101.25"));
  EXPECT_EQ(t.volume, qty(s, "1.75"));
  EXPECT_EQ(report->state, wire::FeedState::live);
}

// Finding 11: stale ticks were dropped by the feed handler but reported
// accepted. The book server judges them and answers stale_seq per event.
TEST_F(SymbolServersTest, DuplicateAndOlderUpstreamSequenceNumbersAreRejectedAndGapsCounted) {
  auto s = create("BTC-USD", "0.01", "0.0001", ob::Mode::mirror);
  auto tick = [&](std::uint64_t useq) {
    feeds::Event e;
    e.type = feeds::EventType::tick;
    e.price = px(s, "1");
    e.qty = qty(s, "1");
    e.upstream_seq = useq;
    return e;
  };
  constexpr std::uint64_t kTop = std::numeric_limits<std::int64_t>::max();
  // 10, duplicate, older, a gap of 2, no seq (always applied), the largest, then older.
  auto failures = rt::call(book("BTC-USD").server,
                           OrderBookServer::ApplyReport{{tick(10), tick(10), tick(9), tick(13),
                                                         tick(0), tick(kTop), tick(14)}});
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*failures)[i].code, feeds::EventError::stale_seq);
    EXPECT_EQ((*failures)[i].index, std::vector<std::uint32_t>({1, 2, 6})[i]);
  }
  EXPECT_EQ((*failures)[2].message,
            "seq: 14 is not greater than the last applied 9223372036854775807");
  auto h = feed("BTC-USD");
  ASSERT_TRUE(eventually(
      [&] { return rt::call(h.server, PriceFeedHandler::GetTicker{})->ticker.tick_count == 4u; }));
  auto m = app->metrics()->symbol("BTC-USD");
  EXPECT_EQ(m.seq_rejects.Value(), 3);
  EXPECT_EQ(m.seq_gaps.Value(), 2);
}

// Finding 10: two ticks of the largest size made the volume negative (signed
// overflow). It saturates at the largest quantity and never decreases.
TEST_F(SymbolServersTest, TickerVolumeSaturatesInsteadOfWrapping) {
  auto s = create("BTC-USD", "0.00000001", "0.00000001", ob::Mode::mirror);
  auto h = feed("BTC-USD");
  const ob::Qty big = qty(s, "92233720368.54775807");
  for (int i = 0; i < 3; ++i) {
    rt::cast(h.server, PriceFeedHandler::Tick{px(s, "1"), big, ob::Side::buy, 0});
  }
  ASSERT_TRUE(eventually(
      [&] { return rt::call(h.server, PriceFeedHandler::GetTicker{})->ticker.tick_count == 3u; }));
  const auto t = rt::call(h.server, PriceFeedHandler::GetTicker{})->ticker;
  EXPECT_EQ(t.volume, big);
  EXPECT_NE(wire::ticker(*s, t).find(R"("volume":"92233720368.54775807")"), std::string::npos);
}

TEST_F(SymbolServersTest, ASubscriberThatDiesIsDroppedThroughItsMonitor) {
  create("BTC-USD");
  auto inbox = std::make_shared<Inbox>();
  auto c = collector(inbox);
  rt::cast(c, Collector::Watch{"BTC-USD", {Channel::trades}});
  auto h = feed("BTC-USD");
  ASSERT_TRUE(eventually(
      [&] { return rt::call(h.server, PriceFeedHandler::GetTicker{})->subscribers == 1; }));
  ASSERT_TRUE(rt::stop(c));
  EXPECT_TRUE(eventually(
      [&] { return rt::call(h.server, PriceFeedHandler::GetTicker{})->subscribers == 0; }));
}

TEST_F(SymbolServersTest, ApiOrdersMatchInVenueModeAndTradesReachThePriceFeed) {
  auto s = create("BTC-USD");
  auto b = book("BTC-USD");
  auto sell = rt::call(b.server, OrderBookServer::PlaceOrder{{ob::Side::sell, ob::OrderType::limit,
                                                              ob::TimeInForce::gtc, px(s, "100"),
                                                              qty(s, "2"), "mine-1"}});
  ASSERT_TRUE(sell.ok() && sell->ok());
  EXPECT_EQ((*sell)->status, ob::OrderStatus::resting);
  const std::string maker_id = (*sell)->order_id;

  auto buy = rt::call(b.server, OrderBookServer::PlaceOrder{{ob::Side::buy, ob::OrderType::limit,
                                                             ob::TimeInForce::gtc, px(s, "101"),
                                                             qty(s, "0.5"), ""}});
  ASSERT_TRUE(buy.ok() && buy->ok());
  const OrderReport& r = **buy;
  EXPECT_EQ(r.status, ob::OrderStatus::filled);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].price, px(s, "100"));  // at the resting order's price
  EXPECT_EQ(r.trades[0].maker_order_id, maker_id);

  auto resting = rt::call(b.server, OrderBookServer::GetOrder{maker_id});
  ASSERT_TRUE(resting->ok());
  EXPECT_EQ((*resting)->status, ob::OrderStatus::partially_filled);
  EXPECT_EQ((*resting)->remaining, qty(s, "1.5"));
  EXPECT_EQ((*resting)->client_order_id, "mine-1");

  // The trade is a tick of the symbol's price feed.
  auto h = feed("BTC-USD");
  ASSERT_TRUE(eventually(
      [&] { return rt::call(h.server, PriceFeedHandler::GetTicker{})->ticker.tick_count == 1; }));
  auto t = rt::call(h.server, PriceFeedHandler::GetTicker{});
  EXPECT_EQ(t->ticker.last_price, px(s, "100"));
  EXPECT_EQ(t->ticker.last_side, ob::Side::buy);

  auto cancelled = rt::call(b.server, OrderBookServer::CancelOrder{maker_id});
  ASSERT_TRUE(cancelled->ok());
  EXPECT_EQ((*cancelled)->status, ob::OrderStatus::cancelled);
  EXPECT_EQ((*cancelled)->filled, qty(s, "0.5"));
  EXPECT_EQ(rt::call(b.server, OrderBookServer::CancelOrder{maker_id})->error(),
            ob::ErrorCode::unknown_order);
  EXPECT_EQ(rt::call(b.server, OrderBookServer::GetOrder{"nope"})->error(),
            ob::ErrorCode::unknown_order);
  auto top = rt::call(b.server, OrderBookServer::GetTop{});
  EXPECT_FALSE(top->bid || top->ask);
  EXPECT_EQ(top->seq, 3u);  // rest, cross, cancel
}

TEST_F(SymbolServersTest, OrdersOnAMirrorOrL2SymbolAreAModeMismatch) {
  auto s = create("MIRROR", "0.01", "1", ob::Mode::mirror);
  auto r =
      rt::call(book("MIRROR").server,
               OrderBookServer::PlaceOrder{{ob::Side::buy, ob::OrderType::limit,
                                            ob::TimeInForce::gtc, px(s, "1"), qty(s, "1"), ""}});
  EXPECT_EQ(r->error(), ob::ErrorCode::mode_mismatch);
}

// Finding 5: anyone could read or cancel any order, upstream ids shadowed API
// ids, and a DELETE on a mirror removed the venue's order.
TEST_F(SymbolServersTest, OnlyTheOwnerReachesAnApiOrder) {
  auto s = create("BTC-USD");
  auto b = book("BTC-USD");
  auto placed = rt::call(b.server, OrderBookServer::PlaceOrder{{ob::Side::buy, ob::OrderType::limit,
                                                                ob::TimeInForce::gtc, px(s, "1"),
                                                                qty(s, "1"), "", "ip:10.0.0.1"}});
  ASSERT_TRUE(placed->ok());
  const std::string id = (*placed)->order_id;
  for (const char* other : {"ip:10.0.0.2", ""}) {
    EXPECT_EQ(rt::call(b.server, OrderBookServer::GetOrder{id, other})->error(),
              ob::ErrorCode::unknown_order);
    EXPECT_EQ(rt::call(b.server, OrderBookServer::CancelOrder{id, other})->error(),
              ob::ErrorCode::unknown_order);
  }
  EXPECT_TRUE(rt::call(b.server, OrderBookServer::GetOrder{id, "ip:10.0.0.1"})->ok());
  EXPECT_EQ(rt::call(b.server, OrderBookServer::GetTop{})->bid->qty, qty(s, "1"));  // still rests
  EXPECT_TRUE(rt::call(b.server, OrderBookServer::CancelOrder{id, "ip:10.0.0.1"})->ok());
}

TEST_F(SymbolServersTest, UpstreamIdsAreNeverReachedThroughApiOrderIds) {
  auto s = create("BTC-USD");
  auto b = book("BTC-USD");
  auto placed = rt::call(
      b.server, OrderBookServer::PlaceOrder{{ob::Side::buy, ob::OrderType::limit,
                                             ob::TimeInForce::gtc, px(s, "1"), qty(s, "1"), ""}});
  ASSERT_TRUE(placed->ok());
  ASSERT_EQ((*placed)->order_id, "1");
  feeds::Event add;
  add.type = feeds::EventType::add;
  add.order_id = "14";
  add.side = ob::Side::sell;
  add.price = px(s, "5");
  add.qty = qty(s, "2");
  feeds::Event add1 = add;
  add1.order_id = "1";
  add1.price = px(s, "6");
  ASSERT_TRUE(rt::call(b.server, OrderBookServer::ApplyReport{{add, add1}})->empty());
  EXPECT_EQ(rt::call(b.server, OrderBookServer::GetOrder{"14", ""})->error(),
            ob::ErrorCode::unknown_order);
  EXPECT_EQ(rt::call(b.server, OrderBookServer::CancelOrder{"14", ""})->error(),
            ob::ErrorCode::unknown_order);
  auto api1 = rt::call(b.server, OrderBookServer::GetOrder{"1", ""});  // the API order, not "1"
  ASSERT_TRUE(api1->ok());
  EXPECT_EQ((*api1)->side, ob::Side::buy);
  EXPECT_EQ(rt::call(b.server, OrderBookServer::GetDepth{})->asks.size(), 2u);
}

TEST_F(SymbolServersTest, CancellingOnAMirrorIsAModeMismatchForEveryId) {
  auto s = create("MIRROR", "0.01", "1", ob::Mode::mirror);
  auto b = book("MIRROR");
  feeds::Event add;
  add.type = feeds::EventType::add;
  add.order_id = "7";
  add.price = px(s, "5");
  add.qty = qty(s, "2");
  ASSERT_TRUE(rt::call(b.server, OrderBookServer::ApplyReport{{add}})->empty());
  for (const char* id : {"7", "1", "nope"}) {
    EXPECT_EQ(rt::call(b.server, OrderBookServer::CancelOrder{id, ""})->error(),
              ob::ErrorCode::mode_mismatch);
  }
  EXPECT_EQ(rt::call(b.server, OrderBookServer::GetDepth{})->bids.size(), 1u);  // untouched
}

TEST_F(SymbolServersTest, OrderIdsAreNotReusedAfterTheBookRestarts) {
  auto s = create("BTC-USD");
  auto place = [&] {
    auto r =
        rt::call(book("BTC-USD").server,
                 OrderBookServer::PlaceOrder{{ob::Side::buy, ob::OrderType::limit,
                                              ob::TimeInForce::gtc, px(s, "1"), qty(s, "1"), ""}});
    return r.ok() && r->ok() ? (*r)->order_id : std::string();
  };
  const std::string first = place();
  EXPECT_EQ(first, "1");
  const rt::Pid old = book("BTC-USD").server.pid();
  rt::exit(old, rt::ExitReason::error("injected crash"));
  ASSERT_TRUE(eventually([&] {
    auto b = find_book(*app->context(), "BTC-USD");
    return b && b->server.pid() != old;
  }));
  const std::string after = place();
  EXPECT_FALSE(after.empty());
  EXPECT_NE(after, first);
  EXPECT_EQ(after, std::to_string(OrderIdSeeds::kBlock + 1));
}

TEST_F(SymbolServersTest, BookSubscribersGetASnapshotThenUpdatesWithContiguousSeq) {
  auto s = create("BTC-USD");
  auto b = book("BTC-USD");
  auto place = [&](ob::Side side, std::string_view price, std::string_view q) {
    auto r = rt::call(b.server,
                      OrderBookServer::PlaceOrder{{side, ob::OrderType::limit, ob::TimeInForce::gtc,
                                                   px(s, price), qty(s, q), ""}});
    ASSERT_TRUE(r.ok() && r->ok());
  };
  place(ob::Side::buy, "99", "1");
  place(ob::Side::sell, "101", "1");
  auto inbox = std::make_shared<Inbox>();
  auto c = collector(inbox);
  rt::cast(c, Collector::Watch{"BTC-USD", {Channel::book, Channel::top}});
  auto snap = inbox->wait_for(2);
  ASSERT_GE(snap.size(), 2u);
  EXPECT_EQ(type_of(snap[0]), "top");
  EXPECT_EQ(type_of(snap[1]), "book_snapshot");
  EXPECT_EQ(seq_of(snap[1]), 2u);
  EXPECT_NE(snap[1].find(R"("bids":[["99.00","1.0000"]],"asks":[["101.00","1.0000"]])"),
            std::string::npos)
      << snap[1];

  place(ob::Side::buy, "98", "1");    // book only
  place(ob::Side::buy, "100", "2");   // book + top
  place(ob::Side::sell, "100", "2");  // trade: book + top
  auto all = inbox->wait_for(2 + 5);
  std::vector<std::uint64_t> book_seqs;
  for (const auto& j : all) {
    if (type_of(j) == "book_update") book_seqs.push_back(seq_of(j));
  }
  EXPECT_EQ(book_seqs, (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_NE(all.back().find(R"("bid":"99.00")"), std::string::npos) << all.back();
}

TEST_F(SymbolServersTest, ACrashedBookIsRestartedReRegisteredAndSubscribersResubscribe) {
  create("BTC-USD");
  auto inbox = std::make_shared<Inbox>();
  auto resubscribed = std::make_shared<Inbox>();
  auto c = collector(inbox, resubscribed);
  rt::cast(c, Collector::Watch{"BTC-USD", {Channel::book}});
  ASSERT_EQ(inbox->wait_for(1).size(), 1u);
  const rt::Pid old = book("BTC-USD").server.pid();
  rt::exit(old, rt::ExitReason::error("injected crash"));
  ASSERT_EQ(resubscribed->wait_for(1).size(), 1u);
  auto fresh = find_book(*app->context(), "BTC-USD");
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh->server.pid(), old);
  auto frames = inbox->wait_for(2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(type_of(frames[1]), "book_snapshot");  // the new book's state, from seq 0
  EXPECT_EQ(seq_of(frames[1]), 0u);
  EXPECT_TRUE(
      eventually([&] { return app->metrics()->restarts("order_book_server").Value() == 1; }));
}

// One l2 level event.
feeds::Event level(ob::Side side, std::int64_t ticks, std::int64_t lots) {
  feeds::Event e;
  e.type = feeds::EventType::level;
  e.side = side;
  e.price = ob::Price(ticks);
  e.qty = ob::Qty(lots);
  return e;
}

TEST_F(SymbolServersTest, ADepthSubscriberReplaysToExactlyTheBooksTopLevelsAtEveryUpdate) {
  constexpr std::uint32_t kDepth = 5;
  auto s = create("L2", "0.01", "0.0001", ob::Mode::l2);
  auto b = book("L2");
  std::mt19937_64 rng(42);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  auto apply = [&](feeds::Event e) {
    auto r = rt::call(b.server, OrderBookServer::ApplyReport{{std::move(e)}, 1});
    ASSERT_TRUE(r.ok() && r->empty());
  };
  for (int i = 0; i < 50; ++i) apply(level(ob::Side::buy, 10'000 - pick(1, 40), pick(1, 9)));
  auto inbox = std::make_shared<Inbox>();
  rt::cast(collector(inbox), Collector::Watch{"L2", {Channel::book}, kDepth});
  ASSERT_EQ(inbox->wait_for(1).size(), 1u);
  // The book's top kDepth after each change, by book seq.
  std::map<std::uint64_t, Depth> expected;
  for (int i = 0; i < 1500; ++i) {
    const ob::Side side = pick(0, 1) ? ob::Side::buy : ob::Side::sell;
    const std::int64_t p = side == ob::Side::buy ? 10'000 - pick(1, 40) : 10'000 + pick(1, 40);
    apply(level(side, p, pick(0, 2) == 0 ? 0 : pick(1, 9)));
    auto d = rt::call(b.server, OrderBookServer::GetDepth{kDepth});
    ASSERT_TRUE(d.ok());
    expected[d->seq] = std::move(*d);
  }
  apply(level(ob::Side::buy, 10'000, 1));  // better than any bid: surely sent
  const std::uint64_t last = rt::call(b.server, OrderBookServer::GetDepth{kDepth})->seq;
  testing_support::BookReplica client(s->spec.book);
  std::size_t seen = 0;
  ASSERT_TRUE(eventually([&] {
    auto frames = inbox->wait_for(seen + 1, 10ms);
    for (; seen < frames.size(); ++seen) {
      const std::string& f = frames[seen];
      EXPECT_EQ(testing_support::check_ws_frame(f), "") << f;
      EXPECT_EQ(client.apply(f), "") << f;
      auto it = expected.find(client.seq());
      if (type_of(f) == "book_update" && it != expected.end()) {
        auto strip = [](std::vector<ob::LevelView> v) {
          for (auto& l : v) l.orders = 0;
          return v;
        };
        EXPECT_EQ(client.levels(ob::Side::buy), strip(it->second.bids)) << f;
        EXPECT_EQ(client.levels(ob::Side::sell), strip(it->second.asks)) << f;
      }
    }
    return client.seq() == last;
  }));
  EXPECT_GT(client.updates(), 10u);
  EXPECT_GT(client.merged_updates(), 0u);  // levels beyond the best 5 were skipped
}

TEST_F(SymbolServersTest, ASubscriberJoiningADepthGroupLeavesItsMembersCountsExact) {
  auto s = create("L2", "0.01", "0.0001", ob::Mode::l2);
  auto b = book("L2");
  auto apply = [&](feeds::Event e) {
    ASSERT_TRUE(rt::call(b.server, OrderBookServer::ApplyReport{{std::move(e)}, 1}).ok());
  };
  apply(level(ob::Side::buy, 100, 1));
  apply(level(ob::Side::buy, 99, 1));
  auto first = std::make_shared<Inbox>(), second = std::make_shared<Inbox>();
  rt::cast(collector(first), Collector::Watch{"L2", {Channel::book}, 1});
  ASSERT_EQ(first->wait_for(1).size(), 1u);  // snapshot at seq 2
  apply(level(ob::Side::buy, 99, 3));        // seqs 3, 4: beyond depth 1
  apply(level(ob::Side::buy, 98, 3));
  rt::cast(collector(second), Collector::Watch{"L2", {Channel::book}, 1});
  ASSERT_EQ(second->wait_for(1).size(), 1u);  // snapshot at seq 4
  apply(level(ob::Side::buy, 100, 2));        // seq 5: in the window
  auto one = first->wait_for(3);
  auto two = second->wait_for(2);
  ASSERT_EQ(one.size(), 3u);
  ASSERT_EQ(two.size(), 2u);
  // The first member learns seqs 3..4 went by with nothing in its window.
  EXPECT_EQ(seq_of(one[1]), 4u);
  EXPECT_NE(one[1].find(R"("changes":[],)"), std::string::npos) << one[1];
  EXPECT_NE(one[1].find(R"("merged":2)"), std::string::npos) << one[1];
  // Then both share the update of seq 5, covering one seq each.
  EXPECT_EQ(one[2], two[1]);
  EXPECT_EQ(two[1].find("merged"), std::string::npos) << two[1];
  for (const auto* frames : {&one, &two}) {
    testing_support::BookReplica client(s->spec.book);
    for (const std::string& f : *frames) EXPECT_EQ(client.apply(f), "") << f;
  }
}

TEST_F(SymbolServersTest, ADeepBookSnapshotHoldsTheDefaultDepthAndTheLevelsThatEnterIt) {
  auto s = create("DEEP", "0.01", "0.0001", ob::Mode::l2);
  auto b = book("DEEP");
  // ~262k levels, through the batch apply as a feed would send them.
  OrderBookServer::ApplyReport batch;
  for (std::int64_t i = 1; i <= 131'072; ++i) {
    batch.events.push_back(level(ob::Side::buy, 1'000'000 - i, 1));
    batch.events.push_back(level(ob::Side::sell, 1'000'000 + i, 1));
  }
  batch.receipt_ns = 1;
  auto failed = rt::call(b.server, std::move(batch), 120s);
  ASSERT_TRUE(failed.ok() && failed->empty());
  auto inbox = std::make_shared<Inbox>();
  rt::cast(collector(inbox), Collector::Watch{"DEEP", {Channel::book}});
  auto snap = inbox->wait_for(1);
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_LT(snap[0].size(), 4u << 20);
  testing_support::BookReplica client(s->spec.book);
  ASSERT_EQ(client.apply(snap[0]), "");
  EXPECT_EQ(client.levels(ob::Side::buy).size(), kDefaultBookDepth);
  EXPECT_EQ(client.levels(ob::Side::sell).size(), kDefaultBookDepth);
  EXPECT_EQ(client.seq(), 262'144u);
  // The best bid leaves: the 1001st level enters, with its quantity.
  ASSERT_TRUE(
      rt::call(b.server, OrderBookServer::ApplyReport{{level(ob::Side::buy, 999'999, 0)}, 1}).ok());
  auto frames = inbox->wait_for(2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_NE(frames[1].find(R"(["buy","9989.99","0.0001"])"), std::string::npos) << frames[1];
  EXPECT_EQ(client.apply(frames[1]), "");
  EXPECT_EQ(client.levels(ob::Side::buy).size(), kDefaultBookDepth);
}

class StalenessTest : public ServiceTest {
 protected:
  StalenessTest() : ServiceTest(SymbolTiming{.heartbeat = 10ms, .stale_after = 100ms}) {}
};

TEST_F(StalenessTest, IdleThenLiveOnTheFirstUpdateStaleAfterSilenceAndLiveAgain) {
  auto s = create("BTC-USD");
  auto h = feed("BTC-USD");
  EXPECT_EQ(rt::call(h.server, PriceFeedHandler::GetTicker{})->state, wire::FeedState::idle);
  auto inbox = std::make_shared<Inbox>();
  auto c = collector(inbox);
  rt::cast(c, Collector::Watch{"BTC-USD", {Channel::status}});
  ASSERT_TRUE(eventually(
      [&] { return rt::call(h.server, PriceFeedHandler::GetTicker{})->subscribers == 1; }));

  // A book update (not a trade) counts as an update.
  auto r =
      rt::call(book("BTC-USD").server,
               OrderBookServer::PlaceOrder{{ob::Side::buy, ob::OrderType::limit,
                                            ob::TimeInForce::gtc, px(s, "1"), qty(s, "1"), ""}});
  ASSERT_TRUE(r->ok());
  auto got = inbox->wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find(R"("state":"live")"), std::string::npos) << got[0];
  EXPECT_NE(got[1].find(R"("state":"stale")"), std::string::npos) << got[1];
  EXPECT_GE(std::stoll(got[1].substr(got[1].find("age_ms") + 8)), 100);
  auto m = app->metrics()->symbol("BTC-USD");
  EXPECT_TRUE(eventually([&] { return m.stale.Value() == 1; }));

  rt::cast(h.server, PriceFeedHandler::Tick{px(s, "1"), qty(s, "1"), ob::Side::buy, 0});
  got = inbox->wait_for(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_NE(got[2].find(R"("state":"live")"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return m.stale.Value() == 0; }));
}

}  // namespace
}  // namespace services::test

namespace services::test {
namespace {

TEST(ApplicationTest, TheTreeStartsInOrderServesLimitsAndStopsInReverse) {
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 2}}};
  ApplicationConfig cfg;
  cfg.partitions = 2;
  cfg.rate_limit.limit = 2;
  cfg.symbols = {{"BTC-USD", *SymbolSpec::parse("0.01", "0.0001")}};
  auto app = Application::start(runtime, std::move(cfg));
  ASSERT_TRUE(app.ok()) << app.error();
  EXPECT_TRUE((*app)->ready());
  auto children = rt::which_children((*app)->root());
  std::vector<std::string> ids;
  for (const auto& c : children) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"symbols", "directory", "limiters", "ingest", "feeds"}));
  EXPECT_TRUE(find_book(*(*app)->context(), "BTC-USD"));
  EXPECT_TRUE(allowed(*(*app)->limiters().check("10.0.0.1")));
  EXPECT_TRUE(allowed(*(*app)->limiters().check("10.0.0.1")));
  EXPECT_FALSE(allowed(*(*app)->limiters().check("10.0.0.1")));
  (*app)->stop();
  EXPECT_FALSE((*app)->ready());
  EXPECT_TRUE(testing_support::eventually([&] { return runtime.process_count() == 0; }));
}

TEST(ApplicationTest, AConfiguredSymbolWithABadNameFailsTheStartWithItsName) {
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 2}}};
  ApplicationConfig cfg;
  cfg.symbols = {{"btc", *SymbolSpec::parse("0.01", "0.0001")}};
  auto app = Application::start(runtime, std::move(cfg));
  ASSERT_FALSE(app.ok());
  EXPECT_NE(app.error().find("btc"), std::string::npos);
}

TEST_F(SymbolServersTest, ARepeatedClientOrderIdAnswersTheFirstOrderAndPlacesNothing) {
  // API.md "Timeouts": after a 504 a client repeats its order; it must not rest twice.
  auto s = create("IDEM");
  auto b = book("IDEM");
  auto place = [&](std::string owner, std::string_view price, std::string_view q,
                   std::string client_id) {
    OrderRequest o{ob::Side::buy, ob::OrderType::limit, ob::TimeInForce::gtc, px(s, price),
                   qty(s, q),     std::move(client_id), std::move(owner)};
    return *rt::call(b.server, OrderBookServer::PlaceOrder{o});
  };
  auto first = place("ip:a", "100", "2", "c-1");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->repeated);
  auto again = place("ip:a", "100", "2", "c-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->repeated);
  EXPECT_EQ(again->order_id, first->order_id);
  EXPECT_EQ(rt::call(b.server, OrderBookServer::GetTop{})->bid->qty, ob::LevelQty(qty(s, "2")));

  auto other_fields = place("ip:a", "100", "3", "c-1");
  ASSERT_FALSE(other_fields.ok());
  EXPECT_EQ(other_fields.error(), ob::ErrorCode::duplicate_order);
  auto other_owner = place("ip:b", "100", "2", "c-1");  // ids are per owner
  ASSERT_TRUE(other_owner.ok());
  EXPECT_FALSE(other_owner->repeated);
  EXPECT_NE(other_owner->order_id, first->order_id);

  // Part filled, then cancelled: each repeat shows the order as it now is.
  OrderRequest sell{ob::Side::sell, ob::OrderType::limit, ob::TimeInForce::ioc,
                    px(s, "100"),   qty(s, "0.5"),        "",
                    "ip:c"};
  ASSERT_TRUE(rt::call(b.server, OrderBookServer::PlaceOrder{sell})->ok());
  auto part = place("ip:a", "100", "2", "c-1");
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->status, ob::OrderStatus::partially_filled);
  EXPECT_EQ(part->remaining, qty(s, "1.5"));
  ASSERT_TRUE(rt::call(b.server, OrderBookServer::CancelOrder{first->order_id, "ip:a"})->ok());
  auto gone = place("ip:a", "100", "2", "c-1");
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->repeated);
  EXPECT_EQ(gone->status, ob::OrderStatus::cancelled);
  EXPECT_EQ(gone->remaining, ob::Qty(0));
}

}  // namespace
}  // namespace services::test
