// Candles (services/candles.hpp): differential against a naive reference over
// random trade streams with late trades, interval edges and empty intervals;
// the ring's bound; the VWAP's rounding; the query window.

#include "services/candles.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "orderbook/book_spec.hpp"

namespace services {
namespace {

constexpr std::int64_t kS = 1'000'000'000;

struct Trade {
  ob::Price price;
  ob::Qty qty;
  std::int64_t ts;
};

/// Every candle recomputed from the accepted trades, by the rule in the header.
class NaiveCandles {
 public:
  explicit NaiveCandles(CandleInterval i) : len_(length_ns(i)) {}
  bool add(const Trade& t) {
    const std::int64_t start = t.ts >= 0 ? t.ts / len_ * len_ : -((-t.ts + len_ - 1) / len_) * len_;
    if (!by_start_.empty() && start < by_start_.rbegin()->first &&
        start + len_ + kCandleGraceNs <= watermark_) {
      return false;
    }
    watermark_ = std::max(watermark_, t.ts);
    by_start_[start].push_back(t);
    return true;
  }
  std::vector<Candle> candles() const {
    std::vector<Candle> out;
    for (const auto& [start, trades] : by_start_) {
      Candle c{start, trades[0].price, trades[0].price, trades[0].price, trades[0].price};
      c.open_ns = c.close_ns = trades[0].ts;
      for (std::size_t k = 0; k < trades.size(); ++k) {
        const Trade& t = trades[k];
        c.high = std::max(c.high, t.price);
        c.low = std::min(c.low, t.price);
        if (t.ts < c.open_ns) {  // the earliest; ties: the first to come
          c.open = t.price;
          c.open_ns = t.ts;
        }
        if (t.ts >= c.close_ns) {  // the latest; ties: the last to come
          c.close = t.price;
          c.close_ns = t.ts;
        }
        c.volume = ob::saturating_add(c.volume, t.qty);
        ++c.trades;
        c.notional += static_cast<Notional>(t.price.ticks()) * static_cast<Notional>(t.qty.lots());
      }
      out.push_back(c);
    }
    return out;
  }

 private:
  std::int64_t len_;
  std::int64_t watermark_ = 0;
  std::map<std::int64_t, std::vector<Trade>> by_start_;
};

/// Trades over ~20 minutes: mostly in order, some late within the grace,
/// some late beyond it, some exactly on interval edges, gaps with no trade.
std::vector<Trade> random_trades(unsigned seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<Trade> out;
  std::int64_t now = 1'765'000'000 * kS;
  for (int i = 0; i < n; ++i) {
    const int kind = static_cast<int>(rng() % 20);
    std::int64_t ts = now;
    if (kind == 0) {
      ts = now - static_cast<std::int64_t>(rng() % (3 * kS));  // late, within the grace
    } else if (kind == 1) {
      ts = now - static_cast<std::int64_t>(rng() % (400 * kS));  // late, maybe beyond it
    } else if (kind == 2) {
      ts = now / kS * kS;  // an interval edge
    } else if (kind == 3) {
      now += static_cast<std::int64_t>(rng() % (90 * kS));  // a quiet stretch
      ts = now;
    } else {
      now += static_cast<std::int64_t>(rng() % (kS / 2));
      ts = now;
    }
    out.push_back({ob::Price(9'900 + static_cast<std::int64_t>(rng() % 200)),
                   ob::Qty(1 + static_cast<std::int64_t>(rng() % 50)), ts});
  }
  return out;
}

TEST(Candles, EveryIntervalEqualsANaiveRecomputationOverRandomStreams) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const std::vector<Trade> trades = random_trades(seed, 3'000);
    for (CandleInterval i : kCandleIntervals) {
      CandleSeries series(i, 1'000'000);  // unbounded here: the bound has its own test
      NaiveCandles naive(i);
      std::uint64_t late = 0;
      for (const Trade& t : trades) {
        const bool took = series.add(t.price, t.qty, t.ts);
        ASSERT_EQ(took, naive.add(t)) << "seed " << seed << " " << to_string(i);
        late += took ? 0 : 1;
      }
      const std::vector<Candle> want = naive.candles();
      ASSERT_EQ(std::vector<Candle>(series.candles().begin(), series.candles().end()), want)
          << "seed " << seed << " " << to_string(i);
      EXPECT_EQ(series.late(), late);
      if (i == CandleInterval::s1) {
        EXPECT_GT(late, 0u) << "the streams do test late trades";
      }
    }
  }
}

TEST(Candles, ATradeOnAnEdgeStartsTheNextCandleAndEmptyIntervalsHaveNone) {
  CandleSeries m1(CandleInterval::m1, 10);
  const std::int64_t t0 = 1'765'000'020 * kS;  // a minute's start
  ASSERT_EQ(t0 % (60 * kS), 0);
  EXPECT_TRUE(m1.add(ob::Price(100), ob::Qty(1), t0 - 1));
  EXPECT_TRUE(m1.add(ob::Price(101), ob::Qty(1), t0));
  EXPECT_TRUE(m1.add(ob::Price(102), ob::Qty(1), t0 + 180 * kS));  // two empty minutes between
  ASSERT_EQ(m1.candles().size(), 3u);
  EXPECT_EQ(m1.candles()[0].start_ns, t0 - 60 * kS);
  EXPECT_EQ(m1.candles()[1].start_ns, t0);
  EXPECT_EQ(m1.candles()[2].start_ns, t0 + 180 * kS);
}

TEST(Candles, TheRingKeepsTheNewestAndRefusesWhatIsOlderThanAllItKeeps) {
  CandleSeries s1(CandleInterval::s1, 3);
  const std::int64_t t0 = 1'765'000'000 * kS;
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(s1.add(ob::Price(100 + k), ob::Qty(1), t0 + k * kS));
  ASSERT_EQ(s1.candles().size(), 3u);
  EXPECT_EQ(s1.candles().front().start_ns, t0 + 2 * kS);
  // Within the grace, but older than the oldest kept: nowhere to go.
  EXPECT_FALSE(s1.add(ob::Price(1), ob::Qty(1), t0 + kS));
  // A gap within the ring: a new candle in its place, the oldest goes.
  ASSERT_TRUE(s1.add(ob::Price(7), ob::Qty(1), t0 + 6 * kS));
  ASSERT_TRUE(s1.add(ob::Price(8), ob::Qty(1), t0 + 5 * kS));
  ASSERT_EQ(s1.candles().size(), 3u);
  EXPECT_EQ(s1.candles()[0].start_ns, t0 + 4 * kS);
  EXPECT_EQ(s1.candles()[1].start_ns, t0 + 5 * kS);
  EXPECT_EQ(s1.candles()[2].start_ns, t0 + 6 * kS);
  EXPECT_EQ(s1.late(), 1u);
  // Before the epoch or at the end of int64 time: left out, counted, no overflow.
  EXPECT_FALSE(s1.add(ob::Price(1), ob::Qty(1), std::numeric_limits<std::int64_t>::min()));
  EXPECT_FALSE(s1.add(ob::Price(1), ob::Qty(1), std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(s1.late(), 3u);
  EXPECT_EQ(s1.candles().size(), 3u);
}

TEST(Candles, VwapHasFourMoreDecimalsRoundedHalfToEven) {
  const ob::BookSpec spec = *ob::BookSpec::parse("0.01", "0.0001");
  Candle c;
  c.volume = ob::Qty(2);
  c.notional = 100 * 2 + 1;  // 100.5 ticks
  EXPECT_EQ(format_vwap(c, spec), "1.005000");
  c.volume = ob::Qty(20'000);
  c.notional = Notional{100} * 20'000 + 1;  // 100.00005 ticks: a tie, 0 is even
  EXPECT_EQ(vwap_e4(c), Notional{1'000'000});
  c.notional = Notional{100} * 20'000 + 3;  // 100.00015: a tie, 1 is odd → 2
  EXPECT_EQ(vwap_e4(c), Notional{1'000'002});
  c.notional = Notional{100} * 20'000 + 2;  // 100.0001 exactly
  EXPECT_EQ(vwap_e4(c), Notional{1'000'001});
  c.volume = ob::Qty(3);
  c.notional = 100 * 3 + 2;  // 100.6666…: rounds up
  EXPECT_EQ(vwap_e4(c), Notional{1'006'667});
  c.volume = ob::Qty(0);
  EXPECT_EQ(vwap_e4(c), Notional{0});
}

TEST(Candles, ARangeIsFromInclusiveToExclusiveAndTheMostRecentLimit) {
  CandleSeries m1(CandleInterval::m1, 100);
  const std::int64_t t0 = 1'765'000'020 * kS;
  for (int k = 0; k < 10; ++k) ASSERT_TRUE(m1.add(ob::Price(100), ob::Qty(1), t0 + k * 60 * kS));
  auto r = m1.range(t0 + 60 * kS, t0 + 300 * kS, 1000);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r.front().start_ns, t0 + 60 * kS);
  EXPECT_EQ(r.back().start_ns, t0 + 240 * kS);
  r = m1.range(0, std::numeric_limits<std::int64_t>::max(), 3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r.front().start_ns, t0 + 420 * kS);
  EXPECT_EQ(r.back().start_ns, t0 + 540 * kS);
}

TEST(Candles, RestoreTakesOnlyAnOrderedOnGridRingWithinCapacity) {
  CandleSeries a(CandleInterval::m1, 5);
  const std::int64_t t0 = 1'765'000'020 * kS;
  ASSERT_TRUE(a.add(ob::Price(100), ob::Qty(1), t0));
  ASSERT_TRUE(a.add(ob::Price(101), ob::Qty(1), t0 + 60 * kS));
  CandleSeries b(CandleInterval::m1, 5);
  ASSERT_TRUE(b.restore(a.candles(), a.watermark(), a.late()));
  EXPECT_EQ(a, b);
  std::deque<Candle> reversed(a.candles().rbegin(), a.candles().rend());
  EXPECT_FALSE(b.restore(reversed, 0, 0));
  std::deque<Candle> off_grid = a.candles();
  off_grid[0].start_ns += 1;
  EXPECT_FALSE(b.restore(off_grid, 0, 0));
  EXPECT_EQ(a, b) << "a refused restore changes nothing";
  // Times no trade has (a damaged snapshot's): refused, not overflowed.
  for (std::int64_t bad : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-60} * kS,
                           std::numeric_limits<std::int64_t>::max() / (60 * kS) * (60 * kS)}) {
    std::deque<Candle> odd = a.candles();
    odd[0].start_ns = bad;
    EXPECT_FALSE(b.restore(odd, 0, 0)) << bad;
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(parse_candle_interval("15m"), CandleInterval::m15);
  EXPECT_FALSE(parse_candle_interval("2m"));
}

}  // namespace
}  // namespace services
