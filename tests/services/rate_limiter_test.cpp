#include "services/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/eventually.hpp"

namespace services::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using testing_support::eventually;

RateDecision ok(std::uint32_t remaining) {
  return RateOk{remaining};
}
RateDecision limited(milliseconds retry_after) {
  return RateLimited{retry_after};
}

/// A clock the test moves by hand; safe to read from any thread.
class ManualClock {
 public:
  RateClock fn() const {
    return [ms = ms_] { return milliseconds(ms->load(std::memory_order_relaxed)); };
  }
  void set(std::int64_t ms) { ms_->store(ms, std::memory_order_relaxed); }
  void advance(milliseconds d) { ms_->fetch_add(d.count(), std::memory_order_relaxed); }

 private:
  std::shared_ptr<std::atomic<std::int64_t>> ms_ = std::make_shared<std::atomic<std::int64_t>>(0);
};

// ---- RateWindows: the arithmetic ----------------------------------------------------------

TEST(RateWindowsTest, FirstCheckAnchorsAWindowAndCountsDown) {
  RateWindows w(3, 1000ms);
  EXPECT_EQ(w.check("a", 1, 0ms), ok(2));
  EXPECT_EQ(w.check("a", 1, 10ms), ok(1));
  EXPECT_EQ(w.check("a", 1, 20ms), ok(0));
  EXPECT_EQ(w.check("a", 1, 30ms), limited(970ms));
  EXPECT_EQ(w.size(), 1u);
}

TEST(RateWindowsTest, WindowEndIsExclusiveAtTheExactBoundary) {
  RateWindows w(2, 1000ms);
  w.check("a", 2, 0ms);
  EXPECT_EQ(w.check("a", 1, 999ms), limited(1ms));
  EXPECT_EQ(w.check("a", 1, 1000ms), ok(1));  // start + window: a new window
  EXPECT_EQ(w.check("a", 1, 1999ms), ok(0));
  EXPECT_EQ(w.check("a", 1, 1999ms), limited(1ms));
  EXPECT_EQ(w.check("a", 1, 2000ms), ok(1));
}

TEST(RateWindowsTest, WindowIsAnchoredAtTheKeysFirstCheckNotAtClockMultiples) {
  RateWindows w(1, 1000ms);
  EXPECT_EQ(w.check("a", 1, 250ms), ok(0));
  EXPECT_EQ(w.check("a", 1, 1000ms), limited(250ms));
  EXPECT_EQ(w.check("a", 1, 1249ms), limited(1ms));
  EXPECT_EQ(w.check("a", 1, 1250ms), ok(0));
  // A quiet key re-anchors at its next check, not at start + k * window.
  EXPECT_EQ(w.check("a", 1, 5000ms), ok(0));
  EXPECT_EQ(w.check("a", 1, 5999ms), limited(1ms));
}

TEST(RateWindowsTest, RefusedChecksConsumeNothing) {
  RateWindows w(2, 1000ms);
  w.check("a", 1, 0ms);
  w.check("a", 1, 0ms);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(allowed(w.check("a", 1, 500ms)));
  EXPECT_EQ(w.check("a", 1, 1000ms), ok(1));
}

TEST(RateWindowsTest, RetryAfterIsTheWindowsEndInWholeSecondsRoundedUpAtLeastOne) {
  RateWindows w(1, 2500ms);
  w.check("a", 1, 0ms);
  auto first = std::get<RateLimited>(w.check("a", 1, 0ms));
  EXPECT_EQ(first.retry_after, 2500ms);
  EXPECT_EQ(first.retry_after_seconds(), 3);
  auto last = std::get<RateLimited>(w.check("a", 1, 2499ms));
  EXPECT_EQ(last.retry_after, 1ms);
  EXPECT_EQ(last.retry_after_seconds(), 1);
  EXPECT_EQ(RateLimited{1000ms}.retry_after_seconds(), 1);
  EXPECT_EQ(RateLimited{1001ms}.retry_after_seconds(), 2);
  EXPECT_EQ(RateLimited{0ms}.retry_after_seconds(), 1);
}

TEST(RateWindowsTest, CostAboveOneConsumesThatManyUnits) {
  RateWindows w(10, 1000ms);
  EXPECT_EQ(w.check("a", 4, 0ms), ok(6));
  EXPECT_EQ(w.check("a", 4, 0ms), ok(2));
  EXPECT_EQ(w.check("a", 3, 100ms), limited(900ms));  // would exceed: refused whole
  EXPECT_EQ(w.check("a", 2, 100ms), ok(0));
  EXPECT_EQ(w.check("a", 1, 100ms), limited(900ms));
}

TEST(RateWindowsTest, CostAboveTheLimitNeverPasses) {
  RateWindows w(5, 1000ms);
  EXPECT_EQ(w.check("a", 6, 0ms), limited(1000ms));
  EXPECT_EQ(w.check("a", 6, 5000ms), limited(1000ms));
  EXPECT_EQ(w.check("a", 5, 5000ms), ok(0));
}

TEST(RateWindowsTest, CostZeroReportsRemainingWithoutConsumingOrTracking) {
  RateWindows w(5, 1000ms);
  EXPECT_EQ(w.check("a", 0, 0ms), ok(5));
  EXPECT_EQ(w.size(), 0u);
  w.check("a", 2, 0ms);
  EXPECT_EQ(w.check("a", 0, 10ms), ok(3));
  EXPECT_EQ(w.check("a", 0, 1000ms), ok(5));  // the window ended
  EXPECT_EQ(w.check("a", 1, 1000ms), ok(4));
}

TEST(RateWindowsTest, LimitZeroDisablesAndTracksNothing) {
  RateWindows w(0, 1000ms);
  for (int i = 0; i < 10'000; ++i) EXPECT_EQ(w.check("a", 1, 0ms), ok(kUnlimited));
  EXPECT_EQ(w.check("b", 1'000'000, 0ms), ok(kUnlimited));
  EXPECT_EQ(w.size(), 0u);
}

TEST(RateWindowsTest, KeysHaveIndependentBudgets) {
  RateWindows w(1, 1000ms);
  EXPECT_TRUE(allowed(w.check("a", 1, 0ms)));
  EXPECT_TRUE(allowed(w.check("b", 1, 0ms)));
  EXPECT_FALSE(allowed(w.check("a", 1, 0ms)));
  EXPECT_TRUE(allowed(w.check(std::string(100, 'k'), 1, 0ms)));  // beyond SSO
  EXPECT_FALSE(allowed(w.check(std::string(100, 'k'), 1, 0ms)));
  EXPECT_EQ(w.size(), 3u);
}

TEST(RateWindowsTest, SweepForgetsEndedWindowsAndKeepsRunningOnes) {
  RateWindows w(5, 1000ms);
  w.check("idle", 1, 0ms);
  w.check("active", 1, 600ms);
  w.check("active", 1, 700ms);
  EXPECT_EQ(w.sweep(999ms), 0u);
  EXPECT_EQ(w.sweep(1000ms), 1u);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.check("active", 0, 1000ms), ok(3));  // its count survived
  EXPECT_EQ(w.sweep(1600ms), 1u);
  EXPECT_EQ(w.size(), 0u);
}

TEST(RateWindowsTest, SweepingChangesNoAnswer) {
  // Forgetting an ended window is invisible: the next check starts a new one anyway.
  RateWindows swept(3, 100ms);
  RateWindows kept(3, 100ms);
  std::mt19937 rng(42);
  std::int64_t now = 0;
  for (int i = 0; i < 50'000; ++i) {
    now += static_cast<std::int64_t>(rng() % 7);
    std::string key = "k" + std::to_string(rng() % 50);
    auto cost = static_cast<std::uint32_t>(rng() % 3);
    ASSERT_EQ(swept.check(key, cost, milliseconds(now)), kept.check(key, cost, milliseconds(now)))
        << "at step " << i;
    if (i % 97 == 0) swept.sweep(milliseconds(now));
  }
  EXPECT_LT(swept.size(), kept.size());
}

TEST(RateWindowsTest, MemoryIsGivenBackAfterABurstOfDistinctKeys) {
  RateWindows w(10, 1000ms);
  for (int i = 0; i < 200'000; ++i) w.check("client-" + std::to_string(i), 1, 0ms);
  EXPECT_EQ(w.size(), 200'000u);
  const std::size_t peak = w.capacity();
  EXPECT_GE(peak, 200'000u);
  EXPECT_EQ(w.sweep(1000ms), 200'000u);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_LT(w.capacity(), 1'000u);
  // A second burst of other keys needs no more than the first.
  for (int i = 0; i < 200'000; ++i) w.check("other-" + std::to_string(i), 1, 2000ms);
  EXPECT_LE(w.capacity(), peak);
  EXPECT_EQ(w.sweep(3000ms), 200'000u);
  EXPECT_LT(w.capacity(), 1'000u);
}

// ---- RateLimiters: the processes ------------------------------------------------------------

class RateLimitersTest : public ::testing::Test {
 protected:
  asio::io_context io;  // first: it must outlive the runtime's threads that post to it
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 2}}};
  ManualClock clock;

  RateLimiters start(std::uint32_t limit, std::size_t partitions = 2, milliseconds cleanup = 1h) {
    auto r = RateLimiters::start(
        runtime,
        {.limit = limit, .window = 1000ms, .cleanup_interval = cleanup, .clock = clock.fn()},
        partitions);
    EXPECT_TRUE(r.ok());
    return std::move(*r);
  }
  static RateLimiterStats stats(const RateLimiters& l) {
    auto s = l.stats();
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : RateLimiterStats{};
  }
};

TEST_F(RateLimitersTest, BlockingCheckCountsDownThenLimits) {
  auto limiters = start(3);
  EXPECT_EQ(*limiters.check("10.0.0.1"), ok(2));
  EXPECT_EQ(*limiters.check("10.0.0.1"), ok(1));
  clock.advance(400ms);
  EXPECT_EQ(*limiters.check("10.0.0.1"), ok(0));
  EXPECT_EQ(*limiters.check("10.0.0.1"), limited(600ms));
  EXPECT_EQ(*limiters.check("10.0.0.1", 0), ok(0));
  clock.advance(600ms);
  EXPECT_EQ(*limiters.check("10.0.0.1", 2), ok(1));
  auto s = stats(limiters);
  EXPECT_EQ(s.ok, 5u);  // cost-0 queries count as ok checks
  EXPECT_EQ(s.rate_limited, 1u);
  EXPECT_EQ(s.tracked_keys, 1u);
}

TEST_F(RateLimitersTest, LimitZeroDisablesWithoutTouchingTheServers) {
  auto limiters = start(0);
  EXPECT_FALSE(limiters.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(*limiters.check("k"), ok(kUnlimited));
  auto s = stats(limiters);
  EXPECT_EQ(s.ok + s.rate_limited, 0u);
  EXPECT_EQ(s.tracked_keys, 0u);
}

TEST_F(RateLimitersTest, DefaultsToManyPartitionsPerSchedulerWorker) {
  auto limiters = start(10, 0);
  EXPECT_EQ(limiters.partitions(),
            RateLimiters::kPartitionsPerWorker * runtime.scheduler().workers());
}

TEST_F(RateLimitersTest, EachKeyLivesInTheOnePartitionItsHashPicks) {
  auto limiters = start(1000, 4);
  std::vector<std::size_t> per_partition(4, 0);
  for (int i = 0; i < 200; ++i) {
    std::string key = "key-" + std::to_string(i);
    const std::size_t p = limiters.partition_for(key);
    EXPECT_EQ(p, boost::hash<std::string_view>{}(key) % 4);
    EXPECT_EQ(limiters.partition_for(std::string(key)), p);  // stable
    ++per_partition[p];
    for (int n = 0; n < 3; ++n) ASSERT_TRUE(limiters.check(key).ok());
    EXPECT_EQ(*limiters.check(key, 0), ok(997));  // one budget, wherever it is checked from
  }
  for (std::size_t p = 0; p < 4; ++p) {
    EXPECT_GT(per_partition[p], 0u);
    auto s = rt::call(*limiters.limiter(p), RateLimiter::GetStats{});
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->tracked_keys, per_partition[p]) << "partition " << p;
  }
}

TEST_F(RateLimitersTest, CleanupTimerForgetsIdleKeysButNotActiveOnes) {
  auto limiters = start(5, 2, 5ms);
  ASSERT_TRUE(limiters.check("idle").ok());
  clock.set(600);
  ASSERT_TRUE(limiters.check("active").ok());
  ASSERT_TRUE(limiters.check("active").ok());
  EXPECT_EQ(stats(limiters).tracked_keys, 2u);
  clock.set(1000);  // idle's window ended; active's runs until 1600
  ASSERT_TRUE(eventually([&] { return stats(limiters).tracked_keys == 1; }));
  EXPECT_EQ(*limiters.check("active", 0), ok(3));
  EXPECT_EQ(stats(limiters).swept, 1u);
  clock.set(1600);
  ASSERT_TRUE(eventually([&] { return stats(limiters).tracked_keys == 0; }));
}

TEST_F(RateLimitersTest, MemoryStaysBoundedAfterCleanupWith200kDistinctKeys) {
  auto limiters = start(10, 2);
  constexpr int kKeys = 200'000;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(limiters.check("r" + std::to_string(round) + "-" + std::to_string(i)).ok());
    }
    auto full = stats(limiters);
    EXPECT_EQ(full.tracked_keys, static_cast<std::size_t>(kKeys));
    EXPECT_GE(full.capacity, static_cast<std::size_t>(kKeys));
    EXPECT_LT(full.capacity, static_cast<std::size_t>(4 * kKeys));
    clock.advance(1000ms);
    EXPECT_EQ(*limiters.sweep(), static_cast<std::size_t>(kKeys));
    auto after = stats(limiters);
    EXPECT_EQ(after.tracked_keys, 0u);
    EXPECT_LT(after.capacity, 2'000u) << "round " << round;
  }
}

TEST_F(RateLimitersTest, CrashedLimiterIsRestartedEmptyAndChecksWorkAgain) {
  auto limiters = start(3, 2);
  const std::string key = "crash-me";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(allowed(*limiters.check(key)));
  ASSERT_FALSE(allowed(*limiters.check(key)));
  rt::Pid old = limiters.limiter_for(key)->pid();
  rt::exit(old, rt::ExitReason::error("boom"));
  ASSERT_TRUE(eventually([&] {
    auto now = limiters.limiter_for(key);
    return now && now->pid() != old && now->alive();
  }));
  EXPECT_FALSE(old.alive());
  // The state died with the process: the key starts over with a full budget.
  EXPECT_EQ(*limiters.check(key), ok(2));
  auto s = stats(limiters);
  EXPECT_EQ(s.tracked_keys, 1u);
}

TEST_F(RateLimitersTest, ChildSpecRunsTheLimitersUnderAParentSupervisor) {
  auto [limiters, spec] =
      RateLimiters::child_spec({.limit = 2, .window = 1000ms, .clock = clock.fn()}, 2, "limiters");
  auto root = rt::start<rt::Supervisor>(runtime, {.name = "root"},
                                        rt::SupervisorSpec{.children = {std::move(spec)}});
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*limiters.check("k"), ok(1));
  EXPECT_EQ(*limiters.check("k"), ok(0));
  EXPECT_FALSE(allowed(*limiters.check("k")));
  rt::Pid old = limiters.limiter_for("k")->pid();
  rt::exit(old, rt::ExitReason::error("boom"));
  ASSERT_TRUE(eventually([&] {
    auto now = limiters.limiter_for("k");
    return now && now->pid() != old;
  }));
  EXPECT_EQ(*limiters.check("k"), ok(1));
  EXPECT_THROW(RateLimiters::child_spec({}, 0), std::invalid_argument);
}

TEST_F(RateLimitersTest, ConcurrentCallersShareOneBudgetExactly) {
  auto limiters = start(1000, 2);
  std::atomic<int> passed{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 600; ++i) {
        auto d = limiters.check("shared");
        if (d.ok() && allowed(*d)) passed.fetch_add(1);
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(passed.load(), 1000);
  auto s = stats(limiters);
  EXPECT_EQ(s.ok, 1000u);
  EXPECT_EQ(s.rate_limited, 1400u);
}

TEST_F(RateLimitersTest, AsyncCheckCompletesOnTheIoContextWithoutBlocking) {
  auto limiters = start(2, 2);
  std::vector<RateDecision> got;
  std::thread::id handler_thread;
  for (int i = 0; i < 3; ++i) {
    limiters.async_check(io.get_executor(), "async-key", 1, 1000ms,
                         [&](rt::CallResult<RateDecision> r) {
                           handler_thread = std::this_thread::get_id();
                           ASSERT_TRUE(r.ok());
                           got.push_back(*r);
                         });
  }
  auto guard = asio::make_work_guard(io);
  while (got.size() < 3) io.run_one_for(10s);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(handler_thread, std::this_thread::get_id());
  // Mailbox order: the three checks are handled in the order they were posted.
  EXPECT_EQ(got[0], ok(1));
  EXPECT_EQ(got[1], ok(0));
  EXPECT_EQ(got[2], limited(1000ms));
}

TEST_F(RateLimitersTest, AsyncCheckWorksFromACoroutineAndWhenDisabled) {
  auto limiters = start(5, 2);
  auto disabled = start(0, 1);
  std::optional<int> passed;
  std::optional<RateDecision> unlimited;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        int n = 0;
        for (int i = 0; i < 8; ++i) {
          std::string key = "co-key";  // dies before the check is handled: the request owns a copy
          auto r = co_await limiters.async_check(ex, key, 1, 1000ms, asio::use_awaitable);
          if (r.ok() && allowed(*r)) ++n;
        }
        passed = n;
        auto d = co_await disabled.async_check(ex, "anyone", 1, 1000ms, asio::use_awaitable);
        unlimited = *d;
      },
      asio::detached);
  auto guard = asio::make_work_guard(io);
  while (!unlimited) io.run_one_for(10s);
  EXPECT_EQ(passed, 5);
  EXPECT_EQ(unlimited, ok(kUnlimited));
}

TEST_F(RateLimitersTest, AsyncCheckDuringARestartReportsNoprocOrAnswers) {
  // Whatever the timing, the handler runs exactly once with a value or an error.
  auto limiters = start(5, 1);
  rt::exit(limiters.limiter(0)->pid(), rt::ExitReason::error("boom"));
  int done = 0;
  limiters.async_check(io.get_executor(), "k", 1, 1000ms, [&](rt::CallResult<RateDecision> r) {
    if (!r.ok()) {
      EXPECT_TRUE(r.error().code == rt::CallError::Code::noproc ||
                  r.error().code == rt::CallError::Code::exited);
    }
    ++done;
  });
  auto guard = asio::make_work_guard(io);
  while (done == 0) io.run_one_for(10s);
  EXPECT_EQ(done, 1);
}

}  // namespace
}  // namespace services::test
