// The WebSocket client-message codec (API.md "WebSocket", Client → server).

#include "api/ws_protocol.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace api {
namespace {

struct Parsed {
  ClientRequest req;
  std::optional<ClientError> refused;
};

Parsed parse(std::string_view text) {
  std::string padded;
  padded.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(text);
  Parsed p;
  p.refused = parse_client_message(padded, p.req);
  return p;
}

TEST(WsProtocol, SubscribeCarriesItsChannelsSymbolsAndId) {
  Parsed p =
      parse(R"({"type":"subscribe","channels":["ticker","book"],"symbols":["A","B"],"id":7})");
  ASSERT_FALSE(p.refused);
  EXPECT_EQ(p.req.type, ClientRequest::Type::subscribe);
  EXPECT_EQ(p.req.channels, (std::vector<std::string>{"ticker", "book"}));
  EXPECT_EQ(p.req.symbols, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(p.req.id, 7);
}

TEST(WsProtocol, DepthIsAnIntegerFromOneTo5000OnBookOnly) {
  const std::string head = R"({"type":"subscribe","channels":["book"],"symbols":["A"],"depth":)";
  EXPECT_FALSE(parse(R"({"type":"subscribe","channels":["book"],"symbols":["A"]})").req.depth);
  for (std::uint32_t ok : {1u, 100u, 5000u}) {
    Parsed p = parse(head + std::to_string(ok) + "}");
    ASSERT_FALSE(p.refused) << ok;
    EXPECT_EQ(p.req.depth, ok);
  }
  for (std::string_view bad :
       {"0", "5001", "-3", "2.5", "\"7\"", "null", "[1]", "1e3", "18446744073709551616"}) {
    Parsed p = parse(head + std::string(bad) + R"(,"id":9})");
    ASSERT_TRUE(p.refused) << bad;
    EXPECT_EQ(p.refused->code, "bad_request") << bad;
    EXPECT_EQ(p.refused->id, 9) << bad;
    EXPECT_NE(p.refused->message.find("depth"), std::string::npos) << p.refused->message;
  }
  Parsed other = parse(R"({"type":"subscribe","channels":["top"],"symbols":["A"],"depth":5})");
  ASSERT_TRUE(other.refused);
  EXPECT_EQ(other.refused->code, "bad_request");
}

TEST(WsProtocol, MaxHzIsAnIntegerFromOneTo1000NotOnTradesOrCandles) {
  const std::string head =
      R"({"type":"subscribe","channels":["book","top","ticker"],"symbols":["A"],"max_hz":)";
  EXPECT_FALSE(parse(R"({"type":"subscribe","channels":["book"],"symbols":["A"]})").req.max_hz);
  for (std::uint32_t ok : {1u, 10u, 1000u}) {
    Parsed p = parse(head + std::to_string(ok) + "}");
    ASSERT_FALSE(p.refused) << ok;
    EXPECT_EQ(p.req.max_hz, ok);
  }
  for (std::string_view bad : {"0", "1001", "-1", "0.5", "\"10\"", "null", "true", "1e2"}) {
    Parsed p = parse(head + std::string(bad) + R"(,"id":4})");
    ASSERT_TRUE(p.refused) << bad;
    EXPECT_EQ(p.refused->code, "bad_request") << bad;
    EXPECT_EQ(p.refused->id, 4) << bad;
    EXPECT_NE(p.refused->message.find("max_hz"), std::string::npos) << p.refused->message;
  }
  for (std::string_view channel : {"trades", "candles:1m", "candles:1s"}) {
    Parsed p = parse(R"({"type":"subscribe","channels":["top",")" + std::string(channel) +
                     R"("],"symbols":["A"],"max_hz":5,"id":2})");
    ASSERT_TRUE(p.refused) << channel;
    EXPECT_EQ(p.refused->code, "bad_request") << channel;
    EXPECT_EQ(p.refused->id, 2);
  }
  // Candles without max_hz are an ordinary subscription.
  EXPECT_FALSE(
      parse(R"({"type":"subscribe","channels":["candles:1m","trades"],"symbols":["A"]})").refused);
}

TEST(WsProtocol, PingNeedsNothingButItsType) {
  Parsed p = parse(R"({"type":"ping"})");
  ASSERT_FALSE(p.refused);
  EXPECT_EQ(p.req.type, ClientRequest::Type::ping);
  EXPECT_FALSE(p.req.id);
}

TEST(WsProtocol, EachRefusalHasApiMdsCodeAndTheIdWhenKnown) {
  struct Case {
    std::string_view text, code;
    std::optional<std::int64_t> id;
  };
  for (const Case& c : {
           Case{"{", "invalid_json", std::nullopt},
           Case{"[1]", "invalid_json", std::nullopt},
           Case{R"({"type":"ping"} x)", "invalid_json", std::nullopt},
           Case{R"({"type":"ping","type":"ping"})", "invalid_json", std::nullopt},
           Case{R"({"id":"x","type":"ping"})", "bad_request", std::nullopt},
           Case{R"({"id":3})", "bad_request", 3},
           Case{R"({"type":"hello","id":4})", "unknown_type", 4},
           Case{R"({"type":"subscribe","channels":[],"symbols":["A"],"id":5})", "bad_request", 5},
           Case{R"({"type":"subscribe","channels":["top"],"symbols":[1],"id":6})", "bad_request",
                6},
           Case{R"({"type":"unsubscribe","channels":["top"],"id":8})", "bad_request", 8},
       }) {
    Parsed p = parse(c.text);
    ASSERT_TRUE(p.refused) << c.text;
    EXPECT_EQ(p.refused->code, c.code) << c.text;
    EXPECT_EQ(p.refused->id, c.id) << c.text;
    EXPECT_FALSE(p.refused->message.empty());
  }
}

TEST(WsProtocol, UnknownMembersAreIgnoredButMustBeValidJson) {
  EXPECT_FALSE(parse(R"({"type":"ping","extra":{"a":[1,2,{"b":null}]}})").refused);
  EXPECT_TRUE(parse(R"({"type":"ping","extra":{"a":[1,2,}})").refused);
  // On-Demand skips what nobody reads without looking at it: these atoms
  // pass simdjson's structural stage and must still be refused.
  for (const char* text :
       {R"({"type":"ping","x":trwe})", R"({"type":"ping","x":[1,nul]})",
        R"({"type":"ping","x":{"y":1.2.3}})", R"({"type":"ping","id":[fals]})",
        R"({"type":"subscribe","channels":[1,trwe],"symbols":["A"]})",
        R"({"type":"subscribe","channels":["top"],"symbols":["A"],"depth":tru})"}) {
    const Parsed p = parse(text);
    ASSERT_TRUE(p.refused) << text;
    EXPECT_EQ(p.refused->code, "invalid_json") << text;
  }
  // Integers past 64 bits are JSON all the same.
  EXPECT_FALSE(parse(R"({"type":"ping","x":123456789012345678901234})").refused);
}

}  // namespace
}  // namespace api
