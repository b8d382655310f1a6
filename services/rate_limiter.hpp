#pragma once
// RateLimiter: per-client-key request budgets (API.md "Rate limiting").
//
//   auto limiters = *services::RateLimiters::start(runtime, {.limit = 1000, .window = 1s});
//   rt::CallResult<services::RateDecision> d = limiters.check("10.0.0.7");   // blocking
//   limiters.async_check(ex, key, 1, 100ms, [](rt::CallResult<RateDecision> d) {...});
//
// Algorithm (docs/decisions/006-rate-limiter.md): a fixed window per key,
// anchored at the key's first check (or its first check after the previous
// window ended). At most `limit` units of cost pass per window; a refused check
// costs nothing. Answers carry what the HTTP headers need: `remaining` for
// X-RateLimit-Remaining, `retry_after` (end of the window) for Retry-After.
//
// Processes: the facade RateLimiters starts a PartitionSupervisor ("limiters")
// of N RateLimiter servers; a key's partition is a hash of the key, so one
// key's state lives in exactly one server and no server sees every request.
//
// Edge cases:
// - limit == 0 disables limiting: every check is RateOk{kUnlimited}, and the
//   facade answers without a message.
// - cost == 0 reports the key's remaining budget without consuming or tracking.
// - A cost above `limit` can never pass; it is answered rate_limited with the
//   time left in the window, like any over-budget check.
// - A server forgets every key whose window has ended (sweep, on a send_after
//   timer every `cleanup_interval`). Forgetting changes no answer: a key with
//   an ended window starts a fresh one at its next check anyway.
// - A crashed server is restarted by its PartitionSupervisor with no keys: its
//   keys get a fresh budget (at most one extra window's worth). Calls that hit
//   a partition while it restarts report noproc; the caller decides whether to
//   fail open or closed.
// Thread-safety: RateWindows is single-threaded (owned by one server);
// RateLimiters is safe to use from any thread once started.

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/asio_call.hpp"
#include "runtime/gen_server.hpp"
#include "runtime/partition_supervisor.hpp"

namespace services {

/// A check passed; `remaining` units are left in the key's current window.
struct RateOk {
  std::uint32_t remaining = 0;
  friend bool operator==(const RateOk&, const RateOk&) = default;
};

/// A check was refused; the key's window ends `retry_after` from now.
struct RateLimited {
  std::chrono::milliseconds retry_after{0};
  /// Retry-After header value: whole seconds, rounded up, at least 1.
  std::int64_t retry_after_seconds() const noexcept {
    return std::max<std::int64_t>(1, (retry_after.count() + 999) / 1000);
  }
  friend bool operator==(const RateLimited&, const RateLimited&) = default;
};

/// The answer to a check.
using RateDecision = std::variant<RateOk, RateLimited>;

/// `remaining` reported while limiting is disabled (limit == 0).
inline constexpr std::uint32_t kUnlimited = std::numeric_limits<std::uint32_t>::max();

/// True if the decision lets the request through.
inline bool allowed(const RateDecision& d) noexcept {
  return std::holds_alternative<RateOk>(d);
}

/// Milliseconds on a monotonic clock; injectable so tests control time.
using RateClock = std::function<std::chrono::milliseconds()>;

/// The runtime's coarse monotonic clock (tick resolution, a few ns per read).
std::chrono::milliseconds coarse_clock_now() noexcept;

/// How a limiter counts.
struct RateLimitConfig {
  std::uint32_t limit = 1000;                     ///< units per window per key; 0 disables
  std::chrono::milliseconds window{1000};         ///< window length (> 0)
  std::chrono::milliseconds cleanup_interval{0};  ///< sweep period; 0 = `window`
  RateClock clock;                                ///< empty = coarse_clock_now
};

/// Counters of one server (or, from RateLimiters::stats, of all of them).
struct RateLimiterStats {
  std::uint64_t ok = 0;            ///< checks that passed
  std::uint64_t rate_limited = 0;  ///< checks refused
  std::size_t tracked_keys = 0;    ///< keys with state (a window not yet swept)
  std::size_t capacity = 0;        ///< key slots allocated (49 B each, + key bytes beyond 15)
  std::uint64_t swept = 0;         ///< keys forgotten by sweeps so far
};

/// Per-key anchored fixed windows: the limiter's state and arithmetic, no actors.
class RateWindows {
 public:
  /// `window` below 1 ms counts as 1 ms.
  RateWindows(std::uint32_t limit, std::chrono::milliseconds window);

  /// Counts `cost` units for `key` at time `now` if the window has room.
  RateDecision check(std::string_view key, std::uint32_t cost, std::chrono::milliseconds now);
  /// Forgets keys whose window ended at or before `now`; returns how many.
  /// Shrinks the table when it has become mostly empty.
  std::size_t sweep(std::chrono::milliseconds now);

  std::size_t size() const noexcept { return windows_.size(); }
  std::size_t capacity() const noexcept { return windows_.bucket_count(); }
  std::uint32_t limit() const noexcept { return limit_; }
  std::chrono::milliseconds window() const noexcept { return window_; }

 private:
  struct Window {
    std::int64_t start_ms;  // when the key's current window began
    std::uint32_t used;     // units counted in it
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept;
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
  };

  boost::unordered_flat_map<std::string, Window, KeyHash, KeyEq> windows_;
  std::uint32_t limit_;
  std::chrono::milliseconds window_;
};

/// One partition's server: owns a RateWindows and sweeps it on a timer.
class RateLimiter : public rt::GenServer<RateLimiter> {
 public:
  /// Checks `cost` units for `key` (the request owns its key: it may outlive the caller's buffer).
  struct Check {
    using Reply = RateDecision;
    std::string key;
    std::uint32_t cost = 1;
  };
  /// This server's counters.
  struct GetStats {
    using Reply = RateLimiterStats;
  };
  /// Sweeps now (tests, tools); replies with the number of keys forgotten.
  struct Sweep {
    using Reply = std::size_t;
  };
  /// The cleanup timer's message.
  struct SweepTick {};

  explicit RateLimiter(RateLimitConfig config);

  Action init();
  CallAction<RateDecision> handle_call(Check&& c, From<RateDecision>);
  CallAction<RateLimiterStats> handle_call(const GetStats&, From<RateLimiterStats>);
  CallAction<std::size_t> handle_call(const Sweep&, From<std::size_t>);
  Action handle_info(const SweepTick&);
  void terminate(const rt::ExitReason&);

 private:
  std::size_t sweep_now();

  RateLimitConfig config_;
  RateWindows windows_;
  std::uint64_t ok_ = 0;
  std::uint64_t limited_ = 0;
  std::uint64_t swept_ = 0;
};

/// The "limiters" PartitionSupervisor and the client API that routes keys to it.
class RateLimiters {
 public:
  /// Partitions per scheduler worker when none are given. Callers (API
  /// threads) meet on one partition with probability ~ callers / partitions;
  /// a meeting turns a sub-microsecond call into a wait for another worker,
  /// so partitions (a few hundred bytes each) outnumber workers widely.
  static constexpr std::size_t kPartitionsPerWorker = 16;
  /// The default partition count for `runtime`.
  static std::size_t default_partitions(rt::Runtime& runtime);

  /// Starts `partitions` RateLimiter servers (0 = default_partitions) under a
  /// PartitionSupervisor (named "limiters" unless `options` names it).
  static rt::Result<RateLimiters, rt::StartError> start(rt::Runtime& runtime,
                                                        RateLimitConfig config,
                                                        std::size_t partitions = 0,
                                                        rt::StartOptions options = {});

  /// For the application tree: the client API and the ChildSpec that starts the
  /// "limiters" PartitionSupervisor under a parent supervisor. `partitions`
  /// must be > 0 (std::invalid_argument otherwise).
  static std::pair<RateLimiters, rt::ChildSpec> child_spec(RateLimitConfig config,
                                                           std::size_t partitions,
                                                           std::string id = "limiters");

  /// Checks `cost` units for `key`, blocking the calling thread (tests, tools).
  rt::CallResult<RateDecision> check(
      std::string_view key, std::uint32_t cost = 1,
      std::chrono::milliseconds timeout = rt::kDefaultCallTimeout) const;

  /// Checks without blocking: `token` receives rt::CallResult<RateDecision> on
  /// `executor` (callbacks, use_awaitable, use_future). For Asio handlers.
  template <class Executor, class Token>
  auto async_check(Executor executor, std::string_view key, std::uint32_t cost,
                   std::chrono::milliseconds timeout, Token&& token) const;

  /// Counters summed over the partitions (one call to each).
  rt::CallResult<RateLimiterStats> stats(
      std::chrono::milliseconds timeout = rt::kDefaultCallTimeout) const;
  /// Sweeps every partition now; returns the number of keys forgotten.
  rt::CallResult<std::size_t> sweep(
      std::chrono::milliseconds timeout = rt::kDefaultCallTimeout) const;

  const RateLimitConfig& config() const noexcept { return config_; }
  bool enabled() const noexcept { return config_.limit != 0; }
  std::size_t partitions() const noexcept { return partitions_.partitions(); }
  /// The partition `key` routes to.
  std::size_t partition_for(std::string_view key) const { return partitions_.partition_for(key); }
  /// The server of `key`'s partition (nullopt while it restarts).
  std::optional<rt::Ref<RateLimiter>> limiter_for(std::string_view key) const {
    return limiter(partition_for(key));
  }
  /// The server of partition `index` (nullopt while it restarts).
  std::optional<rt::Ref<RateLimiter>> limiter(std::size_t index) const {
    return partitions_.whereis_ref<RateLimiter>(index);
  }
  /// The PartitionSupervisor's supervisor process (to stop or link the tree).
  rt::Ref<rt::Supervisor> supervisor() const { return partitions_.supervisor(); }

 private:
  using Refs = std::vector<rt::Ref<RateLimiter>>;
  RateLimiters(RateLimitConfig config, rt::PartitionSupervisor partitions,
               std::shared_ptr<const Refs> started)
      : config_(std::move(config)),
        partitions_(std::move(partitions)),
        started_(std::move(started)) {}

  /// Runs f(ref) with partition `p`'s server: the one start() saw while it
  /// lives (no Registry lookup, no reference-count traffic: the hot path),
  /// else the Registry's current one, else an empty Ref (calls report noproc).
  /// The first incarnations stay referenced; a dead one has released its keys.
  template <class F>
  decltype(auto) with_limiter(std::size_t p, F&& f) const {
    if (p < started_->size() && (*started_)[p].alive()) return f((*started_)[p]);
    return f(limiter(p).value_or(rt::Ref<RateLimiter>{}));
  }

  RateLimitConfig config_;
  rt::PartitionSupervisor partitions_;
  std::shared_ptr<const Refs> started_;  // shared: RateLimiters is copied freely
};

// ---- implementation -------------------------------------------------------------------

template <class Executor, class Token>
auto RateLimiters::async_check(Executor executor, std::string_view key, std::uint32_t cost,
                               std::chrono::milliseconds timeout, Token&& token) const {
  using Reply = rt::CallResult<RateDecision>;
  // Everything the initiation needs travels by value: lazy tokens (use_awaitable)
  // may run it after this call returned and `key`'s buffer is gone.
  const bool on = enabled();
  // A restarting partition has no Ref: async_call answers an empty one with noproc.
  rt::Ref<RateLimiter> target;
  if (on)
    target = with_limiter(partition_for(key), [](const rt::Ref<RateLimiter>& r) { return r; });
  return boost::asio::async_initiate<Token, void(Reply)>(
      [on, timeout](auto handler, Executor ex, rt::Ref<RateLimiter> to, RateLimiter::Check req) {
        if (!on) {
          boost::asio::post(
              ex, [h = std::move(handler)]() mutable { std::move(h)(Reply(RateOk{kUnlimited})); });
          return;
        }
        rt::async_call(std::move(ex), to, std::move(req), timeout, std::move(handler));
      },
      token, std::move(executor), std::move(target), RateLimiter::Check{std::string(key), cost});
}

}  // namespace services
