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
#include "bench/mdbench/workloads.hpp"
#include "orderbook/order_book.hpp"

namespace mdbench {
namespace {

struct W4Figures {
  std::int64_t passive_adds = 0, crossing_adds = 0, cancels = 0, cancel_hits = 0;
  std::int64_t trades = 0, traded_qty = 0, notional = 0;
  bool ids_match = true;
};

W4Figures apply(ob::OrderBook& book, const std::vector<w4::Op>& ops) {
  W4Figures f;
  for (const w4::Op& op : ops) {
    if (op.kind == w4::Op::Kind::add) {
      const ob::NewOrder o{op.side == 0 ? ob::Side::buy : ob::Side::sell, ob::Price(op.price),
                           ob::Qty(op.qty)};
      auto r = book.add(o);
      f.ids_match &= r.ok() && r->id.value() == op.id;
      (op.crossing ? f.crossing_adds : f.passive_adds) += 1;
      for (const ob::Trade& t : book.last_change().trades) {
        ++f.trades;
        f.traded_qty += t.qty.lots();
        f.notional += t.qty.lots() * t.price.ticks();
      }
    } else {
      ++f.cancels;
      f.cancel_hits += book.cancel(ob::OrderId(op.id)).ok() ? 1 : 0;
    }
  }
  return f;
}

}  // namespace

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
    f = apply(*book, ops);
    const auto t1 = std::chrono::steady_clock::now();
    ms[run] = std::chrono::duration<double, std::milli>(t1 - t0).count();
  }
  std::array<double, kRuns> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median_ms = sorted[kRuns / 2];

  const auto bid = book->best(ob::Side::buy);
  const auto ask = book->best(ob::Side::sell);
  const std::int64_t resting = static_cast<std::int64_t>(book->order_count());
  const bool valid = !book->check_invariants() && f.ids_match && f.passive_adds == 600164 &&
                     f.crossing_adds == 50139 && f.cancels == 349697 && f.cancel_hits == 300840 &&
                     f.trades == 90010 && f.traded_qty == 2301643 && f.notional == 23016445227 &&
                     resting == 258494 && book->level_count(ob::Side::buy) == 51 &&
                     book->level_count(ob::Side::sell) == 49 && bid &&
                     bid->price.ticks() == 10001 && bid->qty.lots() == 92 && ask &&
                     ask->price.ticks() == 10002 && ask->qty.lots() == 28;

  ResultLine line("W4b", "orderbook_lib");
  line.add("ops", static_cast<std::int64_t>(kOps))
      .add_decimal("elapsed_ms", median_ms)
      .add("ops_per_s", static_cast<std::int64_t>(static_cast<double>(kOps) / (median_ms / 1e3)))
      .add("passive_adds", f.passive_adds)
      .add("crossing_adds", f.crossing_adds)
      .add("cancels", f.cancels)
      .add("cancel_hits", f.cancel_hits)
      .add("trades", f.trades)
      .add("traded_qty", f.traded_qty)
      .add("notional", f.notional)
      .add("resting", resting)
      .add("bid_levels", static_cast<std::int64_t>(book->level_count(ob::Side::buy)))
      .add("ask_levels", static_cast<std::int64_t>(book->level_count(ob::Side::sell)))
      .add("best_bid", bid ? bid->price.ticks() : 0)
      .add("best_bid_qty", bid ? bid->qty.lots() : 0)
      .add("best_ask", ask ? ask->price.ticks() : 0)
      .add("best_ask_qty", ask ? ask->qty.lots() : 0)
      .set_valid(valid);
  return line;
}

}  // namespace mdbench
