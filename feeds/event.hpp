#pragma once
// The normalized event model (API.md "Normalized events"): what ingest, replay
// and the simulator hand to the symbol servers.
//
// Two forms, because a decimal's meaning depends on the symbol's tick and lot:
//   ParsedEvent - one NDJSON line as parsed, decimals still text, views into
//                 the line's parse buffer (valid until the next parse);
//   Event       - owned, decimals resolved to ticks and lots for one symbol
//                 (resolve()), ready to be sent to that symbol's servers.
// Thread-safety: value types.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "orderbook/book_spec.hpp"
#include "orderbook/price.hpp"
#include "orderbook/side.hpp"

namespace feeds {

/// The kinds of normalized event: a feed trade, the five L3 messages, an L2 level.
enum class EventType : std::uint8_t { tick, add, cancel, reduce, execute, replace, level };

/// "tick", "add", ... as on the wire.
constexpr std::string_view to_string(EventType t) {
  switch (t) {
    case EventType::tick:
      return "tick";
    case EventType::add:
      return "add";
    case EventType::cancel:
      return "cancel";
    case EventType::reduce:
      return "reduce";
    case EventType::execute:
      return "execute";
    case EventType::replace:
      return "replace";
    case EventType::level:
      return "level";
  }
  return "?";
}

/// True for the L3 messages (add, cancel, reduce, execute, replace).
constexpr bool is_l3(EventType t) {
  return t != EventType::tick && t != EventType::level;
}

/// Why an event line was rejected; names are API.md's ingest codes.
enum class EventError : std::uint8_t {
  invalid_json,
  unknown_type,
  missing_field,
  invalid_field,
  invalid_symbol,
  invalid_price,
  invalid_quantity,
  unknown_order,
  duplicate_order,
  mode_mismatch,
  stale_seq,       ///< a tick whose upstream seq is not above the last applied one
  limit_exceeded,  ///< a new symbol past --max-symbols, an add past --max-orders-per-book
  /// Not a verdict on a line: the body was cut short (shutdown) and this line
  /// and every later one were not applied. Listed once, never counted as a
  /// reject, hence not in kEventErrors (services/ingest.hpp, ADR 020).
  unavailable,
};

/// Every EventError a line can be rejected with, for whatever must enumerate
/// them (metric series made at start): all but `unavailable`.
inline constexpr EventError kEventErrors[] = {
    EventError::invalid_json,     EventError::unknown_type,   EventError::missing_field,
    EventError::invalid_field,    EventError::invalid_symbol, EventError::invalid_price,
    EventError::invalid_quantity, EventError::unknown_order,  EventError::duplicate_order,
    EventError::mode_mismatch,    EventError::stale_seq,      EventError::limit_exceeded};
// Counts indexed by an EventError's value (ParsedBatch::unlisted_errors) rely on it.
static_assert(
    [] {
      for (std::size_t i = 0; i < std::size(kEventErrors); ++i) {
        if (static_cast<std::size_t>(kEventErrors[i]) != i) return false;
      }
      return true;
    }(),
    "kEventErrors lists the rejections, in declaration order");
static_assert(std::size(kEventErrors) == static_cast<std::size_t>(EventError::unavailable),
              "kEventErrors lists every EventError but `unavailable`, the last");

/// The snake_case name, as in API.md's ingest errors.
constexpr std::string_view to_string(EventError e) {
  switch (e) {
    case EventError::invalid_json:
      return "invalid_json";
    case EventError::unknown_type:
      return "unknown_type";
    case EventError::missing_field:
      return "missing_field";
    case EventError::invalid_field:
      return "invalid_field";
    case EventError::invalid_symbol:
      return "invalid_symbol";
    case EventError::invalid_price:
      return "invalid_price";
    case EventError::invalid_quantity:
      return "invalid_quantity";
    case EventError::unknown_order:
      return "unknown_order";
    case EventError::duplicate_order:
      return "duplicate_order";
    case EventError::mode_mismatch:
      return "mode_mismatch";
    case EventError::stale_seq:
      return "stale_seq";
    case EventError::limit_exceeded:
      return "limit_exceeded";
    case EventError::unavailable:
      return "unavailable";
  }
  return "internal";
}

/// A rejected line: 1-based physical line number, code and a human message
/// naming the field ("price: not a multiple of the tick 0.01").
struct LineError {
  std::size_t line = 0;
  EventError code = EventError::invalid_json;
  std::string message;
};

/// One line as parsed: fields present for its type, decimals as text.
/// `qty` holds a tick's `size`. Empty views mean "absent".
struct ParsedEvent {
  EventType type = EventType::tick;
  std::string_view symbol;
  std::optional<ob::Side> side;
  std::string_view order_id;
  std::string_view new_order_id;
  std::string_view price;
  std::string_view qty;
  std::optional<std::int64_t> ts_ns;
  std::optional<std::int64_t> seq;  ///< the upstream sequence number, when the feed sends one

  friend bool operator==(const ParsedEvent&, const ParsedEvent&) = default;
};

/// An event resolved for its symbol's spec. Fields not used by `type` are
/// default. `price` is zero when optional and absent (execute without price).
struct Event {
  EventType type = EventType::tick;
  ob::Side side = ob::Side::buy;
  ob::Price price;
  ob::Qty qty;  ///< tick: size; level: the level's new total (0 removes)
  std::string order_id;
  std::string new_order_id;
  std::int64_t ts_ns = 0;          ///< event time; 0 = stamp receipt time
  std::uint64_t upstream_seq = 0;  ///< the feed's sequence number; 0 = none

  friend bool operator==(const Event&, const Event&) = default;
};

}  // namespace feeds
