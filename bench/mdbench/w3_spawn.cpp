// W3 spawn: 100,000 feed servers started by 2 starter processes, each start
// synchronous (init, Registry registration and the first heartbeat timer
// included); rate and heap bytes per process; then all stopped.
//   W3   through the PartitionSupervisor of DynamicSupervisors (BENCH.md)
//   W3s  through one DynamicSupervisor (the bottleneck the partitions remove)
//   W3d  started directly, no supervisor (the runtime's floor)

#include <functional>
#include <latch>
#include <memory>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/feed_tree.hpp"
#include "bench/mdbench/workloads.hpp"

namespace mdbench {
namespace {

constexpr int kCount = 100'000;
constexpr int kStarters = 2;

/// Runs body(i) for a contiguous range of ids, then counts down.
class Starter : public rt::GenServer<Starter> {
 public:
  struct Run {
    int from;
    int to;
    std::function<void(int)>* body;
    std::latch* done;
  };
  Action handle_cast(const Run& r) {
    for (int i = r.from; i < r.to; ++i) (*r.body)(i);
    r.done->count_down();
    return noreply();
  }
};

/// Runs body over [0, kCount) split across kStarters starter processes.
void run_split(rt::Runtime& runtime, std::function<void(int)> body) {
  std::latch done(kStarters);
  std::vector<rt::Ref<Starter>> starters;
  for (int t = 0; t < kStarters; ++t) {
    starters.push_back(*rt::start<Starter>(runtime, {}));
    rt::cast(starters.back(),
             Starter::Run{t * kCount / kStarters, (t + 1) * kCount / kStarters, &body, &done});
  }
  done.wait();
  for (auto& s : starters) rt::stop(s);  // gone before the caller counts processes
}

struct Variant {
  std::function<rt::Result<rt::Pid, rt::SupervisorError>(const std::string&)> start;
  std::function<void(const std::string&, const rt::Pid&)> stop;
};

ResultLine measure(std::string_view id, std::string_view name, rt::Runtime& runtime, Names& names,
                   const Variant& v) {
  auto keys = symbol_names("P", kCount, 6);
  std::vector<rt::Pid> pids(kCount);
  const std::int64_t procs0 = runtime.process_count();
  const std::size_t names0 = names.count();
  std::atomic<int> failed{0};
  const std::int64_t mem0 = heap_in_use();
  const auto t0 = Clock::now();
  run_split(runtime, [&](int i) {
    auto r = v.start(keys[i]);
    if (r)
      pids[i] = *r;
    else
      failed.fetch_add(1);
  });
  const auto t1 = Clock::now();
  const std::int64_t mem1 = heap_in_use();
  const bool grew = names.count() - names0 == kCount && runtime.process_count() - procs0 == kCount;
  const auto t2 = Clock::now();
  run_split(runtime, [&](int i) { v.stop(keys[i], pids[i]); });
  while (runtime.process_count() != procs0) std::this_thread::yield();
  const auto t3 = Clock::now();
  const bool back = names.count() == names0;
  return ResultLine(id, name)
      .add("count", kCount)
      .add("starters", kStarters)
      .add("spawn_per_s", static_cast<std::int64_t>(kCount / (elapsed_ms(t0, t1) / 1000.0)))
      .add("bytes_per_process", (mem1 - mem0) / kCount)
      .add("stop_per_s", static_cast<std::int64_t>(kCount / (elapsed_ms(t2, t3) / 1000.0)))
      .add("workers", runtime.scheduler().workers())
      .set_valid(failed.load() == 0 && grew && back);
}

}  // namespace

ResultLine run_w3_spawn() {
  rt::Runtime runtime;
  FeedTree tree(runtime);
  return measure("W3", "spawn", runtime, tree.names(),
                 {[&](const std::string& k) { return tree.start_feed(k); },
                  [&](const std::string& k, const rt::Pid& p) {
                    (void)rt::terminate_child(tree.supervisor_for(k), p);
                  }});
}

ResultLine run_w3s_spawn_single_supervisor() {
  rt::Runtime runtime;
  Names names;
  auto sup =
      *rt::start<rt::DynamicSupervisor>(runtime, {.name = "single"}, rt::DynamicSupervisorSpec{});
  return measure(
      "W3s", "spawn_single_supervisor", runtime, names,
      {[&](const std::string& k) {
         rt::ChildSpec spec = rt::child<FeedServer>(k, k);
         spec.options.register_as = names.via(k);
         return rt::start_child(sup, std::move(spec));
       },
       [&](const std::string&, const rt::Pid& p) { (void)rt::terminate_child(sup, p); }});
}

ResultLine run_w3d_spawn_direct() {
  rt::Runtime runtime;
  Names names;
  return measure(
      "W3d", "spawn_direct", runtime, names,
      {[&](const std::string& k) -> rt::Result<rt::Pid, rt::SupervisorError> {
         auto r = rt::start<FeedServer>(runtime, {.register_as = names.via(k)}, k);
         if (!r)
           return rt::Err{
               rt::SupervisorError{rt::SupervisorError::Code::start_failed, {}, r.error()}};
         return r->pid();
       },
       [&](const std::string&, const rt::Pid& p) { rt::exit(p, rt::ExitReason::shutdown()); }});
}

}  // namespace mdbench
