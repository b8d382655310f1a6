// Access control at the edge (API.md "Access, limits and safety"): keys and
// roles, the principal, the rate limit by principal, and the browser rules,
// unit by unit and through a real server.

#include "api/access.hpp"

#include <gtest/gtest.h>

#include <boost/beast/websocket/stream.hpp>

#include "tests/api/api_fixture.hpp"
#include "tests/support/eventually.hpp"

namespace api::test {
namespace {

namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using http::verb;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kKeys =
    "# marketd keys\n"
    "read-key-0123456789 read\n"
    "trade-key-0123456789   trade   # a desk\n"
    "\n"
    "admin-key-0123456789 admin\n";

AccessControl keys() {
  auto a = AccessControl::parse_keys(kKeys);
  if (!a) throw std::runtime_error(a.error());
  return std::move(*a);
}

Request request(verb method, std::string target, Headers headers = {}) {
  Request req{method, target, 11};
  req.set(http::field::host, "localhost");
  for (const auto& [k, v] : headers) req.set(k, v);
  return req;
}

const auto kLocal = boost::asio::ip::make_address("127.0.0.1");

// ---- units ----------------------------------------------------------------------

TEST(AccessKeys, AFileOfKeyRoleLinesIsReadAndEveryBadLineIsNamed) {
  AccessControl a = keys();
  EXPECT_TRUE(a.enabled());
  EXPECT_EQ(a.key_count(), 3u);
  struct Bad {
    std::string text, says;
  };
  for (const Bad& b :
       {Bad{"k1 read\nk2\n", "line 2: no role"}, Bad{"k1 owner\n", "line 1: unknown role"},
        Bad{"k1 read\nk1 admin\n", "line 2: the key is listed twice"},
        Bad{std::string(300, 'k') + " read\n", "longer than 256"},
        Bad{"# nothing\n\n", "no keys"}}) {
    auto r = AccessControl::parse_keys(b.text);
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_NE(r.error().find(b.says), std::string::npos) << r.error();
  }
  auto missing = AccessControl::load_keys_file("/nonexistent/keys.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/keys.txt"), std::string::npos);
}

TEST(AccessKeys, ThePrincipalNamesTheKeyWithoutShowingItAndElseTheAddress) {
  AccessControl a = keys();
  auto who =
      a.identify(request(verb::get, "/", {{"X-Api-Key", "trade-key-0123456789"}}), kLocal, false);
  EXPECT_EQ(who.failure, AuthFailure::none);
  EXPECT_EQ(who.role, Role::trade);
  EXPECT_EQ(who.principal, AccessControl::fingerprint("trade-key-0123456789"));
  EXPECT_EQ(who.principal.size(), 4u + 12u);
  EXPECT_EQ(who.principal.find("trade-key"), std::string::npos);
  // Bearer names the same principal; the fingerprint is stable.
  auto bearer = a.identify(
      request(verb::get, "/", {{"Authorization", "Bearer trade-key-0123456789"}}), kLocal, false);
  EXPECT_EQ(bearer.principal, who.principal);
  EXPECT_NE(AccessControl::fingerprint("admin-key-0123456789"), who.principal);
  // Unknown, missing, over-long, two different keys: the remote address.
  for (const Headers& h :
       {Headers{{"X-Api-Key", "nope"}}, Headers{}, Headers{{"X-Api-Key", std::string(300, 'k')}},
        Headers{{"X-Api-Key", "read-key-0123456789"},
                {"Authorization", "Bearer trade-key-0123456789"}},
        Headers{{"Authorization", "Basic cmVhZC1rZXk="}}}) {
    auto failed = a.identify(request(verb::get, "/", h), kLocal, false);
    EXPECT_NE(failed.failure, AuthFailure::none);
    EXPECT_EQ(failed.principal, "ip:127.0.0.1");
    EXPECT_FALSE(failed.may(Role::read));
  }
  // ?key= counts on a WebSocket upgrade only.
  auto ws = a.identify(request(verb::get, "/ws?key=read-key-0123456789"), kLocal, true);
  EXPECT_TRUE(ws.may(Role::read));
  EXPECT_FALSE(ws.may(Role::trade));
  EXPECT_FALSE(
      a.identify(request(verb::get, "/x?key=read-key-0123456789"), kLocal, false).may(Role::read));
  // No keys configured: every role, by address, whatever key is shown.
  auto open =
      AccessControl{}.identify(request(verb::get, "/", {{"X-Api-Key", "k"}}), kLocal, false);
  EXPECT_TRUE(open.may(Role::admin));
  EXPECT_EQ(open.principal, "ip:127.0.0.1");
}

TEST(AccessKeys, KeysNeverReachALogTarget) {
  EXPECT_EQ(redact_target("/ws?key=read-key-0123456789&x=1"), "/ws?key=***&x=1");
  EXPECT_EQ(redact_target("/ws?a=1&key=s"), "/ws?a=1&key=***");
  EXPECT_EQ(redact_target("/api/v1/symbols"), "/api/v1/symbols");
}

TEST(AccessQuery, AQueryValueIsPercentDecodedAndAPlusStaysAPlus) {
  EXPECT_EQ(query_value("/ws?key=a%2Bb%2Fc&x=1", "key"), "a+b/c");
  EXPECT_EQ(query_value("/ws?x=1&key=a+b", "key"), "a+b");
  EXPECT_EQ(query_value("/ws?key", "key"), "");
  EXPECT_EQ(query_value("/ws?x=1", "key"), std::nullopt);
  EXPECT_EQ(query_value("/ws", "key"), std::nullopt);
  EXPECT_EQ(query_value("/ws?k%65y=v", "key"), "v");
  // Not a valid target: the value as it stands, for its own parser to judge.
  EXPECT_EQ(query_value("/ws?key=a|b%zz", "key"), "a|b%zz");
}

TEST(AccessBrowser, ForeignOriginsMayReadButNotWriteAndHostMustNameThisMachine) {
  const BrowserRules rules{{"https://app.example"}, {"marketd.internal"}, "127.0.0.1"};
  auto refused = [&](verb m, Headers h, bool keys_on = false, bool ws = false) {
    return !browser_refusal(request(m, "/", std::move(h)), rules, keys_on, ws).empty();
  };
  EXPECT_FALSE(refused(verb::get, {{"Origin", "http://evil.example"}}));
  EXPECT_FALSE(refused(verb::head, {{"Origin", "http://evil.example"}}));
  EXPECT_TRUE(refused(verb::post, {{"Origin", "http://evil.example"}}));
  EXPECT_TRUE(refused(verb::options, {{"Origin", "http://evil.example"}}));
  EXPECT_TRUE(refused(verb::get, {{"Origin", "http://evil.example"}}, false, true));
  EXPECT_TRUE(refused(verb::post, {{"Origin", "null"}}));
  EXPECT_TRUE(refused(verb::post, {{"Origin", "https://localhost"}}));  // not same-origin
  EXPECT_FALSE(refused(verb::post, {{"Origin", "http://localhost"}}));
  EXPECT_FALSE(refused(verb::post, {{"Origin", "https://app.example"}}));
  EXPECT_TRUE(refused(verb::post, {{"Origin", "https://app.example:8443"}}));
  EXPECT_FALSE(refused(verb::post, {}));
  // Host, with no keys: this machine's names, any port.
  for (const char* host : {"localhost:8080", "127.0.0.1", "[::1]:80", "marketd.internal:1"}) {
    EXPECT_FALSE(refused(verb::get, {{"Host", host}})) << host;
  }
  EXPECT_TRUE(refused(verb::get, {{"Host", "evil.example"}}));
  EXPECT_TRUE(refused(verb::get, {{"Host", "127.0.0.1.evil.example"}}));
  EXPECT_FALSE(refused(verb::get, {{"Host", "evil.example"}}, true));  // keys on: no Host rule
}

TEST(AccessListen, NoKeysOnANonLoopbackAddressRefusesToStartUnlessInsecure) {
  EXPECT_TRUE(is_loopback_host("127.0.0.2"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.1.2.3"));
  boost::asio::io_context io;
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 1}}};
  services::ApplicationConfig cfg;
  cfg.partitions = 1;
  auto app = services::Application::start(runtime, std::move(cfg));
  ASSERT_TRUE(app.ok()) << app.error();
  auto refused = ApiServer::start(io, **app, ServerConfig{.host = "0.0.0.0", .port = 0});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("--insecure-no-auth"), std::string::npos) << refused.error();
  EXPECT_TRUE(
      ApiServer::start(io, **app, ServerConfig{.host = "0.0.0.0", .port = 0, .access = keys()})
          .ok());
  EXPECT_TRUE(ApiServer::start(io, **app,
                               ServerConfig{.host = "0.0.0.0", .port = 0, .insecure_no_auth = true})
                  .ok());
  (*app)->stop();
  runtime.kill_all(std::chrono::seconds(3));
}

TEST(ListenTest, APortInUseIsAClearErrorAndNothingElse) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 1}}};
  services::ApplicationConfig cfg;
  cfg.partitions = 1;
  auto app = services::Application::start(runtime, std::move(cfg));
  ASSERT_TRUE(app.ok()) << app.error();
  const auto port = taken.local_endpoint().port();
  auto refused = ApiServer::start(io, **app, ServerConfig{.host = "127.0.0.1", .port = port});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("bind 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << refused.error();
  EXPECT_NE(refused.error().find("in use"), std::string::npos) << refused.error();
  (*app)->stop();
  runtime.kill_all(std::chrono::seconds(3));
}

// ---- through the server ---------------------------------------------------------

class AuthTest : public ApiTest {
 protected:
  AuthTest() : ApiTest(config(), ServerConfig{.access = keys()}) {}
  static services::ApplicationConfig config() {
    services::ApplicationConfig cfg;
    cfg.rate_limit.limit = 0;
    cfg.symbols = {{"BTC-USD", *services::SymbolSpec::parse("0.01", "0.0001")}};
    return cfg;
  }
  static Headers key(const std::string& k) { return {{"X-Api-Key", k}}; }
  Client c = client();
};

TEST_F(AuthTest, NoKeyOrAnUnknownKeyIs401AndTheServiceEndpointsNeedNone) {
  for (const Headers& h : {Headers{}, key("nope"), key(std::string(1000, 'k'))}) {
    auto r = c.request(verb::get, "/api/v1/symbols", {}, h);
    EXPECT_EQ(r.result(), http::status::unauthorized);
    EXPECT_EQ(error_code_of(r), "unauthorized");
  }
  for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
    EXPECT_EQ(c.get(path).result(), http::status::ok) << path;
  }
}

TEST_F(AuthTest, EachRoleReachesItsRoutesAndAShortRoleIs403ChangingNothing) {
  const std::string order = R"({"side":"buy","qty":"1","price":"100"})";
  const std::string spec = R"({"tick_size":"0.01","lot_size":"0.01"})";
  const std::string tick =
      R"({"type":"tick","symbol":"BTC-USD","price":"100.00","size":"1.0000","side":"buy"})";
  const Headers read = key("read-key-0123456789");
  const Headers trade = {{"Authorization", "Bearer trade-key-0123456789"}};
  const Headers admin = key("admin-key-0123456789");
  EXPECT_EQ(c.request(verb::get, "/api/v1/symbols/BTC-USD/top", {}, read).result(),
            http::status::ok);
  auto denied = c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order, read);
  EXPECT_EQ(denied.result(), http::status::forbidden);
  EXPECT_EQ(error_code_of(denied), "forbidden");
  EXPECT_EQ(c.request(verb::put, "/api/v1/symbols/ETH-USD", spec, trade).result(),
            http::status::forbidden);
  EXPECT_EQ(c.request(verb::post, "/api/v1/ingest", tick, trade).result(), http::status::forbidden);
  EXPECT_EQ(c.request(verb::delete_, "/api/v1/symbols/BTC-USD/orders/1", {}, read).result(),
            http::status::forbidden);
  // Nothing of the refused requests happened.
  EXPECT_NE(
      c.request(verb::get, "/api/v1/symbols/BTC-USD/top", {}, read).body().find(R"("bid":null)"),
      std::string::npos);
  EXPECT_EQ(c.request(verb::get, "/api/v1/symbols/ETH-USD", {}, read).result(),
            http::status::not_found);
  // The roles that may.
  EXPECT_EQ(c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order, trade).result(),
            http::status::created);
  EXPECT_EQ(c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order, admin).result(),
            http::status::created);
  EXPECT_EQ(c.request(verb::put, "/api/v1/symbols/ETH-USD", spec, admin).result(),
            http::status::created);
  EXPECT_EQ(c.request(verb::post, "/api/v1/ingest", tick, admin).result(), http::status::ok);
}

TEST_F(AuthTest, AWebSocketNeedsAKeyInItsHeadersOrQuery) {
  auto handshake = [&](const std::string& target, const Headers& h) {
    boost::asio::io_context io2;
    websocket::stream<boost::beast::tcp_stream> ws{io2};
    boost::beast::get_lowest_layer(ws).connect(server->endpoint());
    ws.set_option(websocket::stream_base::decorator([h](websocket::request_type& req) {
      for (const auto& [k, v] : h) req.set(k, v);
    }));
    websocket::response_type res;
    boost::beast::error_code ec;
    ws.handshake(res, "localhost", target, ec);
    return res.result();
  };
  EXPECT_EQ(handshake("/ws", {}), http::status::unauthorized);
  EXPECT_EQ(handshake("/ws?key=nope", {}), http::status::unauthorized);
  EXPECT_EQ(handshake("/ws?key=read-key-0123456789", {}), http::status::switching_protocols);
  EXPECT_EQ(handshake("/ws", key("read-key-0123456789")), http::status::switching_protocols);
  EXPECT_EQ(handshake("/ws?key=read-key-0123456789", {{"Origin", "http://evil.example"}}),
            http::status::forbidden);
}

// Finding 8: rotating keys does not buy a fresh budget.
class AuthRateTest : public ApiTest {
 protected:
  AuthRateTest() : ApiTest(config(), ServerConfig{.access = keys()}) {}
  static services::ApplicationConfig config() {
    services::ApplicationConfig cfg;
    cfg.rate_limit.limit = 3;
    cfg.rate_limit.window = std::chrono::seconds(30);
    return cfg;
  }
};

TEST_F(AuthRateTest, UnknownKeysCountAgainstTheAddressAndAKeyHasItsOwnBudget) {
  Client c = client();
  for (int i = 0; i < 3; ++i) {
    auto r =
        c.request(verb::get, "/api/v1/symbols", {}, {{"X-Api-Key", "guess-" + std::to_string(i)}});
    EXPECT_EQ(r.result(), http::status::unauthorized);
    EXPECT_EQ(r["X-RateLimit-Remaining"], std::to_string(2 - i));
  }
  auto limited = c.request(verb::get, "/api/v1/symbols", {}, {{"X-Api-Key", "guess-99"}});
  EXPECT_EQ(limited.result(), http::status::too_many_requests);
  EXPECT_EQ(error_code_of(limited), "rate_limited");
  // The key's own budget, the same whichever header carries it.
  EXPECT_EQ(
      c.request(verb::get, "/api/v1/symbols", {}, {{"X-Api-Key", "read-key-0123456789"}}).result(),
      http::status::ok);
  auto second = c.request(verb::get, "/api/v1/symbols", {},
                          {{"Authorization", "Bearer read-key-0123456789"}});
  EXPECT_EQ(second.result(), http::status::ok);
  EXPECT_EQ(second["X-RateLimit-Remaining"], "1");
}

// API.md "Browsers", with no keys configured (the default).
class BrowserTest : public ApiTest {
 protected:
  BrowserTest() : ApiTest(config(), ServerConfig{.allow_origins = {"https://app.example"}}) {}
  static services::ApplicationConfig config() {
    services::ApplicationConfig cfg;
    cfg.rate_limit.limit = 0;
    cfg.symbols = {{"BTC-USD", *services::SymbolSpec::parse("0.01", "0.0001")}};
    return cfg;
  }
  Client c = client();
};

TEST_F(BrowserTest, AForeignOriginCannotWriteAndAForeignHostCannotReach) {
  const std::string order = R"({"side":"buy","qty":"1","price":"100"})";
  // Finding 6: a POST from another site placed an order.
  auto r = c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order,
                     {{"Origin", "http://evil.example"}});
  EXPECT_EQ(r.result(), http::status::forbidden);
  EXPECT_EQ(error_code_of(r), "forbidden");
  r = c.request(verb::post, "/api/v1/ingest",
                R"({"type":"tick","symbol":"NEW","price":"1","size":"1","side":"buy"})",
                {{"Origin", "null"}});
  EXPECT_EQ(r.result(), http::status::forbidden);
  EXPECT_EQ(c.get("/api/v1/symbols/NEW").result(), http::status::not_found);
  EXPECT_NE(c.get("/api/v1/symbols/BTC-USD/top").body().find(R"("bid":null)"), std::string::npos);
  // Reading from anywhere is fine; writing from this origin or an allowed one too.
  EXPECT_EQ(
      c.request(verb::get, "/api/v1/symbols", {}, {{"Origin", "http://evil.example"}}).result(),
      http::status::ok);
  EXPECT_EQ(c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order,
                      {{"Origin", "http://localhost"}})
                .result(),
            http::status::created);
  EXPECT_EQ(c.request(verb::post, "/api/v1/symbols/BTC-USD/orders", order,
                      {{"Origin", "https://app.example"}})
                .result(),
            http::status::created);
  // DNS rebinding: another name for this address reaches nothing, not even /healthz.
  for (const char* path : {"/healthz", "/api/v1/symbols"}) {
    auto rebound = c.request(verb::get, path, {}, {{"Host", "evil.example:8080"}});
    EXPECT_EQ(rebound.result(), http::status::forbidden) << path;
  }
  EXPECT_EQ(c.request(verb::get, "/healthz", {}, {{"Host", "127.0.0.1:1"}}).result(),
            http::status::ok);
}

}  // namespace
}  // namespace api::test
