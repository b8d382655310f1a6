#include "runtime/registry.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "tests/runtime/probe_server.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;
using Names = Registry<std::string>;

class RegistryTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  Names names{Names::Options{.keys = Names::Keys::unique, .partitions = 4}};

  StartResult<Probe> start_named(const std::string& key, Probe::Config cfg = {}) {
    return start<Probe>(runtime, StartOptions{.name = key, .register_as = names.via(key)},
                        std::move(cfg));
  }
};

TEST_F(RegistryTest, ViaNamingRegistersAtStartAndRoutesCastsAndCalls) {
  ASSERT_TRUE(start_named("BTC-USD").ok());
  auto addr = via<Probe>(names, std::string_view("BTC-USD"));
  EXPECT_EQ(cast(addr, Probe::Add{3}), SendStatus::ok);
  auto r = call(addr, Probe::Get{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 3);
}

TEST_F(RegistryTest, SecondStartUnderTheSameNameIsAlreadyStarted) {
  auto first = start_named("ETH-USD");
  ASSERT_TRUE(first.ok());
  auto second = start_named("ETH-USD");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, StartError::Code::already_started);
  EXPECT_EQ(second.error().existing, first->pid());
  EXPECT_EQ(names.count(), 1u);
}

TEST_F(RegistryTest, EntryVanishesWhenItsProcessExits) {
  auto p = start_named("SOL-USD");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(names.count("SOL-USD"), 1u);
  cast(*p, Probe::Crash{});
  EXPECT_TRUE(eventually([&] { return names.count("SOL-USD") == 0; }));
  EXPECT_FALSE(names.whereis("SOL-USD"));
  EXPECT_EQ(cast(via<Probe>(names, std::string("SOL-USD")), Probe::Add{1}), SendStatus::noproc);
  auto r = call(via<Probe>(names, std::string("SOL-USD")), Probe::Get{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::noproc);
}

TEST_F(RegistryTest, KeyCanBeReRegisteredAfterItsOwnerDied) {
  auto first = start_named("ADA-USD");
  ASSERT_TRUE(first.ok());
  cast(*first, Probe::StopWith{ExitReason::shutdown()});
  ASSERT_TRUE(eventually([&] { return !names.whereis("ADA-USD"); }));
  auto second = start_named("ADA-USD");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->pid(), first->pid());
  EXPECT_EQ(*names.whereis("ADA-USD"), second->pid());
}

TEST_F(RegistryTest, ProcessRegistersItselfAndUnregisters) {
  struct SelfRegistering : GenServer<SelfRegistering> {
    explicit SelfRegistering(Names& n) : names(n) {}
    struct Reg {
      std::string key;
      using Reply = bool;
    };
    struct Unreg {
      std::string key;
      using Reply = Ok;
    };
    CallAction<bool> handle_call(const Reg& r, From<bool>&) {
      return reply(names.register_key(r.key).ok());
    }
    CallAction<Ok> handle_call(const Unreg& r, From<Ok>&) {
      names.unregister(r.key);
      return reply(Ok{});
    }
    Names& names;
  };
  auto s = start<SelfRegistering>(runtime, {}, names);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(*call(*s, SelfRegistering::Reg{"a"}));
  EXPECT_TRUE(*call(*s, SelfRegistering::Reg{"b"}));
  EXPECT_FALSE(*call(*s, SelfRegistering::Reg{"a"}));  // unique
  auto keys = names.keys(s->pid());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(call(*s, SelfRegistering::Unreg{"a"}).ok());
  EXPECT_EQ(names.keys(s->pid()), std::vector<std::string>{"b"});
  EXPECT_FALSE(names.register_key("outside").ok());  // not a process
}

TEST_F(RegistryTest, DuplicateKeysDispatchToEverySubscriber) {
  Registry<std::string, int> topics{
      {.keys = Registry<std::string, int>::Keys::duplicate, .partitions = 2}};
  struct Subscriber : GenServer<Subscriber> {
    Subscriber(Registry<std::string, int>& t, int id) : topics(t), tag(id) {}
    Action init() {
      topics.register_key("ticks", tag);
      return ok();
    }
    Action handle_cast(int n) {
      got += n;
      return noreply();
    }
    struct Got {
      using Reply = int;
    };
    CallAction<int> handle_call(const Got&, From<int>&) { return reply(got); }
    Registry<std::string, int>& topics;
    int tag;
    int got = 0;
  };
  std::vector<Ref<Subscriber>> subs;
  for (int i = 0; i < 10; ++i) subs.push_back(*start<Subscriber>(runtime, {}, topics, i));
  EXPECT_EQ(topics.count("ticks"), 10u);
  int dispatched = 0;
  topics.dispatch(std::string_view("ticks"), [&](const auto& e) {
    cast(*Ref<Subscriber>::from(e.pid), e.value);
    ++dispatched;
  });
  EXPECT_EQ(dispatched, 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*call(subs[i], Subscriber::Got{}), i);
  auto odd = topics.select([](const std::string&, const auto& e) { return e.value % 2 == 1; });
  EXPECT_EQ(odd.size(), 5u);
  exit(subs[3].pid(), ExitReason::kill());
  EXPECT_TRUE(eventually([&] { return topics.count("ticks") == 9; }));
}

TEST_F(RegistryTest, DuplicateEntriesStayInRegistrationOrderAsMembersComeAndGo) {
  using Topics = Registry<std::string, int>;
  Topics topics{{.keys = Topics::Keys::duplicate, .partitions = 2}};
  struct Member : GenServer<Member> {
    Member(Topics& t, int id) : topics(t), tag(id) {}
    Action init() {
      topics.register_key("t", tag);
      return ok();
    }
    struct Leave {
      using Reply = Ok;
    };
    CallAction<Ok> handle_call(const Leave&, From<Ok>&) {
      topics.unregister("t");
      return reply(Ok{});
    }
    Topics& topics;
    int tag;
  };
  auto values = [&] {
    std::vector<int> out;
    topics.dispatch(std::string_view("t"), [&](const Topics::Entry& e) { out.push_back(e.value); });
    return out;
  };
  std::vector<Ref<Member>> m;
  for (int i = 0; i < 4; ++i) m.push_back(*start<Member>(runtime, {}, topics, i));
  EXPECT_EQ(values(), (std::vector<int>{0, 1, 2, 3}));

  exit(m[0].pid(), ExitReason::kill());  // the first of the ring leaves
  ASSERT_TRUE(eventually([&] { return topics.count() == 3; }));
  EXPECT_EQ(values(), (std::vector<int>{1, 2, 3}));

  ASSERT_TRUE(call(m[2], Member::Leave{}).ok());  // one in the middle
  EXPECT_EQ(values(), (std::vector<int>{1, 3}));
  EXPECT_EQ(topics.count("t"), 2u);

  m.push_back(*start<Member>(runtime, {}, topics, 4));
  EXPECT_EQ(values(), (std::vector<int>{1, 3, 4}));

  for (int i : {1, 3, 4}) exit(m[i].pid(), ExitReason::kill());
  ASSERT_TRUE(eventually([&] { return topics.count() == 0; }));
  EXPECT_TRUE(values().empty());
  EXPECT_FALSE(topics.whereis("t"));

  m.push_back(*start<Member>(runtime, {}, topics, 5));  // the key comes back
  EXPECT_EQ(values(), (std::vector<int>{5}));
  EXPECT_EQ(topics.keys(m[5].pid()), std::vector<std::string>{"t"});
}

TEST_F(RegistryTest, ARegistryDestroyedBeforeItsProcessesLeavesThemToExitCleanly) {
  // Shutdown order gone wrong must not become a use-after-free: the registry
  // detaches its entries from the processes still alive (ASan checks this).
  auto early =
      std::make_unique<Names>(Names::Options{.keys = Names::Keys::unique, .partitions = 2});
  std::vector<Ref<Probe>> alive;
  for (int i = 0; i < 20; ++i) {
    const std::string key = "K" + std::to_string(i % 10);
    auto r = start<Probe>(runtime, StartOptions{.register_as = early->via(key)}, Probe::Config{});
    if (r) alive.push_back(*r);
  }
  ASSERT_EQ(alive.size(), 10u);  // the second ten found their keys taken
  EXPECT_EQ(early->count(), 10u);
  early.reset();
  for (auto& p : alive) cast(p, Probe::StopWith{ExitReason::shutdown()});
  EXPECT_TRUE(eventually([&] { return runtime.process_count() == 0; }));
}

TEST_F(RegistryTest, ConcurrentLookupsWhileProcessesComeAndGo) {
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      for (int i = 0; i < 50; ++i) (void)names.whereis("k" + std::to_string(i));
    }
  });
  for (int round = 0; round < 20; ++round) {
    std::vector<Ref<Probe>> procs;
    for (int i = 0; i < 50; ++i) procs.push_back(*start_named("k" + std::to_string(i)));
    for (auto& p : procs) cast(p, Probe::StopWith{ExitReason::normal()});
    ASSERT_TRUE(eventually([&] { return names.count() == 0; }));
  }
  done = true;
  reader.join();
}

}  // namespace
}  // namespace rt::test
