#pragma once
// MarketSimulator: the embedded default feed, so that a fresh marketd shows
// live markets with no setup. A pure, deterministic generator (same seed,
// same events): for each symbol a random-walk mid price and a realistic flow
// around it — passive adds a few steps from the mid, cancels of resting
// orders, and marketable orders that cross the spread and trade.
//
// A step is a basis point of the start mid (at least a tick): a walk of
// single ticks left BTC-USD (tick 0.01 on 64,000) flat to the eye, while
// prices near 10,000 ticks (AAPL, the I3 benchmark's books) move as before.
//
// It keeps a shadow venue book per symbol (the same matching engine the
// service runs), so it only ever cancels orders that still rest: replayed
// into a venue-mode symbol, every event it emits is accepted.
// Thread-safety: not thread-safe; owned by one process.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "feeds/event.hpp"
#include "orderbook/book_spec.hpp"
#include "orderbook/order_book.hpp"

namespace feeds {

/// One simulated instrument.
struct SimulatedSymbol {
  std::string symbol;
  std::string tick_size;
  std::string lot_size;
  std::string start_mid;  ///< decimal, on the tick grid
};

/// The default instruments: 8 symbols with their venues' usual tick and lot sizes.
std::vector<SimulatedSymbol> default_simulated_symbols();
/// The defaults, then SIM008-USD, SIM009-USD, … (tick 0.01, lot 0.0001, mid
/// 100.00) up to `count` symbols (fewer than 8: the first `count` defaults).
std::vector<SimulatedSymbol> simulated_symbols(std::size_t count);

struct SimulatorOptions {
  std::vector<SimulatedSymbol> symbols = default_simulated_symbols();
  std::uint64_t seed = 42;
  std::size_t target_orders = 60;  ///< resting orders per symbol the flow hovers around
};

class MarketSimulator {
 public:
  /// A step is 1 / kStepsPerPrice of the start mid (a basis point).
  static constexpr std::int64_t kStepsPerPrice = 10'000;

  /// One generated event and the index of its symbol in options().symbols.
  struct Step {
    std::size_t symbol = 0;
    Event event;
  };

  /// Validates the symbols' specs and mids; throws std::invalid_argument naming the bad one.
  explicit MarketSimulator(SimulatorOptions options);

  /// The next event, in a deterministic sequence. Event times are left 0
  /// (the service stamps receipt time).
  Step next();

  const SimulatorOptions& options() const { return options_; }
  /// The spec of symbol `i` (parsed from its tick and lot sizes).
  const ob::BookSpec& spec(std::size_t i) const { return books_[i].spec; }
  /// Trades the shadow books have seen (a check that the flow trades).
  std::uint64_t trades() const { return trades_; }

 private:
  struct Shadow {
    ob::BookSpec spec;
    ob::OrderBook book{ob::Mode::venue};
    std::int64_t mid = 0;              // ticks
    std::int64_t step = 1;             // ticks the mid moves by, and orders are spaced by
    std::vector<std::string> resting;  // ids that may still rest (pruned lazily)
    std::uint64_t next_id = 1;
  };
  Event passive_add(Shadow& s, std::size_t index);
  Event marketable_add(Shadow& s, std::size_t index);
  bool cancel_one(Shadow& s, Event& out);
  Event add(Shadow& s, std::size_t index, ob::Side side, std::int64_t price, std::int64_t lots);

  SimulatorOptions options_;
  std::vector<Shadow> books_;
  std::mt19937_64 rng_;
  std::uint64_t trades_ = 0;
};

}  // namespace feeds
