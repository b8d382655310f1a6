#pragma once
// What a symbol's journal holds (docs/decisions/023-journal-integration.md):
// one record per request that may change the book, appended *before* it is
// applied, holding the request as it came (not its result). The book is
// deterministic, so replaying the records through the same code rebuilds the
// same book, ids, trades and seq — rejections included, which change nothing.
//
//   spec    the symbol's spec and the first order id it numbered from
//   events  a batch of normalized events with their receipt time
//   order   an API order with its owner, and the time it was received
//   cancel  an API cancel (order id and owner)
//   ids     order ids jump to here (a new incarnation never reuses an id)
//
// Payload: one kind byte, then the kind's fields, integers little-endian,
// strings as u32 length + bytes. decode() checks every length against what
// is left, so a damaged payload (its CRC passed, its writer was buggy) is an
// error, never a crash.
// Thread-safety: value types and pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "feeds/event.hpp"
#include "runtime/result.hpp"
#include "services/api_order.hpp"
#include "services/symbol_spec.hpp"

namespace services::journal {

/// The first record of a journal: what the book is and where its ids start.
struct SpecRecord {
  SymbolSpec spec;
  std::uint64_t first_order_id = 1;
  friend bool operator==(const SpecRecord&, const SpecRecord&) = default;
};

/// Normalized events as one Apply/ApplyReport carried them.
struct EventsRecord {
  std::vector<feeds::Event> events;
  std::int64_t receipt_ns = 0;
  /// --max-orders-per-book when they were applied: replay judges adds the same way.
  std::uint64_t max_orders_per_book = 0;
  friend bool operator==(const EventsRecord&, const EventsRecord&) = default;
};

/// An API order as PlaceOrder carried it (owner included).
struct OrderRecord {
  OrderRequest order;
  std::int64_t ts_ns = 0;
  friend bool operator==(const OrderRecord&, const OrderRecord&) = default;
};

/// An API cancel as CancelOrder carried it.
struct CancelRecord {
  std::string order_id;
  std::string owner;
  std::int64_t ts_ns = 0;
  friend bool operator==(const CancelRecord&, const CancelRecord&) = default;
};

/// Book-assigned order ids continue from `next_order_id`.
struct IdsRecord {
  std::uint64_t next_order_id = 0;
  friend bool operator==(const IdsRecord&, const IdsRecord&) = default;
};

/// One journal record's content.
using Record = std::variant<SpecRecord, EventsRecord, OrderRecord, CancelRecord, IdsRecord>;

/// The payload bytes of a record (an overload per kind, so none is copied into a Record).
std::string encode(const SpecRecord& r);
std::string encode(const EventsRecord& r);
std::string encode(const OrderRecord& r);
std::string encode(const CancelRecord& r);
std::string encode(const IdsRecord& r);
std::string encode(const Record& r);
/// A record from its payload; what is wrong when the bytes are not one.
rt::Result<Record, std::string> decode(std::string_view payload);

/// When the request a record holds was received (events: receipt time; an
/// order or cancel: its time); nullopt for a spec or ids record, which have none.
std::optional<std::int64_t> received_ns(const Record& r);

}  // namespace services::journal
