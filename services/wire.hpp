#pragma once
// The WebSocket wire encoder: every server → client frame of API.md
// "WebSocket" is written here, through feeds::JsonWriter. Data frames are
// written once per event into the frame every subscriber shares. Decimals are
// exact strings at the symbol's scale; times are RFC 3339 with microseconds
// plus integer ns (API.md "Time").
// Thread-safety: pure functions.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/json_writer.hpp"
#include "orderbook/events.hpp"
#include "orderbook/side.hpp"
#include "services/candles.hpp"
#include "services/symbol_spec.hpp"

namespace services {
struct Frame;  // services/publication.hpp (kept out: the journal codec includes this header)
using FramePtr = std::shared_ptr<const Frame>;
}  // namespace services

namespace services::wire {

/// A trade on the trades channel.
std::string tick(const SymbolInfo& s, std::uint64_t seq, ob::Price price, ob::Qty size,
                 ob::Side side, std::int64_t ts_ns);

/// The ticker state a PriceFeedHandler keeps (REST adds counts and state);
/// services/ticker.hpp adds a trade to it.
struct Ticker {
  std::uint64_t seq = 0;  ///< the last tick's seq (0: no tick yet)
  ob::Price last_price, high, low, open;
  ob::Qty last_size, volume;
  ob::Side last_side = ob::Side::buy;
  std::int64_t ts_ns = 0;  ///< the last tick's event time
  std::uint64_t tick_count = 0;
  friend bool operator==(const Ticker&, const Ticker&) = default;
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

/// The book channel's first message: the subscription's window, best first,
/// and its checksum.
std::string book_snapshot(const SymbolInfo& s, std::uint64_t seq,
                          std::span<const ob::LevelView> bids, std::span<const ob::LevelView> asks,
                          std::uint32_t checksum);
/// A book change: each changed level's new total (zero removes it), the
/// window's checksum after it, and `merged` (written when > 1): the book seqs
/// it covers since the subscription's previous book frame.
std::string book_update(const SymbolInfo& s, std::uint64_t seq,
                        std::span<const ob::LevelDelta> changes, std::uint32_t checksum,
                        std::uint64_t merged = 1);

/// A candle's members as REST and the candles:I channel write them, from
/// "start" to "closed" (the caller opens and closes the object).
void candle_members(feeds::JsonWriter& w, const Candle& c, const ob::BookSpec& spec, bool closed);
/// The candles:I channel's message.
std::string candle(const SymbolInfo& s, CandleInterval interval, const Candle& c, bool closed);

/// A book_update frame for `s`: its JSON (book_update above) and its changes
/// and checksum as data, so a max_hz subscriber can merge several.
FramePtr book_update_frame(const SymbolInfo& s, std::uint64_t seq,
                           std::vector<ob::LevelDelta> changes, std::uint32_t checksum,
                           std::uint64_t merged);

/// A symbol's freshness (API.md "Staleness").
/// A symbol's state as `status` says it; `recovering`: its book restarts from its journal.
enum class FeedState : std::uint8_t { idle, live, stale, recovering };
constexpr std::string_view to_string(FeedState s) {
  switch (s) {
    case FeedState::idle:
      return "idle";
    case FeedState::live:
      return "live";
    case FeedState::stale:
      return "stale";
    case FeedState::recovering:
      return "recovering";
  }
  return "idle";
}
/// The status message sent on every live/stale transition.
std::string status(const SymbolInfo& s, FeedState state, std::int64_t last_update_age_ms);
/// Sent to every subscriber of a symbol that is deleted: its subscriptions end.
std::string symbol_removed(const SymbolInfo& s);

/// Writes `[["price","qty"],…]` (best first, as given) as the writer's next value.
void write_levels(feeds::JsonWriter& w, std::span<const ob::LevelView> levels,
                  const SymbolSpec& spec);

// ---- the session's own frames (API.md "WebSocket", server → client) ----------------

/// `subscribed` / `unsubscribed`: echoes the request's channels and symbols.
std::string subscribed(std::optional<std::int64_t> id, std::span<const std::string> channels,
                       std::span<const std::string> symbols);
std::string unsubscribed(std::optional<std::int64_t> id, std::span<const std::string> channels,
                         std::span<const std::string> symbols);
/// The answer to a `ping`.
std::string pong(std::optional<std::int64_t> id);
/// A request the session refused; `code` is one of API.md's snake_case codes.
std::string error(std::optional<std::int64_t> id, std::string_view code, std::string_view message);
/// Sent after a silence, carrying the server's wall-clock time.
std::string heartbeat(std::int64_t ts_ns);

}  // namespace services::wire
