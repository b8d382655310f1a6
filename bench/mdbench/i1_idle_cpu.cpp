// I1 idle_cpu: CPU used by the runtime with 100,000 idle processes and no
// traffic, over a 3 s window (getrusage), as a percentage of one core.
// Issue 2's bar: < 1 % (spinning schedulers are a common complaint about CAF).

#include <sys/resource.h>

#include <thread>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/gen_server.hpp"

namespace mdbench {
namespace {

constexpr int kProcesses = 100'000;
constexpr auto kWindow = std::chrono::seconds(3);

class Idle : public rt::GenServer<Idle> {
 public:
  struct Ping {};
  Action handle_cast(const Ping&) { return noreply(); }
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

}  // namespace

ResultLine run_i1_idle_cpu() {
  rt::Runtime runtime;
  std::vector<rt::Ref<Idle>> procs;
  procs.reserve(kProcesses);
  for (int i = 0; i < kProcesses; ++i) procs.push_back(*rt::start<Idle>(runtime, {}));
  for (auto& p : procs) rt::cast(p, Idle::Ping{});              // every process has run once
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the workers go idle

  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(kWindow);  // the measurement window itself, not a synchronisation
  const double cpu = cpu_seconds() - cpu0;
  const double wall = elapsed_ms(t0, Clock::now()) / 1000.0;
  const double pct = 100.0 * cpu / wall;
  return ResultLine("I1", "idle_cpu")
      .add("processes", kProcesses)
      .add("window_ms", static_cast<std::int64_t>(wall * 1000))
      .add_decimal("cpu_pct_of_core", pct)
      .add("workers", runtime.scheduler().workers())
      .set_valid(pct < 1.0 && runtime.process_count() == kProcesses);
}

}  // namespace mdbench
