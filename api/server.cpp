#include "api/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

/// Counts a connection for as long as it lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::atomic<std::size_t>& n) : n_(n) { n_.fetch_add(1); }
  ~ConnectionSlot() { n_.fetch_sub(1); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::atomic<std::size_t>& n_;
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

}  // namespace

/// The accept loop and what every connection shares. Connections hold it by
/// shared_ptr: their frames may be destroyed (not run) after the server when
/// the io_context goes away.
struct ApiServer::Listener : std::enable_shared_from_this<Listener> {
  Listener(tcp::acceptor a, ApiServer& s) : acceptor(std::move(a)), server(s) {}
  tcp::acceptor acceptor;
  ApiServer& server;  // only used while the io threads run, i.e. before ~ApiServer
  std::atomic<std::size_t> connections{0};

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(server.io_), kNoThrow);
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
        continue;
      }
      if (connections.load() >= server.config_.max_connections) {
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

  net::awaitable<void> connection(std::shared_ptr<Listener> self, beast::tcp_stream stream) {
    ConnectionSlot slot(self->connections);
    const ServerConfig& cfg = server.config_;
    beast::error_code ignored;
    const auto remote = stream.socket().remote_endpoint(ignored);
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(cfg.header_limit));
      parser.body_limit(cfg.body_limit);
      stream.expires_after(cfg.read_timeout);  // the whole request, or the idle wait, at most
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kNoThrow);
      if (ec == http::error::body_limit) {
        auto res = limit_response(parser.get().version(), http::status::payload_too_large,
                                  "payload_too_large", "the body is over the limit");
        co_await http::async_write(stream, res, kNoThrow);
        break;
      }
      if (ec == http::error::header_limit) {
        auto res = limit_response(11, http::status::request_header_fields_too_large, "bad_request",
                                  "the headers are over the limit");
        co_await http::async_write(stream, res, kNoThrow);
        break;
      }
      if (ec) break;  // closed, timed out, or not HTTP
      Request req = parser.release();
      if (beast::websocket::is_upgrade(req)) {
        if (req.target() == "/ws") {
          stream.expires_never();
          start_ws_session(std::move(stream), std::move(req), server.ws_env_);
          co_return;
        }
        auto res = limit_response(req.version(), http::status::not_found, "not_found",
                                  "WebSocket is served at /ws");
        co_await http::async_write(stream, res, kNoThrow);
        break;
      }
      std::string key;
      if (auto it = req.find("X-Api-Key"); it != req.end() && !it->value().empty()) {
        key = "key:" + std::string(it->value());
      } else {
        key = "ip:" + remote.address().to_string();
      }
      Response res =
          co_await server.rest_.handle(req, std::move(key), remote.address().to_string());
      const bool keep = res.keep_alive();
      auto [wec, written] = co_await http::async_write(stream, res, kNoThrow);
      if (wec || !keep) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

ApiServer::ApiServer(net::io_context& io, services::Application& app, ServerConfig config)
    : io_(io),
      app_(app),
      config_(std::move(config)),
      metrics_(*app.metrics()->registry()),
      ws_sessions_(WsSessions::Options{.keys = WsSessions::Keys::duplicate}),
      ws_env_(std::make_shared<const WsEnvironment>(
          WsEnvironment{app.runtime(), app.context(), ws_sessions_, metrics_, config_.ws,
                        WriteBatcher::create(net::make_strand(io), config_.ws.write_interval)})),
      rest_(app, metrics_, config_.rest) {}

rt::Result<std::unique_ptr<ApiServer>, std::string> ApiServer::start(net::io_context& io,
                                                                     services::Application& app,
                                                                     ServerConfig config) {
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
  if (stopped_) return;
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
  return listener_->connections.load();
}

}  // namespace api
