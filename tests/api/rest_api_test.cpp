// The REST contract of API.md, through a real server on an ephemeral port.

#include <fmt/chrono.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "tests/api/api_fixture.hpp"
#include "tests/storage/storage_fixture.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/wire_shapes.hpp"

namespace api::test {
namespace {

namespace http = boost::beast::http;
using http::verb;
using testing_support::eventually;

class RestTest : public ApiTest {
 protected:
  RestTest() : ApiTest(config()) {}
  static services::ApplicationConfig config() {
    services::ApplicationConfig cfg;
    cfg.rate_limit.limit = 0;  // rate limiting has its own test
    cfg.symbols = {{"BTC-USD", *services::SymbolSpec::parse("0.01", "0.0001")},
                   {"MIR", *services::SymbolSpec::parse("0.01", "1", ob::Mode::mirror)}};
    return cfg;
  }
  Client c = client();
};

TEST_F(RestTest, ServiceEndpointsAnswer) {
  auto h = c.get("/healthz");
  EXPECT_EQ(h.result(), http::status::ok);
  EXPECT_EQ(h.body(), R"({"status":"ok"})");
  EXPECT_EQ(c.get("/readyz").result(), http::status::ok);
  auto m = c.get("/metrics");
  EXPECT_EQ(m.result(), http::status::ok);
  EXPECT_NE(m[http::field::content_type].find("version=0.0.4"), std::string::npos);
  EXPECT_NE(m.body().find("marketd_symbols 2"), std::string::npos);
  EXPECT_NE(m.body().find("marketd_http_requests_total{"), std::string::npos);
  EXPECT_NE(m.body().find("# TYPE marketd_processes gauge"), std::string::npos);
  EXPECT_NE(m.body().find("marketd_call_timeouts_total"), std::string::npos);
  EXPECT_NE(m.body().find("marketd_scheduler_utilisation"), std::string::npos);
  EXPECT_EQ(c.request(verb::post, "/healthz").result(), http::status::method_not_allowed);
}

TEST_F(RestTest, SymbolsAreListedCreatedIdempotentlyAndConflicting) {
  auto list = c.get("/api/v1/symbols");
  ASSERT_EQ(list.result(), http::status::ok);
  EXPECT_NE(
      list.body().find(
          R"({"symbol":"BTC-USD","mode":"venue","tick_size":"0.01","lot_size":"0.0001","state":"idle","last_price":null})"),
      std::string::npos)
      << list.body();
  auto made =
      c.request(verb::put, "/api/v1/symbols/ETH-USD", R"({"tick_size":"0.01","lot_size":"0.001"})");
  EXPECT_EQ(made.result(), http::status::created) << made.body();
  EXPECT_NE(made.body().find(R"("mode":"venue")"), std::string::npos);
  auto again = c.request(verb::put, "/api/v1/symbols/ETH-USD",
                         R"({"tick_size":"0.010","lot_size":"0.001","mode":"venue"})");
  EXPECT_EQ(again.result(), http::status::ok);
  auto other =
      c.request(verb::put, "/api/v1/symbols/ETH-USD", R"({"tick_size":"0.1","lot_size":"0.001"})");
  EXPECT_EQ(other.result(), http::status::conflict);
  EXPECT_EQ(error_code_of(other), "conflict");
  EXPECT_EQ(error_code_of(
                c.request(verb::put, "/api/v1/symbols/eth", R"({"tick_size":"1","lot_size":"1"})")),
            "invalid_symbol");
  EXPECT_EQ(error_code_of(
                c.request(verb::put, "/api/v1/symbols/X", R"({"tick_size":0.1,"lot_size":"1"})")),
            "invalid_price");
  EXPECT_EQ(error_code_of(c.request(verb::put, "/api/v1/symbols/X",
                                    R"({"tick_size":"0.1","lot_size":"-1"})")),
            "invalid_quantity");
  EXPECT_EQ(error_code_of(c.request(verb::put, "/api/v1/symbols/X",
                                    R"({"tick_size":"0.1","lot_size":"1","mode":"x"})")),
            "bad_request");
  EXPECT_EQ(error_code_of(c.request(verb::put, "/api/v1/symbols/X", "{nope")), "invalid_json");
}

TEST_F(RestTest, DeletingASymbolRemovesItsServersOrdersAndSeries) {
  auto placed = c.request(verb::post, "/api/v1/symbols/BTC-USD/orders",
                          R"({"side":"buy","price":"100","qty":"1"})");
  ASSERT_EQ(placed.result(), http::status::created) << placed.body();
  ASSERT_NE(c.get("/metrics").body().find(R"(symbol="BTC-USD")"), std::string::npos);

  auto gone = c.request(verb::delete_, "/api/v1/symbols/BTC-USD");
  ASSERT_EQ(gone.result(), http::status::ok) << gone.body();
  EXPECT_EQ(testing_support::check_shape(gone.body(), testing_support::rest::kSymbol), "");
  EXPECT_NE(gone.body().find(R"("symbol":"BTC-USD","mode":"venue")"), std::string::npos);
  EXPECT_NE(gone.body().find(R"("state":"live")"), std::string::npos) << gone.body();
  for (const char* path : {"/api/v1/symbols/BTC-USD", "/api/v1/symbols/BTC-USD/top",
                           "/api/v1/symbols/BTC-USD/ticker", "/api/v1/symbols/BTC-USD/depth"}) {
    EXPECT_EQ(error_code_of(c.get(path)), "unknown_symbol") << path;
  }
  EXPECT_EQ(c.get("/api/v1/symbols").body().find("BTC-USD"), std::string::npos);
  EXPECT_TRUE(eventually([&] {
    const std::string m = c.get("/metrics").body();
    return m.find(R"(symbol="BTC-USD")") == std::string::npos &&
           m.find("marketd_symbols 1") != std::string::npos;
  }));
  EXPECT_EQ(error_code_of(c.request(verb::delete_, "/api/v1/symbols/BTC-USD")), "unknown_symbol");
  EXPECT_EQ(error_code_of(c.request(verb::delete_, "/api/v1/symbols/btc")), "invalid_symbol");
  auto wrong = c.request(verb::post, "/api/v1/symbols/MIR");
  EXPECT_EQ(wrong[http::field::allow], "GET, PUT, DELETE");
  // The name is free again, for any spec.
  EXPECT_EQ(c.request(verb::put, "/api/v1/symbols/BTC-USD", R"({"tick_size":"1","lot_size":"1"})")
                .result(),
            http::status::created);
}

TEST_F(RestTest, ReadyzIsAJsonReasonWhenTheTreeCannotServe) {
  EXPECT_EQ(c.get("/readyz").body(), R"({"status":"ready"})");
  // Kill the symbol partitions beyond the root's restart intensity: it gives up.
  for (int kill = 0; kill < 4 && app->root().alive(); ++kill) {
    std::optional<rt::Pid> pid;
    ASSERT_TRUE(eventually([&] {
      for (const rt::ChildInfo& child : rt::which_children(app->root())) {
        if (child.id == "symbols" && child.pid && child.pid.alive()) pid = child.pid;
      }
      return pid.has_value() || !app->root().alive();
    }));
    if (!pid) break;
    rt::exit(*pid, rt::ExitReason::kill());
    ASSERT_TRUE(eventually([&] { return !pid->alive(); }));
  }
  ASSERT_TRUE(eventually([&] { return !app->root().alive(); }));
  auto r = c.get("/readyz");
  EXPECT_EQ(r.result(), http::status::service_unavailable);
  EXPECT_EQ(error_code_of(r), "overloaded");
  EXPECT_NE(r.body().find(R"("message":"not ready: the root supervisor stopped)"),
            std::string::npos)
      << r.body();
  EXPECT_EQ(c.get("/healthz").result(), http::status::ok);  // the process still serves
}

TEST_F(RestTest, TickerTopAndDepthBeforeAndAfterTrading) {
  auto t = c.get("/api/v1/symbols/BTC-USD/ticker");
  ASSERT_EQ(t.result(), http::status::ok);
  EXPECT_NE(t.body().find(R"("last_price":null)"), std::string::npos) << t.body();
  EXPECT_NE(t.body().find(R"("tick_count":0,"volume":"0.0000")"), std::string::npos) << t.body();
  EXPECT_NE(t.body().find(R"("ts":null,"ts_ns":null)"), std::string::npos);
  EXPECT_EQ(error_code_of(c.get("/api/v1/symbols/NOPE/ticker")), "unknown_symbol");
  EXPECT_EQ(c.get("/api/v1/symbols/NOPE/top").result(), http::status::not_found);

  auto order = [&](std::string body) {
    return c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", std::move(body));
  };
  EXPECT_EQ(order(R"({"side":"buy","qty":"1","price":"99.99"})").result(), http::status::created);
  EXPECT_EQ(order(R"({"side":"sell","qty":"2","price":"100.01"})").result(), http::status::created);
  auto top = c.get("/api/v1/symbols/BTC-USD/top");
  ASSERT_EQ(top.result(), http::status::ok);
  EXPECT_NE(
      top.body().find(
          R"("seq":2,"bid":{"price":"99.99","qty":"1.0000","orders":1},"ask":{"price":"100.01","qty":"2.0000","orders":1},"spread":"0.02","mid":"100.000")"),
      std::string::npos)
      << top.body();
  auto depth = c.get("/api/v1/symbols/BTC-USD/depth?levels=5");
  EXPECT_EQ(
      depth.body(),
      R"({"symbol":"BTC-USD","seq":2,"bids":[["99.99","1.0000"]],"asks":[["100.01","2.0000"]]})");
  for (const char* bad : {"0", "1001", "abc", "", "5x"}) {
    auto r = c.get(std::string("/api/v1/symbols/BTC-USD/depth?levels=") + bad);
    EXPECT_EQ(r.result(), http::status::bad_request) << bad;
    EXPECT_EQ(error_code_of(r), "bad_request");
  }
  // A crossing order trades at the resting price and becomes a tick.
  auto cross = order(R"({"side":"buy","qty":"0.5","type":"market"})");
  ASSERT_EQ(cross.result(), http::status::created) << cross.body();
  EXPECT_NE(cross.body().find(R"("status":"filled")"), std::string::npos) << cross.body();
  EXPECT_NE(cross.body().find(R"("price":"100.01","qty":"0.5000","maker_order_id":"2")"),
            std::string::npos)
      << cross.body();
  ASSERT_TRUE(eventually([&] {
    return c.get("/api/v1/symbols/BTC-USD/ticker").body().find(R"("tick_count":1)") !=
           std::string::npos;
  }));
  EXPECT_NE(c.get("/api/v1/symbols/BTC-USD/ticker")
                .body()
                .find(R"("last_price":"100.01","last_size":"0.5000","last_side":"buy")"),
            std::string::npos);
}

TEST_F(RestTest, OrdersArePlacedLookedUpCancelledAndValidated) {
  const std::string orders = "/api/v1/symbols/BTC-USD/orders";
  auto placed =
      c.request(verb::post, orders,
                R"({"side":"sell","qty":"1.5","price":"101","client_order_id":"my \"id\""})");
  ASSERT_EQ(placed.result(), http::status::created) << placed.body();
  EXPECT_NE(
      placed.body().find(
          R"("order_id":"1","client_order_id":"my \"id\"","symbol":"BTC-USD","side":"sell","type":"limit","tif":"gtc","price":"101.00","qty":"1.5000","status":"resting","filled_qty":"0.0000","remaining_qty":"1.5000","trades":[])"),
      std::string::npos)
      << placed.body();
  EXPECT_EQ(c.get(orders + "/1").result(), http::status::ok);
  auto cancelled = c.request(verb::delete_, orders + "/1");
  EXPECT_EQ(cancelled.result(), http::status::ok);
  EXPECT_NE(cancelled.body().find(R"("status":"cancelled")"), std::string::npos);
  EXPECT_EQ(error_code_of(c.request(verb::delete_, orders + "/1")), "unknown_order");
  EXPECT_EQ(c.get(orders + "/1").result(), http::status::not_found);

  auto code = [&](const std::string& body) {
    return error_code_of(c.request(verb::post, orders, body));
  };
  EXPECT_EQ(code(R"({"side":"up","qty":"1","price":"1"})"), "bad_request");
  EXPECT_EQ(code(R"({"qty":"1","price":"1"})"), "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","qty":1,"price":"1"})"), "invalid_quantity");
  EXPECT_EQ(code(R"({"side":"buy","price":"1"})"), "invalid_quantity");
  EXPECT_EQ(code(R"({"side":"buy","qty":"0","price":"1"})"), "invalid_quantity");
  EXPECT_EQ(code(R"({"side":"buy","qty":"0.00001","price":"1"})"), "invalid_quantity");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1"})"), "invalid_price");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":1.5})"), "invalid_price");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1.001"})"), "invalid_price");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"-1"})"), "invalid_price");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","type":"market","price":"1"})"), "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","type":"market","tif":"gtc"})"), "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1","tif":"day"})"), "bad_request");
  EXPECT_EQ(code(R"({"side":"buy","qty":"1","price":"1","type":"stop"})"), "bad_request");
  EXPECT_EQ(code("[1,2]"), "invalid_json");
  EXPECT_EQ(code(R"({"side":"buy"} trailing)"), "invalid_json");
  auto mirror = c.request(verb::post, "/api/v1/symbols/MIR/orders",
                          R"({"side":"buy","qty":"1","price":"1"})");
  EXPECT_EQ(mirror.result(), http::status::conflict);
  EXPECT_EQ(error_code_of(mirror), "mode_mismatch");
  // Nothing of the above reached the book.
  EXPECT_NE(c.get("/api/v1/symbols/BTC-USD/top").body().find(R"("bid":null,"ask":null)"),
            std::string::npos);
}

TEST_F(RestTest, IngestReportsAcceptedRejectedAndLineErrors) {
  auto r = c.request(
      verb::post, "/api/v1/ingest",
      R"({"type":"add","symbol":"NEW","order_id":"A1","side":"sell","price":"10","qty":"1"})"
      "\n\n"
      R"({"type":"cancel","symbol":"NEW","order_id":"B9"})"
      "\n"
      "garbage\n");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_NE(
      r.body().find(R"({"accepted":1,"rejected":2,"errors":[{"line":3,"code":"unknown_order")"),
      std::string::npos)
      << r.body();
  EXPECT_NE(r.body().find(R"({"line":4,"code":"invalid_json")"), std::string::npos);
  EXPECT_EQ(c.get("/api/v1/symbols/NEW/top").result(), http::status::ok);
}

// Finding 5: an ingested add with order_id "14" hid API order 14 behind
// /orders/14, and a DELETE on a mirror removed the venue's order.
TEST_F(RestTest, OrderIdsAddressApiOrdersOnlyAndMirrorsRefuseDelete) {
  const std::string btc = "/api/v1/symbols/BTC-USD";
  auto placed = c.request(verb::post, btc + "/orders", R"({"side":"buy","qty":"1","price":"1"})");
  ASSERT_EQ(placed.result(), http::status::created) << placed.body();
  EXPECT_NE(placed.body().find(R"("order_id":"1")"), std::string::npos) << placed.body();
  auto ing = c.request(
      verb::post, "/api/v1/ingest",
      R"({"type":"add","symbol":"BTC-USD","order_id":"1","side":"sell","price":"5","qty":"1"})"
      "\n"
      R"({"type":"add","symbol":"BTC-USD","order_id":"14","side":"sell","price":"6","qty":"1"})"
      "\n"
      R"({"type":"add","symbol":"MIR","order_id":"7","side":"sell","price":"6","qty":"1"})"
      "\n");
  EXPECT_NE(ing.body().find(R"("accepted":3)"), std::string::npos) << ing.body();
  EXPECT_EQ(c.get(btc + "/orders/14").result(), http::status::not_found);
  EXPECT_EQ(c.request(verb::delete_, btc + "/orders/14").result(), http::status::not_found);
  auto mine = c.get(btc + "/orders/1");  // the API order, not the upstream "1"
  ASSERT_EQ(mine.result(), http::status::ok) << mine.body();
  EXPECT_NE(mine.body().find(R"("side":"buy")"), std::string::npos) << mine.body();
  for (const char* id : {"7", "1", "999"}) {
    auto del = c.request(verb::delete_, std::string("/api/v1/symbols/MIR/orders/") + id);
    EXPECT_EQ(del.result(), http::status::conflict) << id;
    EXPECT_NE(del.body().find(R"("code":"mode_mismatch")"), std::string::npos) << del.body();
  }
  EXPECT_NE(c.get("/api/v1/symbols/MIR/depth").body().find(R"("asks":[["6.00","1"]])"),
            std::string::npos);
  EXPECT_NE(c.get(btc + "/depth").body().find(R"("asks":[["5.00","1.0000"],["6.00","1.0000"]])"),
            std::string::npos);
}

// Finding 10: level totals beyond 64 bits are exact in depth; the volume of
// two maximum ticks saturates instead of turning negative.
TEST_F(RestTest, LevelTotalsAndVolumeNeverWrap) {
  std::string lines;
  for (const char* id : {"A", "B", "C"}) {
    lines += std::string(R"({"type":"add","symbol":"BIG","order_id":")") + id +
             R"(","side":"buy","price":"1","qty":"92233720368.54775807"})" + "\n";
  }
  lines +=
      R"({"type":"add","symbol":"BIG","order_id":"D","side":"buy","price":"1","qty":"92233720368.54775808"})"
      "\n";
  for (int i = 0; i < 2; ++i) {
    lines +=
        R"({"type":"tick","symbol":"BIG","price":"1","size":"92233720368.54775807","side":"buy"})"
        "\n";
  }
  auto ing = c.request(verb::post, "/api/v1/ingest", lines);
  EXPECT_NE(ing.body().find(
                R"({"accepted":5,"rejected":1,"errors":[{"line":4,"code":"invalid_quantity")"),
            std::string::npos)
      << ing.body();
  auto depth = c.get("/api/v1/symbols/BIG/depth");
  EXPECT_NE(depth.body().find(R"("bids":[["1.00000000","276701161105.64327421"]])"),
            std::string::npos)
      << depth.body();
  ASSERT_TRUE(eventually([&] {
    return c.get("/api/v1/symbols/BIG/ticker").body().find(R"("tick_count":2)") !=
           std::string::npos;
  }));
  EXPECT_NE(c.get("/api/v1/symbols/BIG/ticker").body().find(R"("volume":"92233720368.54775807")"),
            std::string::npos);
}

// Finding 11: a stale upstream seq was reported accepted.
TEST_F(RestTest, IngestRejectsAStaleTickSeq) {
  auto tick = [](const char* seq) {
    return std::string(
               R"({"type":"tick","symbol":"SQ","price":"1","size":"1","side":"buy","seq":)") +
           seq + "}\n";
  };
  auto r = c.request(verb::post, "/api/v1/ingest",
                     tick("9223372036854775807") + tick("5") + tick("9223372036854775807"));
  EXPECT_NE(r.body().find(R"({"accepted":1,"rejected":2,"errors":[{"line":2,"code":"stale_seq")"),
            std::string::npos)
      << r.body();
  EXPECT_NE(c.get("/metrics").body().find(R"(marketd_ingest_rejects_total{reason="stale_seq"} 2)"),
            std::string::npos);
}

// Every REST body API.md lists, produced by the real server, read by a strict parser
// and checked field by field (names, no extras, types).
TEST_F(RestTest, EveryBodyIsStrictJsonOfItsDocumentedShape) {
  namespace rest = testing_support::rest;
  auto shape_of = [&](const Response& r, const testing_support::Shape& s) {
    return testing_support::check_shape(r.body(), s);
  };
  const std::string btc = "/api/v1/symbols/BTC-USD";
  EXPECT_EQ(shape_of(c.get("/healthz"), rest::kStatus), "");
  EXPECT_EQ(shape_of(c.get("/readyz"), rest::kStatus), "");
  // Before any trade: the nulls.
  EXPECT_EQ(shape_of(c.get(btc + "/ticker"), rest::kTicker), "");
  EXPECT_EQ(shape_of(c.get(btc + "/top"), rest::kTop), "");
  EXPECT_EQ(shape_of(c.get(btc + "/depth"), rest::kDepth), "");
  EXPECT_EQ(shape_of(c.get("/api/v1/symbols"), rest::kSymbols), "");
  auto put =
      c.request(verb::put, "/api/v1/symbols/NEWSYM", R"({"tick_size":"0.5","lot_size":"1"})");
  EXPECT_EQ(put.result(), http::status::created);
  EXPECT_EQ(shape_of(put, rest::kSymbol), "");
  // Orders, with a client id that needs escaping, then a trade.
  auto resting = c.request(verb::post, btc + "/orders",
                           R"({"side":"sell","qty":"1","price":"101","client_order_id":"a\"b\n"})");
  ASSERT_EQ(resting.result(), http::status::created) << resting.body();
  EXPECT_EQ(shape_of(resting, rest::kOrder), "");
  auto filled =
      c.request(verb::post, btc + "/orders", R"({"side":"buy","qty":"0.5","type":"market"})");
  ASSERT_EQ(filled.result(), http::status::created) << filled.body();
  EXPECT_EQ(shape_of(filled, rest::kOrder), "");
  EXPECT_NE(filled.body().find(R"("trades":[{"trade_id")"), std::string::npos) << filled.body();
  c.request(verb::post, btc + "/orders", R"({"side":"buy","qty":"1","price":"100"})");
  EXPECT_EQ(shape_of(c.get(btc + "/orders/1"), rest::kOrder), "");
  EXPECT_EQ(shape_of(c.request(verb::delete_, btc + "/orders/1"), rest::kOrder), "");
  // After trading: the values.
  auto ticker = c.get(btc + "/ticker");
  EXPECT_EQ(shape_of(ticker, rest::kTicker), "");
  EXPECT_NE(ticker.body().find(R"("last_price":"101.00")"), std::string::npos) << ticker.body();
  auto top = c.get(btc + "/top");
  EXPECT_EQ(shape_of(top, rest::kTop), "");
  EXPECT_NE(top.body().find(R"("bid":{"price":"100.00")"), std::string::npos) << top.body();
  EXPECT_EQ(shape_of(c.get(btc + "/depth?levels=5"), rest::kDepth), "");
  EXPECT_EQ(shape_of(c.get("/api/v1/symbols"), rest::kSymbols), "");
  auto ingest = c.request(verb::post, "/api/v1/ingest",
                          "{\"type\":\"tick\",\"symbol\":\"IN\",\"price\":\"1\",\"size\":\"1\","
                          "\"side\":\"buy\"}\n{\"type\":\"x\\\"y\"}\n\x01\n");
  EXPECT_EQ(shape_of(ingest, rest::kIngest), "") << ingest.body();
  // Error bodies (the fixture checks every one; here one of each family).
  for (const auto& r :
       {c.get("/nope"), c.get(btc + "/depth?levels=0"),
        c.request(verb::post, btc + "/orders", "{nope"), c.request(verb::post, "/healthz")}) {
    EXPECT_EQ(shape_of(r, rest::kError), "") << r.body();
  }
}

TEST_F(RestTest, UnknownRoutesWrongMethodsAndOversizedBodies) {
  EXPECT_EQ(error_code_of(c.get("/nope")), "not_found");
  EXPECT_EQ(error_code_of(c.get("/api/v1/nope")), "not_found");
  auto wrong = c.request(verb::delete_, "/api/v1/symbols");
  EXPECT_EQ(wrong.result(), http::status::method_not_allowed);
  EXPECT_EQ(wrong[http::field::allow], "GET");
  EXPECT_EQ(error_code_of(c.get("/api/v1/symbols/bad%20sym/top")), "invalid_symbol");
  // The server refuses on the declared length and closes, so send only the
  // header: writing the 2 MiB body after that would race the close (EPIPE).
  Client big = client();
  boost::asio::write(big.stream().socket(),
                     boost::asio::buffer(std::string("POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\n"
                                                     "Content-Length: 2097152\r\n\r\n")));
  boost::beast::flat_buffer buffer;
  Response r;
  http::read(big.stream(), buffer, r);
  EXPECT_EQ(r.result(), http::status::payload_too_large);
  EXPECT_EQ(error_code_of(r), "payload_too_large");
}

// A fresh server, before any request or event: every family API.md names is there
// with at least one series (a dashboard or an alert sees 0, not nothing), and
// promtool finds nothing wrong with the exposition.
TEST_F(RestTest, AFreshScrapeHasEveryDocumentedFamilyAndPassesPromtool) {
  const std::string body = c.get("/metrics").body();
  // One series of `family`: a sample line named `family` (or `family_bucket` for a histogram).
  auto has_series = [&](const std::string& family) {
    for (const std::string& name : {family + "{", family + " ", family + "_bucket{"}) {
      for (std::size_t at = body.find(name); at != std::string::npos;
           at = body.find(name, at + 1)) {
        if (at == 0 || body[at - 1] == '\n') return true;
      }
    }
    return false;
  };
  for (const char* family : {"marketd_ticks_ingested_total",
                             "marketd_ingest_rejects_total",
                             "marketd_orders_total",
                             "marketd_cancels_total",
                             "marketd_trades_total",
                             "marketd_feed_stale",
                             "marketd_last_update_timestamp_seconds",
                             "marketd_book_levels",
                             "marketd_book_resting_orders",
                             "marketd_http_requests_total",
                             "marketd_http_request_duration_seconds",
                             "marketd_ws_connections",
                             "marketd_ws_messages_sent_total",
                             "marketd_ws_messages_conflated_total",
                             "marketd_ws_slow_client_disconnects_total",
                             "marketd_rate_limited_requests_total",
                             "marketd_processes",
                             "marketd_process_restarts_total",
                             "marketd_mailbox_depth_high_water",
                             "marketd_call_timeouts_total"}) {
    EXPECT_TRUE(has_series(family)) << family << " has no series on a fresh scrape";
  }
  EXPECT_NE(body.find(R"(marketd_process_restarts_total{kind="order_book_server"} 0)"),
            std::string::npos);
  EXPECT_NE(body.find(R"(marketd_ingest_rejects_total{reason="mode_mismatch"} 0)"),
            std::string::npos);

  char path[] = "/tmp/marketd-metrics-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
  close(fd);
  const std::string command = std::string("promtool check metrics < ") + path + " 2>&1";
  std::string report;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char chunk[512];
  while (std::size_t n = fread(chunk, 1, sizeof chunk, pipe)) report.append(chunk, n);
  const int status = pclose(pipe);
  std::remove(path);
  EXPECT_EQ(status, 0) << report;
  EXPECT_EQ(report, "");
}

TEST_F(RestTest, AnOrderRepeatedWithItsClientOrderIdIs200AndPlacedOnce) {
  const std::string order = R"({"side":"buy","qty":"1","price":"90","client_order_id":"retry-1"})";
  auto first = c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order);
  ASSERT_EQ(first.result(), http::status::created) << first.body();
  auto again = c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order);
  ASSERT_EQ(again.result(), http::status::ok) << again.body();
  EXPECT_EQ(again.body(), first.body());
  auto other = c.request(verb::post, "/api/v1/symbols/BTC-USD/orders",
                         R"({"side":"buy","qty":"2","price":"90","client_order_id":"retry-1"})");
  EXPECT_EQ(other.result(), http::status::conflict);
  EXPECT_EQ(error_code_of(other), "duplicate_order");
  auto depth = c.get("/api/v1/symbols/BTC-USD/depth");
  EXPECT_NE(depth.body().find(R"(["90.00","1.0000"])"), std::string::npos) << depth.body();
}

class RestLimitsTest : public ApiTest {
 protected:
  RestLimitsTest() : ApiTest(config()) {}
  static services::ApplicationConfig config() {
    services::ApplicationConfig cfg;
    cfg.rate_limit.limit = 0;
    cfg.symbols = {{"BTC-USD", *services::SymbolSpec::parse("0.01", "0.0001")}};
    cfg.limits = {.max_symbols = 2, .max_orders_per_book = 10, .max_orders_per_owner = 1};
    return cfg;
  }
};

TEST_F(RestLimitsTest, PastALimitIs403LimitExceededAndChangesNothing) {
  Client c = client();
  const std::string spec = R"({"tick_size":"0.01","lot_size":"0.0001"})";
  EXPECT_EQ(c.request(verb::put, "/api/v1/symbols/ETH-USD", spec).result(), http::status::created);
  auto over = c.request(verb::put, "/api/v1/symbols/SOL-USD", spec);
  EXPECT_EQ(over.result(), http::status::forbidden);
  EXPECT_EQ(error_code_of(over), "limit_exceeded");
  EXPECT_EQ(c.get("/api/v1/symbols/SOL-USD/top").result(), http::status::not_found);

  const std::string order = R"({"side":"buy","qty":"1","price":"100"})";
  EXPECT_EQ(c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order).result(),
            http::status::created);
  auto second = c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order);
  EXPECT_EQ(second.result(), http::status::forbidden);  // one resting order per key
  EXPECT_EQ(error_code_of(second), "limit_exceeded");
  auto depth = c.get("/api/v1/symbols/BTC-USD/depth");
  EXPECT_NE(depth.body().find(R"("bids":[["100.00","1.0000"]])"), std::string::npos)
      << depth.body();
}

class RateLimitTest : public ApiTest {
 protected:
  RateLimitTest() : ApiTest(config()) {}
  static services::ApplicationConfig config() {
    services::ApplicationConfig cfg;
    cfg.rate_limit.limit = 3;
    cfg.rate_limit.window = std::chrono::seconds(30);
    return cfg;
  }
};

TEST_F(RateLimitTest, OverTheLimitIs429WithRetryAfterAndServiceEndpointsDoNotCount) {
  Client c = client();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.get("/healthz").result(), http::status::ok);
  for (int i = 2; i >= 0; --i) {
    auto r = c.get("/api/v1/symbols");
    ASSERT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r["X-RateLimit-Limit"], "3");
    EXPECT_EQ(r["X-RateLimit-Remaining"], std::to_string(i));
  }
  auto limited = c.get("/api/v1/symbols");
  EXPECT_EQ(limited.result(), http::status::too_many_requests);
  EXPECT_EQ(error_code_of(limited), "rate_limited");
  EXPECT_EQ(limited["X-RateLimit-Remaining"], "0");
  EXPECT_GE(std::stoi(std::string(limited[http::field::retry_after])), 1);
  // Finding 8: with no keys configured the budget is the address's, whatever
  // X-Api-Key says (a fresh key per request bought a fresh budget).
  for (const char* key : {"k2", "k3"}) {
    auto other = c.request(verb::get, "/api/v1/symbols", {}, {{"X-Api-Key", key}});
    EXPECT_EQ(other.result(), http::status::too_many_requests) << key;
  }
}

class SlowClientTest : public ApiTest {
 protected:
  SlowClientTest() : ApiTest({}, ServerConfig{.read_timeout = std::chrono::milliseconds(200)}) {}
};

TEST_F(SlowClientTest, AClientThatNeverFinishesItsHeadersIsCutOff) {
  Client c = client();
  boost::asio::write(c.stream().socket(),
                     boost::asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));
  char byte = 0;
  boost::system::error_code ec;
  c.stream().socket().read_some(boost::asio::buffer(&byte, 1),
                                ec);  // returns when the server closes
  EXPECT_EQ(ec, boost::asio::error::eof);
  EXPECT_TRUE(eventually([&] { return server->connections() == 0; }));
}

TEST_F(RestTest, RecentTradesCandlesAndTheTime) {
  auto order = [&](std::string body) {
    return c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", std::move(body));
  };
  const std::string btc = "/api/v1/symbols/BTC-USD";
  EXPECT_EQ(c.get(btc + "/trades").body(), R"({"symbol":"BTC-USD","trades":[]})");
  EXPECT_EQ(c.get(btc + "/candles?interval=1m").body(),
            R"({"symbol":"BTC-USD","interval":"1m","candles":[]})");
  ASSERT_EQ(order(R"({"side":"sell","qty":"3","price":"100.00"})").result(), http::status::created);
  ASSERT_EQ(order(R"({"side":"buy","qty":"1","price":"100.00"})").result(), http::status::created);
  ASSERT_EQ(order(R"({"side":"buy","qty":"2","price":"100.00"})").result(), http::status::created);

  // Newest first, with the trade stream's seq.
  auto trades = c.get(btc + "/trades?limit=2");
  ASSERT_EQ(trades.result(), http::status::ok);
  EXPECT_NE(
      trades.body().find(
          R"({"symbol":"BTC-USD","trades":[{"seq":2,"price":"100.00","size":"2.0000","side":"buy","ts":")"),
      std::string::npos)
      << trades.body();
  EXPECT_NE(trades.body().find(R"({"seq":1,"price":"100.00","size":"1.0000","side":"buy")"),
            std::string::npos)
      << trades.body();

  // Both trades in the current minute: open, close, volume, VWAP with 4 more decimals.
  auto candles = c.get(btc + "/candles?interval=1m&limit=5");
  ASSERT_EQ(candles.result(), http::status::ok) << candles.body();
  EXPECT_NE(
      candles.body().find(
          R"("open":"100.00","high":"100.00","low":"100.00","close":"100.00","volume":"3.0000","trades":2,"vwap":"100.000000","closed":false})"),
      std::string::npos)
      << candles.body();
  EXPECT_EQ(c.get(btc + "/candles?interval=1m&from=" +
                  std::to_string(services::wall_clock_ns() + 120'000'000'000))
                .body(),
            R"({"symbol":"BTC-USD","interval":"1m","candles":[]})");
  auto bad = c.get(btc + "/candles?interval=7m");
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_EQ(error_code_of(bad), "bad_request");
  EXPECT_EQ(c.get(btc + "/trades?limit=0").result(), http::status::bad_request);
  EXPECT_EQ(c.get("/api/v1/symbols/NOPE/trades").result(), http::status::not_found);

  const std::int64_t before = services::wall_clock_ns();
  auto t = c.get("/api/v1/time");
  ASSERT_EQ(t.result(), http::status::ok);
  const auto ns_at = t.body().find(R"("ts_ns":)");
  ASSERT_NE(ns_at, std::string::npos) << t.body();
  const std::int64_t ns = std::stoll(t.body().substr(ns_at + 8));
  EXPECT_GE(ns, before);
  EXPECT_LE(ns, services::wall_clock_ns());
  EXPECT_EQ(c.request(verb::post, "/api/v1/time", "").result(), http::status::method_not_allowed);
}

// ---- GET .../depth?at=T: the past, from the journal ----

struct DataDir {
  storage_test::TempDir dir;
};

class PastDepthTest : private DataDir, public ApiTest {
 protected:
  PastDepthTest() : ApiTest(config(dir.path())) {}
  static services::ApplicationConfig config(const std::filesystem::path& data_dir) {
    services::ApplicationConfig cfg;
    cfg.rate_limit.limit = 0;
    cfg.symbols = {{"BTC-USD", *services::SymbolSpec::parse("0.01", "0.0001")}};
    services::JournalConfig j;
    j.data_dir = data_dir;
    j.writer.window = std::chrono::milliseconds(1);
    cfg.journal = j;
    return cfg;
  }
  Response order(std::string body) {
    return c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", std::move(body));
  }
  /// Now, once the clock has moved past every record so far.
  static std::int64_t moment() {
    const std::int64_t t = services::wall_clock_ns();
    while (services::wall_clock_ns() <= t) {
    }
    return t;
  }
  Client c = client();
};

/// `ns` as RFC 3339 with nanoseconds and the given offset (a `+` percent-encoded).
std::string rfc3339(std::int64_t ns, std::string_view offset = "Z") {
  const auto tp = std::chrono::sys_time<std::chrono::nanoseconds>(std::chrono::nanoseconds(ns));
  const auto secs = std::chrono::floor<std::chrono::seconds>(tp);
  if (offset == "Z") return fmt::format("{:%FT%T}.{:09}Z", secs, (tp - secs).count());
  // +01:00: the same instant an hour later on the wall clock.
  return fmt::format("{:%FT%T}.{:09}%2B01:00", secs + std::chrono::hours(1), (tp - secs).count());
}

TEST_F(PastDepthTest, DepthAtATimeAnswersTheBookAsItWasInNsOrRfc3339) {
  const std::string depth = "/api/v1/symbols/BTC-USD/depth";
  const std::int64_t empty = moment();
  ASSERT_EQ(order(R"({"side":"buy","qty":"1","price":"99.99"})").result(), http::status::created);
  const std::int64_t one = moment();
  ASSERT_EQ(order(R"({"side":"sell","qty":"2","price":"100.01"})").result(), http::status::created);
  const std::string now_body = c.get(depth).body();

  const std::string at_one =
      R"({"symbol":"BTC-USD","seq":1,"bids":[["99.99","1.0000"]],"asks":[]})";
  for (const std::string& t : {std::to_string(one), rfc3339(one), rfc3339(one, "+01:00")}) {
    auto r = c.get(depth + "?at=" + t);
    EXPECT_EQ(r.result(), http::status::ok) << t << " " << r.body();
    EXPECT_EQ(r.body(), at_one) << t;
  }
  EXPECT_EQ(c.get(depth + "?levels=5&at=" + std::to_string(moment())).body(), now_body);

  auto before = c.get(depth + "?at=" + std::to_string(empty));
  EXPECT_EQ(before.result(), http::status::not_found) << before.body();
  EXPECT_EQ(error_code_of(before), "not_found");
  auto future = c.get(depth + "?at=" + std::to_string(moment() + 3'600'000'000'000));
  EXPECT_EQ(future.result(), http::status::not_found);
  for (const char* bad : {"", "x", "-5", "2026-13-01T00:00:00Z", "2026-12-07", "1e9",
                          "2026-12-07T10:00:00", "9999-01-01T00:00:00Z", "99999999999999999999"}) {
    auto r = c.get(depth + "?at=" + bad);
    EXPECT_EQ(r.result(), http::status::bad_request) << bad;
    EXPECT_EQ(error_code_of(r), "bad_request") << bad;
  }
}

TEST_F(PastDepthTest, CandlesOlderThanMemoryKeepsComeFromTheJournal) {
  constexpr std::int64_t kS = 1'000'000'000;
  constexpr std::int64_t t0 = 1'765'000'000 * kS;
  std::string body;
  for (int k = 0; k < 700; ++k) {  // 700 one-second candles: the 1s ring keeps 600
    body += fmt::format(
        R"({{"type":"tick","symbol":"ETH-USD","price":"10","size":"1","side":"buy","ts_ns":{}}})"
        "\n",
        t0 + k * kS);
  }
  auto ingested = c.request(verb::post, "/api/v1/ingest", body);
  ASSERT_EQ(ingested.result(), http::status::ok) << ingested.body();
  auto r =
      c.get("/api/v1/symbols/ETH-USD/candles?interval=1s&limit=1000&from=" + std::to_string(t0));
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  std::size_t n = 0;
  for (auto at = r.body().find("\"start_ns\""); at != std::string::npos;
       at = r.body().find("\"start_ns\"", at + 1)) {
    ++n;
  }
  EXPECT_EQ(n, 700u);
  EXPECT_NE(r.body().find(fmt::format(R"("start_ns":{},)", t0)), std::string::npos);
}

TEST_F(ApiTest, DepthAtATimeWithoutAJournalIsNotFound) {
  ASSERT_TRUE(app->ensure_symbol("BTC-USD", *services::SymbolSpec::parse("0.01", "0.0001")).ok());
  Client c = client();
  auto r = c.get("/api/v1/symbols/BTC-USD/depth?at=1");
  EXPECT_EQ(r.result(), http::status::not_found) << r.body();
  EXPECT_EQ(error_code_of(r), "not_found");
}

}  // namespace
}  // namespace api::test
