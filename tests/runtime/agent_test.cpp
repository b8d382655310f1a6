#include "runtime/agent.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;

class AgentTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};

  Agent<int> start_counter(int initial = 0) {
    auto a = Agent<int>::start(runtime, [initial] { return initial; });
    EXPECT_TRUE(a.ok());
    return *a;
  }
};

TEST_F(AgentTest, GetReturnsTheFunctionOfTheState) {
  auto a = start_counter(41);
  auto r = a.get([](const int& n) { return n + 1; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  auto s = a.get([](const int& n) { return std::to_string(n); });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "41");
}

TEST_F(AgentTest, UpdateReplacesTheStateOrChangesItInPlace) {
  auto a = start_counter(1);
  ASSERT_TRUE(a.update([](const int& n) { return n * 10; }).ok());  // Elixir form
  ASSERT_TRUE(a.update([](int& n) { n += 5; }).ok());               // in place
  EXPECT_EQ(*a.get([](const int& n) { return n; }), 15);
}

TEST_F(AgentTest, GetAndUpdateReturnsTheValueAndKeepsTheNewState) {
  auto a = start_counter(7);
  auto old = a.get_and_update([](const int& n) {
    return std::pair<std::string, int>{"was 7", n + 1};
  });
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, "was 7");
  auto prev = a.get_and_update([](int& n) { return std::exchange(n, 100); });
  ASSERT_TRUE(prev.ok());
  EXPECT_EQ(*prev, 8);
  EXPECT_EQ(*a.get([](const int& n) { return n; }), 100);
}

TEST_F(AgentTest, CastUpdatesAsynchronouslyInOrder) {
  auto a = start_counter(0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.cast([](int& n) { ++n; }), SendStatus::ok);
  EXPECT_EQ(a.cast([](const int& n) { return n * 2; }), SendStatus::ok);
  EXPECT_EQ(*a.get([](const int& n) { return n; }), 200);  // same sender: mailbox order
}

TEST_F(AgentTest, ConcurrentUpdatesAreSerialised) {
  auto a = start_counter(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) ASSERT_TRUE(a.update([](int& n) { ++n; }).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(*a.get([](const int& n) { return n; }), 2000);
}

TEST_F(AgentTest, HoldsMoveOnlyState) {
  auto a = Agent<std::unique_ptr<std::vector<int>>>::start(
      runtime, [] { return std::make_unique<std::vector<int>>(3, 1); });
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->update([](std::unique_ptr<std::vector<int>>& v) { v->push_back(9); }).ok());
  EXPECT_EQ(*a->get([](const auto& v) { return v->size(); }), 4u);
}

TEST_F(AgentTest, InitThatThrowsIsAStartError) {
  auto a = Agent<int>::start(runtime, []() -> int { throw std::runtime_error("no state"); });
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, StartError::Code::init_failed);
  EXPECT_EQ(a.error().reason, ExitReason::error("no state"));
}

TEST_F(AgentTest, FunctionThatThrowsCrashesTheAgentAndTheCallerGetsTheReason) {
  auto a = start_counter(0);
  auto r = a.get([](const int&) -> int { throw std::runtime_error("bad read"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::exited);
  EXPECT_EQ(r.error().reason, ExitReason::error("bad read"));
  EXPECT_TRUE(eventually([&] { return !a.alive(); }));
  auto after = a.get([](const int& n) { return n; });
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, CallError::Code::noproc);
}

TEST_F(AgentTest, SlowFunctionTimesOutAndTheAgentCarriesOn) {
  auto a = start_counter(3);
  auto r = a.get(
      [](const int& n) {
        std::this_thread::sleep_for(100ms);  // deliberately slower than the timeout
        return n;
      },
      10ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::timeout);
  EXPECT_EQ(*a.get([](const int& n) { return n; }), 3);
}

TEST_F(AgentTest, StopWaitsUntilTheAgentHasExited) {
  auto a = start_counter(0);
  auto r = a.stop(ExitReason::shutdown());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(a.alive());
  EXPECT_EQ(a.pid().get()->exit_reason(), ExitReason::shutdown());
  auto again = a.stop();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, CallError::Code::noproc);
}

}  // namespace
}  // namespace rt::test
