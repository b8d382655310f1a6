#include "runtime/task_supervisor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;

class TaskSupervisorTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  TaskSupervisor tasks = *TaskSupervisor::start(runtime);
};

TEST_F(TaskSupervisorTest, AsyncNolinkReturnsTheValue) {
  auto t = tasks.async_nolink([] { return 6 * 7; });
  ASSERT_TRUE(t.ok());
  auto r = task::await(*t, 5s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(
      testing_support::eventually([&] { return count_children(tasks.supervisor()).active == 0; }));
}

TEST_F(TaskSupervisorTest, CrashingNolinkTaskDoesNotTakeTheCallerDown) {
  // The caller is a process that is not trapping exits: a linked task would kill it.
  struct Caller : GenServer<Caller> {
    explicit Caller(TaskSupervisor t) : tasks(std::move(t)) {}
    struct Go {
      using Reply = int;
    };
    CallAction<int> handle_call(const Go&, From<int>&) {
      auto t = tasks.async_nolink([]() -> int { throw std::runtime_error("task failed"); });
      auto r = task::await(*t, 5s);
      return reply(!r.ok() && r.error().code == TaskError::Code::exited ? 1 : 0);
    }
    TaskSupervisor tasks;
  };
  auto caller = *start<Caller>(runtime, {}, tasks);
  auto r = call(caller, Caller::Go{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1);
  EXPECT_TRUE(caller.alive());
  EXPECT_TRUE(tasks.supervisor().alive());  // temporary children: no restart, no intensity spent
}

TEST_F(TaskSupervisorTest, TransientChildIsRerunAfterACrash) {
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto pid = tasks.start_child(
      [runs] {
        if (runs->fetch_add(1) == 0) throw std::runtime_error("first run fails");
        return 0;
      },
      Restart::transient);
  ASSERT_TRUE(pid.ok());
  EXPECT_TRUE(testing_support::eventually([&] { return runs->load() == 2; }, 3s))
      << "runs=" << runs->load();
  EXPECT_TRUE(
      testing_support::eventually([&] { return count_children(tasks.supervisor()).active == 0; }));
}

}  // namespace
}  // namespace rt::test
