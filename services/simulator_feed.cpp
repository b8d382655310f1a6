#include "services/simulator_feed.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <stdexcept>

#include "runtime/clock.hpp"

namespace services {

SimulatorFeed::SimulatorFeed(ContextPtr ctx, DirectoryLookup directory,
                             SimulatorFeedOptions options)
    : ctx_(std::move(ctx)),
      directory_(std::move(directory)),
      options_(std::move(options)),
      sim_(options_.simulator) {}

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
  last_step_ = std::chrono::steady_clock::now();
  rt::send_after(ref(), Step{}, options_.period);
  spdlog::info("event=simulator_started symbols={} rate={}", books_.size(), options_.rate);
  return ok();
}

SimulatorFeed::Action SimulatorFeed::handle_info(const Step&) {
  const auto now = std::chrono::steady_clock::now();
  budget_ += options_.rate * std::chrono::duration<double>(now - last_step_).count();
  last_step_ = now;
  // Never more than a second's worth at once, however late the step ran.
  budget_ = std::min(budget_, std::max(options_.rate, 1.0));
  const auto n = static_cast<std::uint64_t>(std::floor(budget_));
  budget_ -= static_cast<double>(n);
  // A book that is behind holds the whole step back: skipping only some of
  // the events would desynchronise the simulator's shadow books.
  bool behind = false;
  for (BookHandle& book : books_) {
    if (!book.server.alive()) {  // restarted: find its successor
      if (auto fresh = find_book(*ctx_, book.info->symbol)) book = std::move(*fresh);
    }
    rt::Process* p = book.server.pid().get();
    behind = behind || p == nullptr || p->mailbox_depth() >= options_.max_backlog;
  }
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
