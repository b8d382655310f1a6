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
// Framing is strict (API.md "HTTP framing"): a Transfer-Encoding other than
// `chunked` is 501, ambiguous lengths and malformed requests 400, and each
// closes the connection. `GET /ws` with an upgrade hands the stream to a
// WebSocket session once the browser rules and the key (read role) allow it.
// Connections, HTTP and WebSocket together, beyond `max_connections` are
// accepted and closed at once.
// Access (api/access.hpp): every request is identified (key or remote
// address) and checked against the browser rules here; RestApi decides what
// the result allows. With no keys configured, start() refuses a listen address
// outside loopback unless `insecure_no_auth`.
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
#include <vector>

#include "api/access.hpp"
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
  std::size_t header_limit = 8u << 10;             ///< bigger headers: 431
  std::chrono::milliseconds read_timeout{10'000};  ///< per request, headers and body
  std::size_t max_connections = 4096;              ///< HTTP and WebSocket together
  AccessControl access;                            ///< keys and roles; default: off
  bool insecure_no_auth = false;           ///< no keys on a non-loopback address: start anyway
  std::vector<std::string> allow_origins;  ///< --allow-origin
  std::vector<std::string> allow_hosts;    ///< --allow-host
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
  /// Open connections, HTTP and WebSocket together.
  std::size_t connections() const;

 private:
  struct Listener;
  ApiServer(boost::asio::io_context& io, services::Application& app, ServerConfig config);

  boost::asio::io_context& io_;
  ServerConfig config_;
  BrowserRules browser_;
  ApiMetrics metrics_;
  WsSessions ws_sessions_;
  std::shared_ptr<const WsEnvironment> ws_env_;
  RestApi rest_;
  std::shared_ptr<Listener> listener_;
  boost::asio::ip::tcp::endpoint endpoint_;
  bool stopped_ = false;
};

}  // namespace api
