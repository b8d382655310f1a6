#pragma once
// JSON encodings of the messages symbol servers publish (API.md "WebSocket"),
// written once per event into the frame every subscriber shares. Decimals are
// exact strings at the symbol's scale; times are RFC 3339 with microseconds
// plus integer ns (API.md "Time").
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "orderbook/events.hpp"
#include "orderbook/side.hpp"
#include "services/symbol_spec.hpp"

namespace services::wire {

/// Appends `"ts":"2026-11-21T10:00:00.123456Z","ts_ns":N` (both null when ts_ns == 0).
void append_time(std::string& out, std::int64_t ts_ns);
/// RFC 3339 UTC with microseconds.
std::string format_rfc3339(std::int64_t ts_ns);

/// A trade on the trades channel.
std::string tick(const SymbolInfo& s, std::uint64_t seq, ob::Price price, ob::Qty size,
                 ob::Side side, std::int64_t ts_ns);

/// The ticker state a PriceFeedHandler keeps (REST adds counts and state).
struct Ticker {
  std::uint64_t seq = 0;  ///< the last tick's seq (0: no tick yet)
  ob::Price last_price, high, low, open;
  ob::Qty last_size, volume;
  ob::Side last_side = ob::Side::buy;
  std::int64_t ts_ns = 0;  ///< the last tick's event time
  std::uint64_t tick_count = 0;
};
/// The ticker channel's message.
std::string ticker(const SymbolInfo& s, const Ticker& t);

/// Best bid and ask as the top channel and REST `top` see them.
struct Top {
  std::uint64_t seq = 0;  ///< book seq
  std::optional<ob::LevelView> bid, ask;
  std::int64_t ts_ns = 0;  ///< time of the last change
};
/// The top channel's message.
std::string top(const SymbolInfo& s, const Top& t);

/// The book channel's first message: every level, best first.
std::string book_snapshot(const SymbolInfo& s, std::uint64_t seq,
                          std::span<const ob::LevelView> bids, std::span<const ob::LevelView> asks);
/// A book change: each changed level's new total (zero removes it).
std::string book_update(const SymbolInfo& s, std::uint64_t seq,
                        std::span<const ob::LevelDelta> changes);

/// A symbol's freshness (API.md "Staleness").
enum class FeedState : std::uint8_t { idle, live, stale };
constexpr std::string_view to_string(FeedState s) {
  return s == FeedState::idle ? "idle" : s == FeedState::live ? "live" : "stale";
}
/// The status message sent on every live/stale transition.
std::string status(const SymbolInfo& s, FeedState state, std::int64_t last_update_age_ms);

/// Appends `,"name":[["price","qty"],…]` (best first, as given).
void append_levels(std::string& out, std::string_view name, std::span<const ob::LevelView> levels,
                   const SymbolSpec& spec);
/// Appends `"price":"…"`-style members; `null` for an absent price.
void append_price_member(std::string& out, std::string_view name, std::optional<ob::Price> p,
                         const SymbolSpec& spec);
void append_qty_member(std::string& out, std::string_view name, ob::Qty q, const SymbolSpec& spec);

}  // namespace services::wire
