#pragma once
// Candles (API.md "Candles"): open, high, low, close, volume, trade count and
// VWAP of the trades in each interval of event time, for the intervals 1s 1m
// 5m 15m 1h 1d, each kept in a bounded ring (docs/decisions/026).
//
// - A trade falls in the candle whose [start, start + length) holds its event
//   time; intervals without a trade have no candle.
// - Late trades: a trade older than the newest candle still updates (or
//   creates) its candle while that candle ended less than kCandleGrace ago,
//   measured against the newest event time seen (the watermark); an older
//   one is left out of the candles (it is still a trade) and counted.
// - Only event times decide, never the wall clock, so a replay of the same
//   trades builds the same candles. Whether a candle is closed is a reader's
//   question: its end against the time of asking.
// Thread-safety: value types.

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orderbook/book_spec.hpp"
#include "orderbook/price.hpp"

namespace services {

/// Sums of price × qty (ticks × lots) need 128 bits.
__extension__ using Notional = unsigned __int128;

enum class CandleInterval : std::uint8_t { s1, m1, m5, m15, h1, d1 };
inline constexpr std::array<CandleInterval, 6> kCandleIntervals{
    CandleInterval::s1,  CandleInterval::m1, CandleInterval::m5,
    CandleInterval::m15, CandleInterval::h1, CandleInterval::d1};

/// "1s", "1m", "5m", "15m", "1h", "1d".
std::string_view to_string(CandleInterval i);
/// The interval named as API.md names it; nullopt for anything else.
std::optional<CandleInterval> parse_candle_interval(std::string_view text);
/// The interval's length in ns.
std::int64_t length_ns(CandleInterval i);

/// How long after its end (in event time) a candle still takes late trades.
inline constexpr std::int64_t kCandleGraceNs = 5'000'000'000;

/// One interval's trades, summed.
struct Candle {
  std::int64_t start_ns = 0;
  ob::Price open, high, low, close;
  ob::Qty volume;  ///< saturating, as the ticker's
  std::uint64_t trades = 0;
  /// Σ price × qty in ticks × lots, for the VWAP (exact: 128 bits, saturating).
  Notional notional = 0;
  /// Event times of its open and close: a late trade is placed among the others
  /// by its time (equal times: by arrival).
  std::int64_t open_ns = 0, close_ns = 0;
  friend bool operator==(const Candle&, const Candle&) = default;
};

/// Whether the interval of `c` has ended at wall-clock time `now_ns` (API.md `closed`).
inline bool candle_closed(const Candle& c, CandleInterval interval, std::int64_t now_ns) {
  return c.start_ns + length_ns(interval) <= now_ns;
}

/// The candle's VWAP in units of tick / 10^4, rounded half to even (0 for no volume).
Notional vwap_e4(const Candle& c);
/// The VWAP as API.md writes it: four more decimals than the tick.
std::string format_vwap(const Candle& c, const ob::BookSpec& spec);

/// The candles of one interval, oldest first, at most `capacity` of them.
class CandleSeries {
 public:
  CandleSeries(CandleInterval interval, std::size_t capacity);

  /// Adds a trade of event time `ts_ns`; false when it is too late (see above)
  /// or before the epoch (ingest refuses those; a damaged record may not).
  bool add(ob::Price price, ob::Qty qty, std::int64_t ts_ns);

  CandleInterval interval() const noexcept { return interval_; }
  std::size_t capacity() const noexcept { return capacity_; }
  const std::deque<Candle>& candles() const noexcept { return candles_; }
  /// The newest event time added (0 before any).
  std::int64_t watermark() const noexcept { return watermark_; }
  /// Trades left out for being too late.
  std::uint64_t late() const noexcept { return late_; }

  /// The most recent `limit` candles whose start is in [from_ns, to_ns), oldest first.
  std::vector<Candle> range(std::int64_t from_ns, std::int64_t to_ns, std::size_t limit) const;
  /// False when candles starting at or after `from_ns` may have left the ring
  /// (it is full and its oldest starts later): the journal has them.
  bool holds_since(std::int64_t from_ns) const {
    return candles_.size() < capacity_ || candles_.front().start_ns <= from_ns;
  }

  /// Takes a saved state (a snapshot's); candles must be in start order, on
  /// the interval's grid, at most capacity(): else false and nothing changes.
  bool restore(std::deque<Candle> candles, std::int64_t watermark, std::uint64_t late);

  friend bool operator==(const CandleSeries&, const CandleSeries&) = default;

 private:
  CandleInterval interval_;
  std::size_t capacity_;
  std::deque<Candle> candles_;
  std::int64_t watermark_ = 0;
  std::uint64_t late_ = 0;
};

/// How many candles each interval keeps: 10 min of 1s, ~17 h of 1m, then 300 each.
std::size_t candle_capacity(CandleInterval i);

/// The six series of a symbol.
class Candles {
 public:
  Candles();
  /// Adds a trade to every interval.
  void add(ob::Price price, ob::Qty qty, std::int64_t ts_ns);
  const CandleSeries& series(CandleInterval i) const {
    return series_[static_cast<std::size_t>(i)];
  }
  CandleSeries& series(CandleInterval i) { return series_[static_cast<std::size_t>(i)]; }
  friend bool operator==(const Candles&, const Candles&) = default;

 private:
  std::array<CandleSeries, 6> series_;
};

}  // namespace services
