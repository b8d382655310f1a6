// W4b orderbook_lib: the W4 operation stream (shared/peers/elixir/README.md)
// applied to the bare orderbook library, no actor. Prints the peer's W4 keys;
// every field after ops_per_s must equal the peer's figures exactly.
// Timing: the 1,000,000 pre-generated operations applied to a fresh book, five
// times; the median run is reported (the spread on a shared machine is wide).

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "bench/common/w4_generator.hpp"
#include "bench/mdbench/w4_book_figures.hpp"
#include "bench/mdbench/workloads.hpp"
#include "orderbook/order_book.hpp"

namespace mdbench {

ResultLine run_w4b_orderbook_lib() {
  constexpr std::size_t kOps = 1'000'000;
  constexpr int kRuns = 5;
  const std::vector<w4::Op> ops = w4::generate(kOps);

  std::array<double, kRuns> ms{};
  W4Figures f;
  std::optional<ob::OrderBook> book;
  for (int run = 0; run < kRuns; ++run) {
    book.emplace(ob::Mode::venue, std::size_t{1} << 19);
    const auto t0 = std::chrono::steady_clock::now();
    f = W4Figures{};
    for (const w4::Op& op : ops) f.apply(*book, op);
    const auto t1 = std::chrono::steady_clock::now();
    ms[run] = std::chrono::duration<double, std::milli>(t1 - t0).count();
  }
  std::array<double, kRuns> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median_ms = sorted[kRuns / 2];

  return w4_line("W4b", "orderbook_lib", static_cast<std::int64_t>(kOps), median_ms, f, *book);
}

}  // namespace mdbench
