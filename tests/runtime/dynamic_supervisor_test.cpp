#include "runtime/dynamic_supervisor.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unordered_set>

#include "runtime/partition_supervisor.hpp"
#include "tests/runtime/probe_server.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;
using testing_support::Inbox;

class DynamicSupervisorTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();

  ChildSpec probe(const std::string& id, Restart restart = Restart::permanent) {
    Probe::Config cfg;
    cfg.inbox = inbox;
    ChildSpec spec = child<Probe>(id, cfg);
    spec.restart = restart;
    return spec;
  }
  Ref<DynamicSupervisor> start_dyn(DynamicSupervisorSpec spec = {}) {
    return *start<DynamicSupervisor>(runtime, {.name = "dyn"}, spec);
  }
};

TEST_F(DynamicSupervisorTest, StartsEmptyAndAddsChildrenAtRunTime) {
  auto sup = start_dyn();
  EXPECT_EQ(count_children(sup).active, 0u);
  auto a = start_child(sup, probe("a"));
  auto b = start_child(sup, probe("b"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(count_children(sup).active, 2u);
  EXPECT_EQ(which_children(sup).size(), 2u);
}

TEST_F(DynamicSupervisorTest, StartBeyondMaxChildrenIsAnErrorNotACrash) {
  auto sup = start_dyn({.max_children = 2});
  ASSERT_TRUE(start_child(sup, probe("a")).ok());
  ASSERT_TRUE(start_child(sup, probe("b")).ok());
  auto third = start_child(sup, probe("c"));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, SupervisorError::Code::max_children);
  EXPECT_TRUE(sup.alive());
}

TEST_F(DynamicSupervisorTest, CrashedPermanentChildIsRestartedTemporaryIsNot) {
  auto sup = start_dyn();
  Pid perm = *start_child(sup, probe("perm"));
  Pid temp = *start_child(sup, probe("temp", Restart::temporary));
  cast(*Ref<Probe>::from(perm), Probe::Crash{});
  cast(*Ref<Probe>::from(temp), Probe::Crash{});
  ASSERT_TRUE(eventually([&] {
    auto kids = which_children(sup);
    return kids.size() == 1 && kids[0].pid != perm && kids[0].pid.alive();
  }));
  EXPECT_EQ(which_children(sup)[0].id, "perm");
}

TEST_F(DynamicSupervisorTest, FailedStartReportsTheReason) {
  Probe::Config bad;
  bad.fail_init = true;
  auto sup = start_dyn();
  auto r = start_child(sup, child<Probe>("bad", bad));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, SupervisorError::Code::start_failed);
  EXPECT_EQ(r.error().cause.reason, ExitReason::error("init exploded"));
}

TEST_F(DynamicSupervisorTest, TerminateChildStopsItWithoutRestart) {
  auto sup = start_dyn();
  Pid a = *start_child(sup, probe("a"));
  ASSERT_TRUE(terminate_child(sup, a).ok());
  EXPECT_FALSE(a.alive());
  EXPECT_EQ(count_children(sup).active, 0u);
  EXPECT_EQ(terminate_child(sup, a).error().code, SupervisorError::Code::not_found);
}

TEST_F(DynamicSupervisorTest, ChildrenAreShutDownConcurrently) {
  // Ten children each take 300 ms in terminate: in sequence that is 3 s.
  auto sup = start_dyn();
  for (int i = 0; i < 10; ++i) {
    Probe::Config slow;
    slow.inbox = inbox;
    slow.trap_exit = true;
    slow.terminate_sleep = 300ms;
    ASSERT_TRUE(start_child(sup, child<Probe>("slow", slow)).ok());
  }
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(stop(sup, ExitReason::shutdown(), 10s));
  EXPECT_EQ(inbox->wait_for(10).size(), 10u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);
}

TEST_F(DynamicSupervisorTest, ExceedingIntensityShutsTheSupervisorDown) {
  auto sup = start_dyn({.max_restarts = 1, .max_seconds = std::chrono::seconds(60)});
  Pid a = *start_child(sup, probe("a"));
  cast(*Ref<Probe>::from(a), Probe::Crash{});
  Pid b;
  ASSERT_TRUE(eventually([&] {
    auto kids = which_children(sup);
    if (kids.size() == 1 && kids[0].pid != a) b = kids[0].pid;
    return static_cast<bool>(b);
  }));
  cast(*Ref<Probe>::from(b), Probe::Crash{});
  ASSERT_TRUE(sup.pid().get()->await_exit(5s));
  EXPECT_EQ(sup.pid().get()->exit_reason(), ExitReason::shutdown());
}

TEST(PartitionSupervisorTest, EachPartitionGetsItsIndexAndKeysRouteStably) {
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  auto inbox = std::make_shared<Inbox>();
  auto ps = PartitionSupervisor::start(runtime, {.partitions = 4, .child = [&](std::size_t i) {
                                                   Probe::Config cfg;
                                                   cfg.inbox = inbox;
                                                   cfg.label = std::to_string(i);
                                                   return child<Probe>("", cfg);
                                                 }});
  ASSERT_TRUE(ps.ok());
  EXPECT_EQ(ps->partitions(), 4u);
  auto seen = inbox->wait_for(4);
  EXPECT_EQ(seen, (std::vector<std::string>{"init 0", "init 1", "init 2", "init 3"}));
  EXPECT_EQ(ps->partition_for(7), 3u);
  EXPECT_EQ(ps->partition_for(-7), 3u);  // abs(key) % N
  EXPECT_EQ(ps->partition_for(std::string_view("BTC-USD")),
            ps->partition_for(std::string("BTC-USD")));
  std::unordered_set<Pid> distinct;
  for (int k = 0; k < 4; ++k) distinct.insert(*ps->whereis(k));
  EXPECT_EQ(distinct.size(), 4u);
}

TEST(PartitionSupervisorTest, RestartedPartitionIsFoundAgain) {
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  auto ps = PartitionSupervisor::start(runtime, {.partitions = 2, .child = [](std::size_t) {
                                                   return child<Probe>("", Probe::Config{});
                                                 }});
  ASSERT_TRUE(ps.ok());
  Pid old = *ps->whereis(1);
  cast(*ps->whereis_ref<Probe>(1), Probe::Crash{});
  ASSERT_TRUE(testing_support::eventually([&] {
    auto now = ps->whereis(1);
    return now && *now != old;
  }));
  EXPECT_TRUE(call(*ps->whereis_ref<Probe>(1), Probe::Get{}).ok());
}

TEST(PartitionSupervisorTest, PartitionsOfDynamicSupervisorsStartPerKeyChildren) {
  // marketd's pattern: route a symbol to its partition's DynamicSupervisor.
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  auto ps = PartitionSupervisor::start(runtime, {.child = [](std::size_t) {
                                         ChildSpec s =
                                             child<DynamicSupervisor>("", DynamicSupervisorSpec{});
                                         s.type = ChildType::supervisor;
                                         s.shutdown = Shutdown::infinity();
                                         return s;
                                       }});
  ASSERT_TRUE(ps.ok());
  EXPECT_EQ(ps->partitions(), runtime.scheduler().workers());
  std::size_t started = 0;
  for (int i = 0; i < 100; ++i) {
    std::string symbol = fmt::format("SYM{}", i);
    auto dyn = ps->whereis_ref<DynamicSupervisor>(std::string_view(symbol));
    ASSERT_TRUE(dyn);
    if (start_child(*dyn, child<Probe>(symbol, Probe::Config{})).ok()) ++started;
  }
  EXPECT_EQ(started, 100u);
  EXPECT_EQ(runtime.process_count(), 1 + static_cast<std::int64_t>(ps->partitions()) + 100);
  ASSERT_TRUE(stop(ps->supervisor(), ExitReason::shutdown(), 10s));
  EXPECT_TRUE(testing_support::eventually([&] { return runtime.process_count() == 0; }));
}

TEST(PartitionSupervisorTest, AsAChildItsRouterSurvivesARestartOfTheWholeTree) {
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  auto [router, spec] = PartitionSupervisor::child_spec(
      "limiters",
      {.partitions = 2, .child = [](std::size_t) { return child<Probe>("", Probe::Config{}); }});
  auto root = start<Supervisor>(runtime, {}, SupervisorSpec{.children = {spec}});
  ASSERT_TRUE(root.ok());
  Ref<Supervisor> first = router.supervisor();
  ASSERT_TRUE(first.alive());
  EXPECT_EQ(which_children(first).size(), 2u);
  // Kill the PartitionSupervisor itself: its parent restarts it, and the same
  // router finds the new supervisor and the new partitions.
  Pid old_partition = *router.whereis(0);
  rt::exit(first.pid(), ExitReason::kill());
  ASSERT_TRUE(eventually([&] {
    Ref<Supervisor> now = router.supervisor();
    auto p0 = router.whereis(0);
    return now.alive() && now != first && p0 && *p0 != old_partition && router.whereis(1);
  }));
  EXPECT_TRUE(call(*router.whereis_ref<Probe>(0), Probe::Get{}).ok());
  ASSERT_TRUE(stop(*root, ExitReason::shutdown(), 10s));
  EXPECT_TRUE(eventually([&] { return runtime.process_count() == 0; }));
}

}  // namespace
}  // namespace rt::test

namespace rt::test {
namespace {

// A server that counts its starts.
class CountedChild : public GenServer<CountedChild> {
 public:
  explicit CountedChild(std::atomic<int>* starts) : starts_(starts) {}
  Action init() {
    starts_->fetch_add(1);
    return ok();
  }

 private:
  std::atomic<int>* starts_;
};

// kill_all takes supervisors and children down in no particular order; a
// supervisor that sees its children killed first must not restart them (they
// would only be killed again, and intensity errors would be logged as if
// something had failed).
TEST(RuntimeShutdownTest, KillAllRestartsNothing) {
  std::atomic<int> starts{0};
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  constexpr int kSupervisors = 50, kChildren = 20;
  for (int s = 0; s < kSupervisors; ++s) {
    auto dyn = start<DynamicSupervisor>(
        runtime, {}, DynamicSupervisorSpec{.max_restarts = 10'000, .max_seconds = 5s});
    ASSERT_TRUE(dyn);
    std::vector<ChildSpec> kids;
    for (int c = 0; c < kChildren; ++c) {
      const std::string id = fmt::format("c{}", c);
      ASSERT_TRUE(start_child(*dyn, child<CountedChild>(id, &starts)));
      kids.push_back(child<CountedChild>(id, &starts));
    }
    ASSERT_TRUE(
        start<Supervisor>(runtime, {}, SupervisorSpec{.max_restarts = 10'000, .children = kids}));
  }
  const int started = 2 * kSupervisors * kChildren;
  ASSERT_EQ(starts.load(), started);
  EXPECT_FALSE(runtime.shutting_down());
  EXPECT_TRUE(runtime.kill_all(5s));
  EXPECT_TRUE(runtime.shutting_down());
  EXPECT_EQ(starts.load(), started);
}

}  // namespace
}  // namespace rt::test
