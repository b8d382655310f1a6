#include "services/simulator_feed.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "runtime/clock.hpp"

namespace services {

SimulatorFeed::SimulatorFeed(ContextPtr ctx, DirectoryLookup directory,
                             SimulatorFeedOptions options)
    : ctx_(std::move(ctx)),
      directory_(std::move(directory)),
      options_(std::move(options)),
      sim_(options_.simulator),
      pacer_(options_.rate) {}

SimulatorFeed::Action SimulatorFeed::init() {
  auto directory = directory_();
  if (!directory) return stop(rt::ExitReason::error("simulator: no symbol directory"));
  for (std::size_t i = 0; i < sim_.options().symbols.size(); ++i) {
    const std::string& symbol = sim_.options().symbols[i].symbol;
    SymbolSpec spec{sim_.spec(i), ob::Mode::venue};
    auto made = rt::call(*directory, SymbolDirectory::Ensure{symbol, spec, false},
                         rt::kSupervisorCallTimeout);
    if (!made || !made->ok()) {
      return stop(rt::ExitReason::error(
          "simulator: cannot create " + symbol +
          (made ? ": " + made->error().detail : ": " + made.error().to_string())));
    }
    auto book = find_book(*ctx_, symbol);
    if (!book) return stop(rt::ExitReason::error("simulator: no book for " + symbol));
    books_.push_back(std::move(*book));
  }
  pending_.resize(books_.size());
  pacer_.start(RatePacer::Clock::now());
  rt::send_after(ref(), Step{}, options_.period);
  spdlog::info("event=simulator_started symbols={} rate={}", books_.size(), options_.rate);
  return ok();
}

SimulatorFeed::Action SimulatorFeed::handle_info(const Step&) {
  const std::uint64_t n = pacer_.due(RatePacer::Clock::now());
  // A book that is behind holds the whole step back: skipping only some of
  // the events would desynchronise the simulator's shadow books.
  bool behind = false;
  for (BookHandle& book : books_) behind = book_behind(*ctx_, book, options_.max_backlog) || behind;
  if (behind) {
    stats_.skipped += n;
  } else {
    for (std::uint64_t k = 0; k < n; ++k) {
      feeds::MarketSimulator::Step s = sim_.next();
      pending_[s.symbol].push_back(std::move(s.event));
    }
    const std::int64_t receipt = wall_clock_ns();
    for (std::size_t i = 0; i < books_.size(); ++i) {
      if (pending_[i].empty()) continue;
      stats_.emitted += pending_[i].size();
      rt::cast(books_[i].server, OrderBookServer::Apply{std::move(pending_[i]), receipt});
      pending_[i] = {};
    }
  }
  if (stats_.skipped > 0 && rt::coarse_monotonic_ms() - last_warning_ms_ > 10'000) {
    last_warning_ms_ = rt::coarse_monotonic_ms();
    spdlog::warn("event=simulator_behind skipped={} emitted={}", stats_.skipped, stats_.emitted);
  }
  rt::send_after(ref(), Step{}, options_.period);
  return noreply();
}

SimulatorFeed::CallAction<SimulatorFeed::Stats> SimulatorFeed::handle_call(const GetStats&,
                                                                           From<Stats>&) {
  return reply(stats_);
}

}  // namespace services
