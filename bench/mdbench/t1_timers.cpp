// T1 timers: 1,000,000 one-hour timers armed by send_after to one server,
// then all cancelled (no peer figure: marketd's own). Arms and cancels run on
// one thread, outside any process, so both go to one timer shard, the way a
// busy worker's idle timeouts do. Validated by the pending count after each
// phase and by the entries the service still holds once all are cancelled
// (cancelled timers must not linger until their deadline).

#include <vector>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/gen_server.hpp"

namespace mdbench {
namespace {

constexpr int kTimers = 1'000'000;

/// The timers' target; nothing fires within the run.
class Sleeper : public rt::GenServer<Sleeper> {
 public:
  struct Wake {};
  Action handle_info(const Wake&) { return noreply(); }
};

}  // namespace

ResultLine run_t1_timers() {
  using namespace std::chrono_literals;
  rt::Runtime runtime;
  auto target = *rt::start<Sleeper>(runtime, {});
  std::vector<rt::TimerRef> refs;
  refs.reserve(kTimers);
  const auto t0 = Clock::now();
  for (int i = 0; i < kTimers; ++i) refs.push_back(rt::send_after(target, Sleeper::Wake{}, 1h));
  const auto t1 = Clock::now();
  const bool armed = runtime.timers().pending() == kTimers;
  int cancelled = 0;
  const auto t2 = Clock::now();
  for (rt::TimerRef r : refs) cancelled += rt::cancel_timer(runtime, r) ? 1 : 0;
  const auto t3 = Clock::now();
  const auto held = static_cast<std::int64_t>(runtime.timers().held_entries());
  rt::stop(target);
  return ResultLine("T1", "timers")
      .add("timers", kTimers)
      .add("arms_per_s", static_cast<std::int64_t>(kTimers / (elapsed_ms(t0, t1) / 1000.0)))
      .add("cancels_per_s", static_cast<std::int64_t>(kTimers / (elapsed_ms(t2, t3) / 1000.0)))
      .add("held_after_cancel", held)
      .set_valid(armed && cancelled == kTimers && runtime.timers().pending() == 0 && held <= 1024);
}

}  // namespace mdbench
