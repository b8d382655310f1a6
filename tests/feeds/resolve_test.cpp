#include <gtest/gtest.h>

#include "feeds/ndjson.hpp"

namespace feeds {
namespace {

ob::BookSpec spec(const char* tick, const char* lot) {
  return *ob::BookSpec::parse(tick, lot);
}

ParsedEvent parsed(const std::string& line) {
  static thread_local NdjsonParser parser;
  static thread_local std::vector<ParsedBatch> keep;  // the views must outlive the test's use
  keep.push_back(parser.parse(line));
  EXPECT_EQ(keep.back().events().size(), 1u) << line;
  return keep.back().events().empty() ? ParsedEvent{} : keep.back().events()[0];
}

TEST(Resolve, ConvertsDecimalsForTheSpec) {
  auto e = resolve(
      parsed(
          R"({"type":"add","symbol":"BTC-USD","order_id":"A1","side":"sell","price":"64001.50","qty":"0.5000","ts_ns":5})"),
      spec("0.01", "0.0001"));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->type, EventType::add);
  EXPECT_EQ(e->side, ob::Side::sell);
  EXPECT_EQ(e->price, ob::Price(6400150));
  EXPECT_EQ(e->qty, ob::Qty(5000));
  EXPECT_EQ(e->order_id, "A1");
  EXPECT_EQ(e->ts_ns, 5);
}

TEST(Resolve, TrailingZerosBeyondTheScaleAreFine) {
  auto e = resolve(
      parsed(R"({"type":"tick","symbol":"S","price":"100.500000","size":"2","side":"buy"})"),
      spec("0.05", "1"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->price, ob::Price(2010));
  EXPECT_EQ(e->qty, ob::Qty(2));
}

TEST(Resolve, OffTheTickIsInvalidPriceNamingTheTick) {
  auto e =
      resolve(parsed(R"({"type":"level","symbol":"S","side":"buy","price":"100.03","qty":"1"})"),
              spec("0.05", "0.001"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, EventError::invalid_price);
  EXPECT_EQ(e.error().message, "price: not a multiple of the tick 0.05");
  auto finer =
      resolve(parsed(R"({"type":"level","symbol":"S","side":"buy","price":"100.001","qty":"1"})"),
              spec("0.01", "1"));
  ASSERT_FALSE(finer.ok());
  EXPECT_EQ(finer.error().message, "price: not a multiple of the tick 0.01");
}

TEST(Resolve, OffTheLotIsInvalidQuantityNamingTheLot) {
  auto e = resolve(parsed(R"({"type":"reduce","symbol":"S","order_id":"1","qty":"0.00015"})"),
                   spec("0.01", "0.0001"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, EventError::invalid_quantity);
  EXPECT_EQ(e.error().message, "qty: not a multiple of the lot 0.0001");
  auto tick =
      resolve(parsed(R"({"type":"tick","symbol":"S","price":"1","size":"0.5","side":"buy"})"),
              spec("1", "1"));
  ASSERT_FALSE(tick.ok());
  EXPECT_EQ(tick.error().message, "size: not a multiple of the lot 1");
}

TEST(Resolve, ZeroPriceAndZeroQuantityAreRejected) {
  auto p = resolve(
      parsed(R"({"type":"add","symbol":"S","order_id":"1","side":"buy","price":"0.00","qty":"1"})"),
      spec("0.01", "1"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, EventError::invalid_price);
  EXPECT_EQ(p.error().message, "price: must be greater than zero");
  auto q = resolve(parsed(R"({"type":"execute","symbol":"S","order_id":"1","qty":"0"})"),
                   spec("0.01", "1"));
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code, EventError::invalid_quantity);
  EXPECT_EQ(q.error().message, "qty: must be greater than zero");
}

TEST(Resolve, ALevelOfZeroRemovesIt) {
  auto e = resolve(parsed(R"({"type":"level","symbol":"S","side":"sell","price":"1","qty":"0"})"),
                   spec("0.01", "0.0001"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->qty, ob::Qty(0));
}

TEST(Resolve, BeyondTheFixedPointRange) {
  auto big = resolve(
      parsed(
          R"({"type":"add","symbol":"S","order_id":"1","side":"buy","price":"99999999999999999999","qty":"1"})"),
      spec("0.01", "1"));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message, "price: beyond the 64-bit fixed-point range");
  auto ticks = resolve(
      parsed(
          R"({"type":"add","symbol":"S","order_id":"1","side":"buy","price":"9000000000000000000","qty":"1"})"),
      spec("1", "1"));
  ASSERT_FALSE(ticks.ok());
  EXPECT_EQ(ticks.error().message, "price: beyond the largest price (2^62 ticks)");
}

TEST(Resolve, ExecuteWithoutPriceLeavesItZero) {
  auto e = resolve(parsed(R"({"type":"execute","symbol":"S","order_id":"X","qty":"3"})"),
                   spec("1", "1"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->price, ob::Price(0));
  EXPECT_EQ(e->qty, ob::Qty(3));
}

TEST(Resolve, HandBuiltEventsMissingADecimal) {
  ParsedEvent p;
  p.type = EventType::add;
  p.symbol = "S";
  p.order_id = "1";
  p.side = ob::Side::buy;
  p.qty = "1";
  auto e = resolve(p, spec("1", "1"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, EventError::missing_field);
  EXPECT_EQ(e.error().message, "price: missing");
}

}  // namespace
}  // namespace feeds
