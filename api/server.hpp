#pragma once
// ApiServer: marketd's HTTP/1.1 + WebSocket front door on Boost.Beast.
//
// Threads: its own io threads (ServerConfig::io_threads) run an io_context,
// separate from the runtime's workers: socket work and JSON encoding happen
// there, while every question to a symbol server is an rt::async_call whose
// completion comes back to the connection's strand — no io thread ever
// blocks on a process (docs/decisions/008-api-server.md).
//
// Per connection: a coroutine on its own strand reads a request (header and
// body limits; the whole request must arrive within `read_timeout`, so a
// slowloris client is cut off), answers it, and loops while keep-alive holds.
// `GET /ws` with an upgrade hands the stream to a WebSocket session.
// Connections beyond `max_connections` are closed at once.
// stop(): stops accepting, closes WebSockets with 1001, lets in-flight
// requests finish.
// Lifetime: stop the io threads before destroying the server; pending
// connection frames may then be destroyed with the io_context afterwards.
// Thread-safety: start/stop from one thread; the server runs on the io threads.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "api/api_metrics.hpp"
#include "api/rest_api.hpp"
#include "api/ws_session.hpp"
#include "runtime/result.hpp"
#include "services/application.hpp"

namespace api {

struct ServerConfig {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;                      ///< 0 = any free port (tests)
  std::size_t body_limit = 1u << 20;               ///< bigger bodies: 413 payload_too_large
  std::size_t header_limit = 16u << 10;            ///< bigger headers: 431
  std::chrono::milliseconds read_timeout{10'000};  ///< per request, headers and body
  std::size_t max_connections = 10'000;
  RestOptions rest;
  WsOptions ws;
};

class ApiServer {
 public:
  /// Binds and starts accepting on `io` (run by the caller's threads).
  static rt::Result<std::unique_ptr<ApiServer>, std::string> start(boost::asio::io_context& io,
                                                                   services::Application& app,
                                                                   ServerConfig config);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  /// The address actually bound (port 0 resolved).
  boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
  /// Stops accepting and closes every WebSocket with 1001. Idempotent.
  void stop();
  /// Open HTTP connections (WebSocket sessions are counted by ws_connections).
  std::size_t connections() const;

 private:
  struct Listener;
  ApiServer(boost::asio::io_context& io, services::Application& app, ServerConfig config);

  boost::asio::io_context& io_;
  ServerConfig config_;
  ApiMetrics metrics_;
  WsSessions ws_sessions_;
  std::shared_ptr<const WsEnvironment> ws_env_;
  RestApi rest_;
  std::shared_ptr<Listener> listener_;
  boost::asio::ip::tcp::endpoint endpoint_;
  bool stopped_ = false;
};

}  // namespace api
