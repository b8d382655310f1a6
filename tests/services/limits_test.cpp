// What one client may grow (API.md "Access, limits and safety"; issue 15,
// findings 1 and 5): symbols, resting orders per book and per owner. Each
// refusal is limit_exceeded and changes nothing.

#include <gtest/gtest.h>

#include "feeds/ndjson.hpp"
#include "orderbook/decimal.hpp"
#include "tests/services/service_fixture.hpp"

namespace services::test {
namespace {

using namespace std::chrono_literals;

class LimitsTest : public ServiceTest {
 protected:
  LimitsTest()
      : ServiceTest(
            {},
            SymbolLimits{.max_symbols = 3, .max_orders_per_book = 5, .max_orders_per_owner = 3}) {}

  IngestReport ingest(std::string text) {
    return app->ingest().apply(feeds::parse_ndjson(std::move(text)));
  }
  ob::Result<OrderReport> place(std::string_view symbol, std::string owner, std::string_view price,
                                ob::TimeInForce tif = ob::TimeInForce::gtc) {
    BookHandle b = book(symbol);
    OrderRequest o;
    o.side = ob::Side::buy;
    o.tif = tif;
    o.price = *ob::parse_price(price, b.info->spec.book);
    o.qty = *ob::parse_qty("1", b.info->spec.book);
    o.owner = std::move(owner);
    return *rt::call(b.server, OrderBookServer::PlaceOrder{o});
  }
  std::size_t symbols() { return rt::call(*app->directory(), SymbolDirectory::List{})->size(); }
};

std::string tick(std::string_view symbol) {
  return R"({"type":"tick","symbol":")" + std::string(symbol) +
         R"(","price":"1","size":"1","side":"buy"})"
         "\n";
}

TEST_F(LimitsTest, ANewSymbolPastTheLimitIsRefusedAndTheOthersStillServe) {
  for (const char* s : {"A", "B", "C"}) create(s);
  auto refused = app->ensure_symbol("D", *SymbolSpec::parse("0.01", "0.0001", ob::Mode::venue));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, DirectoryError::Code::limit_exceeded);
  EXPECT_FALSE(find_book(*app->context(), "D"));
  EXPECT_EQ(symbols(), 3u);
  // The same spec again is no new symbol: still answered.
  EXPECT_TRUE(app->ensure_symbol("A", *SymbolSpec::parse("0.01", "0.0001", ob::Mode::venue)).ok());
}

TEST_F(LimitsTest, IngestRejectsOnlyTheLinesOfASymbolPastTheLimit) {
  const double before = app->metrics()->ingest_rejects("limit_exceeded").Value();
  IngestReport r =
      ingest(tick("X1") + tick("X2") + tick("X3") + tick("X4") + tick("X1") + tick("X4"));
  EXPECT_EQ(r.accepted, 4u);
  EXPECT_EQ(r.rejected, 2u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 4u);
  EXPECT_EQ(r.errors[0].code, feeds::EventError::limit_exceeded);
  EXPECT_EQ(r.errors[1].line, 6u);
  EXPECT_EQ(app->metrics()->ingest_rejects("limit_exceeded").Value() - before, 2);
  EXPECT_EQ(symbols(), 3u);
}

TEST_F(LimitsTest, OnceTheDirectoryIsFullTheRestOfABodyGoesInOnePartAtNoCost) {
  // 40 new symbols, room for 3: the first part reserves its 16 creations,
  // meets the limit, and the budget remembers it; the next part takes every
  // remaining line at once instead of 16 symbols' worth per turn.
  std::string text;
  for (int i = 0; i < 40; ++i) text += tick("F" + std::to_string(i));
  feeds::ParsedBatch rest = feeds::parse_ndjson(std::move(text));
  NewSymbolBudget budget{.left = 16};
  IngestReport first = app->ingest().apply_front(rest, budget);
  EXPECT_EQ(first.accepted, 3u);
  EXPECT_EQ(first.rejected, 13u);
  ASSERT_TRUE(budget.full);
  EXPECT_EQ(rest.first_line(), 17u);
  budget.left = 16;
  IngestReport second = app->ingest().apply_front(rest, budget);
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(second.accepted, 0u);
  EXPECT_EQ(second.rejected, 24u);
  ASSERT_FALSE(second.errors.empty());
  EXPECT_EQ(second.errors.front().line, 17u);
  EXPECT_EQ(second.errors.front().code, feeds::EventError::limit_exceeded);
  EXPECT_EQ(symbols(), 3u);
}

TEST_F(LimitsTest, AnIngestedAddPastTheBookLimitIsRejectedAloneAndFitsAgainAfterACancel) {
  std::string adds;
  for (int i = 1; i <= 7; ++i) {
    adds += R"({"type":"add","symbol":"M","order_id":"o)" + std::to_string(i) +
            R"(","side":"sell","price":"1)" + std::to_string(i) + R"(","qty":"1"})" + "\n";
  }
  IngestReport r = ingest(adds);
  EXPECT_EQ(r.accepted, 5u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 6u);
  EXPECT_EQ(r.errors[0].code, feeds::EventError::limit_exceeded);
  r = ingest(R"({"type":"cancel","symbol":"M","order_id":"o1"})"
             "\n"
             R"({"type":"add","symbol":"M","order_id":"o6","side":"sell","price":"16","qty":"1"})"
             "\n");
  EXPECT_EQ(r.accepted, 2u);
  EXPECT_EQ(r.rejected, 0u);
}

TEST_F(LimitsTest, AnApiOrderThatMayRestPastABookOrOwnerLimitIsRefused) {
  create("V");
  for (const char* p : {"1", "2", "3"}) ASSERT_TRUE(place("V", "ip:a", p).ok());
  auto over_owner = place("V", "ip:a", "4");
  ASSERT_FALSE(over_owner.ok());
  EXPECT_EQ(over_owner.error(), ob::ErrorCode::limit_exceeded);
  EXPECT_EQ(app->context()->resting_orders->count("ip:a"), 3u);
  // Another owner has a budget of its own, up to the book's limit (5).
  ASSERT_TRUE(place("V", "ip:b", "5").ok());
  ASSERT_TRUE(place("V", "ip:b", "6").ok());
  auto over_book = place("V", "ip:b", "7");
  ASSERT_FALSE(over_book.ok());
  EXPECT_EQ(over_book.error(), ob::ErrorCode::limit_exceeded);
  // An order that can never rest is not refused (an IOC with nothing to meet).
  auto ioc = place("V", "ip:a", "8", ob::TimeInForce::ioc);
  ASSERT_TRUE(ioc.ok());
  EXPECT_EQ(ioc->status, ob::OrderStatus::cancelled);
  EXPECT_EQ(rt::call(book("V").server, OrderBookServer::GetTop{})->bid->price,
            *ob::parse_price("6", book("V").info->spec.book));
}

TEST_F(LimitsTest, AnOwnersCountFollowsItsOrdersOutOfTheBookEvenWhenTheBookCrashes) {
  create("V");
  auto first = place("V", "ip:a", "1");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(place("V", "ip:a", "2").ok());
  auto cancelled =
      rt::call(book("V").server, OrderBookServer::CancelOrder{first->order_id, "ip:a"});
  ASSERT_TRUE(cancelled.ok() && cancelled->ok());
  EXPECT_EQ(app->context()->resting_orders->count("ip:a"), 1u);
  const rt::Pid old = book("V").server.pid();
  rt::exit(old, rt::ExitReason::error("injected crash"));
  EXPECT_TRUE(testing_support::eventually([&] {
    auto b = find_book(*app->context(), "V");
    return b && b->server.pid() != old;
  }));
  // The crashed incarnation took its resting order with it, and the count.
  EXPECT_TRUE(testing_support::eventually(
      [&] { return app->context()->resting_orders->count("ip:a") == 0; }));
}

}  // namespace
}  // namespace services::test
