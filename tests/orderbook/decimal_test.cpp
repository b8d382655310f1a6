// Decimal strings <-> ticks and lots (API.md "Decimals").
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "orderbook/book_spec.hpp"
#include "orderbook/decimal.hpp"

namespace {

using ob::BookSpec;
using ob::ErrorCode;
using ob::Price;
using ob::Qty;

BookSpec spec(std::string_view tick, std::string_view lot) {
  return *BookSpec::parse(tick, lot);
}

TEST(BookSpec, ParsesTickAndLotScales) {
  const BookSpec s = spec("0.01", "0.0001");
  EXPECT_EQ(s.tick_units, 1);
  EXPECT_EQ(s.price_decimals, 2);
  EXPECT_EQ(s.lot_units, 1);
  EXPECT_EQ(s.qty_decimals, 4);
  const BookSpec t = spec("0.050", "5");
  EXPECT_EQ(t.tick_units, 5);
  EXPECT_EQ(t.price_decimals, 2);
  EXPECT_EQ(t.lot_units, 5);
  EXPECT_EQ(t.qty_decimals, 0);
}

TEST(BookSpec, RejectsZeroNegativeAndMalformedSizes) {
  EXPECT_EQ(BookSpec::parse("0", "1").error(), ErrorCode::invalid_price);
  EXPECT_EQ(BookSpec::parse("-0.01", "1").error(), ErrorCode::invalid_price);
  EXPECT_EQ(BookSpec::parse("1e-2", "1").error(), ErrorCode::invalid_price);
  EXPECT_EQ(BookSpec::parse("0.01", "").error(), ErrorCode::invalid_quantity);
  EXPECT_EQ(BookSpec::parse("0.0000000000000000001", "1").error(), ErrorCode::invalid_price);
}

TEST(ParsePrice, AcceptsDigitsWithOptionalFractionAndTrailingZeros) {
  const BookSpec s = spec("0.01", "0.0001");
  EXPECT_EQ(ob::parse_price("64000.50", s)->ticks(), 6400050);
  EXPECT_EQ(ob::parse_price("100", s)->ticks(), 10000);
  EXPECT_EQ(ob::parse_price("100.5", s)->ticks(), 10050);
  EXPECT_EQ(ob::parse_price("100.500000", s)->ticks(), 10050);
  EXPECT_EQ(ob::parse_price("0.01", s)->ticks(), 1);
  EXPECT_EQ(ob::parse_price("007.00", s)->ticks(), 700);
}

TEST(ParsePrice, RejectsEverythingElseAsInvalidPrice) {
  const BookSpec s = spec("0.01", "0.0001");
  for (const char* bad : {"", " 1", "1 ", "+1", "-1", "1e3", "1E3", "1.", ".5", "1..2", "1,5",
                          "0x10", "abc", "0", "0.00", "0.001", "100.505", "1.0.0", "١"}) {
    EXPECT_EQ(ob::parse_price(bad, s).error(), ErrorCode::invalid_price) << bad;
  }
}

TEST(ParsePrice, RejectsValuesOffTheTickGrid) {
  const BookSpec s = spec("0.05", "1");
  EXPECT_EQ(ob::parse_price("1.05", s)->ticks(), 21);
  EXPECT_EQ(ob::parse_price("1.10", s)->ticks(), 22);
  EXPECT_EQ(ob::parse_price("1.01", s).error(), ErrorCode::invalid_price);
  EXPECT_EQ(ob::parse_price("1.051", s).error(), ErrorCode::invalid_price);
}

TEST(ParsePrice, RejectsValuesBeyondTheFixedPointRange) {
  const BookSpec s = spec("0.00000001", "0.00000001");
  EXPECT_EQ(ob::parse_price("92233720368.54775807", s).error(), ErrorCode::invalid_price);
  EXPECT_EQ(ob::parse_price("99999999999999999999999", s).error(), ErrorCode::invalid_price);
  // 2^62 ticks is the largest accepted price.
  EXPECT_EQ(ob::parse_price("46116860184.27387904", s)->ticks(), Price::kMaxTicks);
  EXPECT_EQ(ob::parse_price("46116860184.27387905", s).error(), ErrorCode::invalid_price);
  const BookSpec i = BookSpec::integer();
  EXPECT_EQ(ob::parse_price("9223372036854775808", i).error(), ErrorCode::invalid_price);
}

TEST(ParseQty, RejectsZeroNegativeAndOffLotValues) {
  const BookSpec s = spec("0.01", "0.0001");
  EXPECT_EQ(ob::parse_qty("0.0100", s)->lots(), 100);
  EXPECT_EQ(ob::parse_qty("1", s)->lots(), 10000);
  for (const char* bad : {"0", "0.0000", "-1", "0.00001", "", "1e2", " 1", "."}) {
    EXPECT_EQ(ob::parse_qty(bad, s).error(), ErrorCode::invalid_quantity) << bad;
  }
  EXPECT_EQ(ob::parse_qty("9223372036854775807", BookSpec::integer())->lots(), 9223372036854775807);
  EXPECT_EQ(ob::parse_qty("9223372036854775808", BookSpec::integer()).error(),
            ErrorCode::invalid_quantity);
}

TEST(ParseLevelQty, AcceptsZeroForRemovingALevel) {
  const BookSpec s = spec("0.01", "0.0001");
  EXPECT_EQ(ob::parse_level_qty("0", s)->lots(), 0);
  EXPECT_EQ(ob::parse_level_qty("0.00000", s)->lots(), 0);
  EXPECT_EQ(ob::parse_level_qty("-0", s).error(), ErrorCode::invalid_quantity);
}

TEST(Format, PriceHasTheTickDecimalsAndQtyTheLotDecimals) {
  const BookSpec s = spec("0.01", "0.0001");
  EXPECT_EQ(ob::format_price(Price(6400050), s), "64000.50");
  EXPECT_EQ(ob::format_price(Price(1), s), "0.01");
  EXPECT_EQ(ob::format_qty(Qty(100), s), "0.0100");
  EXPECT_EQ(ob::format_qty(Qty(0), s), "0.0000");
  const BookSpec t = spec("0.05", "5");
  EXPECT_EQ(ob::format_price(Price(21), t), "1.05");
  EXPECT_EQ(ob::format_qty(Qty(3), t), "15");
  EXPECT_EQ(ob::format_price(Price(10001), BookSpec::integer()), "10001");
}

TEST(Format, MidHasOneDecimalMoreThanTheTick) {
  const BookSpec s = spec("0.01", "0.0001");
  EXPECT_EQ(ob::format_mid(Price(6400050), Price(6400051), s), "64000.505");
  EXPECT_EQ(ob::format_mid(Price(100), Price(102), s), "1.010");
  const BookSpec t = spec("0.05", "1");
  EXPECT_EQ(ob::format_mid(Price(1), Price(2), t), "0.075");
  EXPECT_EQ(ob::format_mid(Price(10001), Price(10002), BookSpec::integer()), "10001.5");
}

TEST(Format, SpreadIsNegativeForACrossedBook) {
  const BookSpec s = spec("0.01", "0.0001");
  EXPECT_EQ(ob::format_spread(Price(100), Price(105), s), "0.05");
  EXPECT_EQ(ob::format_spread(Price(105), Price(100), s), "-0.05");
  EXPECT_EQ(ob::format_spread(Price(100), Price(100), s), "0.00");
}

TEST(Format, RoundTripsThroughParse) {
  const BookSpec s = spec("0.00000001", "0.001");
  for (std::int64_t t : {std::int64_t{1}, std::int64_t{123456789}, Price::kMaxTicks}) {
    EXPECT_EQ(ob::parse_price(ob::format_price(Price(t), s), s)->ticks(), t);
  }
}

// A level total may exceed the 64-bit range (API.md "Arithmetic never wraps");
// the formatter prints it exactly, even when total * lot passes 128 bits.
TEST(Format, QtyPrintsA128BitLevelTotalExactly) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  const ob::LevelQty three_max(ob::LevelQty::Rep{kMax} * 3);
  EXPECT_EQ(ob::format_qty(three_max, spec("0.01", "0.00000001")), "276701161105.64327421");
  const ob::LevelQty two_pow_95(ob::LevelQty::Rep{1} << 95);
  EXPECT_EQ(ob::format_qty(two_pow_95, spec("1", "9000000000000000000")),
            "356526731314189519170947776512000000000000000000");
  EXPECT_EQ(ob::format_qty(Qty(0), spec("1", "0.0001")), "0.0000");
}

// Values past the 64-bit fixed-point range are refused, never wrapped.
TEST(Parse, ValuesBeyondTheSixtyFourBitRangeAreRefused) {
  const BookSpec s = spec("0.00000001", "0.00000001");
  EXPECT_EQ(ob::parse_qty("92233720368.54775807", s)->lots(),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(ob::parse_qty("92233720368.54775808", s).error(), ErrorCode::invalid_quantity);
  EXPECT_EQ(ob::parse_qty("99999999999999999999999", s).error(), ErrorCode::invalid_quantity);
  EXPECT_EQ(ob::parse_price("92233720368.54775807", s).error(), ErrorCode::invalid_price);
  EXPECT_EQ(ob::parse_price("46116860184.27387905", s).error(), ErrorCode::invalid_price);
}

}  // namespace
