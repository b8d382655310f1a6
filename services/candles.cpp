#include "services/candles.hpp"

#include <algorithm>
#include <limits>

#include "orderbook/decimal.hpp"

namespace services {

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// The start of the interval of length `len` that holds `ts` (in kCandleTimes).
std::int64_t interval_start(std::int64_t ts, std::int64_t len) {
  return ts - ts % len;
}

// Event times a candle can hold: from the epoch, and far enough below the
// largest int64 that an interval's end plus the grace window still fits.
bool in_candle_times(std::int64_t ts) {
  constexpr std::int64_t kLatest =
      std::numeric_limits<std::int64_t>::max() - 2 * 86'400 * kSecond - kCandleGraceNs;
  return ts >= 0 && ts <= kLatest;
}

Notional saturating_add(Notional a, Notional b) {
  const Notional sum = a + b;
  return sum < a ? std::numeric_limits<Notional>::max() : sum;
}

}  // namespace

std::string_view to_string(CandleInterval i) {
  switch (i) {
    case CandleInterval::s1:
      return "1s";
    case CandleInterval::m1:
      return "1m";
    case CandleInterval::m5:
      return "5m";
    case CandleInterval::m15:
      return "15m";
    case CandleInterval::h1:
      return "1h";
    case CandleInterval::d1:
      return "1d";
  }
  return "1m";
}

std::optional<CandleInterval> parse_candle_interval(std::string_view text) {
  for (CandleInterval i : kCandleIntervals) {
    if (to_string(i) == text) return i;
  }
  return std::nullopt;
}

std::int64_t length_ns(CandleInterval i) {
  switch (i) {
    case CandleInterval::s1:
      return kSecond;
    case CandleInterval::m1:
      return 60 * kSecond;
    case CandleInterval::m5:
      return 300 * kSecond;
    case CandleInterval::m15:
      return 900 * kSecond;
    case CandleInterval::h1:
      return 3600 * kSecond;
    case CandleInterval::d1:
      return 86400 * kSecond;
  }
  return 60 * kSecond;
}

std::size_t candle_capacity(CandleInterval i) {
  switch (i) {
    case CandleInterval::s1:
      return 600;
    case CandleInterval::m1:
      return 1000;
    default:
      return 300;
  }
}

Notional vwap_e4(const Candle& c) {
  const Notional volume = static_cast<Notional>(c.volume.lots());
  if (volume == 0) return 0;
  // notional = q * volume + r, q below the highest price: each step fits 128 bits.
  const Notional q = c.notional / volume;
  const Notional scaled = (c.notional % volume) * 10'000;
  Notional frac = scaled / volume;
  const Notional rest = scaled % volume;
  if (rest * 2 > volume || (rest * 2 == volume && frac % 2 == 1)) ++frac;  // half to even
  return q * 10'000 + frac;
}

std::string format_vwap(const Candle& c, const ob::BookSpec& spec) {
  std::string out;
  ob::append_scaled(out, static_cast<ob::Wide>(vwap_e4(c)), spec.tick_units,
                    spec.price_decimals + 4);
  return out;
}

CandleSeries::CandleSeries(CandleInterval interval, std::size_t capacity)
    : interval_(interval), capacity_(std::max<std::size_t>(capacity, 1)) {}

bool CandleSeries::add(ob::Price price, ob::Qty qty, std::int64_t ts_ns) {
  if (!in_candle_times(ts_ns)) {  // only a damaged record carries such a time
    ++late_;
    return false;
  }
  const std::int64_t len = length_ns(interval_);
  const std::int64_t start = interval_start(ts_ns, len);
  const bool late = !candles_.empty() && start < candles_.back().start_ns;
  if (late && start + len + kCandleGraceNs <= watermark_) {
    ++late_;
    return false;
  }
  watermark_ = std::max(watermark_, ts_ns);
  // Its candle, or where a new one goes to keep the ring in start order: the
  // newest one or past it, but for late trades.
  auto it = candles_.end();
  if (!candles_.empty() && start == candles_.back().start_ns) {
    it = std::prev(candles_.end());
  } else if (late) {
    it = std::lower_bound(candles_.begin(), candles_.end(), start,
                          [](const Candle& c, std::int64_t s) { return c.start_ns < s; });
  }
  if (it == candles_.end() || it->start_ns != start) {
    if (candles_.size() == capacity_) {
      if (it == candles_.begin()) {  // older than everything kept
        ++late_;
        return false;
      }
      candles_.pop_front();
      it = std::lower_bound(candles_.begin(), candles_.end(), start,
                            [](const Candle& c, std::int64_t s) { return c.start_ns < s; });
    }
    it = candles_.insert(it,
                         Candle{start, price, price, price, price, ob::Qty(0), 0, 0, ts_ns, ts_ns});
  }
  Candle& c = *it;
  c.high = std::max(c.high, price);
  c.low = std::min(c.low, price);
  if (ts_ns < c.open_ns) {
    c.open = price;
    c.open_ns = ts_ns;
  }
  if (ts_ns >= c.close_ns) {
    c.close = price;
    c.close_ns = ts_ns;
  }
  c.volume = ob::saturating_add(c.volume, qty);
  ++c.trades;
  c.notional = saturating_add(
      c.notional, static_cast<Notional>(price.ticks()) * static_cast<Notional>(qty.lots()));
  return true;
}

std::vector<Candle> CandleSeries::range(std::int64_t from_ns, std::int64_t to_ns,
                                        std::size_t limit) const {
  auto first = std::lower_bound(candles_.begin(), candles_.end(), from_ns,
                                [](const Candle& c, std::int64_t s) { return c.start_ns < s; });
  auto last = std::lower_bound(first, candles_.end(), to_ns,
                               [](const Candle& c, std::int64_t s) { return c.start_ns < s; });
  if (static_cast<std::size_t>(last - first) > limit) first = last - static_cast<long>(limit);
  return std::vector<Candle>(first, last);
}

bool CandleSeries::restore(std::deque<Candle> candles, std::int64_t watermark, std::uint64_t late) {
  const std::int64_t len = length_ns(interval_);
  if (candles.size() > capacity_) return false;
  for (std::size_t i = 0; i < candles.size(); ++i) {
    const Candle& c = candles[i];
    if (!in_candle_times(c.start_ns) || interval_start(c.start_ns, len) != c.start_ns ||
        c.trades == 0) {
      return false;
    }
    if (i > 0 && candles[i - 1].start_ns >= c.start_ns) return false;
  }
  candles_ = std::move(candles);
  watermark_ = watermark;
  late_ = late;
  return true;
}

Candles::Candles()
    : series_{CandleSeries(CandleInterval::s1, candle_capacity(CandleInterval::s1)),
              CandleSeries(CandleInterval::m1, candle_capacity(CandleInterval::m1)),
              CandleSeries(CandleInterval::m5, candle_capacity(CandleInterval::m5)),
              CandleSeries(CandleInterval::m15, candle_capacity(CandleInterval::m15)),
              CandleSeries(CandleInterval::h1, candle_capacity(CandleInterval::h1)),
              CandleSeries(CandleInterval::d1, candle_capacity(CandleInterval::d1))} {}

void Candles::add(ob::Price price, ob::Qty qty, std::int64_t ts_ns) {
  for (CandleSeries& s : series_) (void)s.add(price, qty, ts_ns);
}

}  // namespace services
