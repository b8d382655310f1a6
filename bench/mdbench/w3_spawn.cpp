// W3 spawn: 100,000 feed servers started (each registered by unique key, its
// init arming the heartbeat timer) from 2 starter threads; rate and memory per
// process; then all stopped.

#include <thread>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/feed_server.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/registry.hpp"

namespace mdbench {
namespace {
using Names = rt::Registry<std::string>;
constexpr int kCount = 100'000;
constexpr int kStarters = 2;
}  // namespace

ResultLine run_w3_spawn() {
  rt::Runtime runtime;
  Names names;
  auto keys = symbol_names("P", kCount, 6);
  std::vector<rt::Pid> pids(kCount);
  const std::int64_t procs0 = runtime.process_count();
  const std::int64_t mem0 = heap_in_use();

  auto run_split = [&](auto&& body) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kStarters; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t * kCount / kStarters; i < (t + 1) * kCount / kStarters; ++i) body(i);
      });
    }
    for (auto& th : threads) th.join();
  };

  std::atomic<int> failed{0};
  auto t0 = Clock::now();
  run_split([&](int i) {
    auto r = rt::start<FeedServer>(runtime, {.register_as = names.via(keys[i])}, keys[i]);
    if (r) pids[i] = r->pid();
    else failed.fetch_add(1);
  });
  auto t1 = Clock::now();
  const std::int64_t mem1 = heap_in_use();
  const bool grew = names.count() == kCount && runtime.process_count() - procs0 == kCount;

  auto t2 = Clock::now();
  run_split([&](int i) { rt::exit(pids[i], rt::ExitReason::shutdown()); });
  while (runtime.process_count() != procs0) std::this_thread::yield();
  auto t3 = Clock::now();
  const bool back = names.count() == 0;
  pids.clear();

  return ResultLine("W3", "spawn")
      .add("count", kCount)
      .add("starters", kStarters)
      .add("spawn_per_s", static_cast<std::int64_t>(kCount / (elapsed_ms(t0, t1) / 1000.0)))
      .add("bytes_per_process", (mem1 - mem0) / kCount)
      .add("stop_per_s", static_cast<std::int64_t>(kCount / (elapsed_ms(t2, t3) / 1000.0)))
      .add("workers", runtime.scheduler().workers())
      .set_valid(failed.load() == 0 && grew && back);
}

}  // namespace mdbench
