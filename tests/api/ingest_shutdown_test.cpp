// POST /ingest cut short by a shutdown (ADR 020): 503 `overloaded` with the
// report of what was applied and the line from which nothing was.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <thread>

#include "services/symbol_directory.hpp"
#include "tests/api/api_fixture.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/wire_shapes.hpp"

namespace api::test {
namespace {

namespace http = boost::beast::http;
using testing_support::eventually;

class IngestShutdownApiTest : public ApiTest {
 protected:
  IngestShutdownApiTest() : ApiTest(config()) {}
  static services::ApplicationConfig config() {
    services::ApplicationConfig cfg;
    cfg.rate_limit.limit = 0;
    return cfg;
  }
};

/// n lines, each a tick for a new symbol CUT1..CUTn, padded to 1 KiB.
std::string padded_ticks(std::size_t n) {
  std::string body;
  for (std::size_t i = 1; i <= n; ++i) {
    std::string line = R"({"type":"tick","symbol":"CUT)" + std::to_string(i) +
                       R"(","price":"1","size":"1","side":"buy","pad":")";
    line.append(1024 - line.size() - 3, 'x');
    body += line + "\"}\n";
  }
  return body;
}

TEST_F(IngestShutdownApiTest, ABodyCutShortByShutdownIs503WithWhatWasAppliedAndFromWhichLine) {
  constexpr std::size_t kLines = 1000;
  const std::string body = padded_ticks(kLines);
  Response res;
  std::jthread poster([&] { res = client().request(http::verb::post, "/api/v1/ingest", body); });
  ASSERT_TRUE(
      eventually([&] { return services::find_book(*app->context(), "CUT40").has_value(); }));
  server->stop();  // as on SIGTERM: no new connections, then the tree
  app->stop();
  poster.join();

  ASSERT_EQ(res.result(), http::status::service_unavailable) << res.body();
  EXPECT_EQ(testing_support::check_shape(res.body(), testing_support::rest::kIngestCut), "")
      << res.body();
  EXPECT_EQ(error_code_of(res), "overloaded");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(res.body());
  simdjson::dom::array errors = doc["errors"].get_array();
  ASSERT_EQ(errors.size(), 1u) << res.body();
  simdjson::dom::element cut = errors.at(0);
  const std::uint64_t n = cut["line"].get_uint64();
  EXPECT_GT(n, 40u);
  EXPECT_LT(n, kLines);
  EXPECT_EQ(std::string_view(cut["code"].get_string()), "unavailable");
  const std::string message = "shutting down: lines " + std::to_string(n) + ".. were not applied";
  EXPECT_EQ(std::string_view(cut["message"].get_string()), message);
  EXPECT_EQ(doc["accepted"].get_uint64().value(), n - 1);  // lines 1..n-1, every one
  EXPECT_EQ(doc["rejected"].get_uint64().value(), 0u);
  EXPECT_EQ(std::string_view(doc["error"]["message"].get_string()), message);
}

}  // namespace
}  // namespace api::test
