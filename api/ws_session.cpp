#include "api/ws_session.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "api/ws_protocol.hpp"
#include "runtime/clock.hpp"
#include "runtime/gen_server.hpp"
#include "runtime/request.hpp"
#include "services/max_rate_stream.hpp"
#include "services/publication.hpp"
#include "services/symbol_directory.hpp"
#include "services/wire.hpp"

namespace api {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;

using services::Channel;
using services::Channels;
using services::Frame;
using services::FramePtr;
using services::MaxRateStream;

const Channels kFeedChannels{Channel::trades, Channel::ticker, Channel::status};
const Channels kBookChannels = Channels{Channel::top, Channel::book} | services::kCandleChannels;
// The channels a session caps with max_hz (API.md "Max rate"); the book
// server caps `book` itself, once for all its subscribers at a rate (ADR 029).
const Channels kCappable{Channel::ticker, Channel::top};

// Exit reasons of a session process, each mapped to a close code.
constexpr std::string_view kGoingAway = "going_away";          // 1001
constexpr std::string_view kSlowConsumer = "slow_consumer";    // 1013 (also sent by servers)
constexpr std::string_view kPolicyViolation = "rate_limited";  // 1008
constexpr std::string_view kClientClosed = "client_closed";    // nothing left to close

constexpr std::uint16_t kNoClose = 0;

std::uint16_t close_code_for(const rt::ExitReason& why) {
  if (why.is(rt::ExitReason::Kind::shutdown_term)) {
    const std::string_view term = why.detail();
    if (term == kSlowConsumer) return websocket::close_code::try_again_later;
    if (term == kPolicyViolation) return websocket::close_code::policy_error;
    if (term == kClientClosed) return kNoClose;
    return websocket::close_code::going_away;
  }
  if (why.is_normal()) return websocket::close_code::going_away;
  return websocket::close_code::internal_error;
}

// ---- CoalescingStream ---------------------------------------------------------------

// The next layer under the websocket stream: it gathers the frames of several
// messages into one socket write. Every write is appended to a buffer and
// completes at once; the buffer goes to the socket in one write, either when
// the session's writer releases a hold (after queueing a whole batch of
// messages) or, outside a hold, as soon as nothing else is being written (the
// stream's own control frames: pong, close). A write is never interleaved
// with another because there is only one writer to the socket: the flush.
// Outside a hold, bytes appended beyond kHardCap while a flush is stuck fail
// the write (a client that floods pings without reading); the session's
// queue bounds the batches. Thread-safety: used only on the connection's executor.
class CoalescingStream {
 public:
  using executor_type = beast::tcp_stream::executor_type;
  using next_layer_type = beast::tcp_stream;

  explicit CoalescingStream(beast::tcp_stream&& next) : next_(std::move(next)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }

  /// Keeps the owner alive while a flush is in flight.
  void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
  /// Writes from now on are only gathered, until flush() or release().
  void hold() { held_ = true; }
  /// Ends a hold without waiting for the write (a close must not wait for the writer).
  void release() {
    held_ = false;
    start_flush();
  }
  /// Ends a hold: writes what was gathered; `done` runs on the executor once
  /// everything gathered so far reached the socket (or failed).
  void flush(std::function<void(beast::error_code)> done) {
    held_ = false;
    done_ = std::move(done);
    if (!flushing_ && pending_.empty()) {
      net::post(next_.get_executor(), [d = std::exchange(done_, nullptr), ec = failed_] { d(ec); });
      return;
    }
    start_flush();
  }

  /// Runs `fn` on the executor once everything written so far reached the
  /// socket (or the stream failed). Writes here complete when gathered, so a
  /// close frame can still be queued when Beast goes on to tear down.
  void when_drained(std::function<void()> fn) {
    if (!flushing_ && pending_.empty()) {
      net::post(next_.get_executor(), std::move(fn));
      return;
    }
    drained_.push_back(std::move(fn));
  }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return net::async_initiate<WriteHandler, void(beast::error_code, std::size_t)>(
        [this](auto h, const ConstBufferSequence& bs) {
          beast::error_code ec;
          const std::size_t n = write_some(bs, ec);
          auto ex = net::get_associated_executor(h, next_.get_executor());
          net::post(ex, beast::bind_front_handler(std::move(h), ec, n));
        },
        handler, buffers);
  }

  // The synchronous forms make this a SyncStream, so the session's writer can
  // append a whole batch of messages with websocket::stream::write — each a
  // copy into the hold buffer that never blocks — instead of paying an async
  // round trip per message (docs/PERFORMANCE.md, WebSocket fan-out).
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& bs, beast::error_code& ec) {
    ec = failed_;
    // Only writes outside a hold can pile up (control frames behind a stuck flush).
    if (!ec && !held_ && pending_.size() > kHardCap) ec = net::error::no_buffer_space;
    if (ec) return 0;
    const std::size_t n = net::buffer_size(bs);
    const std::size_t at = pending_.size();
    pending_.resize(at + n);
    net::buffer_copy(net::buffer(pending_.data() + at, n), bs);
    if (!held_) start_flush();
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& bs) {
    beast::error_code ec;
    const std::size_t n = write_some(bs, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }
  /// Never used (all reads are asynchronous); present for the SyncStream concept.
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& b, beast::error_code& ec) {
    return next_.socket().read_some(b, ec);
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& b) {
    return next_.socket().read_some(b);
  }

 private:
  static constexpr std::size_t kHardCap = 1u << 20;

  void start_flush() {
    if (flushing_ || pending_.empty() || failed_) return;
    std::shared_ptr<void> keep = owner_.lock();
    if (!keep) return;
    flushing_ = true;
    sending_.swap(pending_);
    pending_.clear();
    net::async_write(
        next_, net::buffer(sending_),
        [flight = Flight(this, std::move(keep))](beast::error_code ec, std::size_t) mutable {
          flight.landed()->on_flushed(ec);
        });
  }

  // A flush in flight keeps the owner alive. Destroyed unrun (its io_context
  // went away), it drops the flush's completion and the teardowns waiting
  // for it: they hold the owner too, and the owner holds this stream, so
  // they would keep each other (LeakSanitizer saw both).
  class Flight {
   public:
    Flight(CoalescingStream* s, std::shared_ptr<void> keep) : s_(s), keep_(std::move(keep)) {}
    Flight(Flight&& o) noexcept : s_(std::exchange(o.s_, nullptr)), keep_(std::move(o.keep_)) {}
    Flight& operator=(Flight&&) = delete;
    ~Flight() {
      if (s_ == nullptr) return;
      s_->done_ = nullptr;  // keep_ still holds the owner here
      s_->drained_.clear();
    }
    CoalescingStream* landed() { return std::exchange(s_, nullptr); }

   private:
    CoalescingStream* s_;
    std::shared_ptr<void> keep_;
  };

  void on_flushed(beast::error_code ec) {
    flushing_ = false;
    sending_.clear();
    if (ec) {
      failed_ = ec;
      pending_.clear();
    } else if (!pending_.empty() && !held_) {
      start_flush();
      return;
    }
    if (done_ && (ec || pending_.empty() || held_)) std::exchange(done_, nullptr)(ec);
    if (ec || pending_.empty()) {
      for (auto& fn : std::exchange(drained_, {})) net::post(next_.get_executor(), std::move(fn));
    }
  }

  beast::tcp_stream next_;
  std::string pending_;  // gathered, not yet written
  std::string sending_;  // being written
  bool held_ = false;
  bool flushing_ = false;
  beast::error_code failed_;
  std::function<void(beast::error_code)> done_;
  std::vector<std::function<void()>> drained_;  // teardowns waiting for the close frame
  std::weak_ptr<void> owner_;
};

// The websocket stream's teardown goes to the TCP stream below (found by ADL),
// once the close frame gathered before it has left: a server-side teardown
// shuts the socket's sending side, and the client would read an end of file
// where the close handshake promised it a close frame.
template <class TeardownHandler>
void async_teardown(beast::role_type role, CoalescingStream& s, TeardownHandler&& handler) {
  // std::function needs a copyable callable; the handler is move-only.
  auto h = std::make_shared<std::decay_t<TeardownHandler>>(std::forward<TeardownHandler>(handler));
  s.when_drained([role, &s, h] {
    using beast::websocket::async_teardown;
    async_teardown(role, s.next_layer(), std::move(*h));
  });
}

// deflateSupported = false: permessage-deflate is compiled out.
using WsStream = websocket::stream<CoalescingStream, false>;

class Connection;

// ---- Outbox -------------------------------------------------------------------------

// The meeting point of a session process and its connection: the bounded send
// queue with API.md's slow-consumer policy, and the flow control of client
// messages. The process pushes, the connection's writer takes whole batches;
// a short mutex guards it (no call, allocation-heavy work or I/O under it,
// except the rare conflation pass).
// Thread-safety: thread-safe.
class Outbox {
 public:
  /// What a push did when it found the queue over its limit.
  struct Pushed {
    std::vector<std::string> books_dropped;  ///< symbols whose book frames were dropped
    bool over_limit = false;                 ///< still over after conflation: close 1013
  };
  enum class Next : std::uint8_t { batch, idle, close };
  /// Lets a fast lane's pushes through while open; guarded by the Outbox's
  /// mutex, so once close_gate() returns no frame passes it any more.
  struct Gate {
    bool open = true;
  };

  Outbox(net::any_io_executor executor, std::shared_ptr<WriteBatcher> batcher, std::size_t limit,
         ApiMetrics& metrics)
      : executor_(std::move(executor)),
        batcher_(std::move(batcher)),
        limit_(limit),
        metrics_(metrics) {}

  /// Set once, before the session process starts.
  void attach(std::weak_ptr<Connection> connection);

  // Process (and fast lane) side.

  /// Queues a frame for the client; `conflatable` frames may be replaced by
  /// newer state (counted in ws_messages_conflated). With a `gate`, the frame
  /// is dropped unless it is open.
  Pushed push(FramePtr frame, bool conflatable, const Gate* gate = nullptr);
  /// Closes `gate`: what is pushed through it from now on is dropped.
  void close_gate(Gate& gate) {
    std::lock_guard g(m_);
    gate.open = false;
  }
  /// The process ended: drop what is queued and close with `code` (kNoClose: just drop).
  void close(std::uint16_t code);
  /// A client message was handled; resumes a paused reader.
  void inbound_handled();
  /// Milliseconds (coarse monotonic) of the last push.
  std::int64_t last_push_ms() const {
    std::lock_guard g(m_);
    return last_push_ms_;
  }

  // Connection side.

  /// Moves every queued frame into `batch` (adding their size to `bytes`), or
  /// says there is nothing (the writer goes idle) or that the session closed.
  Next take(std::vector<FramePtr>& batch, std::size_t& bytes, std::uint16_t& close_code);
  /// A batch of `bytes` reached the socket. True when more is queued: the
  /// writer asks for another turn (it stays busy); false: it went idle.
  bool sent(std::size_t bytes) {
    std::lock_guard g(m_);
    inflight_bytes_ -= bytes;
    if (!queue_.empty() || closed_) return true;
    writer_busy_ = false;
    return false;
  }
  /// Asks the batcher for the writer's next turn (the writer is busy until it has had it).
  void request_turn() { batcher_->request(writer_); }
  /// A client message goes to the process; false: stop reading until resumed.
  bool inbound_arrived() {
    std::lock_guard g(m_);
    if (++inbound_ < kMaxInbound) return true;
    read_paused_ = true;
    return false;
  }

 private:
  // Client messages waiting for the process before the reader pauses.
  static constexpr std::size_t kMaxInbound = 32;
  static constexpr std::size_t kMaxBatchBytes = 256u << 10;
  struct Item {
    FramePtr frame;
    bool conflatable = false;
  };
  std::size_t conflate(Pushed& out);  // holds m_; returns the frames dropped
  void post_to_connection(void (Connection::*fn)());

  net::any_io_executor executor_;
  std::shared_ptr<WriteBatcher> batcher_;
  const std::size_t limit_;
  ApiMetrics& metrics_;
  std::weak_ptr<Connection> connection_;
  std::weak_ptr<WriteBatcher::Writer> writer_;
  mutable std::mutex m_;
  std::deque<Item> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t conflatable_bytes_ = 0;  // of queued_bytes_
  std::size_t inflight_bytes_ = 0;     // taken by the writer, not yet on the socket
  bool writer_busy_ = false;           // a wake is posted or a batch is being written
  bool closed_ = false;
  std::uint16_t close_code_ = kNoClose;
  std::size_t inbound_ = 0;
  bool read_paused_ = false;
  std::int64_t last_push_ms_ = rt::coarse_monotonic_ms();
};

// ---- Connection ---------------------------------------------------------------------

// The I/O side of a session: owns the websocket stream, reads client
// messages into the session process's mailbox and writes the Outbox's
// batches. Every member runs on the stream's executor.
class Connection final : public std::enable_shared_from_this<Connection>,
                         public WriteBatcher::Writer {
 public:
  Connection(beast::tcp_stream&& stream, std::shared_ptr<const WsEnvironment> env,
             std::shared_ptr<const void> hold);
  ~Connection();

  net::any_io_executor executor() { return ws_.get_executor(); }
  void run(http::request<http::string_body> upgrade);
  /// The batcher's turn: on_wake on the connection's strand.
  void on_turn() override;
  /// The Outbox has frames (or a close) for the writer.
  void on_wake();
  /// The session process ended: close with the code it chose.
  void on_close_requested();
  /// The session process caught up with client messages.
  void on_resume_read() {
    paused_.reset();
    do_read();
  }

 private:
  void on_accept(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void on_flushed(beast::error_code ec);
  void start_close(std::uint16_t code);
  void finish(beast::error_code ec, std::string_view where);
  /// Pings, or checks that the client answered the last ping (API.md: else 1001).
  void arm_ping(std::chrono::milliseconds after);
  void on_ping_timer();

  WsStream ws_;
  std::shared_ptr<const WsEnvironment> env_;
  std::shared_ptr<Outbox> outbox_;
  beast::flat_buffer read_buffer_;
  rt::Pid session_;
  std::vector<FramePtr> batch_;  // being written
  std::size_t batch_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool counted_ = false;  // in the ws_connections gauge
  bool finished_ = false;
  // Set while reading is paused: no pending operation keeps us alive then.
  std::shared_ptr<Connection> paused_;
  std::shared_ptr<const void> hold_;  // the server's connection slot, until the socket closes
  net::steady_timer ping_timer_;
  std::chrono::steady_clock::time_point last_heard_;  // the client's last frame, control included
  std::chrono::steady_clock::time_point ping_sent_;
  bool awaiting_pong_ = false;
};

// ---- WsSession (the process) --------------------------------------------------------

class TradeLane;

class WsSession : public rt::GenServer<WsSession> {
 public:
  /// A client text message, its buffer padded for simdjson.
  struct ClientText {
    std::string text;
    bool binary = false;
  };
  struct HeartbeatCheck {};
  struct Retry {
    std::string symbol;
  };
  /// Sent to self: the symbol's feed answered a Subscribe with `removed`.
  struct Forget {
    std::string symbol;
    rt::Pid feed;
  };
  /// A capped stream's period is over: send what it holds.
  struct FlushCapped {
    std::string symbol;
    Channel channel;
  };
  /// From a fast lane whose push conflated books: they restart from a snapshot.
  struct ResyncBooks {
    std::vector<std::string> symbols;
  };
  /// A process's exit hook: closes the connection with the code the exit
  /// reason maps to, and lets go of the session's trade lanes.
  class CloseOnExit final : public rt::ExitHook {
   public:
    CloseOnExit(WsSession& session, std::shared_ptr<Outbox> out, ApiMetrics& m)
        : session_(session), out_(std::move(out)), metrics_(m) {}
    void on_process_exit(rt::Process& p) noexcept override;

   private:
    WsSession& session_;
    std::shared_ptr<Outbox> out_;
    ApiMetrics& metrics_;
  };

  WsSession(std::shared_ptr<Outbox> out, std::shared_ptr<const WsEnvironment> env)
      : out_(out), env_(std::move(env)), on_exit_(*this, std::move(out), env_->metrics) {}

  Action init();
  Action handle_info(const services::Published& p);
  Action handle_info(ClientText&& c);
  Action handle_info(const HeartbeatCheck&);
  Action handle_info(const Retry& r);
  Action handle_info(ResyncBooks&& r);
  Action handle_info(const FlushCapped& f);
  Action handle_info(const Forget& f);
  Action handle_info(rt::Response<services::SubscribeRequest>&& r);
  Action handle_info(const rt::Down& d);
  Action handle_info(const rt::ExitSignal& s);

 private:
  // One symbol's subscription and the servers it is subscribed with.
  struct Sub {
    Channels channels;
    std::optional<rt::Ref<services::PriceFeedHandler>> feed;
    rt::MonitorRef feed_monitor;
    std::optional<rt::Ref<services::OrderBookServer>> book;
    rt::MonitorRef book_monitor;
    // Per server, asked without waiting (send_request: a session never holds
    // a thread while a server is busy): the channels whose current state from
    // this incarnation was sent (frames of the others are dropped), those to
    // ask for next, and the request in flight — one at a time, so answers
    // come in the order asked.
    Channels feed_live, book_live, feed_want, book_want;
    rt::RequestId feed_request, book_request;
    std::uint64_t ticker_seq = 0, top_seq = 0, book_seq = 0;  // last sent
    services::BookStream book_stream;  // depth and max_hz, kept for every resubscribe
    bool retry_pending = false;
    bool recovering = false;  // told `recovering`: `live` follows the fresh snapshot
    std::chrono::milliseconds retry_delay{0};
    std::shared_ptr<TradeLane> trades;  // while subscribed to trades
    services::SymbolInfoPtr info;       // the book's, for merged frames
    // max_hz caps of ticker and top (API.md "Max rate"); none: uncapped.
    std::optional<MaxRateStream> ticker_cap, top_cap;
    std::optional<MaxRateStream>& cap(Channel c) {
      return c == Channel::ticker ? ticker_cap : top_cap;
    }
  };

  /// Queues a frame; the Action is stop(slow_consumer) when the queue stays over its limit.
  [[nodiscard]] bool push(FramePtr frame, bool conflatable);
  [[nodiscard]] bool push_control(std::string json);
  /// Pushes a ticker or top frame through the stream's max_hz cap, if any.
  [[nodiscard]] bool push_capped(const std::string& symbol, Sub& s, FramePtr frame);
  void arm_cap_flush(const std::string& symbol, Channel c, MaxRateStream& cap, std::int64_t now);
  /// The current state of `c` was pushed: what its cap holds is superseded.
  static void restart_cap(Sub& s, Channel c);
  /// The `status` a book restart sends (recovering, then live).
  static std::string book_status(const std::string& symbol, services::wire::FeedState state);
  Action after_push(bool ok) {
    return ok ? noreply() : stop(rt::ExitReason::shutdown(std::string(kSlowConsumer)));
  }
  Action handle_request(const ClientRequest& r);
  /// `symbols`: r.symbols without repeats, in order.
  Action subscribe(const ClientRequest& r, std::vector<Channel> channels,
                   const std::vector<std::string_view>& symbols);
  Action unsubscribe(const ClientRequest& r, std::vector<Channel> channels);
  using Subs = std::unordered_map<std::string, Sub, rt::TransparentHash, std::equal_to<>>;
  /// Leaves both servers and forgets the symbol's subscription.
  void leave(Subs::iterator it);
  enum class Server : unsigned char { feed, book };
  /// A Subscribe in flight: what it asked of which server.
  struct Pending {
    std::string symbol;
    Server server;
    Channels asked;
  };
  /// Asks the symbol's feed (and, for book channels, its book) for `fresh`.
  void sync(const std::string& symbol, Sub& s, Channels fresh);
  /// Asks for the current state of `ask`; after a restart, of everything subscribed.
  void ask_feed(const std::string& symbol, Sub& s, Channels ask);
  void ask_book(const std::string& symbol, Sub& s, Channels ask);
  /// The answer's current state goes out; false when over the limit.
  bool feed_answered(const std::string& symbol, Sub& s, Channels asked,
                     const services::Subscribed& answer);
  bool book_answered(const std::string& symbol, Sub& s, Channels asked,
                     const services::Subscribed& answer);
  /// Drops the request in flight, if any: its answer will be ignored.
  void forget_request(rt::RequestId& id);
  void schedule_retry(const std::string& symbol, Sub& s);
  /// Resubscribes the books the Outbox dropped frames of (a fresh snapshot each).
  void resync_books(std::vector<std::string> symbols);
  bool error(const ClientError& e);
  /// True when the client is within its rate; sets `close` when it stayed over too long.
  bool within_rate(bool& close);
  void arm_heartbeat(std::chrono::milliseconds after);
  /// How the feed handler reaches us: trades through the symbol's fast lane.
  services::Subscriber feed_subscriber(Sub& s);
  /// Stops the symbol's trades fast lane (nothing passes it once this returns).
  void close_trades(Sub& s);

  std::shared_ptr<Outbox> out_;
  std::shared_ptr<const WsEnvironment> env_;
  CloseOnExit on_exit_;
  Subs subs_;
  boost::unordered_flat_map<std::uint64_t, Pending> requests_;  // by RequestId
  std::size_t subscriptions_ = 0;                               // (channel, symbol) pairs
  std::vector<std::string> resync_;
  // Client rate: a one-second window, and since when windows were over the limit.
  std::int64_t window_start_ms_ = -1'000'000;
  unsigned window_count_ = 0;
  bool window_over_ = false;
  std::optional<std::int64_t> over_since_ms_;
};

// The fast lane of one symbol's trades for one session (ADR 010): the feed
// handler pushes each tick frame straight into the Outbox, with no process
// message. Trades need no session state: no conflation, no seq filtering. The
// session closes the lane's gate when it unsubscribes, so no tick follows
// `unsubscribed`. Over the limit, it answers `overloaded`: the feed handler
// then ends the session with {shutdown, slow_consumer} (close 1013).
class TradeLane final : public services::FastLane {
 public:
  TradeLane(std::shared_ptr<Outbox> out, rt::Ref<WsSession> session)
      : out_(std::move(out)), session_(std::move(session)) {}

  rt::SendStatus deliver(const FramePtr& frame) override {
    Outbox::Pushed r = out_->push(frame, false, &gate_);
    if (r.over_limit) {
      out_->close_gate(gate_);
      return rt::SendStatus::overloaded;
    }
    if (!r.books_dropped.empty()) {
      rt::send(session_, WsSession::ResyncBooks{std::move(r.books_dropped)});
    }
    return rt::SendStatus::ok;
  }
  void close() { out_->close_gate(gate_); }

 private:
  std::shared_ptr<Outbox> out_;
  rt::Ref<WsSession> session_;
  Outbox::Gate gate_;
};

std::string over_cap_message(std::size_t cap) {
  return "too many subscriptions (at most " + std::to_string(cap) +
         " channel and symbol pairs per connection)";
}

// ---- Outbox -------------------------------------------------------------------------

void Outbox::attach(std::weak_ptr<Connection> connection) {
  writer_ = connection;
  connection_ = std::move(connection);
}

Outbox::Pushed Outbox::push(FramePtr frame, bool conflatable, const Gate* gate) {
  Pushed out;
  bool wake_writer = false;
  std::size_t conflated = 0;
  {
    std::lock_guard g(m_);
    if (closed_ || (gate != nullptr && !gate->open)) return out;
    const std::size_t size = frame->json.size();
    queued_bytes_ += size;
    if (conflatable) conflatable_bytes_ += size;
    queue_.push_back(Item{std::move(frame), conflatable});
    last_push_ms_ = rt::coarse_monotonic_ms();
    if (queued_bytes_ + inflight_bytes_ > limit_) {
      // Conflating cannot help when what must be sent is over the limit alone.
      const std::size_t kept_anyway = queued_bytes_ - conflatable_bytes_ + inflight_bytes_;
      if (kept_anyway <= limit_) conflated = conflate(out);
      out.over_limit = queued_bytes_ + inflight_bytes_ > limit_;
    }
    wake_writer = !writer_busy_;
    writer_busy_ = true;
  }
  if (conflated != 0) metrics_.ws_messages_conflated.Increment(static_cast<double>(conflated));
  if (wake_writer) request_turn();
  return out;
}

std::size_t Outbox::conflate(Pushed& out) {
  // Newest first: the last ticker/top of each symbol stays, every older one
  // goes. A book's frames all go and it restarts from a fresh snapshot, unless
  // its newest frame is that snapshot: then it stays (or a resync would drop
  // its own snapshot for ever) and only the older frames go.
  std::unordered_set<std::string_view> tickers, tops, books;
  std::vector<bool> drop(queue_.size(), false);
  for (std::size_t i = queue_.size(); i-- > 0;) {
    const Item& item = queue_[i];
    if (!item.conflatable) continue;
    const Frame& f = *item.frame;
    if (f.channel == Channel::book) {
      const bool newest = books.insert(f.symbol).second;
      if (newest && f.kind == Frame::Kind::snapshot) continue;
      drop[i] = true;
      if (newest) out.books_dropped.push_back(f.symbol);
    } else {
      drop[i] = !(f.channel == Channel::top ? tops : tickers).insert(f.symbol).second;
    }
  }
  std::size_t kept = 0, dropped = 0;
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    if (drop[i]) {
      const std::size_t size = queue_[i].frame->json.size();
      queued_bytes_ -= size;
      conflatable_bytes_ -= size;
      ++dropped;
    } else {
      if (kept != i) queue_[kept] = std::move(queue_[i]);
      ++kept;
    }
  }
  queue_.resize(kept);
  return dropped;
}

void Outbox::close(std::uint16_t code) {
  {
    std::lock_guard g(m_);
    if (closed_) return;
    closed_ = true;
    close_code_ = code;
    queue_.clear();
    queued_bytes_ = 0;
    conflatable_bytes_ = 0;
    writer_busy_ = true;  // the writer stops taking batches
  }
  post_to_connection(&Connection::on_close_requested);
}

void Outbox::inbound_handled() {
  bool resume = false;
  {
    std::lock_guard g(m_);
    --inbound_;
    if (read_paused_ && inbound_ <= kMaxInbound / 2) {
      read_paused_ = false;
      resume = true;
    }
  }
  if (resume) post_to_connection(&Connection::on_resume_read);
}

Outbox::Next Outbox::take(std::vector<FramePtr>& batch, std::size_t& bytes,
                          std::uint16_t& close_code) {
  std::lock_guard g(m_);
  if (closed_) {
    close_code = close_code_;
    return Next::close;
  }
  if (queue_.empty()) {
    writer_busy_ = false;
    return Next::idle;
  }
  // At most kMaxBatchBytes (but at least one frame) per socket write, so a
  // backlog is not copied whole into the socket buffer at once.
  std::size_t taken = 0, n = 0;
  for (; n < queue_.size() && (n == 0 || taken < kMaxBatchBytes); ++n) {
    Item& item = queue_[n];
    const std::size_t size = item.frame->json.size();
    taken += size;
    if (item.conflatable) conflatable_bytes_ -= size;
    batch.push_back(std::move(item.frame));
  }
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  bytes += taken;
  inflight_bytes_ += taken;
  queued_bytes_ -= taken;
  return Next::batch;
}

void Outbox::post_to_connection(void (Connection::*fn)()) {
  net::post(executor_, [c = connection_, fn] {
    if (auto conn = c.lock()) ((*conn).*fn)();
  });
}

// ---- Connection ---------------------------------------------------------------------

Connection::Connection(beast::tcp_stream&& stream, std::shared_ptr<const WsEnvironment> env,
                       std::shared_ptr<const void> hold)
    : ws_(std::move(stream)),
      env_(std::move(env)),
      outbox_(std::make_shared<Outbox>(ws_.get_executor(), env_->batcher,
                                       env_->options.send_queue_limit, env_->metrics)),
      hold_(std::move(hold)),
      ping_timer_(ws_.get_executor()) {}

Connection::~Connection() {
  if (counted_) env_->metrics.ws_connections.Decrement();
  // Normally over already; after an io context stopped with handlers pending, not.
  if (session_) rt::exit(session_, rt::ExitReason::shutdown(std::string(kClientClosed)));
}

void Connection::run(http::request<http::string_body> upgrade) {
  ws_.next_layer().set_owner(weak_from_this());
  outbox_->attach(weak_from_this());
  // The websocket stream has its own timeouts (handshakes); none on the TCP stream.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = env_->options.close_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "marketd"); }));
  ws_.read_message_max(env_->options.max_message_bytes);
  // Any frame, pongs included, shows the client is there (reads call this).
  ws_.control_callback([this](websocket::frame_type, beast::string_view) {
    last_heard_ = std::chrono::steady_clock::now();
  });
  ws_.auto_fragment(false);  // one frame per message: one append, one write
  ws_.text(true);
  ws_.async_accept(upgrade, beast::bind_front_handler(&Connection::on_accept, shared_from_this()));
}

void Connection::on_accept(beast::error_code ec) {
  if (ec) return finish(ec, "accept");
  rt::StartOptions opts;
  opts.name = "ws_session";
  opts.mailbox_capacity = env_->options.mailbox_capacity;
  opts.trap_exit = true;  // servers' {shutdown, slow_consumer} arrives as a message
  auto started = rt::start<WsSession>(env_->runtime, std::move(opts), outbox_, env_);
  if (!started) {
    spdlog::error("ws: session process did not start: {}", started.error().to_string());
    return start_close(websocket::close_code::internal_error);
  }
  session_ = started->pid();
  counted_ = true;
  env_->metrics.ws_connections.Increment();
  last_heard_ = std::chrono::steady_clock::now();
  arm_ping(env_->options.ping_interval);
  do_read();
}

void Connection::arm_ping(std::chrono::milliseconds after) {
  ping_timer_.expires_after(after);
  ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->on_ping_timer();
  });
}

void Connection::on_ping_timer() {
  if (finished_ || closing_) return;
  const auto now = std::chrono::steady_clock::now();
  if (awaiting_pong_) {
    // Paused reading leaves the client's frames unread: not its silence.
    if (last_heard_ < ping_sent_ && !paused_) {
      return start_close(websocket::close_code::going_away);
    }
    awaiting_pong_ = false;
    const auto next = ping_sent_ + env_->options.ping_interval - now;
    return arm_ping(std::max(std::chrono::duration_cast<std::chrono::milliseconds>(next),
                             std::chrono::milliseconds(0)));
  }
  ping_sent_ = now;
  awaiting_pong_ = true;
  ws_.async_ping({}, [self = shared_from_this()](beast::error_code) {});
  arm_ping(env_->options.pong_timeout);
}

void Connection::do_read() {
  if (finished_) return;
  ws_.async_read(read_buffer_, beast::bind_front_handler(&Connection::on_read, shared_from_this()));
}

void Connection::on_read(beast::error_code ec, std::size_t bytes) {
  if (ec) return finish(ec, "read");
  last_heard_ = std::chrono::steady_clock::now();
  WsSession::ClientText msg;
  msg.binary = !ws_.got_text();
  msg.text.reserve(bytes + simdjson::SIMDJSON_PADDING);
  const auto data = read_buffer_.cdata();
  msg.text.assign(static_cast<const char*>(data.data()), data.size());
  read_buffer_.consume(read_buffer_.size());
  // Not bounded by the mailbox capacity: the Outbox's inbound count bounds it.
  const bool more = outbox_->inbound_arrived();
  if (rt::Process* p = session_.get()) {
    p->post(std::make_unique<rt::InfoEnvelope<WsSession, WsSession::ClientText>>(std::move(msg)),
            false);
  }
  if (more) {
    do_read();
  } else {
    paused_ = shared_from_this();
  }
}

void Connection::on_turn() {
  net::dispatch(ws_.get_executor(), [self = shared_from_this()] { self->on_wake(); });
}

void Connection::on_wake() {
  if (writing_ || finished_) return;
  std::uint16_t code = kNoClose;
  batch_.clear();
  batch_bytes_ = 0;
  switch (outbox_->take(batch_, batch_bytes_, code)) {
    case Outbox::Next::idle:
      return;
    case Outbox::Next::close:
      return start_close(code);
    case Outbox::Next::batch:
      break;
  }
  writing_ = true;
  ws_.next_layer().hold();  // gather the whole batch into one socket write
  beast::error_code ec;
  for (const FramePtr& frame : batch_) {
    ws_.write(net::buffer(frame->json), ec);  // appends to the held buffer; never blocks
    if (ec) {
      // The stream is closing or failed; the read side ends the connection.
      writing_ = false;
      return;
    }
  }
  ws_.next_layer().flush(
      [self = shared_from_this()](beast::error_code fec) { self->on_flushed(fec); });
}

void Connection::on_flushed(beast::error_code ec) {
  writing_ = false;
  if (ec) return;
  env_->metrics.ws_messages_sent.Increment(static_cast<double>(batch_.size()));
  batch_.clear();
  // More queued meanwhile: wait for the next turn, so it gathers into one write.
  if (outbox_->sent(batch_bytes_)) outbox_->request_turn();
}

void Connection::on_close_requested() {
  std::uint16_t code = kNoClose;
  std::vector<FramePtr> ignored;
  std::size_t bytes = 0;
  if (outbox_->take(ignored, bytes, code) == Outbox::Next::close) start_close(code);
}

void Connection::start_close(std::uint16_t code) {
  if (closing_ || finished_) return;
  closing_ = true;
  paused_.reset();
  if (code == kNoClose || !ws_.is_open()) return;
  // Does not wait for a batch in flight: Beast queues the close frame behind
  // it, and the close handshake timeout bounds a client that does not read.
  ws_.next_layer().release();
  ws_.async_close(websocket::close_reason(code), [self = shared_from_this()](beast::error_code) {});
}

void Connection::finish(beast::error_code ec, std::string_view where) {
  if (finished_) return;
  finished_ = true;
  paused_.reset();
  ping_timer_.cancel();
  if (ec && ec != websocket::error::closed && ec != net::error::eof &&
      ec != net::error::operation_aborted && ec != net::error::connection_reset &&
      ec != beast::error::timeout) {
    spdlog::debug("ws: {}: {}", where, ec.message());
  }
  // The client is gone: its session ends, and the servers drop it on Down.
  if (session_) rt::exit(session_, rt::ExitReason::shutdown(std::string(kClientClosed)));
  if (counted_) {
    counted_ = false;
    env_->metrics.ws_connections.Decrement();
  }
}

// ---- WsSession ----------------------------------------------------------------------

void WsSession::CloseOnExit::on_process_exit(rt::Process& p) noexcept {
  // A lane holds the session's pid, and the session (inside its process)
  // holds the lane: without this the process would keep itself alive.
  for (auto& [symbol, sub] : session_.subs_) session_.close_trades(sub);
  // A dead process keeps its members until the last Pid of it goes. A server
  // that stops before it reads this session's Down keeps the session's Pid
  // (in its subscriber set), and the session kept the server's: a cycle that
  // never freed either (LeakSanitizer, at the tree's stop). Let go here.
  session_.subs_.clear();
  const std::uint16_t code = close_code_for(p.exit_reason());
  if (code == websocket::close_code::try_again_later) metrics_.ws_slow_disconnects.Increment();
  out_->close(code);
}

WsSession::Action WsSession::init() {
  add_exit_hook(on_exit_);
  if (auto r = env_->sessions.register_key("ws"); !r) {
    return stop(rt::ExitReason::error("ws: the sessions registry must have duplicate keys"));
  }
  arm_heartbeat(env_->options.heartbeat_after);
  return ok();
}

bool WsSession::push(FramePtr frame, bool conflatable) {
  Outbox::Pushed r = out_->push(std::move(frame), conflatable);
  if (r.over_limit) return false;
  if (!r.books_dropped.empty()) resync_books(std::move(r.books_dropped));
  return true;
}

bool WsSession::push_control(std::string json) {
  return push(std::make_shared<const Frame>(
                  Frame{Channel::status, Frame::Kind::update, 0, {}, std::move(json)}),
              false);
}

bool WsSession::error(const ClientError& e) {
  return push_control(services::wire::error(e.id, e.code, e.message));
}

void WsSession::resync_books(std::vector<std::string> symbols) {
  // A book whose frames were dropped continues from a fresh snapshot; its
  // frames until then are dropped too.
  for (const std::string& symbol : symbols) {
    auto it = subs_.find(symbol);
    if (it == subs_.end() || !it->second.channels.has(Channel::book)) continue;
    it->second.book_live.remove(Channels{Channel::book});
    ask_book(symbol, it->second, Channels{Channel::book});
  }
}

WsSession::Action WsSession::handle_info(const services::Published& p) {
  const Frame& f = *p.frame;
  auto it = subs_.find(f.symbol);
  if (it == subs_.end()) return noreply();  // unsubscribed; the server learns it soon
  Sub& s = it->second;
  if (f.kind == Frame::Kind::removed) {
    // The symbol was deleted: this subscription ends here.
    leave(it);
    return after_push(push(p.frame, false));
  }
  switch (f.channel) {
    case Channel::status:
      return after_push(push(p.frame, false));
    case Channel::trades:
      if (!s.channels.has(Channel::trades)) return noreply();
      return after_push(push(p.frame, false));
    case Channel::ticker:
      // Frames older than the state sent on subscribe are dropped.
      if (!s.feed_live.has(Channel::ticker) || f.seq <= s.ticker_seq) {
        return noreply();
      }
      s.ticker_seq = f.seq;
      return after_push(push_capped(it->first, s, p.frame));
    case Channel::top:
      if (!s.book_live.has(Channel::top) || f.seq <= s.top_seq) return noreply();
      s.top_seq = f.seq;
      return after_push(push_capped(it->first, s, p.frame));
    case Channel::book:
      if (!s.book_live.has(Channel::book) || f.seq <= s.book_seq) return noreply();
      if (f.seq - f.merged != s.book_seq) {
        // A missed update (the mailbox was full): start again from a snapshot.
        // `merged` spans the changes a depth window skipped: no loss.
        resync_books({f.symbol});
        return noreply();
      }
      s.book_seq = f.seq;
      return after_push(push(p.frame, true));  // capped, if at all, by the book server
    case Channel::candles_1s:
    case Channel::candles_1m:
    case Channel::candles_5m:
    case Channel::candles_15m:
    case Channel::candles_1h:
    case Channel::candles_1d:
      if (!s.channels.has(f.channel)) return noreply();
      return after_push(push(p.frame, false));
  }
  return noreply();
}

bool WsSession::push_capped(const std::string& symbol, Sub& s, FramePtr frame) {
  const Channel channel = frame->channel;
  std::optional<MaxRateStream>& cap = s.cap(channel);
  if (!cap) return push(std::move(frame), true);
  const std::int64_t now = MaxRateStream::now_ns();
  if (FramePtr now_frame = cap->offer(std::move(frame), now))
    return push(std::move(now_frame), true);
  if (!cap->timer_armed) arm_cap_flush(symbol, channel, *cap, now);
  return true;
}

void WsSession::arm_cap_flush(const std::string& symbol, Channel c, MaxRateStream& cap,
                              std::int64_t now) {
  cap.timer_armed = true;
  // Rounded up to the timer's milliseconds: never before the period is over.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(
      std::chrono::nanoseconds(std::max<std::int64_t>(cap.due_ns() - now, 0)));
  rt::send_after(ref(), FlushCapped{symbol, c}, wait);
}

void WsSession::restart_cap(Sub& s, Channel c) {
  if (std::optional<MaxRateStream>& cap = s.cap(c)) cap->restart(MaxRateStream::now_ns());
}

WsSession::Action WsSession::handle_info(const FlushCapped& f) {
  auto it = subs_.find(f.symbol);
  if (it == subs_.end()) return noreply();
  Sub& s = it->second;
  std::optional<MaxRateStream>& cap = s.cap(f.channel);
  if (!cap) return noreply();  // uncapped since
  cap->timer_armed = false;
  if (!cap->holding() || !s.info) return noreply();
  const std::int64_t now = MaxRateStream::now_ns();
  if (now < cap->due_ns()) {  // a timer of a cap replaced since
    arm_cap_flush(f.symbol, f.channel, *cap, now);
    return noreply();
  }
  return after_push(push(cap->take(*s.info, now), true));
}

bool WsSession::within_rate(bool& close) {
  const std::int64_t now = rt::coarse_monotonic_ms();
  if (now - window_start_ms_ >= 1000) {
    // A window that was within the limit, or a silent one, ends an abuse spell.
    if (!window_over_ || now - window_start_ms_ >= 2000) over_since_ms_.reset();
    window_start_ms_ = now;
    window_count_ = 0;
    window_over_ = false;
  }
  if (++window_count_ <= env_->options.messages_per_second) return true;
  window_over_ = true;
  if (!over_since_ms_) over_since_ms_ = window_start_ms_;
  close = now - *over_since_ms_ >= env_->options.abuse_close_after.count();
  return false;
}

WsSession::Action WsSession::handle_info(ClientText&& c) {
  out_->inbound_handled();
  ClientRequest req;
  std::optional<ClientError> refused;
  if (c.binary) {
    refused = ClientError{"invalid_json", "binary messages are not accepted", std::nullopt};
  } else {
    refused = parse_client_message(c.text, req);
  }
  bool close = false;
  if (!within_rate(close)) {
    env_->metrics.ws_rate_limited.Increment();
    if (close) return stop(rt::ExitReason::shutdown(std::string(kPolicyViolation)));
    return after_push(error(ClientError{
        "rate_limited",
        "more than " + std::to_string(env_->options.messages_per_second) + " messages per second",
        refused ? refused->id : req.id}));
  }
  if (refused) return after_push(error(*refused));
  return handle_request(req);
}

WsSession::Action WsSession::handle_request(const ClientRequest& r) {
  if (r.type == ClientRequest::Type::ping) {
    return after_push(push_control(services::wire::pong(r.id)));
  }
  // The cap before anything else, on distinct names and in O(n): a request
  // over it costs no symbol lookups (API.md: limit_exceeded).
  boost::unordered_flat_set<std::string_view> seen;
  seen.reserve(r.symbols.size());
  std::vector<std::string_view> symbols;
  symbols.reserve(r.symbols.size());
  for (const std::string& symbol : r.symbols) {
    if (seen.insert(symbol).second) symbols.push_back(symbol);
  }
  const boost::unordered_flat_set<std::string_view> channel_names(r.channels.begin(),
                                                                  r.channels.end());
  const std::size_t cap = env_->options.max_subscriptions;
  if (r.type == ClientRequest::Type::subscribe && symbols.size() * channel_names.size() > cap) {
    return after_push(error(ClientError{"limit_exceeded", over_cap_message(cap), r.id}));
  }
  // Every channel and symbol is checked before anything changes.
  std::vector<Channel> channels;
  for (const std::string& name : r.channels) {
    std::optional<Channel> c = services::parse_channel(name);
    if (!c) {
      std::string message = "channels: unknown channel \"";
      message += name;
      message += '"';
      return after_push(error(ClientError{"unknown_channel", std::move(message), r.id}));
    }
    if (std::find(channels.begin(), channels.end(), *c) == channels.end()) channels.push_back(*c);
  }
  for (std::string_view symbol : symbols) {
    if (!services::find_book(*env_->services, symbol)) {
      std::string message = "symbols: unknown symbol \"";
      message += symbol;
      message += '"';
      return after_push(error(ClientError{"unknown_symbol", std::move(message), r.id}));
    }
  }
  return r.type == ClientRequest::Type::subscribe ? subscribe(r, std::move(channels), symbols)
                                                  : unsubscribe(r, std::move(channels));
}

WsSession::Action WsSession::subscribe(const ClientRequest& r, std::vector<Channel> channels,
                                       const std::vector<std::string_view>& symbols) {
  Channels asked;
  for (Channel c : channels) asked.add(c);
  // Count the pairs this adds to the connection's before taking them.
  std::size_t added = 0;
  for (std::string_view symbol : symbols) {
    auto it = subs_.find(symbol);
    for (Channel c : channels) {
      if (it == subs_.end() || !it->second.channels.has(c)) ++added;
    }
  }
  if (subscriptions_ + added > env_->options.max_subscriptions) {
    return after_push(error(
        ClientError{"limit_exceeded", over_cap_message(env_->options.max_subscriptions), r.id}));
  }
  subscriptions_ += added;
  // `subscribed` first: the current state the servers answer follows it.
  if (!push_control(services::wire::subscribed(r.id, r.channels, r.symbols))) {
    return after_push(false);
  }
  for (std::string_view name : symbols) {
    const std::string symbol(name);
    Sub& s = subs_[symbol];
    s.channels = s.channels | asked;
    if (asked.has(Channel::book)) {
      s.book_stream = {r.depth.value_or(services::kDefaultBookDepth), r.max_hz.value_or(0)};
    }
    // The latest subscribe sets the cap (or lifts it), as it sets the depth;
    // the current state sent next supersedes what an old cap held.
    for (Channel c : {Channel::ticker, Channel::top}) {
      if (!asked.has(c)) continue;
      if (r.max_hz) {
        s.cap(c).emplace(*r.max_hz);
      } else {
        s.cap(c).reset();
      }
    }
    sync(symbol, s, asked);
  }
  return noreply();
}

WsSession::Action WsSession::unsubscribe(const ClientRequest& r, std::vector<Channel> channels) {
  Channels removed;
  for (Channel c : channels) removed.add(c);
  for (const std::string& symbol : r.symbols) {
    auto it = subs_.find(symbol);
    if (it == subs_.end()) continue;
    Sub& s = it->second;
    for (Channel c : channels) {
      if (s.channels.has(c)) --subscriptions_;
    }
    s.channels.remove(removed);
    s.feed_live.remove(removed);
    s.book_live.remove(removed);
    for (Channel c : {Channel::ticker, Channel::top}) {
      if (removed.has(c)) s.cap(c).reset();
    }
    if (!s.channels.has(Channel::trades)) close_trades(s);
    const rt::Pid me = self();
    if (s.channels.empty()) {
      leave(it);  // nothing left: status included
      continue;
    }
    Channels feed_gone = removed & Channels{Channel::trades, Channel::ticker};
    if (s.feed && !feed_gone.empty()) {
      rt::cast(*s.feed, services::PriceFeedHandler::Unsubscribe{me, feed_gone});
    }
    if (s.book && !(removed & kBookChannels).empty()) {
      rt::cast(*s.book, services::OrderBookServer::Unsubscribe{me, removed & kBookChannels});
      if ((s.channels & kBookChannels).empty()) {
        if (s.book_monitor) demonitor(s.book_monitor);
        s.book.reset();
        s.book_monitor = {};
        forget_request(s.book_request);
        s.book_want = {};
      }
    }
  }
  return after_push(push_control(services::wire::unsubscribed(r.id, r.channels, r.symbols)));
}

void WsSession::leave(Subs::iterator it) {
  Sub& s = it->second;
  for (std::size_t c = 0; c < services::kChannelCount; ++c) {
    if (s.channels.has(static_cast<Channel>(c))) --subscriptions_;
  }
  close_trades(s);
  const rt::Pid me = self();
  if (s.feed) rt::cast(*s.feed, services::PriceFeedHandler::Unsubscribe{me, kFeedChannels});
  if (s.book) rt::cast(*s.book, services::OrderBookServer::Unsubscribe{me, kBookChannels});
  if (s.feed_monitor) demonitor(s.feed_monitor);
  if (s.book_monitor) demonitor(s.book_monitor);
  forget_request(s.feed_request);
  forget_request(s.book_request);
  subs_.erase(it);
}

WsSession::Action WsSession::handle_info(const Forget& f) {
  auto it = subs_.find(f.symbol);
  // Only the subscription made with that feed: not one made since, anew.
  if (it != subs_.end() && it->second.feed && it->second.feed->pid() == f.feed) leave(it);
  return noreply();
}

void WsSession::sync(const std::string& symbol, Sub& s, Channels fresh) {
  // The feed always: `status` goes to every subscriber of the symbol.
  ask_feed(symbol, s, (fresh & kFeedChannels) | Channels{Channel::status});
  if (!(fresh & kBookChannels).empty()) ask_book(symbol, s, fresh & kBookChannels);
}

void WsSession::ask_feed(const std::string& symbol, Sub& s, Channels ask) {
  s.feed_want = s.feed_want | ask;
  if (s.feed_request) return;  // asked once the answer in flight is in
  if (!s.feed || !s.feed->alive()) {
    auto found = services::find_feed(*env_->services, symbol);
    if (!found) return schedule_retry(symbol, s);
    if (s.feed_monitor) demonitor(s.feed_monitor);
    s.feed = found->server;
    s.feed_monitor = monitor(found->server.pid());
    // A new incarnation: everything, and its ticker counts from 0.
    s.feed_live = {};
    s.feed_want = s.feed_want | (s.channels & kFeedChannels) | Channels{Channel::status};
    s.ticker_seq = 0;
  }
  const Channels asked = s.feed_want & ((s.channels & kFeedChannels) | Channels{Channel::status});
  s.feed_want = {};
  s.feed_request = rt::send_request(
      *s.feed, services::PriceFeedHandler::Subscribe{feed_subscriber(s), asked}, ref());
  requests_.emplace(s.feed_request.id, Pending{symbol, Server::feed, asked});
}

void WsSession::ask_book(const std::string& symbol, Sub& s, Channels ask) {
  s.book_want = s.book_want | ask;
  // After the feed's answer: the current state goes out ticker, top, book.
  if (s.book_request || s.feed_request) return;
  if (!s.book || !s.book->alive()) {
    auto found = services::find_book(*env_->services, symbol);
    if (!found) return schedule_retry(symbol, s);
    if (s.book_monitor) demonitor(s.book_monitor);
    s.book = found->server;
    s.info = found->info;
    s.book_monitor = monitor(found->server.pid());
    s.book_live = {};
    s.book_want = s.book_want | (s.channels & kBookChannels);
  }
  const Channels asked = s.book_want & s.channels & kBookChannels;
  s.book_want = {};
  if (asked.empty()) return;
  s.book_request = rt::send_request(
      *s.book,
      services::OrderBookServer::Subscribe{services::Subscriber::of(ref()), asked, s.book_stream},
      ref());
  requests_.emplace(s.book_request.id, Pending{symbol, Server::book, asked});
}

void WsSession::forget_request(rt::RequestId& id) {
  if (id) requests_.erase(id.id);
  id = {};
}

WsSession::Action WsSession::handle_info(rt::Response<services::SubscribeRequest>&& r) {
  auto pending = requests_.find(r.id.id);
  if (pending == requests_.end()) return noreply();  // forgotten: unsubscribed or restarted
  const Pending p = std::move(pending->second);
  requests_.erase(pending);
  auto it = subs_.find(p.symbol);
  if (it == subs_.end()) return noreply();
  Sub& s = it->second;
  const bool feed = p.server == Server::feed;
  (feed ? s.feed_request : s.book_request) = {};
  Channels& want = feed ? s.feed_want : s.book_want;
  if (!r.result) {
    // Asked again when the retry fires (or the restart's Down arrives).
    want = want | p.asked;
    schedule_retry(p.symbol, s);
  } else {
    const bool ok = feed ? feed_answered(p.symbol, s, p.asked, *r.result)
                         : book_answered(p.symbol, s, p.asked, *r.result);
    if (!ok) return after_push(false);
    if (!want.empty()) feed ? ask_feed(p.symbol, s, {}) : ask_book(p.symbol, s, {});
  }
  // The book waits for the feed's answer (ask_book).
  if (feed && !s.book_want.empty()) ask_book(p.symbol, s, {});
  return noreply();
}

bool WsSession::feed_answered(const std::string& symbol, Sub& s, Channels asked,
                              const services::Subscribed& answer) {
  for (const FramePtr& f : answer.current) {
    if (f->kind == Frame::Kind::removed) {
      // The symbol is being deleted: tell the client, then forget it.
      rt::send(ref(), Forget{symbol, s.feed->pid()});
      return push(f, false);
    }
    if (f->channel != Channel::status && !s.channels.has(f->channel)) continue;
    if (f->channel == Channel::ticker) {
      s.ticker_seq = f->seq;
      restart_cap(s, Channel::ticker);
    }
    if (!push(f, true)) return false;
  }
  s.feed_live = s.feed_live | (asked & s.channels);
  return true;
}

bool WsSession::book_answered(const std::string& symbol, Sub& s, Channels asked,
                              const services::Subscribed& answer) {
  for (const FramePtr& f : answer.current) {
    if (!s.channels.has(f->channel)) continue;  // unsubscribed since
    if (f->channel == Channel::top) s.top_seq = f->seq;
    if (f->channel == Channel::book) s.book_seq = f->seq;
    if (kCappable.has(f->channel)) restart_cap(s, f->channel);
    // Candles are whole states, sent once a second: never conflated.
    if (!push(f, f->channel == Channel::top || f->channel == Channel::book)) return false;
  }
  s.book_live = s.book_live | (asked & s.channels);
  if (s.recovering) {
    s.recovering = false;
    return push_control(book_status(symbol, services::wire::FeedState::live));
  }
  return true;
}

std::string WsSession::book_status(const std::string& symbol, services::wire::FeedState state) {
  // A book restart says nothing about the feed's age: 0.
  return services::wire::status(services::SymbolInfo{symbol, {}}, state, 0);
}

services::Subscriber WsSession::feed_subscriber(Sub& s) {
  if (!s.channels.has(Channel::trades)) return services::Subscriber::of(ref());
  if (!s.trades) s.trades = std::make_shared<TradeLane>(out_, ref());
  return services::Subscriber::of(ref(), Channels{Channel::trades}, s.trades);
}

void WsSession::close_trades(Sub& s) {
  if (s.trades) std::exchange(s.trades, nullptr)->close();
}

WsSession::Action WsSession::handle_info(ResyncBooks&& r) {
  resync_books(std::move(r.symbols));
  return noreply();
}

void WsSession::schedule_retry(const std::string& symbol, Sub& s) {
  if (s.retry_pending) return;
  s.retry_pending = true;
  // 10 ms, doubling to 1 s: a restart is usually over within the first try.
  s.retry_delay =
      std::clamp(s.retry_delay * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  rt::send_after(ref(), Retry{symbol}, s.retry_delay);
}

WsSession::Action WsSession::handle_info(const Retry& r) {
  auto it = subs_.find(r.symbol);
  if (it == subs_.end()) return noreply();
  Sub& s = it->second;
  s.retry_pending = false;
  const bool feed_due = !s.feed_want.empty() && !s.feed_request;
  const bool book_due = !s.book_want.empty() && !s.book_request;
  if (!feed_due && !book_due) {
    s.retry_delay = std::chrono::milliseconds(0);  // in sync (or being answered)
    return noreply();
  }
  if (feed_due) ask_feed(r.symbol, s, {});
  if (book_due) ask_book(r.symbol, s, {});
  return noreply();
}

WsSession::Action WsSession::handle_info(const rt::Down& d) {
  for (auto& [symbol, s] : subs_) {
    if (s.feed_monitor == d.ref) {
      // The feed handler restarted: subscribe to its successor.
      s.feed.reset();
      s.feed_monitor = {};
      forget_request(s.feed_request);
      ask_feed(symbol, s, Channels{Channel::status});
      return noreply();
    }
    if (s.book_monitor == d.ref) {
      // The book restarts from its journal (API.md "Durability"): `recovering`,
      // then a fresh snapshot from its successor, then `live`.
      s.book.reset();
      s.book_monitor = {};
      forget_request(s.book_request);
      s.book_live = {};
      if (!s.recovering) {
        s.recovering = true;
        if (!push_control(book_status(symbol, services::wire::FeedState::recovering))) {
          return after_push(false);
        }
      }
      ask_book(symbol, s, s.channels & kBookChannels);
      return noreply();
    }
  }
  return noreply();
}

WsSession::Action WsSession::handle_info(const rt::ExitSignal& s) {
  // {shutdown, slow_consumer} from a server that could not deliver a trade, or
  // a shutdown from a process closing every session: end with that reason. A
  // `normal` signal does not end a process that is not trapping, nor this one.
  if (s.reason.is(rt::ExitReason::Kind::normal)) return noreply();
  return stop(s.reason);
}

void WsSession::arm_heartbeat(std::chrono::milliseconds after) {
  rt::send_after(ref(), HeartbeatCheck{}, std::max(after, std::chrono::milliseconds(1)));
}

WsSession::Action WsSession::handle_info(const HeartbeatCheck&) {
  const auto every = env_->options.heartbeat_after;
  const std::int64_t idle = rt::coarse_monotonic_ms() - out_->last_push_ms();
  if (idle < every.count()) {
    arm_heartbeat(every - std::chrono::milliseconds(idle));
    return noreply();
  }
  arm_heartbeat(every);
  return after_push(push_control(services::wire::heartbeat(services::wall_clock_ns())));
}

}  // namespace

void start_ws_session(beast::tcp_stream stream, http::request<http::string_body> upgrade,
                      std::shared_ptr<const WsEnvironment> env, std::shared_ptr<const void> hold) {
  auto conn = std::make_shared<Connection>(std::move(stream), std::move(env), std::move(hold));
  net::any_io_executor ex = conn->executor();
  net::dispatch(ex, [conn = std::move(conn), up = std::move(upgrade)]() mutable {
    conn->run(std::move(up));
  });
}

std::size_t close_all_ws_sessions(WsSessions& sessions) {
  const auto entries = sessions.lookup(std::string_view("ws"));
  for (const auto& e : entries) {
    rt::exit(e.pid, rt::ExitReason::shutdown(std::string(kGoingAway)));
  }
  return entries.size();
}

}  // namespace api
