#include "runtime/task.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;
using testing_support::Inbox;

/// A gate a task body waits on, so a test decides when the task may finish.
struct Gate {
  std::atomic<bool> open{false};
  void wait() const {
    while (!open.load(std::memory_order_acquire)) std::this_thread::yield();
  }
};

/// A process that owns tasks: starts them from its callbacks, as a server would.
class Owner : public GenServer<Owner> {
 public:
  struct AwaitCrash {
    using Reply = std::string;
  };
  struct AwaitValueThenSync {
    using Reply = int;
  };
  struct StartGated {
    std::shared_ptr<Gate> gate;
    using Reply = Ok;
  };
  struct IgnoreGatedThatCrashes {
    std::shared_ptr<Gate> gate;
    using Reply = Ok;
  };
  struct Sync {
    using Reply = Ok;
  };

  Owner(std::shared_ptr<Inbox> inbox, bool trap) : inbox_(std::move(inbox)), trap_(trap) {}

  Action init() {
    trap_exit(trap_);
    return ok();
  }

  CallAction<std::string> handle_call(const AwaitCrash&, From<std::string>&) {
    auto t = task::async(runtime(), []() -> int { throw std::runtime_error("task blew up"); });
    TaskResult<int> r = task::await(t, 5s);
    return reply(r.ok() ? std::string("value") : r.error().to_string());
  }
  CallAction<int> handle_call(const AwaitValueThenSync&, From<int>&) {
    auto t = task::async(runtime(), [] { return 5; });
    TaskResult<int> r = task::await(t, 5s);
    return reply(r.ok() ? *r : -1);
  }
  CallAction<Ok> handle_call(const StartGated& s, From<Ok>&) {
    held_ = task::async(runtime(), [g = s.gate] {
      g->wait();
      return 1;
    });
    return reply(Ok{});
  }
  CallAction<Ok> handle_call(const IgnoreGatedThatCrashes& s, From<Ok>&) {
    auto t = task::async(runtime(), [g = s.gate]() -> int {
      g->wait();
      throw std::runtime_error("ignored crash");
    });
    task::ignore(t);
    return reply(Ok{});
  }
  CallAction<Ok> handle_call(const Sync&, From<Ok>&) { return reply(Ok{}); }

  Action handle_info(const Down& d) {
    if (d.ref == held_.monitor_ref()) held_ = Task<int>();  // the task is gone: drop its handle
    inbox_->push("down " + d.reason.to_string());
    return noreply();
  }
  Action handle_info(const ExitSignal& e) {
    inbox_->push("exit " + e.reason.to_string());
    return noreply();
  }

 private:
  std::shared_ptr<Inbox> inbox_;
  bool trap_;
  Task<int> held_;
};

class TaskTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();

  Ref<Owner> start_owner(bool trap = false) {
    auto r = start<Owner>(runtime, {}, inbox, trap);
    EXPECT_TRUE(r.ok());
    return *r;
  }
};

TEST_F(TaskTest, AwaitReturnsTheValue) {
  auto t = task::async(runtime, [] { return std::string("done"); });
  auto r = task::await(t, 5s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "done");
  EXPECT_FALSE(t.valid());  // consumed
}

TEST_F(TaskTest, VoidFunctionYieldsOk) {
  std::atomic<int> ran{0};
  auto t = task::async(runtime, [&] { ran.fetch_add(1); });
  auto r = task::await(t, 5s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ran.load(), 1);
}

TEST_F(TaskTest, TaskExitsNormallyAfterItsValue) {
  auto t = task::async(runtime, [] { return 1; });
  Pid pid = t.pid();
  ASSERT_TRUE(task::await(t, 5s).ok());
  ASSERT_TRUE(eventually([&] { return !pid.alive(); }));
  EXPECT_EQ(pid.get()->exit_reason(), ExitReason::normal());
}

TEST_F(TaskTest, AwaitOfCrashingTaskReturnsItsReason) {
  auto t = task::async(runtime, []() -> int { throw std::runtime_error("kaput"); });
  auto r = task::await(t, 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TaskError::Code::exited);
  EXPECT_EQ(r.error().reason, ExitReason::error("kaput"));
}

TEST_F(TaskTest, CrashingTaskKillsTheLinkedCallerAfterAwaitReturnsTheReason) {
  auto owner = start_owner();
  auto r = call(owner, Owner::AwaitCrash{});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "exited: {error,\"task blew up\"}");
  ASSERT_TRUE(eventually([&] { return !owner.alive(); }));
  EXPECT_EQ(owner.pid().get()->exit_reason(), ExitReason::error("task blew up"));
}

TEST_F(TaskTest, TrappingCallerSurvivesACrashingTaskAndGetsTheExitSignal) {
  auto owner = start_owner(/*trap=*/true);
  auto r = call(owner, Owner::AwaitCrash{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "exited: {error,\"task blew up\"}");
  auto seen = inbox->wait_for(1);
  ASSERT_GE(seen.size(), 1u);
  EXPECT_EQ(seen[0], "exit {error,\"task blew up\"}");
  EXPECT_TRUE(call(owner, Owner::Sync{}).ok());
}

TEST_F(TaskTest, AwaitFlushesTheMonitorSoTheOwnerSeesNoDown) {
  auto owner = start_owner();
  auto r = call(owner, Owner::AwaitValueThenSync{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  ASSERT_TRUE(eventually([&] { return runtime.process_count() == 1; }));  // the task is gone
  ASSERT_TRUE(call(owner, Owner::Sync{}).ok());  // any Down would be handled before this
  EXPECT_TRUE(inbox->items().empty());
}

TEST_F(TaskTest, UncollectedTaskSendsDownToItsOwner) {
  auto owner = start_owner();
  auto gate = std::make_shared<Gate>();
  ASSERT_TRUE(call(owner, Owner::StartGated{gate}).ok());
  gate->open = true;
  auto seen = inbox->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "down normal");
}

TEST_F(TaskTest, AwaitTimeoutReturnsAnErrorAndLeavesTheTaskRunning) {
  Gate gate;
  auto t = task::async(runtime, [&] {
    gate.wait();
    return 9;
  });
  auto r = task::await(t, 20ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, TaskError::Code::timeout);
  EXPECT_TRUE(t.pid().alive());
  EXPECT_TRUE(t.valid());
  gate.open = true;
  auto again = task::await(t, 5s);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 9);
}

TEST_F(TaskTest, YieldTimeoutReturnsNulloptAndTheTaskKeepsRunning) {
  Gate gate;
  auto t = task::async(runtime, [&] {
    gate.wait();
    return 3;
  });
  EXPECT_FALSE(task::yield(t, 10ms).has_value());
  EXPECT_TRUE(t.pid().alive());
  gate.open = true;
  std::optional<TaskResult<int>> r;
  ASSERT_TRUE(eventually([&] { return (r = task::yield(t, 10ms)).has_value(); }));
  ASSERT_TRUE(r->ok());
  EXPECT_EQ(**r, 3);
}

TEST_F(TaskTest, AwaitManyReturnsResultsInTaskOrder) {
  std::vector<Task<int>> tasks;
  for (int i = 0; i < 20; ++i) tasks.push_back(task::async(runtime, [i] { return i * i; }));
  auto results = task::await_many(tasks, 5s);
  ASSERT_EQ(results.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(results[i].ok());
    EXPECT_EQ(*results[i], i * i);
  }
}

TEST_F(TaskTest, AwaitManyReportsTimeoutForUnfinishedTasks) {
  Gate gate;
  std::vector<Task<int>> tasks;
  tasks.push_back(task::async(runtime, [] { return 1; }));
  tasks.push_back(task::async(runtime, [&] {
    gate.wait();
    return 2;
  }));
  auto results = task::await_many(tasks, 30ms);
  ASSERT_TRUE(results[0].ok());
  EXPECT_EQ(*results[0], 1);
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, TaskError::Code::timeout);
  gate.open = true;
  EXPECT_TRUE(task::await(tasks[1], 5s).ok());
}

TEST_F(TaskTest, YieldManyGivesNulloptForRunningTasks) {
  Gate gate;
  std::vector<Task<int>> tasks;
  tasks.push_back(task::async(runtime, [&] {
    gate.wait();
    return 1;
  }));
  tasks.push_back(task::async(runtime, []() -> int { throw std::runtime_error("x"); }));
  tasks.push_back(task::async(runtime, [] { return 3; }));
  auto results = task::yield_many(tasks, 50ms);
  EXPECT_FALSE(results[0].has_value());
  ASSERT_TRUE(results[1].has_value());
  EXPECT_EQ(results[1]->error().reason, ExitReason::error("x"));
  ASSERT_TRUE(results[2].has_value());
  EXPECT_EQ(**results[2], 3);
  gate.open = true;
  EXPECT_TRUE(task::await(tasks[0], 5s).ok());
}

TEST_F(TaskTest, ShutdownOfAFinishedTaskReturnsItsValue) {
  auto t = task::async(runtime, [] { return 11; });
  ASSERT_TRUE(eventually([&] { return t.finished(); }));
  auto r = task::shutdown(t, 1s);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok());
  EXPECT_EQ(**r, 11);
}

TEST_F(TaskTest, ShutdownOfABusyTaskGivesUpAfterTheTimeoutAndKillsIt) {
  Gate gate;
  auto t = task::async(runtime, [&] {
    gate.wait();
    return 1;
  });
  Pid pid = t.pid();
  EXPECT_FALSE(task::shutdown(t, 20ms).has_value());
  EXPECT_FALSE(t.valid());
  gate.open = true;  // a body cannot be preempted: the process goes once it returns
  EXPECT_TRUE(eventually([&] { return !pid.alive(); }));
}

TEST_F(TaskTest, IgnoredTaskNoLongerTakesItsOwnerDown) {
  auto owner = start_owner();
  auto gate = std::make_shared<Gate>();
  ASSERT_TRUE(call(owner, Owner::IgnoreGatedThatCrashes{gate}).ok());
  std::int64_t before = static_cast<std::int64_t>(runtime.stats().crashed);
  gate->open = true;
  ASSERT_TRUE(
      eventually([&] { return static_cast<std::int64_t>(runtime.stats().crashed) > before; }));
  EXPECT_TRUE(call(owner, Owner::Sync{}).ok());
  EXPECT_TRUE(owner.alive());
  EXPECT_TRUE(inbox->items().empty());  // neither Down nor exit: unlinked and demonitored
}

TEST_F(TaskTest, AsyncStreamKeepsInputOrderAndBoundsConcurrency) {
  std::vector<int> inputs(200);
  for (int i = 0; i < 200; ++i) inputs[i] = i;
  std::atomic<int> running{0};
  std::atomic<int> high_water{0};
  auto results = task::async_stream(
      runtime, inputs,
      [&](const int& x) {
        int now = running.fetch_add(1) + 1;
        int hw = high_water.load();
        while (now > hw && !high_water.compare_exchange_weak(hw, now)) {
        }
        for (int k = 0; k < 50; ++k) std::this_thread::yield();  // overlap with siblings
        running.fetch_sub(1);
        return x * 3;
      },
      std::size_t{4});
  ASSERT_EQ(results.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(results[i].ok());
    EXPECT_EQ(*results[i], i * 3);
  }
  EXPECT_LE(high_water.load(), 4);
  EXPECT_GE(high_water.load(), 1);
}

TEST_F(TaskTest, AsyncStreamReportsACrashingElementAndKeepsTheRest) {
  std::vector<int> inputs{1, 2, 3, 4};
  auto results = task::async_stream(
      runtime, inputs,
      [](const int& x) {
        if (x == 3) throw std::runtime_error("three");
        return x;
      },
      std::size_t{2});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(*results[0], 1);
  EXPECT_EQ(*results[1], 2);
  ASSERT_FALSE(results[2].ok());
  EXPECT_EQ(results[2].error().reason, ExitReason::error("three"));
  EXPECT_EQ(*results[3], 4);
}

TEST_F(TaskTest, AsyncStreamKillsAnElementThatOutlivesItsTimeout) {
  auto gate = std::make_shared<Gate>();
  std::vector<int> inputs{1, 2};
  task::StreamOptions opts;
  opts.max_concurrency = 2;
  opts.timeout = 30ms;
  auto results = task::async_stream(
      runtime, inputs,
      [gate](const int& x) {
        if (x == 2) gate->wait();
        return x;
      },
      opts);
  EXPECT_EQ(*results[0], 1);
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, TaskError::Code::timeout);
  gate->open = true;
}

TEST_F(TaskTest, AsyncStreamOfNothingIsEmpty) {
  std::vector<int> none;
  auto results = task::async_stream(
      runtime, none, [](const int& x) { return x; }, std::size_t{3});
  EXPECT_TRUE(results.empty());
}

}  // namespace
}  // namespace rt::test
