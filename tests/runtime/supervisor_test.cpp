#include "runtime/supervisor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <memory>
#include <stdexcept>
#include <thread>

#include "runtime/registry.hpp"
#include "tests/runtime/probe_server.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;
using testing_support::Inbox;

bool seen(const Inbox& inbox, const std::string& item) {
  auto items = inbox.items();
  return std::find(items.begin(), items.end(), item) != items.end();
}

// Live incarnations of one child id, and the most ever live at once.
struct Liveness {
  std::atomic<int> live{0};
  std::atomic<int> most{0};
};

// A child that traps exits and can hang in a callback (not hearing `shutdown`
// or `kill` meanwhile). It counts as live from init until its exit is complete:
// an exit hook, which also runs when a kill skips terminate.
class Stubborn : public GenServer<Stubborn> {
 public:
  struct Config {
    std::shared_ptr<Inbox> inbox;
    std::shared_ptr<Liveness> liveness;
    std::chrono::milliseconds terminate_block{0};
  };
  struct Hang {
    std::chrono::milliseconds d;
  };

  explicit Stubborn(Config c) : cfg_(std::move(c)) { gone_.liveness = cfg_.liveness; }

  Action init() {
    trap_exit(true);
    add_exit_hook(gone_);
    const int now = cfg_.liveness->live.fetch_add(1) + 1;
    int most = cfg_.liveness->most.load();
    while (now > most && !cfg_.liveness->most.compare_exchange_weak(most, now)) {
    }
    return ok();
  }
  Action handle_cast(const Hang& h) {
    cfg_.inbox->push("hanging");
    std::this_thread::sleep_for(h.d);  // the stuck callback under test
    return noreply();
  }
  void terminate(const ExitReason&) {
    cfg_.inbox->push("stopping");
    std::this_thread::sleep_for(cfg_.terminate_block);
  }

 private:
  struct Gone final : ExitHook {
    std::shared_ptr<Liveness> liveness;
    void on_process_exit(Process&) noexcept override { liveness->live.fetch_sub(1); }
  };
  Config cfg_;
  Gone gone_;
};

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
  // A probe whose starts after the first fail `failures` times (an error, or an
  // exception from the start function if `throws`), then succeed. Counts starts.
  ChildSpec flaky(const std::string& id, int failures, bool throws,
                  std::shared_ptr<std::atomic<int>> starts) {
    ChildSpec spec = probe(id);
    spec.start = [inner = spec.start, failures, throws, starts](
                     Runtime& rt, StartOptions opts) -> Result<Pid, StartError> {
      const int n = starts->fetch_add(1);  // 0: the first start
      if (n >= 1 && n <= failures) {
        if (throws) throw std::runtime_error("start exploded");
        return Err{StartError{StartError::Code::init_failed, ExitReason::error("refused"), {}}};
      }
      return inner(rt, std::move(opts));
    };
    return spec;
  }
  // Crashes the first of [a, b] under `strategy`; b's restart fails once, and
  // the retry must be for b (not for a, which is running by then).
  void expect_failed_restart_is_retried(Strategy strategy, bool throws) {
    auto starts = std::make_shared<std::atomic<int>>(0);
    auto sup = start_sup({.strategy = strategy,
                          .max_restarts = 5,
                          .max_seconds = std::chrono::seconds(60),
                          .children = {probe("a"), flaky("b", 1, throws, starts)}});
    Pid a = pid_of(sup, "a"), b = pid_of(sup, "b");
    cast(probe_of(sup, "a"), Probe::Crash{});
    ASSERT_TRUE(restarted(sup, "b", b));
    EXPECT_TRUE(pid_of(sup, "b").alive());
    EXPECT_EQ(starts->load(), 3);  // first start, failed restart, retry
    EXPECT_TRUE(restarted(sup, "a", a));
    EXPECT_TRUE(sup.alive());
  }
  // As above, but b never starts again: every retry counts against the
  // intensity, and exceeding it stops the supervisor with `shutdown`.
  void expect_failed_restart_escalates(Strategy strategy, bool throws) {
    auto starts = std::make_shared<std::atomic<int>>(0);
    auto sup = start_sup({.strategy = strategy,
                          .max_restarts = 3,
                          .max_seconds = std::chrono::seconds(60),
                          .children = {probe("a"), flaky("b", INT_MAX, throws, starts)}});
    cast(probe_of(sup, "a"), Probe::Crash{});
    ASSERT_TRUE(sup.pid().get()->await_exit(10s));
    EXPECT_EQ(sup.pid().get()->exit_reason(), ExitReason::shutdown())
        << sup.pid().get()->exit_reason().to_string();
    EXPECT_EQ(starts->load(), 1 + 3);  // the first start, then one per allowed restart
    EXPECT_TRUE(eventually([&] { return runtime.process_count() == 0; }));
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

TEST_F(SupervisorTest, OneForAllRemovesTemporaryChildrenInsteadOfRestartingThem) {
  auto sup = start_sup({.strategy = Strategy::one_for_all,
                        .children = {probe("tmp1", Restart::temporary), probe("p"),
                                     probe("tmp2", Restart::temporary)}});
  Pid tmp1 = pid_of(sup, "tmp1"), p = pid_of(sup, "p"), tmp2 = pid_of(sup, "tmp2");
  cast(probe_of(sup, "p"), Probe::Crash{});
  ASSERT_TRUE(restarted(sup, "p", p));
  auto children = which_children(sup);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].id, "p");
  EXPECT_FALSE(tmp1.alive());
  EXPECT_FALSE(tmp2.alive());
}

TEST_F(SupervisorTest, RestForOneRemovesTemporaryChildrenAndRestartsTheRestOfTheSet) {
  auto sup = start_sup({.strategy = Strategy::rest_for_one,
                        .children = {probe("a"), probe("p"), probe("tmp", Restart::temporary),
                                     probe("tr", Restart::transient)}});
  Pid a = pid_of(sup, "a"), p = pid_of(sup, "p"), tmp = pid_of(sup, "tmp"), tr = pid_of(sup, "tr");
  cast(probe_of(sup, "p"), Probe::Crash{});
  ASSERT_TRUE(restarted(sup, "p", p));
  ASSERT_TRUE(restarted(sup, "tr", tr));  // transient: restarted with its set, as in OTP
  std::vector<std::string> ids;
  for (const auto& c : which_children(sup)) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "p", "tr"}));
  EXPECT_EQ(pid_of(sup, "a"), a);
  EXPECT_FALSE(tmp.alive());
}

TEST_F(SupervisorTest, RestForOneRetriesALaterChildWhoseRestartFailed) {
  expect_failed_restart_is_retried(Strategy::rest_for_one, /*throws=*/false);
}

TEST_F(SupervisorTest, OneForAllRetriesALaterChildWhoseRestartFailed) {
  expect_failed_restart_is_retried(Strategy::one_for_all, /*throws=*/true);
}

TEST_F(SupervisorTest, RestForOneEscalatesWhenALaterChildNeverRestarts) {
  expect_failed_restart_escalates(Strategy::rest_for_one, /*throws=*/true);
}

TEST_F(SupervisorTest, OneForAllEscalatesWhenALaterChildNeverRestarts) {
  expect_failed_restart_escalates(Strategy::one_for_all, /*throws=*/false);
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

TEST_F(SupervisorTest, ChildWhoseTerminateHangsIsWaitedForNotAbandoned) {
  Probe::Config stuck;
  stuck.inbox = inbox;
  stuck.label = "stuck";
  stuck.trap_exit = true;
  stuck.terminate_sleep = 1500ms;  // ignores shutdown for longer than its budget (+ 1 s)
  ChildSpec spec = child<Probe>("stuck", stuck);
  spec.shutdown = Shutdown::after(50ms);
  auto sup = start_sup({.children = {spec}});
  Pid stuck_pid = pid_of(sup, "stuck");
  exit(sup.pid(), ExitReason::shutdown());
  ASSERT_TRUE(sup.pid().get()->await_exit(10s));
  // The kill cannot preempt terminate; the supervisor waited for the exit.
  EXPECT_FALSE(stuck_pid.alive());
  EXPECT_TRUE(seen(*inbox, "terminate stuck shutdown"));
}

TEST_F(SupervisorTest, NoNewIncarnationStartsWhileAChildStuckAfterKillStillRuns) {
  auto liveness = std::make_shared<Liveness>();
  ChildSpec stuck = child<Stubborn>("stuck", Stubborn::Config{inbox, liveness});
  stuck.shutdown = Shutdown::after(50ms);
  auto sup = start_sup({.strategy = Strategy::one_for_all, .children = {stuck, probe("b")}});
  Pid old = pid_of(sup, "stuck");
  // Stuck past its shutdown time, the kill, and one more second after it.
  cast(*Ref<Stubborn>::from(old), Stubborn::Hang{1500ms});
  ASSERT_TRUE(eventually([&] { return seen(*inbox, "hanging"); }));
  cast(probe_of(sup, "b"), Probe::Crash{});  // one_for_all: stuck is stopped and restarted
  ASSERT_TRUE(restarted(sup, "stuck", old));
  EXPECT_FALSE(old.alive());
  EXPECT_EQ(old.get()->exit_reason(), ExitReason::killed())  // kill still sent after 50 ms
      << old.get()->exit_reason().to_string();
  EXPECT_EQ(liveness->most.load(), 1);
  EXPECT_EQ(liveness->live.load(), 1);
}

TEST_F(SupervisorTest, SupervisorChildDefaultsToInfiniteShutdown) {
  // OTP gives a supervisor child all the time its own children need (a
  // worker gets 5000 ms). The inner supervisor is still busy 5 s after its
  // parent asked it to stop: it waits in terminate_child for a worker that
  // takes 5.5 s. Killed at 5 s, it would die `killed` without stopping in order.
  auto liveness = std::make_shared<Liveness>();
  ChildSpec slow = child<Stubborn>("slow", Stubborn::Config{inbox, liveness, 5500ms});
  slow.shutdown = Shutdown::infinity();
  ChildSpec inner_spec = child<Supervisor>("inner", SupervisorSpec{.children = {slow}});
  inner_spec.type = ChildType::supervisor;  // shutdown left to its default
  auto outer = start_sup({.children = {inner_spec}});
  auto inner = *Ref<Supervisor>::from(pid_of(outer, "inner"));
  std::jthread client([inner] { terminate_child(inner, "slow"); });
  ASSERT_TRUE(eventually([&] { return seen(*inbox, "stopping"); }));
  exit(outer.pid(), ExitReason::shutdown());
  ASSERT_TRUE(outer.pid().get()->await_exit(20s));
  EXPECT_EQ(inner.pid().get()->exit_reason(), ExitReason::shutdown())
      << inner.pid().get()->exit_reason().to_string();
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
