#include "feeds/simulator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "orderbook/decimal.hpp"

namespace feeds {

std::vector<SimulatedSymbol> default_simulated_symbols() {
  return {
      {"BTC-USD", "0.01", "0.00001", "64000.00"},
      {"ETH-USD", "0.01", "0.0001", "3200.00"},
      {"SOL-USD", "0.001", "0.01", "150.000"},
      {"EUR-USD", "0.00001", "1000", "1.08000"},
      {"AAPL", "0.01", "1", "190.00"},
      {"MSFT", "0.01", "1", "420.00"},
      {"ES.Z26", "0.25", "1", "5000.00"},
      {"XAU-USD", "0.01", "0.01", "2400.00"},
  };
}

std::vector<SimulatedSymbol> simulated_symbols(std::size_t count) {
  std::vector<SimulatedSymbol> out = default_simulated_symbols();
  out.resize(std::min(out.size(), count));
  for (std::size_t i = out.size(); i < count; ++i) {
    out.push_back({fmt::format("SIM{:03}-USD", i), "0.01", "0.0001", "100.00"});
  }
  return out;
}

MarketSimulator::MarketSimulator(SimulatorOptions options)
    : options_(std::move(options)), rng_(options_.seed) {
  books_.reserve(options_.symbols.size());
  for (const SimulatedSymbol& s : options_.symbols) {
    auto spec = ob::BookSpec::parse(s.tick_size, s.lot_size);
    if (!spec) throw std::invalid_argument("simulator: bad tick or lot size for " + s.symbol);
    auto mid = ob::parse_price(s.start_mid, *spec);
    if (!mid) throw std::invalid_argument("simulator: bad start mid for " + s.symbol);
    Shadow& sh = books_.emplace_back();
    sh.spec = *spec;
    sh.mid = mid->ticks();
    sh.step = std::max<std::int64_t>(1, sh.mid / kStepsPerPrice);
  }
  if (books_.empty()) throw std::invalid_argument("simulator: no symbols");
}

Event MarketSimulator::add(Shadow& s, std::size_t index, ob::Side side, std::int64_t price,
                           std::int64_t lots) {
  Event e;
  e.type = EventType::add;
  e.side = side;
  e.price = ob::Price(std::max<std::int64_t>(price, 1));
  e.qty = ob::Qty(std::max<std::int64_t>(lots, 1));
  e.order_id = fmt::format("{}-{}", index, s.next_id++);
  auto r = s.book.add_external(e.order_id, e.side, e.price, e.qty);
  if (r.ok()) {
    trades_ += s.book.last_change().trades.size();
    if (r->remaining.positive()) s.resting.push_back(e.order_id);
  }
  return e;
}

Event MarketSimulator::passive_add(Shadow& s, std::size_t index) {
  const ob::Side side = std::bernoulli_distribution(0.5)(rng_) ? ob::Side::buy : ob::Side::sell;
  const std::int64_t away = s.step * (1 + std::geometric_distribution<std::int64_t>(0.35)(rng_));
  const std::int64_t price = side == ob::Side::buy ? s.mid - away : s.mid + away;
  const std::int64_t lots = 1 + std::geometric_distribution<std::int64_t>(0.2)(rng_);
  return add(s, index, side, price, lots);
}

Event MarketSimulator::marketable_add(Shadow& s, std::size_t index) {
  const ob::Side side = std::bernoulli_distribution(0.5)(rng_) ? ob::Side::buy : ob::Side::sell;
  auto opposite = s.book.best(ob::opposite(side));
  const std::int64_t through = s.step * std::uniform_int_distribution<std::int64_t>(0, 2)(rng_);
  std::int64_t price = opposite ? opposite->price.ticks() : s.mid;
  price += side == ob::Side::buy ? through : -through;
  const std::int64_t lots = 1 + std::geometric_distribution<std::int64_t>(0.3)(rng_);
  return add(s, index, side, price, lots);
}

bool MarketSimulator::cancel_one(Shadow& s, Event& out) {
  while (!s.resting.empty()) {
    const std::size_t k = std::uniform_int_distribution<std::size_t>(0, s.resting.size() - 1)(rng_);
    std::swap(s.resting[k], s.resting.back());
    std::string id = std::move(s.resting.back());
    s.resting.pop_back();
    auto internal = s.book.resolve(id);
    if (!internal) continue;  // filled meanwhile: forget it
    (void)s.book.cancel(*internal);
    out = Event{};
    out.type = EventType::cancel;
    out.order_id = std::move(id);
    return true;
  }
  return false;
}

MarketSimulator::Step MarketSimulator::next() {
  const std::size_t i = std::uniform_int_distribution<std::size_t>(0, books_.size() - 1)(rng_);
  Shadow& s = books_[i];
  // The mid drifts a step at a time; orders follow it.
  const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  if (u < 0.05) s.mid += s.step;
  if (u > 0.95) s.mid = std::max<std::int64_t>(s.mid - s.step, 2 * s.step);
  const double crowded =
      static_cast<double>(s.book.order_count()) / static_cast<double>(options_.target_orders);
  const double p_cancel = std::clamp(0.3 * crowded, 0.05, 0.8);
  const double roll = std::uniform_real_distribution<double>(0, 1)(rng_);
  Step step{i, {}};
  if (roll < p_cancel && cancel_one(s, step.event)) return step;
  step.event = roll > 0.9 ? marketable_add(s, i) : passive_add(s, i);
  return step;
}

}  // namespace feeds
