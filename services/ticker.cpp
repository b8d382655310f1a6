#include "services/ticker.hpp"

#include <algorithm>

#include "orderbook/price.hpp"

namespace services {

void add_trade(wire::Ticker& k, const Tick& t, std::int64_t ts_ns) {
  if (k.tick_count == 0) {
    k.open = k.high = k.low = t.price;
  } else {
    k.high = std::max(k.high, t.price);
    k.low = std::min(k.low, t.price);
  }
  k.last_price = t.price;
  k.last_size = t.size;
  k.last_side = t.side;
  k.volume = ob::saturating_add(k.volume, t.size);
  k.ts_ns = ts_ns;
  ++k.tick_count;
  ++k.seq;
}

}  // namespace services
