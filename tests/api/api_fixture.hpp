#pragma once
// A running Application with the ApiServer on an ephemeral port, and a small
// synchronous Beast HTTP client, for the API integration tests.

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <string>
#include <thread>

#include "api/server.hpp"
#include "runtime/runtime.hpp"
#include "services/application.hpp"

namespace api::test {

/// One HTTP/1.1 connection to the server (keep-alive across requests).
class Client {
 public:
  explicit Client(const boost::asio::ip::tcp::endpoint& server);
  /// Sends a request and reads the answer.
  Response request(boost::beast::http::verb method, const std::string& target,
                   const std::string& body = {},
                   const std::vector<std::pair<std::string, std::string>>& headers = {});
  Response get(const std::string& target) { return request(boost::beast::http::verb::get, target); }
  boost::beast::tcp_stream& stream() { return stream_; }

 private:
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_{io_};
  boost::beast::flat_buffer buffer_;
};

class ApiTest : public ::testing::Test {
 protected:
  explicit ApiTest(services::ApplicationConfig cfg = {}, ServerConfig server = {});
  ~ApiTest() override;

  Client client() { return Client(server->endpoint()); }

  boost::asio::io_context io;  // outlives the runtime (call completions post to it)
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 2}}};
  std::unique_ptr<services::Application> app;
  std::unique_ptr<ApiServer> server;

 private:
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread io_thread_;
};

/// The `"code"` of an error body ("" if none).
std::string error_code_of(const Response& res);

}  // namespace api::test
