// M0 core_round_trip: the machine, not marketd. Two threads pass a cache line
// back and forth; the round trip says how far apart the cores are. On the
// shared VM it moves between ~95 ns (hyperthread siblings) and ~380 ns
// (separate cores) from day to day, and cross-core workloads (W1, W5) move
// with it, so comparison runs record it beside their figures.

#include <atomic>
#include <thread>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/workloads.hpp"

namespace mdbench {

ResultLine run_m0_core_round_trip() {
  constexpr int kRoundTrips = 1'000'000;
  alignas(64) std::atomic<int> ball{0};
  std::thread other([&] {
    for (int i = 0; i < kRoundTrips; ++i) {
      while (ball.load(std::memory_order_acquire) != 2 * i + 1) {
      }
      ball.store(2 * i + 2, std::memory_order_release);
    }
  });
  const auto t0 = Clock::now();
  for (int i = 0; i < kRoundTrips; ++i) {
    ball.store(2 * i + 1, std::memory_order_release);
    while (ball.load(std::memory_order_acquire) != 2 * i + 2) {
    }
  }
  const auto t1 = Clock::now();
  other.join();
  return ResultLine("M0", "core_round_trip")
      .add("round_trips", kRoundTrips)
      .add_decimal("round_trip_ns", elapsed_ms(t0, t1) * 1e6 / kRoundTrips)
      .set_valid(ball.load() == 2 * kRoundTrips);
}

}  // namespace mdbench
