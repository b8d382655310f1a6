#pragma once
// Order side and order kinds of the book.
// Thread-safety: value types.

#include <cstdint>
#include <string_view>

namespace ob {

/// The side of an order or a level: buy (bids) or sell (asks).
enum class Side : std::uint8_t { buy = 0, sell = 1 };

/// The other side: the side an order of `s` trades against.
constexpr Side opposite(Side s) {
  return s == Side::buy ? Side::sell : Side::buy;
}

/// "buy" / "sell", as on the wire.
constexpr std::string_view to_string(Side s) {
  return s == Side::buy ? "buy" : "sell";
}

/// Limit orders carry a price; market orders take any price and never rest.
enum class OrderType : std::uint8_t { limit, market };

/// gtc rests its remainder, ioc cancels it, fok fills completely or not at all.
enum class TimeInForce : std::uint8_t { gtc, ioc, fok };

/// What a book is: a matching engine, a verbatim L3 copy, or L2 levels (API.md "Book modes").
enum class Mode : std::uint8_t { venue, mirror, l2 };

/// "venue" / "mirror" / "l2".
constexpr std::string_view to_string(Mode m) {
  return m == Mode::venue ? "venue" : m == Mode::mirror ? "mirror" : "l2";
}

}  // namespace ob
