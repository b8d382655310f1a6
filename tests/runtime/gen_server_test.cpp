#include "runtime/gen_server.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "tests/runtime/probe_server.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;

class GenServerTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};

  Ref<Probe> start_probe(Probe::Config cfg = {}) {
    auto r = start<Probe>(runtime, StartOptions{.name = "probe"}, std::move(cfg));
    EXPECT_TRUE(r.ok());
    return *r;
  }
};

TEST_F(GenServerTest, CastsAreHandledInOrderAndCallSeesThem) {
  auto p = start_probe();
  for (int i = 1; i <= 1000; ++i) ASSERT_EQ(cast(p, Probe::Add{i}), SendStatus::ok);
  auto r = call(p, Probe::Get{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 500500);
}

TEST_F(GenServerTest, InitExceptionIsAStartErrorWithTheReason) {
  Probe::Config cfg;
  cfg.fail_init = true;
  auto r = start<Probe>(runtime, {}, cfg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, StartError::Code::init_failed);
  EXPECT_EQ(r.error().reason, ExitReason::error("init exploded"));
  EXPECT_TRUE(eventually([&] { return runtime.process_count() == 0; }));
}

TEST_F(GenServerTest, InitStopAndIgnoreAreReportedToTheStarter) {
  Probe::Config stop_cfg;
  stop_cfg.stop_in_init = true;
  auto stopped = start<Probe>(runtime, {}, stop_cfg);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().reason, ExitReason::shutdown("no config"));

  Probe::Config ignore_cfg;
  ignore_cfg.ignore_in_init = true;
  auto ignored = start<Probe>(runtime, {}, ignore_cfg);
  ASSERT_FALSE(ignored.ok());
  EXPECT_EQ(ignored.error().code, StartError::Code::ignored);
}

TEST_F(GenServerTest, SendRequestKeepsCallsToManyServersInFlightAtOnce) {
  // Both servers hold their call until told to answer: had send_request
  // waited for a reply, this test could not get past the second one.
  auto a = start_probe();
  auto b = start_probe();
  auto ra = send_request(a, Probe::Defer{});
  auto rb = send_request(b, Probe::Defer{});
  cast(b, Probe::AnswerDeferred{2});
  cast(a, Probe::AnswerDeferred{1});
  EXPECT_EQ(*ra.wait(), 1);
  EXPECT_EQ(*rb.wait(), 2);
  auto dead = start_probe();
  cast(dead, Probe::StopWith{ExitReason::normal()});
  ASSERT_TRUE(eventually([&] { return !dead.alive(); }));
  auto rd = send_request(dead, Probe::Get{}).wait();
  ASSERT_FALSE(rd.ok());
  EXPECT_EQ(rd.error().code, CallError::Code::noproc);
}

TEST_F(GenServerTest, CallToDeadProcessReturnsNoproc) {
  auto p = start_probe();
  cast(p, Probe::StopWith{ExitReason::normal()});
  ASSERT_TRUE(eventually([&] { return !p.alive(); }));
  auto r = call(p, Probe::Get{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::noproc);
  EXPECT_EQ(cast(p, Probe::Add{1}), SendStatus::noproc);  // the Pid is still a valid handle
}

TEST_F(GenServerTest, CallToProcessThatCrashesWhileHandlingItReturnsTheReason) {
  auto p = start_probe();
  auto r = call(p, Probe::CrashInCall{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::exited);
  EXPECT_EQ(r.error().reason, ExitReason::error("crash in call"));
  EXPECT_FALSE(p.alive());
}

TEST_F(GenServerTest, CallsQueuedBehindACrashLearnTheExitReason) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto p = start_probe(cfg);
  cast(p, Probe::Nap{50ms});
  inbox->wait_for(1);  // the server is now napping: what follows queues up
  cast(p, Probe::Crash{});
  auto r = call(p, Probe::Get{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::exited);
  EXPECT_EQ(r.error().reason, ExitReason::error("boom"));
}

TEST_F(GenServerTest, CallTimesOutAndTheLateReplyIsDropped) {
  auto p = start_probe();
  auto r = call(p, Probe::Defer{}, 20ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::timeout);
  EXPECT_GE(runtime.stats().call_timeouts, 1u);
  // The server replies after the caller gave up: dropped, server unharmed.
  cast(p, Probe::AnswerDeferred{5});
  auto after = call(p, Probe::Get{});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, 0);
}

TEST_F(GenServerTest, DeferredReplyThroughFromReachesTheCaller) {
  auto p = start_probe();
  std::thread answer([&] {
    ASSERT_TRUE(eventually([&] { return p.pid().get()->info().handled >= 1; }));
    cast(p, Probe::AnswerDeferred{42});
  });
  auto r = call(p, Probe::Defer{});
  answer.join();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
}

TEST_F(GenServerTest, DeferredCallIsFailedWhenTheServerStops) {
  auto p = start_probe();
  std::thread stopper([&] {
    ASSERT_TRUE(eventually([&] { return p.pid().get()->info().handled >= 1; }));
    cast(p, Probe::StopWith{ExitReason::shutdown()});
  });
  auto r = call(p, Probe::Defer{});
  stopper.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::exited);
  EXPECT_EQ(r.error().reason, ExitReason::shutdown());
}

TEST_F(GenServerTest, StopWithReplyRepliesThenTerminates) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto p = start_probe(cfg);
  auto r = call(p, Probe::StopWithReply{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  auto seen = inbox->wait_for(1);
  EXPECT_EQ(seen.at(0), "terminate normal");
  EXPECT_TRUE(eventually([&] { return !p.alive(); }));
}

TEST_F(GenServerTest, CrashRunsTerminateWithTheErrorReason) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto p = start_probe(cfg);
  cast(p, Probe::Crash{});
  auto seen = inbox->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "terminate {error,\"boom\"}");
  EXPECT_TRUE(eventually([&] { return !p.alive(); }));
  EXPECT_EQ(p.pid().get()->exit_reason(), ExitReason::error("boom"));
  EXPECT_GE(runtime.stats().crashed, 1u);
}

TEST_F(GenServerTest, ContinueRunsBeforeTheNextMessage) {
  Probe::Config cfg;
  cfg.continue_in_init = true;
  auto inbox = cfg.inbox;
  auto p = start_probe(cfg);
  auto r = call(p, Probe::Get{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 100);  // init's continue ran first
  auto c = call(p, Probe::ContinueThenGet{});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, 100);  // reply sent before the continue
  auto after = call(p, Probe::Get{});
  EXPECT_EQ(*after, 101);
}

TEST_F(GenServerTest, IdleTimeoutFiresWhenNothingArrives) {
  Probe::Config cfg;
  cfg.idle_timeout = 10ms;
  auto inbox = cfg.inbox;
  start_probe(cfg);
  auto seen = inbox->wait_for(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "timeout");
}

TEST_F(GenServerTest, IdleTimeoutIsCancelledByAnyMessage) {
  Probe::Config cfg;
  cfg.idle_timeout = 200ms;
  auto inbox = cfg.inbox;
  auto p = start_probe(cfg);
  cast(p, Probe::Note{"first"});
  // After the note, wait well past the timeout: it must never fire.
  auto seen = inbox->wait_for(2, 400ms);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "first");
}

TEST_F(GenServerTest, BoundedMailboxReportsOverloadInsteadOfGrowing) {
  Probe::Config cfg;
  auto inbox = cfg.inbox;
  auto r = start<Probe>(runtime, StartOptions{.name = "bounded", .mailbox_capacity = 4}, cfg);
  ASSERT_TRUE(r.ok());
  auto p = *r;
  cast(p, Probe::Nap{100ms});
  inbox->wait_for(1);  // napping: nothing more is handled until it wakes
  int accepted = 0;
  int overloaded = 0;
  for (int i = 0; i < 100; ++i) {
    (cast(p, Probe::Add{1}) == SendStatus::overloaded ? overloaded : accepted)++;
  }
  EXPECT_EQ(accepted, 3);  // capacity 4, the nap still counts until its turn ends
  EXPECT_EQ(overloaded, 97);
  auto refused = call(p, Probe::Get{});  // calls respect the bound too
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, CallError::Code::overloaded);
  ASSERT_TRUE(testing_support::eventually([&] { return p.pid().get()->mailbox_depth() == 0; }));
  auto total = call(p, Probe::Get{});
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(*total, accepted);
  EXPECT_EQ(p.pid().get()->info().mailbox_high_water, 4);
}

TEST_F(GenServerTest, CallingSelfIsAnErrorNotADeadlock) {
  struct Selfish : GenServer<Selfish> {
    struct Go {
      using Reply = int;
    };
    struct Inner {
      using Reply = int;
    };
    CallAction<int> handle_call(const Go&, From<int>&) {
      auto r = call(ref(), Inner{}, 100ms);
      return reply(!r.ok() && r.error().code == CallError::Code::calling_self ? 1 : 0);
    }
    CallAction<int> handle_call(const Inner&, From<int>&) { return reply(2); }
  };
  auto s = start<Selfish>(runtime, {});
  ASSERT_TRUE(s.ok());
  auto r = call(*s, Selfish::Go{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1);
}

TEST_F(GenServerTest, UnexpectedInfoIsDroppedAndTheServerLives) {
  struct Unknown {};
  auto p = start_probe();
  send(p, Unknown{});
  auto r = call(p, Probe::Get{});
  EXPECT_TRUE(r.ok());
}

TEST_F(GenServerTest, IntrospectionListsNameDepthAndHandledCount) {
  auto r = start<Probe>(runtime, StartOptions{.name = "inspect-me"}, Probe::Config{});
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 10; ++i) cast(*r, Probe::Add{1});
  ASSERT_TRUE(call(*r, Probe::Get{}).ok());
  // Counters are published at the end of each turn; the reply came mid-turn.
  std::optional<ProcessInfo> info;
  ASSERT_TRUE(eventually([&] {
    for (const ProcessInfo& i : runtime.processes()) {
      if (i.name == "inspect-me" && i.handled == 11) info = i;
    }
    return info.has_value();
  }));
  auto it = &*info;
  EXPECT_EQ(it->handled, 11u);
  EXPECT_EQ(it->mailbox_depth, 0);
  EXPECT_EQ(it->pid, r->pid());
}

TEST_F(GenServerTest, CallsFromProcessesToProcessesDoNotStarveThePool) {
  // Every worker runs a process blocked in a call to a server that needs a
  // worker itself: spare threads must keep the pool going.
  struct Caller : GenServer<Caller> {
    explicit Caller(Ref<Probe> t) : target(std::move(t)) {}
    struct Go {
      using Reply = int;
    };
    CallAction<int> handle_call(const Go&, From<int>&) {
      auto r = call(target, Probe::Sleep{20ms});
      return reply(r.ok() ? 1 : 0);
    }
    Ref<Probe> target;
  };
  std::vector<Ref<Probe>> servers;
  std::vector<Ref<Caller>> callers;
  for (int i = 0; i < 4; ++i) {
    servers.push_back(start_probe());
    callers.push_back(*start<Caller>(runtime, {}, servers.back()));
  }
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (auto& c : callers) {
    threads.emplace_back([&, c] {
      auto r = call(c, Caller::Go{}, 2000ms);
      if (r.ok() && *r == 1) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
}

TEST_F(GenServerTest, HundredThousandProcessesStartAndStopWithoutLeaks) {
  constexpr int kCount = 100'000;
  std::vector<Ref<Probe>> refs;
  refs.reserve(kCount);
  Probe::Config cfg;
  for (int i = 0; i < kCount; ++i) {
    auto r = start<Probe>(runtime, {}, cfg);
    ASSERT_TRUE(r.ok());
    refs.push_back(*r);
  }
  EXPECT_EQ(runtime.process_count(), kCount);
  for (auto& r : refs) cast(r, Probe::StopWith{ExitReason::shutdown()});
  EXPECT_TRUE(eventually([&] { return runtime.process_count() == 0; }, std::chrono::seconds(60)));
  refs.clear();  // the last references free the processes: ASan checks the rest
}

TEST_F(GenServerTest, ProcessesStartedFromManyThreadsAtOnceAreNumberedAndCountedOnce) {
  // The process table is sharded by starting thread; ids and counts must
  // still be unique and exact across shards.
  constexpr int kThreads = 4;
  constexpr int kEach = 2'000;
  std::vector<std::vector<Ref<Probe>>> started(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        started[t].push_back(*start<Probe>(runtime, {}, Probe::Config{}));
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::uint64_t> ids;
  for (const auto& refs : started) {
    for (const auto& r : refs) ids.insert(r.pid().id());
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(ids.count(0), 0u);
  EXPECT_EQ(runtime.process_count(), kThreads * kEach);
  EXPECT_EQ(runtime.processes().size(), static_cast<std::size_t>(kThreads * kEach));
  const RuntimeStats before = runtime.stats();
  for (const auto& refs : started) {
    for (const auto& r : refs) cast(r, Probe::StopWith{ExitReason::shutdown()});
  }
  ASSERT_TRUE(eventually([&] { return runtime.process_count() == 0; }));
  const RuntimeStats after = runtime.stats();
  EXPECT_EQ(after.spawned, before.spawned);
  EXPECT_EQ(after.exited - before.exited, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_EQ(after.alive, 0);
}

}  // namespace
}  // namespace rt::test
