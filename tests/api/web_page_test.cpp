// The built-in page (README "The page"): GET / and its assets, embedded in the
// binary from api/web/, through a real server on an ephemeral port.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/web_assets.hpp"
#include "tests/api/api_fixture.hpp"

namespace api::test {
namespace {

namespace http = boost::beast::http;
using http::verb;

/// A file of api/web/ as it is in the source tree (this file is tests/api/…).
std::string source_file(std::string_view name) {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "../../api/web" / name;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class WebPageTest : public ApiTest {
 protected:
  WebPageTest() : ApiTest(config()) {}
  static services::ApplicationConfig config() {
    services::ApplicationConfig cfg;
    cfg.symbols = {{"BTC-USD", *services::SymbolSpec::parse("0.01", "0.0001")}};
    return cfg;
  }
  Client c = client();
};

TEST_F(WebPageTest, TheRootIsThePageAndItsScriptAndStyleSheetAreServedBeside) {
  auto page = c.get("/");
  ASSERT_EQ(page.result(), http::status::ok);
  EXPECT_EQ(page[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(page[http::field::cache_control], "no-cache");
  EXPECT_NE(page["Content-Security-Policy"].find("script-src 'self'"), std::string::npos);
  EXPECT_NE(page.body().find("<!doctype html>"), std::string::npos);
  EXPECT_NE(page.body().find(R"(<canvas id="chart")"), std::string::npos);
  EXPECT_NE(page.body().find(R"(<script src="/app.js")"), std::string::npos);
  EXPECT_NE(page.body().find(R"(href="/style.css")"), std::string::npos);

  auto script = c.get("/app.js");
  ASSERT_EQ(script.result(), http::status::ok);
  EXPECT_EQ(script[http::field::content_type], "application/javascript; charset=utf-8");
  EXPECT_NE(script.body().find("window.marketdPage"), std::string::npos);
  auto style = c.get("/style.css");
  ASSERT_EQ(style.result(), http::status::ok);
  EXPECT_EQ(style[http::field::content_type], "text/css; charset=utf-8");
  EXPECT_EQ(style[http::field::cache_control], "no-cache");
}

TEST_F(WebPageTest, EveryAssetIsItsSourceFileByteForByte) {
  ASSERT_EQ(web_assets().size(), 3u);
  for (const WebAsset& asset : web_assets()) {
    const std::string name = asset.path == "/" ? "index.html" : std::string(asset.path.substr(1));
    EXPECT_EQ(asset.body, source_file(name)) << name;
    EXPECT_EQ(asset.content_type, content_type_for(name));
    auto res = c.get(std::string(asset.path));
    EXPECT_EQ(res.body(), asset.body) << asset.path;
    EXPECT_EQ(res[http::field::etag], asset.etag);
    EXPECT_EQ(asset.etag.size(), 22u) << asset.etag;  // 20 hex digits, quoted
  }
  EXPECT_EQ(find_web_asset("/app.js"), &web_assets()[1]);
  EXPECT_EQ(find_web_asset("/index.html"), nullptr);
}

TEST_F(WebPageTest, AClientHoldingThisVersionGets304AndHeadHasTheHeadersOnly) {
  const std::string etag(c.get("/app.js")[http::field::etag]);
  for (const std::string& held : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    auto again = c.request(verb::get, "/app.js", {}, {{"If-None-Match", held}});
    EXPECT_EQ(again.result(), http::status::not_modified) << held;
    EXPECT_EQ(again.body(), "");
    EXPECT_EQ(again[http::field::etag], etag);
    EXPECT_EQ(again.count(http::field::content_length), 0u);
  }
  EXPECT_EQ(c.request(verb::get, "/app.js", {}, {{"If-None-Match", "\"other\""}}).result(),
            http::status::ok);

  // HEAD: a reader must be told there is no body to read.
  Request head{verb::head, "/", 11};
  head.set(http::field::host, "localhost");
  http::write(c.stream(), head);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(true);
  http::read(c.stream(), buffer, parser);
  const Response& res = parser.get();
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(res[http::field::content_length], std::to_string(find_web_asset("/")->body.size()));
  EXPECT_EQ(res.body(), "");
  // ... and the connection goes on: no body bytes were sent after the header.
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(c.get("/healthz").body(), R"({"status":"ok"})");
}

TEST_F(WebPageTest, OtherMethodsAre405AndUnknownPathsStayTheJson404) {
  auto post = c.request(verb::post, "/", "{}");
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET, HEAD");
  EXPECT_EQ(error_code_of(post), "method_not_allowed");
  for (const char* path : {"/index.html", "/app.js.map", "/web/app.js", "/favicon.ico"}) {
    auto res = c.get(path);
    EXPECT_EQ(res.result(), http::status::not_found) << path;
    EXPECT_EQ(res[http::field::content_type], "application/json") << path;
    EXPECT_EQ(error_code_of(res), "not_found") << path;
  }
  // The query is not part of the path: /?symbol=X is the page.
  EXPECT_EQ(c.get("/?symbol=BTC-USD").result(), http::status::ok);
}

TEST_F(WebPageTest, EachAssetIsARouteLabelFromTheStart) {
  const std::string before = c.get("/metrics").body();
  for (const WebAsset& asset : web_assets()) {
    const std::string series =
        R"(marketd_http_requests_total{code="2xx",route=")" + std::string(asset.path) + R"("} 0)";
    EXPECT_NE(before.find(series), std::string::npos) << series;
  }
  c.get("/");
  EXPECT_NE(c.get("/metrics").body().find(R"(marketd_http_requests_total{code="2xx",route="/"} 1)"),
            std::string::npos);
}

// With keys the page still loads (it holds no data, only code); what it then
// asks of /api/v1 needs a key like any other client's request.
class WebPageWithKeysTest : public ApiTest {
 protected:
  WebPageWithKeysTest() : ApiTest({}, ServerConfig{.access = keys()}) {}
  static AccessControl keys() {
    auto a = AccessControl::parse_keys("reader-0123456789 read\n");
    if (!a) throw std::runtime_error(a.error());
    return std::move(*a);
  }
};

TEST_F(WebPageWithKeysTest, ThePageNeedsNoKeyButTheApiDoes) {
  Client c = client();
  EXPECT_EQ(c.get("/").result(), http::status::ok);
  EXPECT_EQ(c.get("/app.js").result(), http::status::ok);
  EXPECT_EQ(c.get("/api/v1/symbols").result(), http::status::unauthorized);
}

}  // namespace
}  // namespace api::test
