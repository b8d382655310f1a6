#pragma once
// BookSpec: what one tick and one lot mean in decimal, per symbol.
// Thread-safety: value type.

#include <cstdint>
#include <string_view>

#include "orderbook/result.hpp"

namespace ob {

/// Tick and lot sizes as integers at a decimal scale: tick "0.05" is
/// {tick_units = 5, price_decimals = 2}; lot "0.0001" is {1, 4}. Prices are
/// printed with price_decimals digits, quantities with qty_decimals.
struct BookSpec {
  std::int64_t tick_units = 1;      ///< tick size in units of 10^-price_decimals
  std::int64_t lot_units = 1;       ///< lot size in units of 10^-qty_decimals
  std::uint8_t price_decimals = 0;  ///< decimals of the tick size (trailing zeros dropped)
  std::uint8_t qty_decimals = 0;    ///< decimals of the lot size

  /// Integer prices and quantities (tick 1, lot 1), as in the W4 workload.
  static constexpr BookSpec integer() { return BookSpec{}; }

  /// Parses decimal tick and lot sizes ("0.01", "0.0001"); at most 18 decimals,
  /// > 0. Errors: invalid_price (tick), invalid_quantity (lot).
  static Result<BookSpec> parse(std::string_view tick_size, std::string_view lot_size);

  friend bool operator==(const BookSpec&, const BookSpec&) = default;
};

}  // namespace ob
