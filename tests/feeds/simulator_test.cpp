// The market simulator: deterministic, realistic, and always valid for a venue book.

#include "feeds/simulator.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>

namespace feeds {
namespace {

TEST(MarketSimulator, TheSameSeedGivesTheSameEvents) {
  MarketSimulator a({.seed = 7});
  MarketSimulator b({.seed = 7});
  MarketSimulator c({.seed = 8});
  bool differs = false;
  for (int i = 0; i < 5000; ++i) {
    auto x = a.next();
    auto y = b.next();
    auto z = c.next();
    ASSERT_EQ(x.symbol, y.symbol);
    ASSERT_EQ(x.event, y.event);
    differs = differs || !(x.event == z.event);
  }
  EXPECT_TRUE(differs);
}

TEST(MarketSimulator, EveryEventIsAcceptedByAVenueBookAndTheFlowTradesAroundTheMid) {
  MarketSimulator sim({.seed = 1});
  const std::size_t n = sim.options().symbols.size();
  std::vector<ob::OrderBook> books(n, ob::OrderBook(ob::Mode::venue));
  std::vector<std::size_t> trades(n), cancels(n);
  for (int i = 0; i < 200'000; ++i) {
    auto [s, e] = sim.next();
    ob::OrderBook& book = books[s];
    if (e.type == EventType::add) {
      auto r = book.add_external(e.order_id, e.side, e.price, e.qty);
      ASSERT_TRUE(r.ok()) << i << " " << e.order_id;
      trades[s] += book.last_change().trades.size();
    } else {
      ASSERT_EQ(e.type, EventType::cancel);
      auto id = book.resolve(e.order_id);
      ASSERT_TRUE(id.ok()) << i << " cancels an order that no longer rests";
      ASSERT_TRUE(book.cancel(*id).ok());
      ++cancels[s];
    }
  }
  for (std::size_t s = 0; s < n; ++s) {
    SCOPED_TRACE(sim.options().symbols[s].symbol);
    EXPECT_GT(trades[s], 100u);
    EXPECT_GT(cancels[s], 100u);
    EXPECT_LT(books[s].order_count(), 400u);  // hovers around the target, never runs away
    EXPECT_TRUE(books[s].best(ob::Side::buy) && books[s].best(ob::Side::sell));
    EXPECT_EQ(books[s].check_invariants(), std::nullopt);
  }
}

// Issue 17: candles of the default feed look like a market. A minute at the
// default rate (200 events/s over 8 symbols) moves every symbol by several
// basis points; a walk of single ticks left BTC-USD within 0.02 of 64,000.
TEST(MarketSimulator, AMinuteOfTheDefaultFlowMovesEveryPriceByBasisPoints) {
  MarketSimulator sim({.seed = 42});
  const std::size_t n = sim.options().symbols.size();
  std::vector<ob::OrderBook> books(n, ob::OrderBook(ob::Mode::venue));
  std::vector<std::int64_t> low(n, std::numeric_limits<std::int64_t>::max()), high(n, 0);
  for (int i = 0; i < 60 * 200; ++i) {
    auto [s, e] = sim.next();
    ob::OrderBook& book = books[s];
    if (e.type == EventType::add) {
      ASSERT_TRUE(book.add_external(e.order_id, e.side, e.price, e.qty).ok());
      for (const auto& t : book.last_change().trades) {
        low[s] = std::min(low[s], t.price.ticks());
        high[s] = std::max(high[s], t.price.ticks());
      }
    } else {
      ASSERT_TRUE(book.cancel(*book.resolve(e.order_id)).ok());
    }
  }
  for (std::size_t s = 0; s < n; ++s) {
    SCOPED_TRACE(sim.options().symbols[s].symbol);
    ASSERT_GT(high[s], 0);
    const double range_bp =
        1e4 * static_cast<double>(high[s] - low[s]) / static_cast<double>(low[s]);
    EXPECT_GE(range_bp, 4.0);
    EXPECT_LE(range_bp, 500.0);  // a market, not a crash
  }
}

TEST(MarketSimulator, ABadSymbolSpecIsRefusedWithItsName) {
  SimulatorOptions opts;
  opts.symbols = {{"BAD", "0.01", "0.001", "100.005"}};
  try {
    MarketSimulator sim(opts);
    FAIL() << "accepted a mid off the tick grid";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("BAD"), std::string::npos);
  }
}

}  // namespace
}  // namespace feeds
