#include "services/tick_feed.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace services {

TickFeed::TickFeed(ContextPtr ctx, TickFeedOptions options)
    : ctx_(std::move(ctx)), options_(options), rng_(options.seed), pacer_(options.rate) {}

TickFeed::Action TickFeed::init() {
  for (auto& [symbol, entry] : ctx_->books.select([](const auto&, const auto&) { return true; })) {
    if (auto ref = rt::Ref<OrderBookServer>::from(entry.pid)) {
      // Start mid-grid of a plausible price: 1,000.00 in units of the tick.
      const std::int64_t start = std::max<std::int64_t>(
          1, 100'000 / std::max<std::int64_t>(1, entry.value->spec.book.tick_units));
      symbols_.push_back(Walk{BookHandle{*ref, entry.value}, start, {}});
    }
  }
  if (symbols_.empty()) return stop(rt::ExitReason::error("tick feed: no symbols to trade"));
  std::sort(symbols_.begin(), symbols_.end(),
            [](const Walk& a, const Walk& b) { return a.book.info->symbol < b.book.info->symbol; });
  pacer_.start(RatePacer::Clock::now());
  rt::send_after(ref(), Step{}, options_.period);
  spdlog::info("event=tick_feed_started symbols={} rate={}", symbols_.size(), options_.rate);
  return ok();
}

TickFeed::Action TickFeed::handle_info(const Step&) {
  const std::uint64_t n = pacer_.due(RatePacer::Clock::now());
  bool behind = false;
  for (Walk& w : symbols_) behind = book_behind(*ctx_, w.book, options_.max_backlog) || behind;
  if (behind) {
    stats_.skipped += n;
  } else {
    std::uniform_int_distribution<std::size_t> pick(0, symbols_.size() - 1);
    std::uniform_int_distribution<int> step(-1, 1);
    std::uniform_int_distribution<std::int64_t> lots(1, 50'000);
    for (std::uint64_t k = 0; k < n; ++k) {
      Walk& w = symbols_[pick(rng_)];
      w.price = std::max<std::int64_t>(1, w.price + step(rng_));
      feeds::Event e;
      e.type = feeds::EventType::tick;
      e.side = (rng_() & 1) != 0 ? ob::Side::buy : ob::Side::sell;
      e.price = ob::Price(w.price);
      e.qty = ob::Qty(lots(rng_));
      w.pending.push_back(std::move(e));
    }
    const std::int64_t stamp = wall_clock_ns();  // the ticks' event time
    for (Walk& w : symbols_) {
      if (w.pending.empty()) continue;
      stats_.emitted += w.pending.size();
      rt::cast(w.book.server, OrderBookServer::Apply{std::move(w.pending), stamp});
      w.pending = {};
    }
  }
  rt::send_after(ref(), Step{}, options_.period);
  return noreply();
}

TickFeed::CallAction<TickFeed::Stats> TickFeed::handle_call(const GetStats&, From<Stats>&) {
  return reply(stats_);
}

}  // namespace services
