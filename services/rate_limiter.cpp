#include "services/rate_limiter.hpp"

#include <boost/container_hash/hash.hpp>

#include <algorithm>
#include <stdexcept>

#include "runtime/clock.hpp"

namespace services {

using std::chrono::milliseconds;

milliseconds coarse_clock_now() noexcept {
  return milliseconds(rt::coarse_monotonic_ms());
}

// ---- RateWindows ------------------------------------------------------------------------

std::size_t RateWindows::KeyHash::operator()(std::string_view s) const noexcept {
  return boost::hash<std::string_view>{}(s);
}

RateWindows::RateWindows(std::uint32_t limit, milliseconds window)
    : limit_(limit), window_(std::max(window, milliseconds(1))) {}

RateDecision RateWindows::check(std::string_view key, std::uint32_t cost, milliseconds now) {
  if (limit_ == 0) return RateOk{kUnlimited};
  const std::int64_t t = now.count();
  const std::int64_t w = window_.count();
  auto it = windows_.find(key);  // heterogeneous: no std::string for a known key
  if (cost == 0) {
    if (it == windows_.end() || t - it->second.start_ms >= w) return RateOk{limit_};
    return RateOk{limit_ - it->second.used};
  }
  if (it == windows_.end()) {
    it = windows_.emplace(std::string(key), Window{t, 0}).first;
  } else if (t - it->second.start_ms >= w) {
    it->second = Window{t, 0};  // the previous window ended: anchor a new one now
  }
  Window& win = it->second;
  if (cost <= limit_ - win.used) {
    win.used += cost;
    return RateOk{limit_ - win.used};
  }
  // The window ends at start + w; a clock that went backwards cannot push that past one window.
  return RateLimited{milliseconds(std::clamp<std::int64_t>(win.start_ms + w - t, 1, w))};
}

std::size_t RateWindows::sweep(milliseconds now) {
  const std::int64_t t = now.count();
  const std::int64_t w = window_.count();
  const std::size_t forgotten = boost::unordered::erase_if(
      windows_, [&](const auto& kv) { return t - kv.second.start_ms >= w; });
  // Give memory back after a burst of distinct keys, but keep 2x headroom so a
  // steady population does not regrow the table every window.
  if (windows_.bucket_count() > 64 && windows_.size() * 8 < windows_.bucket_count()) {
    windows_.rehash(windows_.size() * 2);
  }
  return forgotten;
}

// ---- RateLimiter ------------------------------------------------------------------------

RateLimiter::RateLimiter(RateLimitConfig config)
    : config_(std::move(config)), windows_(config_.limit, config_.window) {
  if (!config_.clock) config_.clock = &coarse_clock_now;
  if (config_.cleanup_interval.count() <= 0) config_.cleanup_interval = config_.window;
}

rt::Action RateLimiter::init() {
  if (config_.window.count() <= 0) return stop(rt::ExitReason::error("window must be > 0"));
  if (config_.limit != 0) rt::send_after(ref(), SweepTick{}, config_.cleanup_interval);
  return ok();
}

rt::CallAction<RateDecision> RateLimiter::handle_call(Check&& c, From<RateDecision>) {
  RateDecision d = windows_.check(c.key, c.cost, config_.clock());
  if (allowed(d)) {
    ++ok_;
  } else {
    ++limited_;
  }
  return reply(d);
}

rt::CallAction<RateLimiterStats> RateLimiter::handle_call(const GetStats&, From<RateLimiterStats>) {
  return reply(RateLimiterStats{.ok = ok_,
                                .rate_limited = limited_,
                                .tracked_keys = windows_.size(),
                                .capacity = windows_.capacity(),
                                .swept = swept_});
}

rt::CallAction<std::size_t> RateLimiter::handle_call(const Sweep&, From<std::size_t>) {
  return reply(sweep_now());
}

rt::Action RateLimiter::handle_info(const SweepTick&) {
  sweep_now();
  rt::send_after(ref(), SweepTick{}, config_.cleanup_interval);
  return noreply();
}

void RateLimiter::terminate(const rt::ExitReason&) {
  // RateLimiters may keep this (dead) process referenced: let its keys go now.
  windows_ = RateWindows(config_.limit, config_.window);
}

std::size_t RateLimiter::sweep_now() {
  const std::size_t n = windows_.sweep(config_.clock());
  swept_ += n;
  return n;
}

// ---- RateLimiters -----------------------------------------------------------------------

std::size_t RateLimiters::default_partitions(rt::Runtime& runtime) {
  return kPartitionsPerWorker * runtime.scheduler().workers();
}

rt::Result<RateLimiters, rt::StartError> RateLimiters::start(rt::Runtime& runtime,
                                                             RateLimitConfig config,
                                                             std::size_t partitions,
                                                             rt::StartOptions options) {
  if (config.window.count() <= 0) {
    return rt::Err{rt::StartError{rt::StartError::Code::init_failed,
                                  rt::ExitReason::error("rate limiter window must be > 0"),
                                  {}}};
  }
  if (options.name.empty()) options.name = "limiters";
  if (partitions == 0) partitions = default_partitions(runtime);
  auto started = rt::PartitionSupervisor::start(
      runtime,
      {.partitions = partitions,
       .child = [config](std::size_t) { return rt::child<RateLimiter>("", config); }},
      std::move(options));
  if (!started) return rt::Err{started.error()};
  auto refs = std::make_shared<Refs>();
  for (std::size_t i = 0; i < started->partitions(); ++i) {
    refs->push_back(started->whereis_ref<RateLimiter>(i).value_or(rt::Ref<RateLimiter>{}));
  }
  return RateLimiters(std::move(config), std::move(*started), std::move(refs));
}

std::pair<RateLimiters, rt::ChildSpec> RateLimiters::child_spec(RateLimitConfig config,
                                                                std::size_t partitions,
                                                                std::string id) {
  if (partitions == 0)
    throw std::invalid_argument("RateLimiters::child_spec: partitions must be > 0");
  auto [router, spec] = rt::PartitionSupervisor::child_spec(
      std::move(id), {.partitions = partitions, .child = [config](std::size_t) {
                        return rt::child<RateLimiter>("", config);
                      }});
  // No processes yet: every check routes through the Registry.
  return {RateLimiters(std::move(config), std::move(router), std::make_shared<Refs>()),
          std::move(spec)};
}

rt::CallResult<RateDecision> RateLimiters::check(std::string_view key, std::uint32_t cost,
                                                 milliseconds timeout) const {
  if (!enabled()) return RateDecision(RateOk{kUnlimited});
  return with_limiter(partition_for(key), [&](const rt::Ref<RateLimiter>& target) {
    return rt::call(target, RateLimiter::Check{std::string(key), cost}, timeout);
  });
}

rt::CallResult<RateLimiterStats> RateLimiters::stats(milliseconds timeout) const {
  RateLimiterStats total;
  for (std::size_t i = 0; i < partitions(); ++i) {
    auto target = limiter(i);
    if (!target) return rt::Err{rt::CallError{rt::CallError::Code::noproc, {}}};
    auto s = rt::call(*target, RateLimiter::GetStats{}, timeout);
    if (!s) return rt::Err{s.error()};
    total.ok += s->ok;
    total.rate_limited += s->rate_limited;
    total.tracked_keys += s->tracked_keys;
    total.capacity += s->capacity;
    total.swept += s->swept;
  }
  return total;
}

rt::CallResult<std::size_t> RateLimiters::sweep(milliseconds timeout) const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < partitions(); ++i) {
    auto target = limiter(i);
    if (!target) return rt::Err{rt::CallError{rt::CallError::Code::noproc, {}}};
    auto n = rt::call(*target, RateLimiter::Sweep{}, timeout);
    if (!n) return rt::Err{n.error()};
    total += *n;
  }
  return total;
}

}  // namespace services
