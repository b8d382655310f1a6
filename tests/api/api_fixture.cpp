#include "tests/api/api_fixture.hpp"

#include "tests/support/wire_shapes.hpp"

namespace api::test {

namespace http = boost::beast::http;

Client::Client(const boost::asio::ip::tcp::endpoint& server) {
  stream_.connect(server);
}

Response Client::request(http::verb method, const std::string& target, const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  Request req{method, target, 11};
  req.set(http::field::host, "localhost");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == http::verb::post || method == http::verb::put) {
    req.body() = body;
    req.set(http::field::content_type, "application/json");
  }
  req.prepare_payload();
  http::write(stream_, req);
  Response res;
  http::read(stream_, buffer_, res);
  // Whatever the test, a JSON body is strict JSON, and an error body has API.md's shape
  // (an ingest cut short by a shutdown also carries its report: ADR 020).
  if (res[http::field::content_type] == "application/json") {
    const bool ingest_cut = target == "/api/v1/ingest" && res.result_int() == 503 &&
                            res.body().find(R"("accepted":)") != std::string::npos;
    EXPECT_EQ(res.result_int() >= 400
                  ? testing_support::check_shape(res.body(), ingest_cut
                                                                 ? testing_support::rest::kIngestCut
                                                                 : testing_support::rest::kError)
                  : testing_support::check_json(res.body()),
              "")
        << target << ": " << res.body();
  }
  return res;
}

ApiTest::ApiTest(services::ApplicationConfig cfg, ServerConfig server_cfg) {
  if (cfg.partitions == 0) cfg.partitions = 2;
  auto started = services::Application::start(runtime, std::move(cfg));
  if (!started) throw std::runtime_error(started.error());
  app = std::move(*started);
  server_cfg.port = 0;
  auto s = ApiServer::start(io, *app, server_cfg);
  if (!s) throw std::runtime_error(s.error());
  server = std::move(*s);
  work_.emplace(io.get_executor());
  io_thread_ = std::thread([this] { io.run(); });
}

ApiTest::~ApiTest() {
  server->stop();
  app->stop();
  runtime.kill_all(std::chrono::seconds(3));
  work_.reset();
  io.stop();
  io_thread_.join();
}

std::string error_code_of(const Response& res) {
  const std::string& b = res.body();
  auto at = b.find(R"("code":")");
  if (at == std::string::npos) return {};
  at += 8;
  return b.substr(at, b.find('"', at) - at);
}

}  // namespace api::test
