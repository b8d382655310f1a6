// What a REST request says before a process is asked (api/rest_request.hpp):
// routes and the roles they need, the PUT symbol and POST order bodies, and
// depth's `levels`.

#include "api/rest_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace api {
namespace {

namespace http = boost::beast::http;
using http::verb;

services::SymbolSpec btc_spec() {
  return *services::SymbolSpec::parse("0.01", "0.0001");
}

/// The code of `r`'s error; "" when it holds a value.
template <class T>
std::string code_of(const rt::Result<T, RequestError>& r) {
  if (r) return "";
  EXPECT_EQ(r.error().status, http::status::bad_request);
  EXPECT_FALSE(r.error().message.empty());
  return r.error().code;
}

// ---- routes ----

TEST(RestRequest, EveryApiRouteIsFoundWithItsSegments) {
  struct Case {
    std::string_view target;
    RouteKind kind;
    std::string_view symbol, order_id;
  };
  for (const Case& c : {
           Case{"/api/v1/symbols", RouteKind::symbols, "", ""},
           Case{"/api/v1/ingest", RouteKind::ingest, "", ""},
           Case{"/api/v1/symbols/BTC-USD", RouteKind::symbol, "BTC-USD", ""},
           Case{"/api/v1/symbols/BTC-USD/ticker", RouteKind::ticker, "BTC-USD", ""},
           Case{"/api/v1/symbols/BTC-USD/top", RouteKind::top, "BTC-USD", ""},
           Case{"/api/v1/symbols/BTC-USD/depth?levels=5", RouteKind::depth, "BTC-USD", ""},
           Case{"/api/v1/symbols/BTC-USD/orders", RouteKind::orders, "BTC-USD", ""},
           Case{"/api/v1/symbols/BTC-USD/orders/42", RouteKind::order, "BTC-USD", "42"},
           Case{"/api/v1/symbols/BTC-USD/candles?interval=1m", RouteKind::candles, "BTC-USD", ""},
           Case{"/api/v1/symbols/BTC-USD/trades", RouteKind::trades, "BTC-USD", ""},
           Case{"/api/v1/time", RouteKind::time, "", ""},
       }) {
    SCOPED_TRACE(c.target);
    auto r = route_of(verb::get, c.target);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, c.kind);
    EXPECT_EQ(r->symbol, c.symbol);
    EXPECT_EQ(r->order_id, c.order_id);
  }
}

TEST(RestRequest, RouteLabelsAreTheMetricsLabelsInRouteKindOrder) {
  EXPECT_EQ(route_labels().size(), 11u);
  EXPECT_EQ(route_label(RouteKind::candles), "/api/v1/symbols/{symbol}/candles");
  EXPECT_EQ(route_label(RouteKind::trades), "/api/v1/symbols/{symbol}/trades");
  EXPECT_EQ(route_label(RouteKind::time), "/api/v1/time");
  EXPECT_EQ(route_label(RouteKind::symbols), "/api/v1/symbols");
  EXPECT_EQ(route_label(RouteKind::depth), "/api/v1/symbols/{symbol}/depth");
  EXPECT_EQ(route_label(RouteKind::order), "/api/v1/symbols/{symbol}/orders/{id}");
  EXPECT_EQ(route_label(RouteKind::ingest), "/api/v1/ingest");
  EXPECT_EQ(route_labels()[static_cast<std::size_t>(RouteKind::top)],
            "/api/v1/symbols/{symbol}/top");
}

TEST(RestRequest, EmptySegmentsAndUnknownPathsAreNotFound) {
  for (std::string_view target : {"",
                                  "/",
                                  "api/v1/symbols",
                                  "/api/v1/symbols/",
                                  "/api//v1/symbols",
                                  "//api/v1/symbols",
                                  "/api/v1/symbols//ticker",
                                  "/api/v1/symbols/BTC-USD/",
                                  "/api/v1/symbols/X/orders/",
                                  "/api/v1",
                                  "/api/v2/symbols",
                                  "/API/v1/symbols",
                                  "/api/v1/nope",
                                  "/api/v1/ingest/x",
                                  "/api/v1/symbols/X/nope",
                                  "/api/v1/symbols/X/ticker/1",
                                  "/api/v1/symbols/X/orders/1/2",
                                  "/healthz",
                                  "/readyz",
                                  "/metrics",
                                  "/?/api/v1/symbols"}) {
    EXPECT_FALSE(route_of(verb::get, target)) << target;
  }
  EXPECT_EQ(segments("/a//b"), std::nullopt);
  EXPECT_EQ(segments("/a/b/"), std::nullopt);
  EXPECT_EQ(segments("/healthz"), (std::vector<std::string_view>{"healthz"}));
}

TEST(RestRequest, TheQueryIsNotPartOfTheRoute) {
  auto r = route_of(verb::get, "/api/v1/symbols/A/orders/7?x=/y//z");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::order);
  EXPECT_EQ(r->order_id, "7");
  EXPECT_FALSE(route_of(verb::get, "/api/v1/symbols/?levels=1"));
}

TEST(RestRequest, TheSymbolIsNamedAsSentAndCheckedByTheHandler) {
  // Not a 404: an ill-formed symbol is 400 invalid_symbol after the key check.
  auto r = route_of(verb::put, "/api/v1/symbols/eth%20usd");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->symbol, "eth%20usd");
  EXPECT_EQ(r->needed, Role::admin);
}

TEST(RestRequest, EachMethodNeedsItsRole) {
  struct Case {
    verb method;
    std::string_view target;
    Role needed;
  };
  for (const Case& c : {
           Case{verb::get, "/api/v1/symbols", Role::read},
           Case{verb::get, "/api/v1/symbols/A", Role::read},
           Case{verb::put, "/api/v1/symbols/A", Role::admin},
           Case{verb::delete_, "/api/v1/symbols/A", Role::admin},
           Case{verb::get, "/api/v1/symbols/A/ticker", Role::read},
           Case{verb::get, "/api/v1/symbols/A/depth", Role::read},
           Case{verb::post, "/api/v1/symbols/A/orders", Role::trade},
           Case{verb::get, "/api/v1/symbols/A/orders/1", Role::read},
           Case{verb::delete_, "/api/v1/symbols/A/orders/1", Role::trade},
           Case{verb::post, "/api/v1/ingest", Role::admin},
           Case{verb::get, "/api/v1/ingest", Role::admin},
           // A method the route refuses needs read: a reader learns 405, not 403.
           Case{verb::post, "/api/v1/symbols", Role::read},
           Case{verb::post, "/api/v1/symbols/A", Role::read},
           Case{verb::put, "/api/v1/symbols/A/orders/1", Role::read},
           Case{verb::delete_, "/api/v1/symbols/A/orders", Role::read},
       }) {
    SCOPED_TRACE(std::string(http::to_string(c.method)) + " " + std::string(c.target));
    auto r = route_of(c.method, c.target);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->needed, c.needed);
  }
}

// ---- JSON object bodies ----

TEST(RestRequest, ObjectFieldsAreStringsOrMarkedPresent) {
  auto f = parse_object(R"({"a":"x\"y","b":1,"c":null,"z":"ignored"})", {"a", "b", "d"});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->get("a").present && f->get("a").is_string);
  EXPECT_EQ(f->get("a").text, "x\"y");
  EXPECT_TRUE(f->get("b").present);
  EXPECT_FALSE(f->get("b").is_string);
  EXPECT_FALSE(f->get("d").present);
  EXPECT_FALSE(f->get("z").present);  // not asked for
}

TEST(RestRequest, DuplicateKeysAndNonObjectsAreRefused) {
  auto dup = parse_object(R"({"a":"1","a":"2"})", {"a"});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), "duplicate key \"a\"");
  // Escapes are undone before comparing: "\u0061" is "a".
  EXPECT_FALSE(parse_object(R"({"a":"1","\u0061":"2"})", {"a"}));
  for (std::string_view body : {"", "[]", "\"a\"", "{nope", R"({"a":"1"} {})", R"({"a":"1"}x)",
                                R"({"a":"1")", "{\"a\":\"\xff\"}"}) {
    EXPECT_FALSE(parse_object(body, {"a"})) << body;
  }
  EXPECT_TRUE(parse_object(" {} \n", {"a"}));
}

// Found by rest_request_fuzz: simdjson On-Demand skips what is not read, so
// `"flag":trwe` beside a valid order placed it (API.md: a body that is not
// JSON is 400 invalid_json).
TEST(RestRequest, AMemberNoParserReadsMustStillBeJson) {
  const auto spec = btc_spec();
  const std::string head = R"({"side":"buy","qty":"1","price":"1",)";
  for (std::string_view bad :
       {R"("flag":trwe)", R"("x":nul)", R"("x":1.2.3)", R"("x":-)", R"("x":01)", R"("x":1.)",
        R"("x":"\q")", R"("x":"\u12")", R"("x":[1,{"y":tru}])", R"("x":{"y":1,"z":[-]})"}) {
    const std::string body = head + std::string(bad) + "}";
    EXPECT_EQ(code_of(parse_order(body, spec)), "invalid_json") << body;
    EXPECT_FALSE(parse_object(body, {"side"})) << body;
  }
  for (std::string_view good :
       {R"("flag":true)", R"("x":null)", R"("x":-1.5e-3)", R"("x":"\u00e9\n")",
        R"("x":[1,{"y":[false,{}]}])", R"("x":123456789012345678901234567890)", R"("x":-0)"}) {
    const std::string body = head + std::string(good) + "}";
    EXPECT_EQ(code_of(parse_order(body, spec)), "") << body;
  }
}

TEST(RestRequest, AMalformedValueInAFieldReadIsInvalidJsonNotAWrongType) {
  // A well-formed number where a string belongs is the field's own error...
  EXPECT_EQ(code_of(parse_order(R"({"side":"buy","qty":1,"price":"1"})", btc_spec())),
            "invalid_quantity");
  // ... a malformed one is not JSON at all.
  EXPECT_EQ(code_of(parse_order(R"({"side":"buy","qty":1.2.3,"price":"1"})", btc_spec())),
            "invalid_json");
  EXPECT_EQ(code_of(parse_symbol_spec(R"({"tick_size":"1","lot_size":"1","mode":[tru]})")),
            "invalid_json");
}

TEST(RestRequest, UnreadValuesNestAtMost64Deep) {
  auto nested = [](int depth) {
    return R"({"side":"buy","qty":"1","price":"1","x":)" + std::string(depth, '[') +
           std::string(depth, ']') + "}";
  };
  EXPECT_EQ(code_of(parse_order(nested(64), btc_spec())), "");
  EXPECT_EQ(code_of(parse_order(nested(65), btc_spec())), "invalid_json");
}

TEST(RestRequest, RawControlCharactersInStringsAreInvalidJson) {
  // In a field read, in one not read, in a key; escaped, they are text.
  for (std::string_view bad : {"\"client_order_id\":\"a\tb\"", "\"x\":\"a\x01\"", "\"x\x1f\":1"}) {
    const std::string body = R"({"side":"buy","qty":"1","price":"1",)" + std::string(bad) + "}";
    EXPECT_EQ(code_of(parse_order(body, btc_spec())), "invalid_json") << body;
  }
  auto escaped =
      parse_order(R"({"side":"buy","qty":"1","price":"1","client_order_id":"a\tb"})", btc_spec());
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->client_order_id, "a\tb");
}

// ---- PUT /symbols/{symbol} ----

TEST(RestRequest, SymbolSpecBodyGivesTheSpec) {
  auto s = parse_symbol_spec(R"({"tick_size":"0.010","lot_size":"0.001","mode":"mirror"})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->tick_size(), "0.01");
  EXPECT_EQ(s->lot_size(), "0.001");
  EXPECT_EQ(s->mode, ob::Mode::mirror);
  auto venue = parse_symbol_spec(R"({"tick_size":"1","lot_size":"1"})");
  ASSERT_TRUE(venue);
  EXPECT_EQ(venue->mode, ob::Mode::venue);
}

TEST(RestRequest, SymbolSpecBodyErrorsNameTheField) {
  EXPECT_EQ(code_of(parse_symbol_spec("{nope")), "invalid_json");
  EXPECT_EQ(code_of(parse_symbol_spec(R"({"tick_size":"1","tick_size":"1","lot_size":"1"})")),
            "invalid_json");
  EXPECT_EQ(code_of(parse_symbol_spec(R"({"lot_size":"1"})")), "invalid_price");
  EXPECT_EQ(code_of(parse_symbol_spec(R"({"tick_size":0.1,"lot_size":"1"})")), "invalid_price");
  EXPECT_EQ(code_of(parse_symbol_spec(R"({"tick_size":"0.1"})")), "invalid_quantity");
  EXPECT_EQ(code_of(parse_symbol_spec(R"({"tick_size":"0.1","lot_size":"-1"})")),
            "invalid_quantity");
  EXPECT_EQ(code_of(parse_symbol_spec(R"({"tick_size":"0","lot_size":"1"})")), "invalid_price");
  EXPECT_EQ(code_of(parse_symbol_spec(R"({"tick_size":"1","lot_size":"1","mode":"x"})")),
            "bad_request");
  EXPECT_EQ(code_of(parse_symbol_spec(R"({"tick_size":"1","lot_size":"1","mode":1})")),
            "bad_request");
  auto e = parse_symbol_spec(R"({"tick_size":"0.1","lot_size":"1.5.5"})");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "lot_size: a decimal > 0, at most 18 decimals");
}

// ---- POST /symbols/{symbol}/orders ----

TEST(RestRequest, OrderBodyGivesALimitOrderByDefault) {
  auto o = parse_order(R"({"side":"sell","qty":"1.5","price":"101","client_order_id":"c1"})",
                       btc_spec());
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->side, ob::Side::sell);
  EXPECT_EQ(o->type, ob::OrderType::limit);
  EXPECT_EQ(o->tif, ob::TimeInForce::gtc);
  EXPECT_EQ(o->qty, ob::Qty(15000));
  EXPECT_EQ(o->price, ob::Price(10100));
  EXPECT_EQ(o->client_order_id, "c1");
  EXPECT_EQ(o->owner, "");  // the handler's to set
}

TEST(RestRequest, AMarketOrderIsIocWithoutAPrice) {
  auto o = parse_order(R"({"side":"buy","qty":"0.5","type":"market"})", btc_spec());
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->type, ob::OrderType::market);
  EXPECT_EQ(o->tif, ob::TimeInForce::ioc);
  EXPECT_EQ(o->qty, ob::Qty(5000));
  EXPECT_TRUE(parse_order(R"({"side":"buy","qty":"1","type":"market","tif":"ioc"})", btc_spec()));
  auto fok = parse_order(R"({"side":"buy","qty":"1","price":"1","tif":"fok"})", btc_spec());
  ASSERT_TRUE(fok);
  EXPECT_EQ(fok->tif, ob::TimeInForce::fok);
}

TEST(RestRequest, OrderBodyErrorsSayWhichField) {
  const auto spec = btc_spec();
  auto code = [&](std::string_view body) { return code_of(parse_order(body, spec)); };
  EXPECT_EQ(code("{nope"), "invalid_json");
  EXPECT_EQ(code(R"({"side":"buy","side":"sell","qty":"1","price":"1"})"), "invalid_json");
  EXPECT_EQ(code(R"({"qty":"1","price":"1"})"), "bad_request");               // no side
  EXPECT_EQ(code(R"({"side":"BUY","qty":"1","price":"1"})"), "bad_request");  // side
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1","type":"stop"})"), "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1","tif":"day"})"), "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","type":"market","tif":"gtc"})"), "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","price":"1"})"), "invalid_quantity");
  EXPECT_EQ(code(R"({"side":"buy","qty":1,"price":"1"})"), "invalid_quantity");
  EXPECT_EQ(code(R"({"side":"buy","qty":"0","price":"1"})"), "invalid_quantity");
  EXPECT_EQ(code(R"({"side":"buy","qty":"0.00001","price":"1"})"), "invalid_quantity");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1"})"), "invalid_price");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1.001"})"), "invalid_price");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1","type":"market"})"), "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1","client_order_id":7})"), "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1","client_order_id":")" +
                 std::string(65, 'x') + R"("})"),
            "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1","client_order_id":")" +
                 std::string(64, 'x') + R"("})"),
            "");
}

TEST(RestRequest, OrderErrorsQuoteTheSymbolsGrid) {
  const auto spec = btc_spec();
  auto qty = parse_order(R"({"side":"buy","qty":"0.00001","price":"1"})", spec);
  ASSERT_FALSE(qty);
  EXPECT_EQ(qty.error().message, "qty: a decimal > 0 on the lot 0.0001");
  auto price = parse_order(R"({"side":"buy","qty":"1","price":"1.001"})", spec);
  ASSERT_FALSE(price);
  EXPECT_EQ(price.error().message, "price: a decimal > 0 on the tick 0.01");
}

// ---- GET /symbols/{symbol}/depth ----

TEST(RestRequest, DepthLevelsAreOneTo1000AndTenByDefault) {
  auto levels = [](std::string_view target) { return parse_depth_levels(target); };
  EXPECT_EQ(*levels("/api/v1/symbols/A/depth"), 10u);
  EXPECT_EQ(*levels("/api/v1/symbols/A/depth?levels=1"), 1u);
  EXPECT_EQ(*levels("/api/v1/symbols/A/depth?x=1&levels=1000"), 1000u);
  for (std::string_view bad :
       {"0", "1001", "-1", "+5", "5x", "", "1e2", " 5", "99999999999999999999999999"}) {
    auto r = levels(std::string("/api/v1/symbols/A/depth?levels=") + std::string(bad));
    EXPECT_EQ(code_of(r), "bad_request") << bad;
  }
}

TEST(RestRequest, ACandlesQueryNeedsAnIntervalAndTakesFromToAndLimit) {
  auto q = parse_candles_query("/c?interval=5m");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->interval, services::CandleInterval::m5);
  EXPECT_EQ(q->limit, 500u);
  EXPECT_EQ(q->from_ns, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(q->to_ns, std::numeric_limits<std::int64_t>::max());
  q = parse_candles_query("/c?interval=1d&from=10&to=2025-12-07T10:00:00Z&limit=1000");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->from_ns, 10);
  EXPECT_EQ(q->to_ns, 1'765'101'600'000'000'000);
  EXPECT_EQ(q->limit, 1000u);
  for (const char* bad :
       {"/c", "/c?interval=2m", "/c?interval=1m&limit=0", "/c?interval=1m&limit=1001",
        "/c?interval=1m&from=x", "/c?interval=1m&to=", "/c?interval=1m&limit=5x"}) {
    auto r = parse_candles_query(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_request") << bad;
  }
  EXPECT_EQ(*parse_trades_limit("/t"), 100u);
  EXPECT_EQ(*parse_trades_limit("/t?limit=1000"), 1000u);
  EXPECT_FALSE(parse_trades_limit("/t?limit=0").ok());
  EXPECT_FALSE(parse_trades_limit("/t?limit=1001").ok());
}

TEST(RestRequest, ATimeParameterIsRfc3339OrNanosecondsSinceTheEpoch) {
  constexpr std::int64_t kT = 1'765'101'600'123'456'789;  // 2025-12-07T10:00:00.123456789Z
  auto at = [](std::string target) { return parse_time_param(target, "at"); };
  EXPECT_EQ(*at("/d"), std::nullopt);
  EXPECT_EQ(*at("/d?at=1765101600123456789"), kT);
  EXPECT_EQ(*at("/d?at=0"), 0);
  EXPECT_EQ(*at("/d?at=2025-12-07T10:00:00.123456789Z"), kT);
  EXPECT_EQ(*at("/d?levels=5&at=2025-12-07T10:00:00Z"), kT - 123'456'789);
  EXPECT_EQ(*at("/d?at=2025-12-07T10:00:00.5Z"), kT - 123'456'789 + 500'000'000);
  EXPECT_EQ(*at("/d?at=2025-12-07T11:00:00.123456789%2B01:00"), kT);  // '+' percent-encoded
  EXPECT_EQ(*at("/d?at=2025-12-07T11:00:00.123456789+01:00"), kT);    // and as sent
  EXPECT_EQ(*at("/d?at=2025-12-07T09:30:00.123456789-00:30"), kT);
  EXPECT_EQ(*at("/d?at=2025-12-07T10%3A00%3A00.123456789Z"), kT);
  for (const char* bad :
       {"/d?at=", "/d?at", "/d?at=x", "/d?at=-1", "/d?at=1.5", "/d?at=99999999999999999999",
        "/d?at=2025-12-07", "/d?at=2025-12-07T10:00:00", "/d?at=2025-12-07T10:00:00ZZ",
        "/d?at=2025-13-07T10:00:00Z", "/d?at=2025-12-07 10:00:00Z", "/d?at=1969-12-31T23:59:59Z",
        "/d?at=2300-01-01T00:00:00Z"}) {
    auto r = at(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad_request") << bad;
    EXPECT_NE(r.error().message.find("RFC 3339"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace api
