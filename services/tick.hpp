#pragma once
// Tick: one trade as the trade stream sees it — from the feed, or made by a
// book when orders match. Thread-safety: a value type.

#include <cstdint>

#include "orderbook/price.hpp"
#include "orderbook/side.hpp"

namespace services {

/// A trade: price, size, the aggressor's side and its event time.
struct Tick {
  ob::Price price;
  ob::Qty size;
  ob::Side side = ob::Side::buy;  ///< the aggressor's side
  std::int64_t ts_ns = 0;         ///< event time; 0 = now
};

}  // namespace services
