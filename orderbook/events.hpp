#pragma once
// What one book operation changed: level deltas, trades, the book sequence
// number and the top-of-book flag. The book fills one ChangeSet per operation
// and reuses its vectors, so reporting allocates nothing in the steady state
// and costs no virtual call per event.
// Thread-safety: value types.

#include <cstdint>
#include <vector>

#include "orderbook/order_id.hpp"
#include "orderbook/price.hpp"
#include "orderbook/side.hpp"

namespace ob {

/// A level's new aggregate quantity after an operation; qty 0 means removed.
struct LevelDelta {
  Side side = Side::buy;
  Price price;
  LevelQty qty;  ///< exact: a level total may exceed the 64-bit range
  friend bool operator==(const LevelDelta&, const LevelDelta&) = default;
};

/// One fill between a resting (maker) order and an aggressor, at the maker's
/// price (or the feed's price for an execute). `taker` is 0 for a feed execute.
struct Trade {
  TradeId id = 0;
  Price price;
  Qty qty;
  OrderId maker;
  OrderId taker;
  Side aggressor = Side::buy;  ///< the taker's side (for an execute: opposite the maker)
  friend bool operator==(const Trade&, const Trade&) = default;
};

/// Everything the last operation changed. `seq` advances by exactly one per
/// operation that changed the book (then `changed` is true and `deltas` lists
/// each level it touched once, with its final quantity); an operation that
/// changed nothing keeps `seq` and leaves `deltas` and `trades` empty.
struct ChangeSet {
  std::uint64_t seq = 0;     ///< the book seq after the operation
  bool changed = false;      ///< this operation took a new seq
  bool top_changed = false;  ///< best bid/ask price or quantity differs from before
  std::vector<LevelDelta> deltas;
  std::vector<Trade> trades;

  void clear() {
    changed = false;
    top_changed = false;
    deltas.clear();
    trades.clear();
  }
};

/// How an add ended, as in API.md's Order.status.
enum class OrderStatus : std::uint8_t { resting, partially_filled, filled, cancelled };

/// The outcome of an add/replace: the id taken and how much filled and rests.
struct AddResult {
  OrderId id;
  OrderStatus status = OrderStatus::resting;
  Qty filled;     ///< total traded by this order in this operation
  Qty remaining;  ///< what rests on the book now (0 unless resting/partially_filled)
  friend bool operator==(const AddResult&, const AddResult&) = default;
};

/// An aggregated level as queries report it. `orders` is 0 in l2 mode.
struct LevelView {
  Price price;
  LevelQty qty;  ///< exact: a level total may exceed the 64-bit range
  std::uint32_t orders = 0;
  friend bool operator==(const LevelView&, const LevelView&) = default;
};

/// A resting order as lookups report it.
struct OrderView {
  OrderId id;
  Side side = Side::buy;
  Price price;
  Qty qty;  ///< remaining
  friend bool operator==(const OrderView&, const OrderView&) = default;
};

/// A new order for OrderBook::add. Market orders ignore `price` and `tif` (always ioc).
struct NewOrder {
  Side side = Side::buy;
  Price price;
  Qty qty;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
};

}  // namespace ob
