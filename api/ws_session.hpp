#pragma once
// WebSocket sessions (API.md "WebSocket"): each connection is a process that
// subscribes to symbol servers (which monitor it) and owns a bounded send
// queue with the slow-consumer policy of API.md.
//
// The HTTP layer accepts the upgrade request for `/ws` and hands the stream
// over with start_ws_session(); from then on the session owns the connection.
//
// Lifetime: a session ends when either side does. The client closing (or the
// connection failing) ends the session process, so servers drop it on Down;
// the process ending closes the connection with a code chosen by its exit
// reason: 1001 on shutdown (close_all_ws_sessions), 1013 for a slow consumer,
// 1008 for a client over its message rate, 1011 on an internal error. The
// connection also pings the client every `ping_interval` and closes it with
// 1001 when nothing (pong or any frame) came back within `pong_timeout`.
// Teardown order: the stream's io context must outlive the Runtime (as for
// rt::async_call): a session ending posts to it from a runtime thread.
// Thread-safety: both functions may be called from any thread. The session's
// I/O runs on the stream's executor, which must be a strand (or an io_context
// run by one thread), as Beast requires.

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "api/api_metrics.hpp"
#include "api/write_batcher.hpp"
#include "runtime/registry.hpp"
#include "runtime/runtime.hpp"
#include "services/context.hpp"

namespace api {

/// Per-connection limits and timings (API.md defaults).
struct WsOptions {
  std::size_t send_queue_limit = 4u << 20;  ///< bytes queued for the client before conflation/close
  unsigned messages_per_second = 50;        ///< client messages; beyond: error rate_limited
  std::chrono::milliseconds abuse_close_after{5000};  ///< still over the rate this long: close 1008
  std::size_t max_subscriptions = 1000;               ///< (channel, symbol) pairs per connection
  std::chrono::milliseconds heartbeat_after{5000};    ///< nothing sent this long: a heartbeat
  std::size_t max_message_bytes = 64u << 10;      ///< a bigger client message: close 1009 (too big)
  std::chrono::milliseconds close_timeout{5000};  ///< handshakes (opening, closing) finish by then
  std::chrono::milliseconds ping_interval{20000};  ///< the server pings every connection this often
  std::chrono::milliseconds pong_timeout{20000};   ///< no frame this long after a ping: close 1001
  std::size_t mailbox_capacity = 1u << 16;         ///< frames waiting for the session process
  /// How long a connection's frames may gather before its writer's turn.
  /// 0: at the io thread's next turn — frames still gather while it is busy,
  /// so batches grow with load at no latency cost when idle; see WriteBatcher.
  std::chrono::microseconds write_interval{0};
};

/// Every live session, so shutdown can close them all with 1001. Must be a
/// duplicate-key registry: key "ws", one entry per session process.
using WsSessions = rt::Registry<std::string>;

/// What sessions need from the server.
struct WsEnvironment {
  rt::Runtime& runtime;
  services::ContextPtr services;
  WsSessions& sessions;
  ApiMetrics& metrics;
  WsOptions options;
  std::shared_ptr<WriteBatcher> batcher;  ///< on the server's io context, options.write_interval
};

/// Takes over an upgraded connection: completes the WebSocket handshake with
/// `upgrade` (permessage-deflate off) and runs the session until the client
/// or the server closes it. `hold` is kept until the connection is gone (the
/// server's connection slot).
void start_ws_session(boost::beast::tcp_stream stream,
                      boost::beast::http::request<boost::beast::http::string_body> upgrade,
                      std::shared_ptr<const WsEnvironment> env,
                      std::shared_ptr<const void> hold = nullptr);

/// Closes every live session with code 1001 (going away); returns how many.
/// Does not wait: a session is gone from `sessions` once its process exited.
std::size_t close_all_ws_sessions(WsSessions& sessions);

}  // namespace api
