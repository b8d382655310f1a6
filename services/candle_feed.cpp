#include "services/candle_feed.hpp"

#include <algorithm>

namespace services {

void CandleFeed::tick(const Candles& candles, Channels followed, std::int64_t now_ns,
                      std::vector<Due>& out) {
  for (std::size_t i = 0; i < kCandleIntervals.size(); ++i) {
    Sent& sent = sent_[i];
    if (!followed.has(candle_channel(i))) {
      sent = Sent{};
      continue;
    }
    const CandleInterval interval = kCandleIntervals[i];
    const std::deque<Candle>& ring = candles.series(interval).candles();
    if (sent.candle && !sent.closed &&
        (candle_closed(*sent.candle, interval, now_ns) ||
         (!ring.empty() && ring.back().start_ns > sent.candle->start_ns))) {
      // Its final state: the ring's copy has the trades since it was sent.
      auto it =
          std::lower_bound(ring.begin(), ring.end(), sent.candle->start_ns,
                           [](const Candle& c, std::int64_t start) { return c.start_ns < start; });
      if (it != ring.end() && it->start_ns == sent.candle->start_ns) sent.candle = *it;
      out.push_back(Due{i, *sent.candle, true});
      sent.closed = true;
    }
    if (ring.empty()) continue;
    const Candle& newest = ring.back();
    if (sent.candle && (*sent.candle == newest || newest.start_ns < sent.candle->start_ns)) {
      continue;
    }
    const bool closed = candle_closed(newest, interval, now_ns);
    out.push_back(Due{i, newest, closed});
    sent = Sent{newest, closed};
  }
}

std::optional<CandleFeed::Due> CandleFeed::current(const Candles& candles, std::size_t i,
                                                   std::int64_t now_ns) {
  const CandleInterval interval = kCandleIntervals[i];
  const std::deque<Candle>& ring = candles.series(interval).candles();
  if (ring.empty()) return std::nullopt;
  return Due{i, ring.back(), candle_closed(ring.back(), interval, now_ns)};
}

}  // namespace services
