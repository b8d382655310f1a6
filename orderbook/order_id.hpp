#pragma once
// Order and trade identifiers.
// Thread-safety: value types.

#include <compare>
#include <cstdint>

namespace ob {

/// An order's id inside one book. Orders entered through the API get ids
/// 1, 2, 3, ... (every add consumes one, whether it rests or fills); orders
/// that carry an upstream (external) id get an internal id with the top bit
/// set, and the book maps the external string to it (OrderBook::resolve).
class OrderId {
 public:
  static constexpr std::uint64_t kExternalBit = std::uint64_t{1} << 63;

  constexpr OrderId() = default;
  constexpr explicit OrderId(std::uint64_t v) : v_(v) {}

  /// The raw value; 0 means "no order" (e.g. the taker of a feed execute).
  constexpr std::uint64_t value() const { return v_; }
  /// True for an internal id standing for an upstream order id.
  constexpr bool external() const { return (v_ & kExternalBit) != 0; }
  /// True unless this is the "no order" id.
  constexpr explicit operator bool() const { return v_ != 0; }

  friend constexpr auto operator<=>(OrderId, OrderId) = default;

 private:
  std::uint64_t v_ = 0;
};

/// A trade's id inside one book: 1, 2, 3, ... in execution order.
using TradeId = std::uint64_t;

}  // namespace ob
