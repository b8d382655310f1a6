#pragma once
// BookState: a symbol's book and what the API keeps beside it — the resting
// API orders and their owners, the remembered client orders (idempotent
// repeats), the upstream tick seq, the times of the last changes — with the
// code that changes them, apart from any process (docs/decisions/025); and
// its trade stream's ticker, candles and last trades, so that they survive
// restarts too (docs/decisions/026).
//
// The live OrderBookServer owns one; recovery and `depth?at=T`
// (services/book_history.hpp) run journal records through apply(), the same
// code that applied them first, so a book rebuilt from its journal equals
// the live one byte for byte (snapshot()).
//
// What a change produced for others — trades for the trade stream, counts
// for the metrics — collects in effects() for the owner to forward; the
// owner hears each book change as it happens through a ChangeListener (to
// publish while the book is at that change). Owners' resting-order counts
// (--max-orders-per-key) are kept in the RestingOrderCounts given, if any:
// the limits themselves are the owner's checks before it journals a
// request, never repeated by a replay.
// Thread-safety: a value type; one thread at a time.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "feeds/event.hpp"
#include "orderbook/order_book.hpp"
#include "services/api_order.hpp"
#include "services/book_snapshot.hpp"
#include "services/candles.hpp"
#include "services/journal_record.hpp"
#include "services/recent_trades.hpp"
#include "services/symbol_spec.hpp"
#include "services/tick.hpp"
#include "services/wire.hpp"

namespace services {

class RestingOrderCounts;

/// One rejected event of a batch: its index in the batch, why, and a message.
struct EventFailure {
  std::uint32_t index = 0;
  feeds::EventError code = feeds::EventError::invalid_field;
  std::string message;
};

/// The top `levels` of each side with the book seq they reflect.
struct Depth {
  std::uint64_t seq = 0;
  std::vector<ob::LevelView> bids, asks;
  std::int64_t ts_ns = 0;
};

class BookState {
 public:
  /// Hears each change of the book right after it is made.
  class ChangeListener {
   public:
    virtual void on_change(const ob::ChangeSet& change) = 0;

   protected:
    ~ChangeListener() = default;
  };
  /// What the changes since the last take_effects() produced for others.
  struct Effects {
    std::vector<Tick> ticks;  ///< ingested ticks and trades, in order
    bool touched = false;     ///< the book changed
    std::uint64_t orders = 0, cancels = 0, trades = 0;
    std::uint64_t seq_rejects = 0, seq_gaps = 0;  ///< upstream tick seq judged
  };
  /// An order placed with a client_order_id: its fields and its last known report.
  struct ClientOrder {
    OrderRequest fields;
    OrderReport last;
  };
  /// How many client orders are remembered; the oldest are forgotten past it.
  static constexpr std::size_t kClientOrdersRemembered = 10'000;

  /// An empty book of `spec` numbering its orders from `first_order_id`.
  BookState(SymbolSpec spec, std::uint64_t first_order_id, RestingOrderCounts* resting = nullptr,
            ChangeListener* listener = nullptr);

  const SymbolSpec& spec() const noexcept { return spec_; }
  const ob::OrderBook& book() const noexcept { return book_; }
  /// Times of the last change of the top, of the book, and of the last timed
  /// record applied (receipt time of events, time of an API order or cancel).
  std::int64_t top_ts_ns() const noexcept { return top_ts_ns_; }
  std::int64_t book_ts_ns() const noexcept { return book_ts_ns_; }
  std::int64_t last_record_ns() const noexcept { return last_record_ns_; }
  /// The trade stream's ticker: every trade and ingested tick so far.
  const wire::Ticker& ticker() const noexcept { return ticker_; }
  /// The trade stream's candles, and its last trades.
  const Candles& candles() const noexcept { return candles_; }
  const RecentTrades& recent_trades() const noexcept { return recent_trades_; }

  /// Applies a batch of events in order; the failures with their index. Adds
  /// past `max_orders` resting orders are refused (limit_exceeded).
  std::vector<EventFailure> apply_events(const std::vector<feeds::Event>& events,
                                         std::int64_t receipt_ns, std::size_t max_orders);
  /// Places an order that passed the checks a replay does not repeat (mode,
  /// idempotent repeat, resting limits: the owner's count is reserved if it may rest).
  ob::Result<OrderReport> place(const OrderRequest& o, std::int64_t ts_ns);
  /// Cancels a resting API order found by find_api_order.
  OrderReport cancel(ob::OrderId id, std::int64_t ts_ns);
  /// Order ids continue from `next` (a new incarnation's block).
  void skip_order_ids_to(std::uint64_t next) { book_.skip_order_ids_to(next); }
  /// Applies a journal record as when it was first applied; why it cannot be
  /// (a spec record of another book, or after changes).
  std::optional<std::string> apply(const journal::Record& r);

  /// A resting API order of `owner` by its id string; upstream ids never match.
  std::optional<ob::OrderId> find_api_order(std::string_view id, std::string_view owner) const;
  /// The top `levels` of each side.
  Depth depth(std::size_t levels) const;
  /// A resting order as API.md's Order.
  ob::Result<OrderReport> report(ob::OrderId id) const;
  /// The remembered order of (owner, client_order_id), or null.
  const ClientOrder* remembered_order(std::string_view owner,
                                      std::string_view client_order_id) const;

  /// The state as a snapshot (restore() of it gives an equal state).
  BookSnapshot snapshot() const;
  /// Takes a snapshot's state (into an empty BookState); checked whole
  /// before anything changes, so a refused one leaves the state as it was.
  std::optional<std::string> restore(BookSnapshot&& s);
  /// Releases every resting API order's count (the book is going away).
  void release_resting();

  /// What the changes so far produced; take_effects() hands it over and clears it.
  const Effects& effects() const noexcept { return effects_; }
  Effects take_effects();

 private:
  struct ApiOrder {
    std::string owner;
    std::string client_order_id;
    ob::OrderType type;
    ob::TimeInForce tif;
    ob::Qty qty;  // as entered
  };

  /// A trade or ingested tick: into the ticker and the effects.
  void trade(const Tick& t);
  std::optional<EventFailure> apply_one(const feeds::Event& e, std::int64_t receipt_ns,
                                        std::size_t max_orders);
  /// After a book operation: times, trades, filled API orders, the listener.
  void after_change(std::int64_t ts_ns);
  /// Drops a resting API order's record and its owner's count; its
  /// remembered client order (if any) takes its last state from `last`.
  void forget_api_order(std::uint64_t id, const OrderReport* last = nullptr);
  void remember_order(const OrderRequest& o, const OrderReport& rep);
  ClientOrder* remembered(std::string_view owner, std::string_view client_order_id);
  std::string id_string(ob::OrderId id) const;
  void reserve_unconditionally(const std::string& owner);
  void release(const std::string& owner);

  SymbolSpec spec_;
  RestingOrderCounts* resting_;
  ChangeListener* listener_;
  ob::OrderBook book_;
  std::unordered_map<std::uint64_t, ApiOrder> api_orders_;  // resting API orders
  // By owner + '\n' + client_order_id; client_order_age_ has the keys, oldest first.
  std::unordered_map<std::string, ClientOrder> client_orders_;
  std::deque<std::string> client_order_age_;
  std::uint64_t last_upstream_seq_ = 0;  // of the last applied tick that had one
  std::int64_t top_ts_ns_ = 0;
  std::int64_t book_ts_ns_ = 0;
  std::int64_t last_record_ns_ = 0;
  wire::Ticker ticker_;
  Candles candles_;
  RecentTrades recent_trades_;
  Effects effects_;
};

}  // namespace services
