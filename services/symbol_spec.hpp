#pragma once
// A symbol's spec (API.md "Symbols"): tick size, lot size and book mode, kept
// both as the client wrote them (for echoing back) and as a parsed BookSpec.
// Thread-safety: value types; SymbolInfo is shared immutable.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "orderbook/book_spec.hpp"
#include "orderbook/result.hpp"
#include "orderbook/side.hpp"

namespace services {

/// Tick, lot and mode of a symbol. Equality compares the parsed values, so
/// "0.010" and "0.01" are the same tick.
struct SymbolSpec {
  ob::BookSpec book;
  ob::Mode mode = ob::Mode::venue;

  /// Parses decimal tick and lot sizes; errors: invalid_price (tick), invalid_quantity (lot).
  static ob::Result<SymbolSpec> parse(std::string_view tick_size, std::string_view lot_size,
                                      ob::Mode mode = ob::Mode::venue);
  /// The tick size in canonical decimal form ("0.01").
  std::string tick_size() const;
  /// The lot size in canonical decimal form ("0.0001").
  std::string lot_size() const;

  friend bool operator==(const SymbolSpec&, const SymbolSpec&) = default;
};

/// "venue" / "mirror" / "l2" back to a Mode; nullopt for anything else.
std::optional<ob::Mode> parse_mode(std::string_view text);

/// A symbol and its spec, shared by every holder (registries, servers, frames).
struct SymbolInfo {
  std::string symbol;
  SymbolSpec spec;
};
using SymbolInfoPtr = std::shared_ptr<const SymbolInfo>;

}  // namespace services
