// W6 restart: a feed server crashed 10,000 times under a DynamicSupervisor
// (max_restarts 1e9 per 1 s); each time the coordinator waits until the
// Registry shows the restarted server's new pid. Logging is off for the loop.

#include <spdlog/spdlog.h>

#include <thread>
#include <unordered_set>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/feed_server.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/dynamic_supervisor.hpp"
#include "runtime/registry.hpp"

namespace mdbench {
namespace {
constexpr int kRestarts = 10'000;
constexpr int kChunk = 1000;
}  // namespace

ResultLine run_w6_restart() {
  rt::Runtime runtime;
  rt::Registry<std::string> names;
  auto sup = *rt::start<rt::DynamicSupervisor>(
      runtime, {.name = "restart_sup"},
      rt::DynamicSupervisorSpec{.max_restarts = 1'000'000'000, .max_seconds = std::chrono::seconds(1)});
  rt::ChildSpec spec = rt::child<FeedServer>("CRASH0", std::string("CRASH0"));
  spec.options.register_as = names.via("CRASH0");
  const bool started = rt::start_child(sup, spec).ok();

  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);
  std::unordered_set<std::uint64_t> distinct;
  std::vector<double> chunk_ms;
  bool ok = started;
  rt::Pid current = names.whereis("CRASH0").value_or(rt::Pid());
  distinct.insert(current.id());
  const auto t0 = Clock::now();
  for (int c = 0; c < kRestarts / kChunk && ok; ++c) {
    const auto c0 = Clock::now();
    for (int i = 0; i < kChunk && ok; ++i) {
      rt::cast(*rt::Ref<FeedServer>::from(current), FeedServer::Boom{});
      ok = current.get()->await_exit(std::chrono::seconds(5));
      rt::Pid next;
      while (ok) {
        auto now = names.whereis("CRASH0");
        if (now && *now != current) {
          next = *now;
          break;
        }
        std::this_thread::yield();
      }
      current = next;
      distinct.insert(current.id());
    }
    chunk_ms.push_back(elapsed_ms(c0, Clock::now()));
  }
  const double ms = elapsed_ms(t0, Clock::now());
  spdlog::set_level(level);

  const bool valid = ok && distinct.size() == kRestarts + 1 && current.alive() &&
                     names.whereis("CRASH0") == current && rt::count_children(sup).active == 1;
  auto per_s = [](double chunk) { return static_cast<std::int64_t>(kChunk / (chunk / 1000.0)); };
  return ResultLine("W6", "restart")
      .add("restarts", kRestarts)
      .add_decimal("elapsed_ms", ms)
      .add("restarts_per_s", static_cast<std::int64_t>(kRestarts / (ms / 1000.0)))
      .add("first1k_per_s", chunk_ms.empty() ? 0 : per_s(chunk_ms.front()))
      .add("last1k_per_s", chunk_ms.empty() ? 0 : per_s(chunk_ms.back()))
      .add("distinct_pids", static_cast<std::int64_t>(distinct.size()))
      .add("workers", runtime.scheduler().workers())
      .set_valid(valid);
}

}  // namespace mdbench
