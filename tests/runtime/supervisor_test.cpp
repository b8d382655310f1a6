#include "runtime/supervisor.hpp"

#include <gtest/gtest.h>

#include "runtime/registry.hpp"
#include "tests/runtime/probe_server.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;
using testing_support::Inbox;

class SupervisorTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();

  ChildSpec probe(const std::string& id, Restart restart = Restart::permanent, bool trap = false) {
    Probe::Config cfg;
    cfg.inbox = inbox;
    cfg.label = id;
    cfg.trap_exit = trap;
    ChildSpec spec = child<Probe>(id, cfg);
    spec.restart = restart;
    return spec;
  }
  Ref<Supervisor> start_sup(SupervisorSpec spec) {
    auto r = start<Supervisor>(runtime, {.name = "sup"}, std::move(spec));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return *r;
  }
  static Pid pid_of(const Ref<Supervisor>& sup, const std::string& id) {
    for (const auto& c : which_children(sup)) {
      if (c.id == id) return c.pid;
    }
    return {};
  }
  static Ref<Probe> probe_of(const Ref<Supervisor>& sup, const std::string& id) {
    return *Ref<Probe>::from(pid_of(sup, id));
  }
  // Waits until child `id` runs under a pid other than `old`.
  static bool restarted(const Ref<Supervisor>& sup, const std::string& id, const Pid& old) {
    return eventually([&] {
      Pid now = pid_of(sup, id);
      return now && now != old;
    });
  }
};

TEST_F(SupervisorTest, ChildrenStartInOrderAndStopInReverse) {
  auto sup = start_sup(
      {.children = {probe("a", Restart::permanent, true), probe("b", Restart::permanent, true),
                    probe("c", Restart::permanent, true)}});
  EXPECT_EQ(inbox->items(), (std::vector<std::string>{"init a", "init b", "init c"}));
  exit(sup.pid(), ExitReason::shutdown());
  auto seen = inbox->wait_for(6);
  EXPECT_EQ(std::vector<std::string>(seen.begin() + 3, seen.end()),
            (std::vector<std::string>{"terminate c shutdown", "terminate b shutdown",
                                      "terminate a shutdown"}));
  EXPECT_TRUE(eventually([&] { return runtime.process_count() == 0; }));
}

TEST_F(SupervisorTest, OneForOneRestartsOnlyTheCrashedChild) {
  auto sup = start_sup(
      {.strategy = Strategy::one_for_one, .children = {probe("a"), probe("b"), probe("c")}});
  Pid a = pid_of(sup, "a"), b = pid_of(sup, "b"), c = pid_of(sup, "c");
  cast(probe_of(sup, "b"), Probe::Crash{});
  ASSERT_TRUE(restarted(sup, "b", b));
  EXPECT_EQ(pid_of(sup, "a"), a);
  EXPECT_EQ(pid_of(sup, "c"), c);
  EXPECT_EQ(pid_of(sup, "b").get()->info().restarts, 1u);  // incarnation count for introspection
}

TEST_F(SupervisorTest, OneForAllRestartsEveryChild) {
  auto sup = start_sup(
      {.strategy = Strategy::one_for_all, .children = {probe("a"), probe("b"), probe("c")}});
  Pid a = pid_of(sup, "a"), b = pid_of(sup, "b"), c = pid_of(sup, "c");
  cast(probe_of(sup, "b"), Probe::Crash{});
  ASSERT_TRUE(restarted(sup, "b", b));
  ASSERT_TRUE(restarted(sup, "a", a));
  ASSERT_TRUE(restarted(sup, "c", c));
  EXPECT_FALSE(a.alive());
  EXPECT_FALSE(c.alive());
}

TEST_F(SupervisorTest, RestForOneRestartsTheCrashedChildAndThoseAfterIt) {
  auto sup = start_sup(
      {.strategy = Strategy::rest_for_one, .children = {probe("a"), probe("b"), probe("c")}});
  Pid a = pid_of(sup, "a"), b = pid_of(sup, "b"), c = pid_of(sup, "c");
  cast(probe_of(sup, "b"), Probe::Crash{});
  ASSERT_TRUE(restarted(sup, "b", b));
  ASSERT_TRUE(restarted(sup, "c", c));
  EXPECT_EQ(pid_of(sup, "a"), a);
  EXPECT_TRUE(a.alive());
}

TEST_F(SupervisorTest, TransientChildIsRestartedOnlyAfterAbnormalExit) {
  auto sup = start_sup({.children = {probe("t", Restart::transient)}});
  Pid first = pid_of(sup, "t");
  cast(probe_of(sup, "t"), Probe::Crash{});
  ASSERT_TRUE(restarted(sup, "t", first));
  Pid second = pid_of(sup, "t");
  cast(*Ref<Probe>::from(second),
       Probe::StopWith{ExitReason::shutdown("done")});  // {shutdown, _} is normal
  ASSERT_TRUE(eventually([&] { return !pid_of(sup, "t"); }));
  EXPECT_EQ(count_children(sup).specs, 1u);  // kept in the list, not running
  EXPECT_EQ(count_children(sup).active, 0u);
}

TEST_F(SupervisorTest, TemporaryChildIsNeverRestartedAndLeavesTheList) {
  auto sup = start_sup({.children = {probe("p"), probe("tmp", Restart::temporary)}});
  cast(probe_of(sup, "tmp"), Probe::Crash{});
  ASSERT_TRUE(eventually([&] { return count_children(sup).specs == 1; }));
  EXPECT_FALSE(pid_of(sup, "tmp"));
}

TEST_F(SupervisorTest, ExceedingRestartIntensityStopsTheSupervisorWithShutdown) {
  auto sup = start_sup(
      {.max_restarts = 2, .max_seconds = std::chrono::seconds(60), .children = {probe("a")}});
  for (int i = 0; i < 3; ++i) {
    Pid before = pid_of(sup, "a");
    ASSERT_TRUE(before);
    cast(*Ref<Probe>::from(before), Probe::Crash{});
    if (i < 2) {
      ASSERT_TRUE(restarted(sup, "a", before));
    }
  }
  ASSERT_TRUE(sup.pid().get()->await_exit(5s));
  EXPECT_EQ(sup.pid().get()->exit_reason(), ExitReason::shutdown());
}

TEST_F(SupervisorTest, FailuresEscalateThroughTwoLevels) {
  // The inner supervisor gives up after one restart; the outer one restarts it
  // (with a fresh worker) and stays up.
  SupervisorSpec inner{
      .max_restarts = 1, .max_seconds = std::chrono::seconds(60), .children = {probe("w")}};
  ChildSpec inner_spec = child<Supervisor>("inner", inner);
  inner_spec.type = ChildType::supervisor;
  inner_spec.shutdown = Shutdown::infinity();
  auto outer = start_sup({.max_restarts = 5, .children = {inner_spec}});
  auto inner_ref = [&] { return *Ref<Supervisor>::from(pid_of(outer, "inner")); };
  Pid first_inner = pid_of(outer, "inner");
  for (int i = 0; i < 2; ++i) {
    Pid w = pid_of(inner_ref(), "w");
    cast(*Ref<Probe>::from(w), Probe::Crash{});
    if (i == 0) {
      ASSERT_TRUE(restarted(inner_ref(), "w", w));
    }
  }
  ASSERT_TRUE(restarted(outer, "inner", first_inner));
  EXPECT_EQ(first_inner.get()->exit_reason(), ExitReason::shutdown());
  EXPECT_TRUE(eventually([&] { return pid_of(inner_ref(), "w").alive(); }));
  EXPECT_TRUE(outer.alive());
}

TEST_F(SupervisorTest, FailingInitDuringStartStopsStartedChildrenAndReportsTheError) {
  Probe::Config bad;
  bad.inbox = inbox;
  bad.fail_init = true;
  auto r = start<Supervisor>(
      runtime, {},
      SupervisorSpec{.children = {probe("a", Restart::permanent, true), child<Probe>("bad", bad)}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, StartError::Code::init_failed);
  EXPECT_EQ(r.error().reason.kind(), ExitReason::Kind::shutdown_term);
  EXPECT_NE(r.error().reason.detail().find("failed_to_start_child bad"), std::string_view::npos);
  auto seen = inbox->wait_for(2);
  EXPECT_EQ(seen, (std::vector<std::string>{"init a", "terminate a shutdown"}));
  EXPECT_TRUE(eventually([&] { return runtime.process_count() == 0; }));
}

TEST_F(SupervisorTest, ChildWhoseTerminateHangsCannotHangTheTree) {
  Probe::Config stuck;
  stuck.inbox = inbox;
  stuck.trap_exit = true;
  stuck.terminate_sleep = 1500ms;  // ignores shutdown for longer than its budget
  ChildSpec spec = child<Probe>("stuck", stuck);
  spec.shutdown = Shutdown::after(50ms);
  auto sup = start_sup({.children = {spec}});
  Pid stuck_pid = pid_of(sup, "stuck");
  exit(sup.pid(), ExitReason::shutdown());
  // The supervisor gives up on the child (50 ms + 1 s after the kill) and exits first.
  ASSERT_TRUE(sup.pid().get()->await_exit(1400ms));
  EXPECT_TRUE(stuck_pid.get()->await_exit(5s));  // it does end once its callback returns
}

TEST_F(SupervisorTest, BrutalKillChildIsKilledAtOnce) {
  Probe::Config cfg;
  cfg.inbox = inbox;
  cfg.trap_exit = true;
  cfg.label = "brutal";
  ChildSpec spec = child<Probe>("brutal", cfg);
  spec.shutdown = Shutdown::brutal_kill();
  auto sup = start_sup({.children = {spec}});
  Pid p = pid_of(sup, "brutal");
  ASSERT_TRUE(terminate_child(sup, "brutal").ok());
  EXPECT_EQ(p.get()->exit_reason(), ExitReason::killed());
  EXPECT_EQ(inbox->size(), 1u);  // "init brutal" only: no terminate ran
}

TEST_F(SupervisorTest, StartTerminateRestartAndDeleteChildren) {
  auto sup = start_sup({});
  auto started = start_child(sup, probe("x"));
  ASSERT_TRUE(started.ok());
  auto again = start_child(sup, probe("x"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, SupervisorError::Code::already_started);
  EXPECT_EQ(delete_child(sup, "x").error().code, SupervisorError::Code::running);
  ASSERT_TRUE(terminate_child(sup, "x").ok());
  EXPECT_FALSE(started->alive());
  EXPECT_EQ(count_children(sup).specs, 1u);
  EXPECT_EQ(start_child(sup, probe("x")).error().code, SupervisorError::Code::already_present);
  auto restarted_pid = restart_child(sup, "x");
  ASSERT_TRUE(restarted_pid.ok());
  EXPECT_TRUE(restarted_pid->alive());
  EXPECT_EQ(restart_child(sup, "x").error().code, SupervisorError::Code::running);
  ASSERT_TRUE(terminate_child(sup, "x").ok());
  ASSERT_TRUE(delete_child(sup, "x").ok());
  EXPECT_EQ(count_children(sup).specs, 0u);
  EXPECT_EQ(terminate_child(sup, "x").error().code, SupervisorError::Code::not_found);
}

TEST_F(SupervisorTest, RestartedChildReRegistersUnderItsName) {
  Registry<std::string> names;
  ChildSpec spec = probe("feed");
  spec.options.register_as = names.via("BTC-USD");
  auto sup = start_sup({.children = {spec}});
  Pid first = *names.whereis("BTC-USD");
  cast(*Ref<Probe>::from(first), Probe::Crash{});
  ASSERT_TRUE(eventually([&] {
    auto now = names.whereis("BTC-USD");
    return now && *now != first;
  }));
  EXPECT_EQ(*names.whereis("BTC-USD"), pid_of(sup, "feed"));
  exit(sup.pid(), ExitReason::shutdown());
  ASSERT_TRUE(sup.pid().get()->await_exit(5s));
}

}  // namespace
}  // namespace rt::test
