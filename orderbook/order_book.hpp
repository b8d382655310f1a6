#pragma once
// OrderBook: a price-time-priority limit order book for one symbol, in one of
// three modes (API.md "Book modes"):
//   venue  - the matching engine: a crossing add trades against resting
//            orders at their price in price-time order; never crossed.
//   mirror - a verbatim L3 copy of an upstream book: adds rest as given and
//            are never matched (fills arrive as execute); may be crossed.
//   l2     - aggregated levels only: set_level / apply_snapshot.
// An operation of the wrong kind for the mode fails with mode_mismatch.
//
// Every mutating operation either fails with an ErrorCode and changes nothing,
// or succeeds and describes its effect in last_change(): the level deltas,
// the trades, the book seq (one per operation that changed the book) and
// whether the top of book changed. The ChangeSet is reused, so it is valid
// until the next mutating call.
//
// Prices and quantities are ticks and lots (see price.hpp, decimal.hpp).
// Hot path: O(1) id lookup, O(1) best level, levels indexed by tick offset
// around the best price, intrusive FIFO lists in pools, no allocation per
// operation in the steady state (docs/decisions/002-orderbook-hot-path.md).
//
// Thread-safety: not thread-safe: owned by one thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "orderbook/book_image.hpp"
#include "orderbook/detail/external_ids.hpp"
#include "orderbook/detail/id_index.hpp"
#include "orderbook/detail/price_ladder.hpp"
#include "orderbook/events.hpp"
#include "orderbook/order_id.hpp"
#include "orderbook/price.hpp"
#include "orderbook/result.hpp"
#include "orderbook/side.hpp"

namespace ob {

class OrderBook {
 public:
  /// An empty book; `expected_orders` pre-sizes the pools (optional);
  /// `first_order_id` is the id the first add() takes (an owner that must
  /// never reuse ids across book incarnations seeds it; below kExternalBit).
  explicit OrderBook(Mode mode = Mode::venue, std::size_t expected_orders = 0,
                     std::uint64_t first_order_id = 1);

  Mode mode() const { return mode_; }

  // ---- L3 operations (venue and mirror) ------------------------------------

  /// Adds an order with a book-assigned id (1, 2, ... - consumed even when the
  /// order fills at once or is cancelled). Venue: limit gtc/ioc/fok and market.
  /// Mirror: limit gtc only (rests, never matches). Errors: invalid_price,
  /// invalid_quantity, mode_mismatch. Level totals are 128-bit: exact however
  /// many orders rest at a price, so what rests never makes an order fail.
  Result<AddResult> add(const NewOrder& order);

  /// Adds a gtc limit order under an upstream id (venue: matches; mirror:
  /// rests). Errors as add, plus duplicate_order and invalid_field (empty id).
  Result<AddResult> add_external(std::string_view external_id, Side side, Price price, Qty qty);

  /// The internal id of a resting upstream order; unknown_order if none.
  Result<OrderId> resolve(std::string_view external_id) const;

  /// The upstream id of `id`: for resting orders and for orders removed by the
  /// last operation (so trades can be reported); empty if none.
  std::string_view external_id(OrderId id) const;

  /// Removes a resting order. Errors: unknown_order, mode_mismatch.
  Status cancel(OrderId id);

  /// Removes `by` lots from an order, keeping its priority; removes the order
  /// when nothing remains. Returns the remaining qty. Errors: unknown_order,
  /// invalid_quantity (by <= 0 or more than remains), mode_mismatch.
  Result<Qty> reduce(OrderId id, Qty by);

  /// A feed execution: fills `qty` of a resting order at its price (or at
  /// `price`), reporting a trade with taker 0 and the aggressor opposite the
  /// maker. Errors: unknown_order, invalid_quantity, invalid_price, mode_mismatch.
  Result<Qty> execute(OrderId id, Qty qty, std::optional<Price> price = std::nullopt);

  /// Changes price and/or qty, keeping the id. Same price and smaller qty
  /// keeps priority; a price change or a larger qty goes to the back of the
  /// queue (venue: and may match). Unchanged values change nothing.
  Result<AddResult> modify(OrderId id, Price price, Qty qty);

  /// Removes an order and adds a new one with a new book-assigned id
  /// (losing priority; venue: may match). Errors as cancel + add.
  Result<AddResult> replace(OrderId id, Price price, Qty qty);

  /// Removes an order and adds a new upstream-id order in its place.
  Result<AddResult> replace_external(OrderId id, std::string_view new_external_id, Price price,
                                     Qty qty);

  // ---- L2 operations (l2 mode) ---------------------------------------------

  /// Sets a level's aggregate qty; 0 removes it (a missing level is a no-op).
  Status set_level(Side side, Price price, Qty qty);

  /// Replaces both sides with the given levels (qty > 0, distinct prices per
  /// side); the deltas list only the levels that differ.
  Status apply_snapshot(std::span<const LevelView> bids, std::span<const LevelView> asks);

  // ---- queries -------------------------------------------------------------

  /// The best level of a side in O(1), or nullopt when the side is empty.
  std::optional<LevelView> best(Side side) const;
  /// The top `n` levels of a side, best first, into `out` (cleared first).
  void depth(Side side, std::size_t n, std::vector<LevelView>& out) const;
  /// The best level of a side strictly worse than `price` (which need not be a
  /// level), or nullopt: O(1) near the top, O(log levels) far from it.
  std::optional<LevelView> next_worse(Side side, Price price) const;
  /// A resting order by id.
  std::optional<OrderView> order(OrderId id) const;
  /// The orders of one level in time priority (for tests and snapshots).
  void level_orders(Side side, Price price, std::vector<OrderView>& out) const;

  std::size_t order_count() const { return side_orders_[0] + side_orders_[1]; }
  /// Resting orders on one side.
  std::size_t order_count(Side side) const { return side_orders_[static_cast<std::size_t>(side)]; }
  std::size_t level_count(Side side) const { return ladder(side).size(); }
  /// The book seq: the number of operations that changed the book.
  std::uint64_t seq() const { return seq_; }
  /// What the last mutating operation changed (valid until the next one).
  const ChangeSet& last_change() const { return change_; }
  /// The id the next add() will take.
  OrderId next_order_id() const { return OrderId(next_id_); }
  /// Book-assigned ids continue from `next` (an owner's new incarnation skips
  /// ids an earlier one may have handed out); no-op unless above the current
  /// next id and below OrderId::kExternalBit.
  void skip_order_ids_to(std::uint64_t next);
  /// Approximate heap bytes held by the book's structures.
  std::size_t memory_bytes() const;

  // ---- images (book_image.hpp) ---------------------------------------------

  /// An exact image of the book for snapshots: mode, seq, id and trade
  /// counters, and the resting orders (l2: levels) in priority order. O(orders).
  BookImage image() const;

  /// Rebuilds the book `image` was taken of: the same queries, and every later
  /// operation gives the same result and ChangeSet as on the original (what an
  /// image leaves out: book_image.hpp). O(orders), no matching; the pools are
  /// sized for max(expected_orders, the image's orders). Refuses an image no
  /// book can have (read from damaged storage, or written by a buggy version):
  /// invalid_price / invalid_quantity (an order's or level's, as add and
  /// apply_snapshot would; also an l2 total of 2^95 or more), invalid_price for
  /// an l2 price twice on a side, duplicate_order (an id or an upstream id
  /// twice), mode_mismatch (orders in an l2 image, levels in a venue or mirror
  /// one), limit_exceeded (2^32 - 2 orders or more), invalid_field for the rest
  /// (an id not below its counter, an upstream id missing or stray, orders out
  /// of priority order, a crossed or locked venue book, counters no book can
  /// reach). Debug builds assert check_invariants() on the result.
  static Result<OrderBook> from_image(const BookImage& image, std::size_t expected_orders = 0);

  /// Checks every structural invariant (never crossed in venue mode, level
  /// totals and counts equal their orders, FIFO links, id index, counts);
  /// returns a description of the first violation, or nullopt. O(orders).
  /// Debug builds (no NDEBUG) also assert it every 1,024 book changes.
  std::optional<std::string> check_invariants() const;

 private:
  // 32 bytes, aligned so one order never straddles two cache lines.
  struct alignas(32) Order {
    std::uint64_t id = 0;
    Qty qty;
    std::uint32_t level = detail::kNil;
    std::uint32_t prev = detail::kNil;
    std::uint32_t next = detail::kNil;  // reused as the free-list link
    Side side = Side::buy;
  };
  struct Top {
    Price bid, ask;
    LevelQty bid_qty, ask_qty;
    bool operator==(const Top&) const = default;
  };

  static std::int64_t key_of(Side s, Price p) { return s == Side::buy ? -p.ticks() : p.ticks(); }
  static Price price_of(Side s, std::int64_t key) { return Price(s == Side::buy ? -key : key); }

  detail::PriceLadder& ladder(Side s) { return s == Side::buy ? bids_ : asks_; }
  const detail::PriceLadder& ladder(Side s) const { return s == Side::buy ? bids_ : asks_; }

  Top top() const;
  void begin_op();
  void end_op(const Top& before);
  void emit(Side side, const detail::Level& level);

  Status check_l3(Price price, Qty qty) const;
  Qty available(Side taker_side, Price limit, bool market, Qty wanted) const;
  // own_level: the order's level if already looked up (kNil: absent), else kLookup.
  AddResult place(std::uint64_t id, Side side, Price price, Qty qty, OrderType type,
                  TimeInForce tif, std::uint32_t own_level = detail::kNil - 1);
  Qty match(std::uint64_t taker, Side side, Price limit, bool market, Qty qty);
  void rest(std::uint64_t id, Side side, Price price, Qty qty, std::uint32_t level);
  // Links a new order at the tail of level li and indexes it (no event); its slot.
  [[gnu::always_inline]] inline std::uint32_t append(std::uint64_t id, Side side, Qty qty,
                                                     std::uint32_t li);
  // from_image's second half: the orders (levels) into this empty book, checked.
  Status restore_orders(std::span<const BookImage::Order> orders);
  Status restore_levels(std::span<const BookImage::Level> levels);
  void unlink(std::uint32_t o);
  void remove_order(std::uint32_t o);
  std::uint32_t find(OrderId id) const { return find_slot(id.value()); }
  std::uint32_t find_slot(std::uint64_t id) const {
    return ids_.find(id, [this](std::uint32_t o) { return orders_[o].id; });
  }
  std::uint32_t allocate_order();
  void take(std::uint32_t o, Qty qty);
  void attach_external(std::uint64_t id, std::string_view name, std::uint64_t hash);
  Result<AddResult> replace_impl(OrderId id, std::string_view new_ext, bool external, Price price,
                                 Qty qty);

  Mode mode_;
  detail::PriceLadder bids_;
  detail::PriceLadder asks_;
  std::vector<Order> orders_;
  std::uint32_t free_order_ = detail::kNil;
  detail::IdIndex ids_;
  std::array<std::size_t, 2> side_orders_{};  // resting orders by side
  std::uint64_t next_id_ = 1;
  std::uint64_t next_external_ = OrderId::kExternalBit | 1;
  TradeId next_trade_ = 1;
  std::uint64_t seq_ = 0;
  ChangeSet change_;
  // Upstream ids: per order slot the string, indexed by its hash.
  detail::ExternalIds<> external_;
  std::vector<std::int64_t> scratch_keys_;
  std::vector<std::uint32_t> scratch_levels_;
  std::uint32_t last_rested_ = detail::kNil;  // the order slot the last place() filled
};

}  // namespace ob
