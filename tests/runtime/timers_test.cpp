#include <gtest/gtest.h>

#include <thread>

#include "runtime/gen_server.hpp"
#include "tests/runtime/probe_server.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;

class TimersTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
};

TEST_F(TimersTest, SendAfterDeliversInDeadlineOrder) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto p = *start<Probe>(runtime, {}, cfg);
  send_after(p, Probe::Later{3}, 30ms);
  send_after(p, Probe::Later{1}, 1ms);
  send_after(p, Probe::Later{2}, 15ms);
  auto seen = inbox->wait_for(3);
  EXPECT_EQ(seen, (std::vector<std::string>{"later 1", "later 2", "later 3"}));
}

TEST_F(TimersTest, CancelledTimerNeverFires) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto p = *start<Probe>(runtime, {}, cfg);
  TimerRef t = send_after(p, Probe::Later{1}, 20ms);
  EXPECT_TRUE(cancel_timer(runtime, t));
  send_after(p, Probe::Later{2}, 40ms);
  auto seen = inbox->wait_for(1);
  EXPECT_EQ(seen, std::vector<std::string>{"later 2"});
}

TEST_F(TimersTest, CancelAfterFiringReturnsFalse) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto p = *start<Probe>(runtime, {}, cfg);
  TimerRef t = send_after(p, Probe::Later{1}, 1ms);
  inbox->wait_for(1);
  EXPECT_FALSE(cancel_timer(runtime, t));
  EXPECT_FALSE(cancel_timer(runtime, t));
}

TEST_F(TimersTest, TimerToADeadProcessIsDropped) {
  auto p = *start<Probe>(runtime, {}, Probe::Config{});
  send_after(p, Probe::Later{1}, 5ms);
  cast(p, Probe::StopWith{ExitReason::normal()});
  EXPECT_TRUE(eventually([&] { return runtime.timers().pending() == 0 && !p.alive(); }));
}

TEST_F(TimersTest, HundredThousandPendingTimersAreCheapAndCancellable) {
  auto p = *start<Probe>(runtime, {}, Probe::Config{});
  std::vector<TimerRef> refs;
  refs.reserve(100'000);
  for (int i = 0; i < 100'000; ++i) refs.push_back(send_after(p, Probe::Later{i}, 1h));
  EXPECT_EQ(runtime.timers().pending(), 100'000u);
  for (TimerRef r : refs) ASSERT_TRUE(cancel_timer(runtime, r));
  EXPECT_EQ(runtime.timers().pending(), 0u);
}

TEST_F(TimersTest, TimerPrecisionIsWithinAFewMilliseconds) {
  // Not a timing benchmark: a 1 ms timer must not take tens of milliseconds.
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto p = *start<Probe>(runtime, {}, cfg);
  auto t0 = std::chrono::steady_clock::now();
  send_after(p, Probe::Later{1}, 1ms);
  inbox->wait_for(1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
}

TEST_F(TimersTest, TimersArmedFromDifferentThreadsFireInDeadlineOrder) {
  // Each thread arms into its own shard: the order must hold across shards.
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto p = *start<Probe>(runtime, {}, cfg);
  std::thread([&] { send_after(p, Probe::Later{3}, 60ms); }).join();
  std::thread([&] { send_after(p, Probe::Later{1}, 20ms); }).join();
  std::thread([&] { send_after(p, Probe::Later{2}, 40ms); }).join();
  auto seen = inbox->wait_for(3);
  EXPECT_EQ(seen, (std::vector<std::string>{"later 1", "later 2", "later 3"}));
}

TEST_F(TimersTest, AnEarlierTimerFromAnotherThreadWakesTheTimerThread) {
  // The timer thread sleeps until the 1 h deadline; a 1 ms timer armed into
  // another shard must wake it, not wait for the hour.
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto p = *start<Probe>(runtime, {}, cfg);
  std::thread([&] { send_after(p, Probe::Later{2}, 1h); }).join();
  ASSERT_TRUE(eventually([&] { return runtime.timers().pending() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  std::thread([&] { send_after(p, Probe::Later{1}, 1ms); }).join();
  auto seen = inbox->wait_for(1);
  EXPECT_EQ(seen, std::vector<std::string>{"later 1"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
}

TEST_F(TimersTest, CancelledTimersDoNotAccumulate) {
  // Arm and cancel 50k one-hour timers 40 times: what the service holds must
  // follow the live timers, not the 2M ever armed.
  auto p = *start<Probe>(runtime, {}, Probe::Config{});
  TimerService& timers = runtime.timers();
  std::vector<TimerRef> refs;
  refs.reserve(50'000);
  for (int round = 0; round < 40; ++round) {
    refs.clear();
    for (int i = 0; i < 50'000; ++i) refs.push_back(send_after(p, Probe::Later{i}, 1h));
    ASSERT_EQ(timers.pending(), 50'000u);
    // Twice the live timers, plus a little slack per shard.
    ASSERT_LE(timers.held_entries(), 2 * 50'000u + 1024) << "round " << round << ", armed";
    for (TimerRef r : refs) ASSERT_TRUE(cancel_timer(runtime, r));
    ASSERT_EQ(timers.pending(), 0u);
    ASSERT_LE(timers.held_entries(), 1024u) << "round " << round << ", all cancelled";
  }
}

/// Re-arms a one-hour idle timeout with every message (a session that expires when quiet).
class IdleServer : public GenServer<IdleServer> {
 public:
  struct Touch {};
  struct Count {
    using Reply = int;
  };
  Action init() { return ok().with_timeout(1h); }
  Action handle_cast(const Touch&) {
    ++touches_;
    return noreply().with_timeout(1h);
  }
  CallAction<int> handle_call(const Count&, From<int>&) { return reply(touches_).with_timeout(1h); }
  Action handle_info(const Timeout&) { return noreply(); }

 private:
  int touches_ = 0;
};

TEST_F(TimersTest, IdleTimeoutReArmedOnEveryMessageDoesNotAccumulate) {
  // Each message cancels the server's idle timer and arms a new one: 50k
  // messages must leave one live timer, not 50k dead ones waiting an hour.
  auto p = *start<IdleServer>(runtime, {});
  for (int i = 0; i < 50'000; ++i) cast(p, IdleServer::Touch{});
  ASSERT_EQ(call(p, IdleServer::Count{}).value(), 50'000);
  // The server arms its next idle timer just after replying.
  ASSERT_TRUE(eventually([&] { return runtime.timers().pending() == 1; }));
  EXPECT_LE(runtime.timers().held_entries(), 2 * runtime.timers().pending() + 1024);
}

TEST_F(TimersTest, DefaultCallTimeoutIsFiveSeconds) {
  // OTP's default, and what rt::call uses when given no timeout.
  static_assert(kDefaultCallTimeout == 5s);
  auto p = *start<Probe>(runtime, {}, Probe::Config{});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = call(p, Probe::Defer{});  // the server keeps the call and never answers
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::timeout);
  EXPECT_GE(took, 5s);
  EXPECT_LT(took, 6s);
}

}  // namespace
}  // namespace rt::test
