#pragma once
// Helpers shared by the mdbench workloads: clocks, percentiles, heap usage,
// and the symbol names the peers use.

#include <malloc.h>
#if MARKETD_WITH_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace mdbench {

using Clock = std::chrono::steady_clock;

inline double elapsed_ms(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

/// Nearest-rank percentile (the peers' definition): sorted[ceil(n*p/100) - 1].
inline double percentile(std::vector<double>& sorted_samples, double p) {
  if (sorted_samples.empty()) return 0;
  auto rank =
      static_cast<std::size_t>(std::ceil(static_cast<double>(sorted_samples.size()) * p / 100.0));
  return sorted_samples[std::clamp<std::size_t>(rank, 1, sorted_samples.size()) - 1];
}

/// Bytes currently allocated from the heap, from the allocator in use.
inline std::int64_t heap_in_use() {
#if MARKETD_WITH_TCMALLOC
  std::size_t bytes = 0;
  MallocExtension_GetNumericProperty("generic.current_allocated_bytes", &bytes);
  return static_cast<std::int64_t>(bytes);
#else
  return static_cast<std::int64_t>(mallinfo2().uordblks);
#endif
}

/// "SYM0042"-style names.
inline std::vector<std::string> symbol_names(std::string_view prefix, int count, int width) {
  std::vector<std::string> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) out.push_back(fmt::format("{}{:0{}}", prefix, i, width));
  return out;
}

}  // namespace mdbench
