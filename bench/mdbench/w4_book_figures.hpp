#pragma once
// What W4 and W4b count while applying the W4 stream to a book, and the line
// both print: one definition, so the actor and the bare library are judged
// by exactly the same figures and validation.

#include <cstdint>
#include <string_view>

#include "bench/common/w4_generator.hpp"
#include "bench/mdbench/result_line.hpp"
#include "orderbook/order_book.hpp"

namespace mdbench {

struct W4Figures {
  std::int64_t passive_adds = 0, crossing_adds = 0, cancels = 0, cancel_hits = 0;
  std::int64_t trades = 0, traded_qty = 0, notional = 0;
  bool ids_match = true;

  /// Applies one generated operation to `book` and counts it.
  void apply(ob::OrderBook& book, const w4::Op& op);
};

/// The peer's W4 line for a finished run, valid only if every deterministic
/// figure equals the peer's and the book's invariants hold.
ResultLine w4_line(std::string_view id, std::string_view name, std::int64_t ops, double elapsed_ms,
                   const W4Figures& f, const ob::OrderBook& book);

}  // namespace mdbench
