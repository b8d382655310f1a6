#include <gtest/gtest.h>

#include "runtime/gen_server.hpp"
#include "tests/runtime/probe_server.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;

// A process that keeps itself busy forever by casting to itself.
class Spinner : public GenServer<Spinner> {
 public:
  struct Spin {};
  struct Count {
    using Reply = std::uint64_t;
  };
  Action handle_cast(const Spin&) {
    ++spins_;
    cast(ref(), Spin{});
    return noreply();
  }
  CallAction<std::uint64_t> handle_call(const Count&, From<std::uint64_t>&) {
    return reply(spins_);
  }

 private:
  std::uint64_t spins_ = 0;
};

TEST(SchedulerTest, BusyProcessesDoNotStarveOthers) {
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 1}}};
  // One worker, two processes that never run dry: the budget must rotate them.
  auto a = *start<Spinner>(runtime, {});
  auto b = *start<Spinner>(runtime, {});
  cast(a, Spinner::Spin{});
  cast(b, Spinner::Spin{});
  auto probe = *start<Probe>(runtime, {}, Probe::Config{});
  auto r = call(probe, Probe::Get{}, 2000ms);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(eventually(
      [&] { return *call(a, Spinner::Count{}) > 1000 && *call(b, Spinner::Count{}) > 1000; }));
}

TEST(SchedulerTest, ProcessRunsOnOneThreadAtATimeAndInOrder) {
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  struct Ordered : GenServer<Ordered> {
    struct Next {
      int v;
    };
    struct Check {
      using Reply = bool;
    };
    std::atomic<int> inside{0};
    bool ok = true;
    int last = -1;
    Action handle_cast(const Next& n) {
      if (inside.fetch_add(1) != 0) ok = false;
      if (n.v != last + 1) ok = false;
      last = n.v;
      inside.fetch_sub(1);
      return noreply();
    }
    CallAction<bool> handle_call(const Check&, From<bool>&) { return reply(ok && last == 99'999); }
  };
  auto o = *start<Ordered>(runtime, {});
  for (int i = 0; i < 100'000; ++i) cast(o, Ordered::Next{i});
  EXPECT_TRUE(*call(o, Ordered::Check{}));
}

TEST(SchedulerTest, IdleRuntimeParksItsWorkers) {
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  std::vector<Ref<Probe>> idle;
  for (int i = 0; i < 1000; ++i) idle.push_back(*start<Probe>(runtime, {}, Probe::Config{}));
  // Idle processes cost no CPU: utilisation decays toward zero as idle time accrues.
  EXPECT_TRUE(eventually([&] { return runtime.scheduler().utilisation() < 0.05; }));
}

TEST(SchedulerTest, CallFromANonWorkerThreadWorksWithManyClients) {
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  auto p = *start<Probe>(runtime, {}, Probe::Config{});
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) ASSERT_TRUE(call(p, Probe::AddCall{1}).ok());
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(*call(p, Probe::Get{}), 4000);
}

}  // namespace
}  // namespace rt::test
