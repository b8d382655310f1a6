#pragma once
// WebSocket sessions (API.md "WebSocket"): each connection is a process that
// subscribes to symbol servers (which monitor it) and owns a bounded send
// queue with the slow-consumer policy of API.md.
//
// The HTTP layer accepts the upgrade request for `/ws` and hands the stream
// over with start_ws_session(); from then on the session owns the connection.
// Thread-safety: start_ws_session may be called from any io thread; a
// WsSessions registry is thread-safe.

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

#include "api/api_metrics.hpp"
#include "runtime/registry.hpp"
#include "runtime/runtime.hpp"
#include "services/context.hpp"

namespace api {

/// Per-connection limits and timings (API.md defaults).
struct WsOptions {
  std::size_t send_queue_limit = 4u << 20;  ///< bytes queued for the client before conflation/close
  unsigned messages_per_second = 50;        ///< client messages; beyond: error rate_limited
  std::chrono::seconds abuse_close_after{5};  ///< still over the rate this long: close 1008
  std::size_t max_subscriptions = 1000;       ///< (channel, symbol) pairs per connection
  std::chrono::seconds heartbeat_after{5};    ///< idle this long: a heartbeat message
  std::size_t max_message_bytes = 64u << 10;  ///< a bigger client frame: error, then ignored
};

/// Every live session, so shutdown can close them all with 1001 (duplicate
/// key registry: key "ws", one entry per session process).
using WsSessions = rt::Registry<std::string>;

/// What sessions need from the server.
struct WsEnvironment {
  rt::Runtime& runtime;
  services::ContextPtr services;
  WsSessions& sessions;
  ApiMetrics& metrics;
  WsOptions options;
};

/// Takes over an upgraded connection: completes the WebSocket handshake with
/// `upgrade` and runs the session until the client or the server closes it.
void start_ws_session(boost::beast::tcp_stream stream,
                      boost::beast::http::request<boost::beast::http::string_body> upgrade,
                      std::shared_ptr<const WsEnvironment> env);

/// Closes every live session with code 1001 (going away); returns how many.
std::size_t close_all_ws_sessions(WsSessions& sessions);

}  // namespace api
