#include <gtest/gtest.h>

#include <random>
#include <string>

#include "feeds/ndjson.hpp"

namespace feeds {
namespace {

/// Random order ids: plain, with JSON metacharacters, control bytes and UTF-8.
std::string random_id(std::mt19937_64& rng) {
  static const std::string kPieces[] = {"A",
                                        "z9",
                                        "\"",
                                        "\\",
                                        "\n",
                                        "\t",
                                        "\x01",
                                        "\x1f",
                                        "/",
                                        " ",
                                        "\xc3\xa9",
                                        "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80",
                                        "u0041",
                                        "}"};
  std::string id;
  const std::size_t n = 1 + rng() % 6;
  for (std::size_t i = 0; i < n; ++i) id += kPieces[rng() % std::size(kPieces)];
  return id;
}

Event random_event(std::mt19937_64& rng) {
  Event e;
  e.type = static_cast<EventType>(rng() % 7);
  const auto side = rng() % 2 ? ob::Side::buy : ob::Side::sell;
  const auto price = ob::Price(1 + static_cast<std::int64_t>(rng() % 10'000'000'000ULL));
  const auto qty = ob::Qty(1 + static_cast<std::int64_t>(rng() % 1'000'000'000ULL));
  switch (e.type) {
    case EventType::tick:
      e.price = price, e.qty = qty, e.side = side;
      break;
    case EventType::add:
      e.order_id = random_id(rng), e.side = side, e.price = price, e.qty = qty;
      break;
    case EventType::cancel:
      e.order_id = random_id(rng);
      break;
    case EventType::reduce:
      e.order_id = random_id(rng), e.qty = qty;
      break;
    case EventType::execute:
      e.order_id = random_id(rng), e.qty = qty;
      if (rng() % 2) e.price = price;
      break;
    case EventType::replace:
      e.order_id = random_id(rng), e.new_order_id = random_id(rng), e.price = price, e.qty = qty;
      break;
    case EventType::level:
      e.side = side, e.price = price,
      e.qty = ob::Qty(qty.lots() * static_cast<std::int64_t>(rng() % 2));
      break;
  }
  if (rng() % 2) e.ts_ns = static_cast<std::int64_t>(rng() >> 1);
  if (rng() % 2) e.upstream_seq = 1 + (rng() >> 2);
  return e;
}

TEST(NdjsonRoundTrip, ParseOfEncodeIsIdentityForRandomEvents) {
  std::mt19937_64 rng(20261121);
  const ob::BookSpec specs[] = {
      *ob::BookSpec::parse("0.01", "0.0001"), *ob::BookSpec::parse("0.05", "0.001"),
      *ob::BookSpec::parse("1", "1"), *ob::BookSpec::parse("0.00000001", "0.00000001")};
  const std::string symbols[] = {"BTC-USD", "ES.Z26", "X_1"};
  NdjsonParser parser;
  for (int round = 0; round < 200; ++round) {
    const ob::BookSpec& spec = specs[rng() % std::size(specs)];
    std::vector<Event> events;
    std::vector<std::string> syms;
    std::string text;
    for (int i = 0; i < 50; ++i) {
      events.push_back(random_event(rng));
      syms.push_back(symbols[rng() % std::size(symbols)]);
      append_ndjson(text, syms.back(), events.back(), spec);
    }
    ParsedBatch b = parser.parse(text);
    ASSERT_TRUE(b.errors().empty()) << b.errors()[0].message << " in\n" << text;
    ASSERT_EQ(b.events().size(), events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(b.events()[i].symbol, syms[i]);
      EXPECT_EQ(b.lines()[i], i + 1);
      auto back = resolve(b.events()[i], spec);
      ASSERT_TRUE(back.ok()) << back.error().message;
      EXPECT_EQ(*back, events[i]) << "line " << i + 1 << ": " << text.substr(0, 400);
    }
  }
}

TEST(NdjsonEncode, MatchesTheApiExamples) {
  const ob::BookSpec spec = *ob::BookSpec::parse("0.01", "0.0001");
  std::string out;
  Event tick;
  tick.type = EventType::tick;
  tick.price = ob::Price(6400050);
  tick.qty = ob::Qty(100);
  tick.ts_ns = 1790000000000000000;
  append_ndjson(out, "BTC-USD", tick, spec);
  EXPECT_EQ(
      out,
      R"({"type":"tick","symbol":"BTC-USD","price":"64000.50","size":"0.0100","side":"buy","ts_ns":1790000000000000000})"
      "\n");
  out.clear();
  Event level;
  level.type = EventType::level;
  level.side = ob::Side::sell;
  level.price = ob::Price(1);
  append_ndjson(out, "S", level, spec);
  EXPECT_EQ(out, R"({"type":"level","symbol":"S","side":"sell","price":"0.01","qty":"0.0000"})"
                 "\n");
}

TEST(NdjsonEncode, EscapesJsonStrings) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\n\x01\x7f\xc3\xa9", 10));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\x7f\xc3\xa9\"");
  out.clear();
  append_json_string(out, std::string("\0", 1));
  EXPECT_EQ(out, "\"\\u0000\"");
}

}  // namespace
}  // namespace feeds
