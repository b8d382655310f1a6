#include "api/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <tuple>

namespace api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

/// Counts a connection for as long as it lives; shares the counter, as a
/// WebSocket session holding the slot may outlive the listener.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<std::atomic<std::size_t>> n) : n_(std::move(n)) {
    n_->fetch_add(1);
  }
  ~ConnectionSlot() { n_->fetch_sub(1); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<std::atomic<std::size_t>> n_;
};

Response limit_response(unsigned version, http::status status, std::string_view code,
                        std::string_view message) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::connection, "close");
  res.body() = error_body(code, message);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

/// One descriptor held in reserve (on /dev/null) for when the process runs out.
class SpareDescriptor {
 public:
  SpareDescriptor() { reserve(); }
  ~SpareDescriptor() { release(); }
  SpareDescriptor(const SpareDescriptor&) = delete;
  SpareDescriptor& operator=(const SpareDescriptor&) = delete;
  /// Takes a descriptor again if there is none (it may fail while still out).
  void reserve() {
    if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  /// Gives the descriptor back to the process.
  void release() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

/// API.md "HTTP framing" beyond what Beast's parser refuses: the answer that
/// ends the connection, or nullopt when the header's framing is unambiguous.
std::optional<Response> framing_refusal(const http::request_header<>& h) {
  const auto te = h.count(http::field::transfer_encoding);
  if (te == 0) return std::nullopt;
  if (h.count(http::field::content_length) != 0) {
    return limit_response(h.version(), http::status::bad_request, "bad_request",
                          "Content-Length together with Transfer-Encoding");
  }
  const auto value = h[http::field::transfer_encoding];
  if (te != 1 || !beast::iequals(value, "chunked")) {
    return limit_response(h.version(), http::status::not_implemented, "not_implemented",
                          "only Transfer-Encoding: chunked is supported");
  }
  return std::nullopt;
}

}  // namespace

/// The accept loop and what every connection shares. Connections hold it by
/// shared_ptr: their frames may be destroyed (not run) after the server when
/// the io_context goes away.
struct ApiServer::Listener : std::enable_shared_from_this<Listener> {
  Listener(tcp::acceptor a, ApiServer& s) : acceptor(std::move(a)), server(s) {}
  tcp::acceptor acceptor;
  ApiServer& server;  // only used while the io threads run, i.e. before ~ApiServer
  SpareDescriptor spare;
  std::chrono::steady_clock::time_point last_exhausted_log{};
  std::shared_ptr<std::atomic<std::size_t>> connections =
      std::make_shared<std::atomic<std::size_t>>(0);

  net::awaitable<void> accept_loop() {
    std::chrono::milliseconds backoff{0};
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(server.io_), kNoThrow);
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec == net::error::no_descriptors || ec.value() == ENFILE) {
        co_await out_of_descriptors(ec, backoff);
        continue;
      }
      if (ec) {
        spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      if (connections->load() >= server.config_.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);  // over the limit: refuse at once rather than queue
        continue;
      }
      // Small answers and frames must leave at once: Nagle plus delayed ACKs
      // would hold them ~40 ms.
      beast::error_code nodelay_ec;
      socket.set_option(tcp::no_delay(true), nodelay_ec);
      auto executor = socket.get_executor();
      net::co_spawn(executor, connection(shared_from_this(), beast::tcp_stream(std::move(socket))),
                    net::detached);
    }
  }

  /// EMFILE/ENFILE: the waiting client is accepted on the spare descriptor and
  /// closed at once (else it would hang and the loop spin on it), a line is
  /// logged at most once a second, and the loop backs off 10 ms doubling to 100.
  net::awaitable<void> out_of_descriptors(beast::error_code ec,
                                          std::chrono::milliseconds& backoff) {
    server.metrics_.accept_fd_exhausted.Increment();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_exhausted_log >= std::chrono::seconds(1)) {
      last_exhausted_log = now;
      spdlog::warn(
          "event=accept_failed error=\"{}\" detail=\"out of file descriptors; new "
          "clients are closed at once\"",
          ec.message());
    }
    spare.release();
    beast::error_code ignored;
    acceptor.non_blocking(true, ignored);
    tcp::socket refused = acceptor.accept(ignored);  // would_block when the client is gone
    refused.close(ignored);
    spare.reserve();
    backoff =
        std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(100));
    net::steady_timer timer(acceptor.get_executor(), backoff);
    co_await timer.async_wait(kNoThrow);
  }

  net::awaitable<void> connection(std::shared_ptr<Listener> self, beast::tcp_stream stream) {
    // Shared: a WebSocket session keeps the slot for as long as it lives.
    auto slot = std::make_shared<const ConnectionSlot>(self->connections);
    const ServerConfig& cfg = server.config_;
    beast::error_code ignored;
    const auto remote = stream.socket().remote_endpoint(ignored);
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(cfg.header_limit));
      parser.body_limit(cfg.body_limit);
      stream.expires_after(cfg.read_timeout);  // the whole request, or the idle wait, at most
      // The header first: its framing is checked before any body is read.
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
      std::optional<Response> refused;
      if (!ec) refused = framing_refusal(parser.get());
      if (!ec && !refused)
        std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, kNoThrow);
      if (ec == http::error::body_limit) {
        refused = limit_response(parser.get().version(), http::status::payload_too_large,
                                 "payload_too_large", "the body is over the limit");
      } else if (ec == http::error::header_limit) {
        refused = limit_response(11, http::status::request_header_fields_too_large, "bad_request",
                                 "the headers are over the limit");
      } else if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        // Beast's parser refused the request line, a header or the framing.
        refused = limit_response(11, http::status::bad_request, "bad_request",
                                 "malformed request: " + ec.message());
      }
      if (refused) {
        co_await http::async_write(stream, *refused, kNoThrow);
        break;  // after a framing error nothing on the connection can be trusted
      }
      if (ec) break;  // closed, timed out, or not HTTP
      Request req = parser.release();
      const std::string_view target(req.target().data(), req.target().size());
      const bool websocket = beast::websocket::is_upgrade(req);
      RequestContext who = server.config_.access.identify(req, remote.address(), websocket);
      who.browser_refusal =
          browser_refusal(req, server.browser_, server.config_.access.enabled(), websocket);
      if (websocket) {
        std::optional<Response> res;
        if (target.substr(0, target.find('?')) != "/ws") {
          res = limit_response(req.version(), http::status::not_found, "not_found",
                               "WebSocket is served at /ws");
        } else if (!who.browser_refusal.empty()) {
          res = limit_response(req.version(), http::status::forbidden, "forbidden",
                               who.browser_refusal);
        } else if (who.failure != AuthFailure::none) {
          res = limit_response(req.version(), http::status::unauthorized, "unauthorized",
                               "a known API key is required");
        }
        if (!res) {
          stream.expires_never();
          start_ws_session(std::move(stream), std::move(req), server.ws_env_, std::move(slot));
          co_return;
        }
        co_await http::async_write(stream, *res, kNoThrow);
        break;
      }
      Response res = co_await server.rest_.handle(req, who);
      const bool keep = res.keep_alive();
      auto [wec, written] = co_await http::async_write(stream, res, kNoThrow);
      if (wec || !keep) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

ApiServer::ApiServer(net::io_context& io, services::Application& app, ServerConfig config)
    : io_(io),
      config_(std::move(config)),
      browser_{config_.allow_origins, config_.allow_hosts, config_.host},
      metrics_(*app.metrics()->registry()),
      ws_sessions_(WsSessions::Options{.keys = WsSessions::Keys::duplicate}),
      ws_env_(std::make_shared<const WsEnvironment>(
          WsEnvironment{app.runtime(), app.context(), ws_sessions_, metrics_, config_.ws,
                        WriteBatcher::create(net::make_strand(io), config_.ws.write_interval)})),
      rest_(app, metrics_, config_.rest) {}

rt::Result<std::unique_ptr<ApiServer>, std::string> ApiServer::start(net::io_context& io,
                                                                     services::Application& app,
                                                                     ServerConfig config) {
  if (!config.access.enabled() && !is_loopback_host(config.host)) {
    if (!config.insecure_no_auth) {
      return rt::Err{"refusing to listen on " + config.host +
                     " without --api-keys: anyone who can reach it could trade and ingest "
                     "(give --insecure-no-auth to do it anyway)"};
    }
    spdlog::warn(
        "event=insecure_no_auth address={} detail=\"no API keys: every client has "
        "every role\"",
        config.host);
  }
  std::unique_ptr<ApiServer> server(new ApiServer(io, app, std::move(config)));  // private ctor
  beast::error_code ec;
  auto address = net::ip::make_address(server->config_.host, ec);
  if (ec) return rt::Err{"listen address '" + server->config_.host + "': " + ec.message()};
  tcp::endpoint endpoint(address, server->config_.port);
  tcp::acceptor acceptor(net::make_strand(io));
  if (acceptor.open(endpoint.protocol(), ec); ec) return rt::Err{"socket: " + ec.message()};
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec) {
    return rt::Err{
        fmt::format("bind {}:{}: {}", server->config_.host, server->config_.port, ec.message())};
  }
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) {
    return rt::Err{"listen: " + ec.message()};
  }
  server->endpoint_ = acceptor.local_endpoint();
  server->listener_ = std::make_shared<Listener>(std::move(acceptor), *server);
  net::co_spawn(
      server->listener_->acceptor.get_executor(),
      [l = server->listener_]() { return l->accept_loop(); }, net::detached);
  spdlog::info("event=listening address={}:{}", server->endpoint_.address().to_string(),
               server->endpoint_.port());
  return server;
}

void ApiServer::stop() {
  // A server whose start failed (say, its port is taken) never listened.
  if (stopped_ || !listener_) return;
  stopped_ = true;
  // Close the acceptor on its own strand; the accept loop then ends.
  net::post(listener_->acceptor.get_executor(), [l = listener_] {
    beast::error_code ignored;
    l->acceptor.close(ignored);
  });
  const std::size_t closed = close_all_ws_sessions(ws_sessions_);
  spdlog::info("event=api_stopping websockets_closed={}", closed);
}

ApiServer::~ApiServer() {
  stop();
}

std::size_t ApiServer::connections() const {
  return listener_ ? listener_->connections->load() : 0;
}

}  // namespace api
