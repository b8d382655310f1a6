#include <gtest/gtest.h>

#include "runtime/gen_server.hpp"
#include "tests/runtime/probe_server.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;

class LinksMonitorsTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};

  Ref<Probe> start_probe(Probe::Config cfg = {}) {
    auto r = start<Probe>(runtime, {}, std::move(cfg));
    EXPECT_TRUE(r.ok());
    return *r;
  }
};

TEST_F(LinksMonitorsTest, LinkedProcessDiesWithTheSameReason) {
  auto a = start_probe();
  auto b = start_probe();
  ASSERT_TRUE(call(a, Probe::LinkTo{b.pid()}).ok());
  cast(b, Probe::Crash{});
  ASSERT_TRUE(eventually([&] { return !a.alive(); }));
  EXPECT_EQ(a.pid().get()->exit_reason(), ExitReason::error("boom"));
}

TEST_F(LinksMonitorsTest, NormalExitDoesNotKillLinkedProcess) {
  auto a = start_probe();
  auto b = start_probe();
  ASSERT_TRUE(call(a, Probe::LinkTo{b.pid()}).ok());
  cast(b, Probe::StopWith{ExitReason::normal()});
  ASSERT_TRUE(eventually([&] { return !b.alive(); }));
  EXPECT_TRUE(call(a, Probe::Get{}).ok());
}

TEST_F(LinksMonitorsTest, TrappingProcessReceivesExitSignalAsMessage) {
  Probe::Config cfg;
  cfg.trap_exit = true;
  auto inbox = cfg.inbox;
  auto a = start_probe(cfg);
  auto b = start_probe();
  ASSERT_TRUE(call(a, Probe::LinkTo{b.pid()}).ok());
  cast(b, Probe::Crash{});
  auto seen = inbox->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "exit {error,\"boom\"}");
  EXPECT_TRUE(a.alive());
}

TEST_F(LinksMonitorsTest, KillIsUntrappableAndLinksSeeKilled) {
  Probe::Config trapping;
  trapping.trap_exit = true;
  auto watcher_inbox = trapping.inbox;
  auto watcher = start_probe(trapping);
  Probe::Config victim_cfg;
  victim_cfg.trap_exit = true;
  auto victim = start_probe(victim_cfg);
  ASSERT_TRUE(call(watcher, Probe::LinkTo{victim.pid()}).ok());
  exit(victim.pid(), ExitReason::kill());
  ASSERT_TRUE(eventually([&] { return !victim.alive(); }));
  EXPECT_EQ(victim.pid().get()->exit_reason(), ExitReason::killed());
  auto seen = watcher_inbox->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "exit killed");
}

TEST_F(LinksMonitorsTest, ExitWithNormalReasonIsIgnoredByNonTrappingProcess) {
  auto a = start_probe();
  exit(a.pid(), ExitReason::normal());
  EXPECT_TRUE(call(a, Probe::Get{}).ok());
  exit(a.pid(), ExitReason::shutdown());
  EXPECT_TRUE(eventually([&] { return !a.alive(); }));
  EXPECT_EQ(a.pid().get()->exit_reason(), ExitReason::shutdown());
}

TEST_F(LinksMonitorsTest, LinkToDeadProcessDeliversNoproc) {
  Probe::Config cfg;
  cfg.trap_exit = true;
  auto inbox = cfg.inbox;
  auto a = start_probe(cfg);
  auto dead = start_probe();
  cast(dead, Probe::StopWith{ExitReason::normal()});
  ASSERT_TRUE(eventually([&] { return !dead.alive(); }));
  ASSERT_TRUE(call(a, Probe::LinkTo{dead.pid()}).ok());
  auto seen = inbox->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "exit noproc");
}

TEST_F(LinksMonitorsTest, LinkStormOfAThousandProcessesAllDie) {
  constexpr int kCount = 1000;
  auto hub = start_probe();
  std::vector<Ref<Probe>> spokes;
  for (int i = 0; i < kCount; ++i) {
    spokes.push_back(start_probe());
    ASSERT_TRUE(call(spokes.back(), Probe::LinkTo{hub.pid()}).ok());
  }
  cast(hub, Probe::Crash{});
  ASSERT_TRUE(eventually([&] { return runtime.process_count() == 0; }));
  for (auto& s : spokes) EXPECT_EQ(s.pid().get()->exit_reason(), ExitReason::error("boom"));
}

TEST_F(LinksMonitorsTest, UnlinkFromAProcessWithManyLinksRemovesExactlyThatLink) {
  // Past 16 links a process keeps them in a hash set (supervisors have thousands).
  auto hub = start_probe();
  std::vector<Ref<Probe>> spokes;
  for (int i = 0; i < 100; ++i) {
    spokes.push_back(start_probe());
    ASSERT_TRUE(call(spokes.back(), Probe::LinkTo{hub.pid()}).ok());
    ASSERT_TRUE(call(spokes.back(), Probe::LinkTo{hub.pid()}).ok());  // idempotent
  }
  for (int i = 0; i < 100; i += 2) ASSERT_TRUE(call(spokes[i], Probe::UnlinkFrom{hub.pid()}).ok());
  cast(hub, Probe::Crash{});
  ASSERT_TRUE(eventually([&] {
    for (int i = 1; i < 100; i += 2) {
      if (spokes[i].alive()) return false;
    }
    return true;
  }));
  for (int i = 0; i < 100; i += 2) EXPECT_TRUE(call(spokes[i], Probe::Get{}).ok()) << i;
}

TEST_F(LinksMonitorsTest, MonitorDeliversDownWithTheReason) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto watcher = start_probe(cfg);
  auto target = start_probe();
  auto ref = call(watcher, Probe::MonitorIt{target.pid()});
  ASSERT_TRUE(ref.ok());
  cast(target, Probe::StopWith{ExitReason::shutdown("done")});
  auto seen = inbox->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "down " + std::to_string(*ref) + " {shutdown,done}");
  EXPECT_TRUE(watcher.alive());  // a monitor is one-way
}

TEST_F(LinksMonitorsTest, MonitorOfAlreadyDeadPidDeliversDownNoprocAtOnce) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto watcher = start_probe(cfg);
  auto dead = start_probe();
  cast(dead, Probe::StopWith{ExitReason::normal()});
  ASSERT_TRUE(eventually([&] { return !dead.alive(); }));
  auto ref = call(watcher, Probe::MonitorIt{dead.pid()});
  ASSERT_TRUE(ref.ok());
  auto seen = inbox->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "down " + std::to_string(*ref) + " noproc");
}

TEST_F(LinksMonitorsTest, DemonitorPreventsDown) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto watcher = start_probe(cfg);
  auto target = start_probe();
  auto ref = call(watcher, Probe::MonitorIt{target.pid()});
  ASSERT_TRUE(ref.ok());
  auto removed = call(watcher, Probe::Demonitor{*ref});
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  cast(target, Probe::Crash{});
  ASSERT_TRUE(eventually([&] { return !target.alive(); }));
  cast(watcher, Probe::Note{"marker"});
  auto seen = inbox->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "marker");  // no Down came before the marker
  EXPECT_FALSE(*call(watcher, Probe::Demonitor{*ref}));
}

TEST_F(LinksMonitorsTest, MonitorsOfADeadWatcherAreRemovedFromTheTarget) {
  auto target = start_probe();
  for (int i = 0; i < 100; ++i) {
    auto watcher = start_probe();
    ASSERT_TRUE(call(watcher, Probe::MonitorIt{target.pid()}).ok());
    cast(watcher, Probe::StopWith{ExitReason::normal()});
    ASSERT_TRUE(eventually([&] { return !watcher.alive(); }));
  }
  // The target exits with no watcher left to notify; nothing dangles (ASan).
  cast(target, Probe::StopWith{ExitReason::normal()});
  EXPECT_TRUE(eventually([&] { return runtime.process_count() == 0; }));
}

}  // namespace
}  // namespace rt::test
