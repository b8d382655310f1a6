#pragma once
// OrderBookServer(symbol): owns the symbol's order book in its mode (venue,
// mirror or l2; API.md "Book modes") and is the only way to change it. The
// book and the code that changes it are a BookState (services/book_state.hpp);
// this is its process: journal first, answer, publish, forward, count.
//
// - Applies normalized events in batches (Apply: fire-and-forget, failures
//   counted; ApplyReport: a call answering every failure with its index) and
//   API orders in venue mode (place with matching, cancel, lookup).
// - Answers top-of-book and depth with the book `seq` they reflect.
// - Publishes `top` (when the best bid/ask changed) and `book` frames: a
//   subscriber gets a snapshot of its depth window (API.md "Book depth")
//   whose seq is the last change it includes, then a book_update per change
//   that touched the window; one that follows changes beyond the window
//   carries `merged`. Subscribers of one depth share one window and one frame
//   per change (docs/decisions/018-book-depth-window.md); without book
//   subscribers no window work is done. A snapshot costs at most
//   2 * kMaxBookDepth levels, which bounds a Subscribe's turn.
// - Judges feed ticks' upstream `seq`: one not greater than the last applied
//   is rejected stale_seq (a forward jump is applied and counted as a gap).
// - Sends every trade to the symbol's PriceFeedHandler as a Tick, and other
//   updates as (rate-limited) Touches, so freshness covers the whole symbol.
//
// Durability (API.md "Durability", docs/decisions/023): with journals, every
// request that may change the book is appended to the symbol's journal
// *before* it is applied, as it came; a call is answered once its record is
// durable. init() rebuilds the book by replaying the journal through the same
// code, so seq, ids and resting orders continue after a crash or a restart.
// A journal that refuses a record gets `unavailable` and nothing changes; a
// record that fails to become durable stops the server (its book is ahead of
// its journal) and its successor recovers; a server that starts while the
// journal is unhealthy refuses writes (`unavailable`) and probes it once a
// second with its first record (the spec, or its incarnation's ids).
// On a crash the supervisor restarts it and it re-registers; subscribers
// monitor it and resubscribe (a fresh snapshot).
// Thread-safety: a process; talk to it with the messages below.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "feeds/event.hpp"
#include "orderbook/order_book.hpp"
#include "runtime/gen_server.hpp"
#include "services/api_order.hpp"
#include "services/book_snapshot.hpp"
#include "services/book_state.hpp"
#include "services/book_window.hpp"
#include "services/candle_feed.hpp"
#include "services/context.hpp"
#include "services/journal_record.hpp"
#include "services/max_rate_stream.hpp"
#include "services/price_feed_handler.hpp"
#include "services/subscriber_set.hpp"
#include "services/wire.hpp"

namespace services {

class OrderBookServer : public rt::GenServer<OrderBookServer>, private BookState::ChangeListener {
 public:
  /// Normalized events for this symbol, in order (cast). `receipt_ns` stamps
  /// events without ts_ns.
  struct Apply {
    std::vector<feeds::Event> events;
    std::int64_t receipt_ns = 0;
  };
  /// The same, answering every failure (call; POST /ingest).
  struct ApplyReport {
    std::vector<feeds::Event> events;
    std::int64_t receipt_ns = 0;
    using Reply = std::vector<EventFailure>;
  };
  /// Places an API order (venue mode only: else mode_mismatch).
  struct PlaceOrder {
    OrderRequest order;
    using Reply = ob::Result<OrderReport>;
  };
  /// Cancels a resting API order of `owner` by the id marketd gave it.
  /// mode_mismatch on a mirror or l2 symbol (checked first); unknown_order
  /// for any other id, including upstream ids and other owners' orders.
  struct CancelOrder {
    std::string order_id;
    std::string owner;
    using Reply = ob::Result<OrderReport>;
  };
  /// A resting API order of `owner` (unknown_order otherwise, as for cancel).
  struct GetOrder {
    std::string order_id;
    std::string owner;
    using Reply = ob::Result<OrderReport>;
  };
  struct GetTop {
    using Reply = wire::Top;
  };
  /// The canonical dump of the server's state: its snapshot bytes (book image,
  /// API orders, remembered client orders). Equal dumps, equal futures.
  struct Dump {
    using Reply = std::string;
  };
  struct GetDepth {
    std::size_t levels = 10;
    using Reply = Depth;
  };
  /// The most recent `limit` candles of `interval` starting in [from_ns, to_ns),
  /// oldest first, and whether the ring still holds every one of them.
  struct GetCandles {
    CandleInterval interval = CandleInterval::m1;
    std::int64_t from_ns = 0;
    std::int64_t to_ns = 0;
    std::size_t limit = 500;
    struct Reply {
      std::vector<Candle> candles;
      bool complete = true;  ///< false: older ones left the ring (the journal has them)
    };
  };
  /// The newest `limit` trades, newest first.
  struct GetTrades {
    std::size_t limit = 100;
    using Reply = std::vector<TradeRecord>;
  };
  /// Adds channels (top, book, candles:I) for a subscriber; the answer holds
  /// the current top, a book snapshot (of `book_depth` levels per side) and
  /// the newest candles for the channels asked for. Subscribing to book again gets a fresh snapshot
  /// (how a conflated session resyncs) and may change the depth.
  using Subscribe = SubscribeRequest;
  using Unsubscribe = UnsubscribeRequest;
  /// Sends the symbol's PriceFeedHandler the ticker this book keeps (cast;
  /// a restarted handler asks for it).
  struct SendTicker {};

  OrderBookServer(SymbolInfoPtr info, ContextPtr ctx);

  Action init();
  Action handle_cast(Apply&& a);
  CallAction<std::vector<EventFailure>> handle_call(ApplyReport&& a,
                                                    From<std::vector<EventFailure>>&);
  CallAction<ob::Result<OrderReport>> handle_call(const PlaceOrder& p,
                                                  From<ob::Result<OrderReport>>&);
  CallAction<ob::Result<OrderReport>> handle_call(const CancelOrder& c,
                                                  From<ob::Result<OrderReport>>&);
  CallAction<ob::Result<OrderReport>> handle_call(const GetOrder& g,
                                                  From<ob::Result<OrderReport>>&);
  CallAction<wire::Top> handle_call(const GetTop&, From<wire::Top>&);
  CallAction<std::string> handle_call(const Dump&, From<std::string>&);
  CallAction<Depth> handle_call(const GetDepth& g, From<Depth>&);
  CallAction<GetCandles::Reply> handle_call(const GetCandles& g, From<GetCandles::Reply>&);
  CallAction<std::vector<TradeRecord>> handle_call(const GetTrades& g,
                                                   From<std::vector<TradeRecord>>&);
  CallAction<Subscribed> handle_call(const Subscribe& s, From<Subscribed>&);
  Action handle_cast(const Unsubscribe& u);
  Action handle_cast(const SendTicker&);
  Action handle_info(const rt::Down& d);
  /// Once a second while anyone follows candles: sends what CandleFeed says is due.
  struct CandleTick {};
  Action handle_info(const CandleTick&);
  /// A capped book stream's period is over: sends what it holds.
  struct FlushBook {
    BookStream stream;
  };
  Action handle_info(const FlushBook& f);

  /// From the journal's I/O thread: a record applied in memory is not durable.
  struct JournalFailed {
    std::string reason;
  };
  /// The answer to a probe record written while refusing.
  struct ProbeDone {
    std::uint64_t seq = 0;
    bool durable = false;
    std::string reason;
  };
  /// Time to probe the journal again.
  struct ProbeTick {};
  Action handle_cast(const JournalFailed& f);
  Action handle_cast(const ProbeDone& p);
  Action handle_info(const ProbeTick&);

 private:
  /// Applies a batch through the state; logs (at most once a second) adds
  /// refused by --max-orders-per-book.
  std::vector<EventFailure> apply_events(const journal::EventsRecord& rec);

  // ---- durability (order_book_recovery.cpp) ----
  /// Rebuilds the book from the journal; the error says why it cannot.
  std::optional<std::string> recover();
  /// Why a write must be refused now (journal refusing), or nullopt.
  std::optional<std::string> refusing() const { return refusing_; }
  /// Appends a request's record (journal::encode'd) before it is applied; the
  /// error when refused. `done` runs on the journal's thread once it is durable or failed.
  std::optional<std::string> append(std::string payload, storage::JournalWriter::OnDurable done);
  /// Runs `apply` for a call whose record goes to the journal first and
  /// answers once the record is durable; `refused` answers when the journal
  /// refuses it (then `apply` does not run). Without journals: applies, answers.
  template <class R, class Rec, class F>
  CallAction<R> durably(From<R>& from, const Rec& record, R refused, F&& apply);
  /// After a change: snapshots when the policy says it is time.
  void maybe_snapshot();
  /// Starts refusing writes and probing the journal once a second with `probe`
  /// (a record whose effect this server already has: failing it harms nothing).
  void start_refusing(std::string reason, std::string probe);
  /// A callback that tells this server when a record applied in memory failed.
  storage::JournalWriter::OnDurable report_failure();
  /// Publishes a change of the book to its top and book subscribers.
  void on_change(const ob::ChangeSet& c) override;
  void refresh_gauges();
  wire::Top top() const;
  FramePtr frame(Channel c, Frame::Kind k, std::uint64_t seq, std::string json,
                 std::uint64_t merged = 1) const;
  /// A candles:I frame.
  FramePtr candle_frame(const CandleFeed::Due& due, Frame::Kind k) const;
  /// The candles:I channels somebody follows.
  Channels followed_candles() const;
  /// Arms the candle timer for just after the next whole second, unless armed.
  void arm_candle_tick();
  // The book subscribers of one BookStream: their shared window, the book seq
  // of the last change in their stream, the last snapshot (reused while the
  // book stays at it), and the stream's max_hz cap, if any.
  struct BookGroup {
    BookStream stream;
    BookWindow window;
    std::uint64_t last_seq = 0;
    FramePtr snapshot;
    std::optional<MaxRateStream> cap;
  };
  /// Publishes the last change to each group whose window it touched.
  void publish_book(const ob::ChangeSet& c);
  /// Sends `update` to the group's members now, or through its cap.
  void publish_book(BookGroup& g, FramePtr update);
  /// Arms the FlushBook timer for when the group's cap may send again.
  void arm_book_flush(BookGroup& g, std::int64_t now);
  /// The snapshot for a new subscriber of `stream`; brings the group's
  /// members to the current seq first (so `merged` stays exact for everyone).
  FramePtr book_snapshot(BookStream stream);
  /// Drops the groups no subscriber uses any more.
  void prune_book_groups();
  /// Sends the feed handler what the last handler's operations produced: the
  /// trades as one Ticks message, else a Touch; adds up the counters; and
  /// snapshots when it is time.
  void flush();
  template <class M>
  void to_feed(M msg);

  /// At exit (a crash too): the book goes, so do its owners' resting counts;
  /// not in the destructor, which a Pid held elsewhere may delay.
  class ReleaseOnExit final : public rt::ExitHook {
   public:
    explicit ReleaseOnExit(OrderBookServer& server) : server_(server) {}
    void on_process_exit(rt::Process&) noexcept override;

   private:
    OrderBookServer& server_;
  };

  SymbolInfoPtr info_;
  ContextPtr ctx_;
  ReleaseOnExit release_on_exit_{*this};
  SymbolMetrics metrics_;
  BookState state_;
  const ob::OrderBook& book_ = state_.book();
  SubscriberSet subscribers_;
  std::optional<rt::Ref<PriceFeedHandler>> feed_;  // cached registry lookup
  std::int64_t last_touch_ms_ = -1'000'000;
  std::int64_t last_limit_log_ms_ = -1'000'000;
  std::vector<BookGroup> book_groups_;  // one per stream in use: few
  std::vector<ob::LevelDelta> scratch_changes_;
  CandleFeed candle_feed_;
  bool candle_tick_armed_ = false;
  std::vector<CandleFeed::Due> scratch_due_;
  // Durability: the journals (null: none), the last record appended, and why
  // writes are refused while the journal does not take them.
  Journals* journals_ = nullptr;
  std::uint64_t journal_seq_ = 0;
  bool replaying_ = false;  // in recover(): nothing is forwarded or counted
  std::optional<std::string> refusing_;
  std::string probe_;               // the record written to probe a refusing journal
  std::uint64_t snapshot_seq_ = 0;  // the journal seq of the last snapshot taken (or loaded)
  std::int64_t last_snapshot_ms_ = 0;
  std::int64_t last_refusal_log_ms_ = -1'000'000;
};

}  // namespace services
