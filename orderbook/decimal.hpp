#pragma once
// Exact decimal string <-> fixed-point conversion (API.md "Decimals").
//
// Input: digits with an optional fraction ("100", "100.5", "100.500"). Zeros
// beyond the scale are accepted; exponents, signs, spaces, empty strings,
// "1." / ".5", values off the tick/lot grid and values past the 64-bit
// fixed-point range are rejected. Output: exactly the tick's decimals for a
// price, the lot's for a quantity, one more than the tick's for a mid.
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "orderbook/book_spec.hpp"
#include "orderbook/price.hpp"
#include "orderbook/result.hpp"

namespace ob {

/// A price > 0 on the tick grid, at most Price::kMaxTicks ticks; else invalid_price.
Result<Price> parse_price(std::string_view text, const BookSpec& spec);

/// An order quantity > 0 on the lot grid; else invalid_quantity.
Result<Qty> parse_qty(std::string_view text, const BookSpec& spec);

/// A level quantity >= 0 on the lot grid ("0" removes an L2 level); else invalid_quantity.
Result<Qty> parse_level_qty(std::string_view text, const BookSpec& spec);

/// "64000.50" for tick 0.01.
std::string format_price(Price p, const BookSpec& spec);
/// "0.0100" for lot 0.0001; zero is "0.0000". Exact for a 128-bit level total.
std::string format_qty(LevelQty q, const BookSpec& spec);
/// (bid + ask) / 2 with one decimal more than the tick: exact for any tick.
std::string format_mid(Price bid, Price ask, const BookSpec& spec);
/// ask - bid at the tick's decimals; negative for a crossed (mirror) book.
std::string format_spread(Price bid, Price ask, const BookSpec& spec);

/// A signed 128-bit count (of ticks or lots), for sums beyond 64 bits.
__extension__ using Wide = __int128;
/// Appends count × unit as a decimal with exactly `decimals` places (exact
/// for any 128-bit count and 64-bit unit).
void append_scaled(std::string& out, Wide count, std::int64_t unit, int decimals);

/// Appending forms of the above, for encoders that reuse one buffer.
void append_price(std::string& out, Price p, const BookSpec& spec);
void append_qty(std::string& out, LevelQty q, const BookSpec& spec);

/// Parses digits[.digits] into an integer scaled by 10^decimals. Fraction
/// digits beyond `decimals` must be zeros (`off_grid` is then set if not).
/// Returns false when malformed or out of int64 range.
bool parse_scaled(std::string_view text, int decimals, std::int64_t& out, bool& off_grid);

}  // namespace ob
