#pragma once
// What one more trade does to a symbol's ticker. One place for the
// arithmetic, used by the PriceFeedHandler that publishes the ticker and by
// the BookState that keeps it across restarts.
// Thread-safety: a pure function.

#include <cstdint>

#include "services/tick.hpp"
#include "services/wire.hpp"

namespace services {

/// Adds trade `t` at event time `ts_ns`: last trade, open/high/low, volume
/// (saturating: it never wraps or decreases), count, and the next trade seq.
void add_trade(wire::Ticker& k, const Tick& t, std::int64_t ts_ns);

}  // namespace services
