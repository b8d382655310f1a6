#pragma once
// Cheap clocks for bookkeeping on hot paths (last-update stamps, staleness).
// CLOCK_MONOTONIC_COARSE costs a few ns through the vDSO, at the kernel tick's
// resolution (1-4 ms): right for thresholds of seconds, wrong for latency.
// Thread-safety: stateless.

#include <time.h>

#include <cstdint>

namespace rt {

/// Monotonic milliseconds at tick resolution.
inline std::int64_t coarse_monotonic_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace rt
