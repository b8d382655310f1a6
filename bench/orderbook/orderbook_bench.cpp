// Order book micro-benchmarks (Google Benchmark): OrderBook and the naive
// ReferenceBook side by side on the same pre-generated streams.
//
//   ItchStream/<book>      1,000,000 live orders, then 1,000,000 ITCH-like ops
//                          (ops_per_s; p50/p99/p99.9 ns per op; bytes per live order)
//   Drift/<book>           the same mix while the price drifts 20,000 ticks
//   OneLevel10k/<book>     10,000 orders at one level: cancel one, add one
//   Sweep100/<book>        an order that sweeps 100 levels (3 orders each), refilled
//   W4/<book>              the W4 stream (shared/peers/elixir/README.md)
//   ExternalIds/<book>     upstream string ids across 1,000 books: adds, and
//                          cancels/executes by resolve(id) (ops_per_s)
//   BookImage/...          snapshot and recovery of 1,000,000 orders (book_image_bench.cpp)
//
// Run: build-ob/bench/orderbook_bench [--benchmark_filter=...]
// Thread-safety: single-threaded benchmarks.

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/common/w4_generator.hpp"
#include "bench/orderbook/l3_stream.hpp"
#include "orderbook/order_book.hpp"
#include "orderbook/reference_book.hpp"

namespace {

using obbench::L3Op;

ob::Side side_of(std::uint8_t s) {
  return s == 0 ? ob::Side::buy : ob::Side::sell;
}

// Applies one L3 operation (mirror semantics: adds rest as given).
template <class Book>
inline void apply(Book& b, const L3Op& op) {
  switch (op.kind) {
    case L3Op::Kind::add:
      benchmark::DoNotOptimize(
          b.add(ob::NewOrder{side_of(op.side), ob::Price(op.price), ob::Qty(op.qty)}));
      break;
    case L3Op::Kind::cancel:
      benchmark::DoNotOptimize(b.cancel(ob::OrderId(op.id)));
      break;
    case L3Op::Kind::replace:
      benchmark::DoNotOptimize(b.replace(ob::OrderId(op.id), ob::Price(op.price), ob::Qty(op.qty)));
      break;
    case L3Op::Kind::reduce:
      benchmark::DoNotOptimize(b.reduce(ob::OrderId(op.id), ob::Qty(op.qty)));
      break;
    case L3Op::Kind::execute:
      benchmark::DoNotOptimize(b.execute(ob::OrderId(op.id), ob::Qty(op.qty)));
      break;
  }
}

std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

// TSC ticks per nanosecond, measured once against steady_clock.
double tsc_per_ns() {
  static const double v = [] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = __rdtsc();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(50)) {
    }
    const std::uint64_t c1 = __rdtsc();
    const auto t1 = std::chrono::steady_clock::now();
    return static_cast<double>(c1 - c0) / std::chrono::duration<double, std::nano>(t1 - t0).count();
  }();
  return v;
}

struct Stream {
  std::vector<L3Op> warm;     // builds the initial book
  std::vector<L3Op> timed;    // measured for throughput
  std::vector<L3Op> latency;  // measured op by op
};

const Stream& itch_stream(double drift) {
  static Stream plain, drifting;
  Stream& s = drift == 0.0 ? plain : drifting;
  if (s.warm.empty()) {
    obbench::L3Generator g(drift == 0.0 ? 1 : 2, obbench::L3Params{1'000'000, drift, 50});
    for (int i = 0; i < 1'000'000; ++i) s.warm.push_back(g.add());
    for (int i = 0; i < 1'000'000; ++i) s.timed.push_back(g.next());
    for (int i = 0; i < 1'000'000; ++i) s.latency.push_back(g.next());
  }
  return s;
}

template <class Book>
void run_stream(benchmark::State& state, double drift) {
  const Stream& s = itch_stream(drift);
  for (auto _ : state) {
    state.PauseTiming();
    const std::size_t heap0 = heap_in_use();
    auto book = std::make_unique<Book>(ob::Mode::mirror, s.warm.size());
    for (const L3Op& op : s.warm) apply(*book, op);
    const std::size_t live = book->order_count();
    state.counters["live_orders"] = static_cast<double>(live);
    // The fast book accounts for its own structures; the naive one is all
    // small heap nodes, which mallinfo2 counts.
    std::size_t bytes = heap_in_use() - heap0;
    if constexpr (requires { book->memory_bytes(); }) bytes = book->memory_bytes();
    state.counters["bytes_per_order"] = static_cast<double>(bytes) / static_cast<double>(live);
    state.ResumeTiming();

    const auto t0 = std::chrono::steady_clock::now();
    for (const L3Op& op : s.timed) apply(*book, op);
    const auto t1 = std::chrono::steady_clock::now();

    state.PauseTiming();
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    state.counters["ops_per_s"] = static_cast<double>(s.timed.size()) / secs;
    state.counters["ns_per_op"] = secs * 1e9 / static_cast<double>(s.timed.size());
    std::vector<double> ns;
    ns.reserve(s.latency.size());
    const double scale = tsc_per_ns();
    for (const L3Op& op : s.latency) {
      const std::uint64_t c0 = __rdtsc();
      apply(*book, op);
      const std::uint64_t c1 = __rdtsc();
      ns.push_back(static_cast<double>(c1 - c0) / scale);
    }
    std::sort(ns.begin(), ns.end());
    auto pct = [&](double p) {
      return ns[static_cast<std::size_t>(p / 100.0 * static_cast<double>(ns.size() - 1))];
    };
    state.counters["p50_ns"] = pct(50);
    state.counters["p99_ns"] = pct(99);
    state.counters["p999_ns"] = pct(99.9);
    state.counters["levels"] =
        static_cast<double>(book->level_count(ob::Side::buy) + book->level_count(ob::Side::sell));
    book.reset();
    state.ResumeTiming();
  }
}

template <class Book>
void BM_ItchStream(benchmark::State& state) {
  run_stream<Book>(state, 0.0);
}
template <class Book>
void BM_Drift(benchmark::State& state) {
  run_stream<Book>(state, 0.02);
}  // 20,000 ticks per 1 M ops

// 10,000 orders at one price: cancel a random one, add one at the back.
template <class Book>
void BM_OneLevel10k(benchmark::State& state) {
  Book book(ob::Mode::venue, 20'000);
  std::vector<ob::OrderId> ids;
  for (int i = 0; i < 10'000; ++i) {
    ids.push_back(book.add(ob::NewOrder{ob::Side::sell, ob::Price(1000), ob::Qty(1 + i % 7)})->id);
  }
  std::uint64_t x = 88172645463325252ull;
  for (auto _ : state) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ob::OrderId& slot = ids[x % ids.size()];
    benchmark::DoNotOptimize(book.cancel(slot));
    slot = book.add(ob::NewOrder{ob::Side::sell, ob::Price(1000), ob::Qty(3)})->id;
  }
  state.SetItemsProcessed(2 * state.iterations());  // two book operations per iteration
}

// A buy that sweeps 100 ask levels of 3 orders each, then the levels are refilled.
template <class Book>
void BM_Sweep100(benchmark::State& state) {
  Book book(ob::Mode::venue, 1'000);
  auto refill = [&] {
    for (int l = 0; l < 100; ++l) {
      for (int k = 0; k < 3; ++k) {
        (void)book.add(ob::NewOrder{ob::Side::sell, ob::Price(10'000 + l), ob::Qty(2)});
      }
    }
  };
  refill();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = book.add(ob::NewOrder{ob::Side::buy, ob::Price(10'099), ob::Qty(600),
                                   ob::OrderType::limit, ob::TimeInForce::ioc});
    benchmark::DoNotOptimize(r);
    const auto t1 = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    refill();  // untimed: 300 resting adds
  }
  // Time per iteration is one sweep: 300 trades, 100 level deltas.
}

template <class Book>
void BM_W4(benchmark::State& state) {
  static const std::vector<w4::Op> ops = w4::generate(1'000'000);
  for (auto _ : state) {
    state.PauseTiming();
    auto book = std::make_unique<Book>(ob::Mode::venue, std::size_t{1} << 19);
    state.ResumeTiming();
    for (const w4::Op& op : ops) {
      if (op.kind == w4::Op::Kind::add) {
        benchmark::DoNotOptimize(
            book->add(ob::NewOrder{side_of(op.side), ob::Price(op.price), ob::Qty(op.qty)}));
      } else {
        benchmark::DoNotOptimize(book->cancel(ob::OrderId(op.id)));
      }
    }
    state.PauseTiming();
    book.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(ops.size()) * state.iterations());
}

// Upstream ids as a feed handler sees them: many books (so their id indexes
// do not all fit in cache), ids like the simulator's "<book>-<seq>". Warm-up
// rests 300 orders per book; then 1,000,000 ops on random books: 50% adds
// under new ids, 40% cancels and 10% full executes, each by resolve(id).
struct ExtOp {
  enum class Kind : std::uint8_t { add, cancel, execute };
  Kind kind = Kind::add;
  std::uint8_t side = 0;
  std::uint32_t book = 0;
  std::int64_t price = 0;
  std::int64_t qty = 0;
  std::string id;
};

struct ExtStream {
  static constexpr std::uint32_t kBooks = 1000;
  std::vector<ExtOp> warm, timed;
  std::size_t live_after = 0;  // resting orders once both have run
};

const ExtStream& ext_stream() {
  static const ExtStream s = [] {
    ExtStream r;
    struct Live {
      std::string id;
      std::int64_t qty;
    };
    std::vector<std::vector<Live>> live(ExtStream::kBooks);
    std::vector<std::uint64_t> seq(ExtStream::kBooks, 1);
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    auto rnd = [&x] {
      x ^= x >> 12;
      x ^= x << 25;
      x ^= x >> 27;
      return x * 0x2545F4914F6CDD1Dull;
    };
    auto add = [&](std::uint32_t b) {
      ExtOp op;
      op.kind = ExtOp::Kind::add;
      op.book = b;
      op.side = static_cast<std::uint8_t>(rnd() & 1);
      const auto away = static_cast<std::int64_t>(1 + rnd() % 20);
      op.price = op.side == 0 ? 10'000 - away : 10'000 + away;
      op.qty = static_cast<std::int64_t>(1 + rnd() % 100);
      op.id = std::to_string(b) + "-" + std::to_string(seq[b]++);
      live[b].push_back(Live{op.id, op.qty});
      return op;
    };
    for (int i = 0; i < 300; ++i) {
      for (std::uint32_t b = 0; b < ExtStream::kBooks; ++b) r.warm.push_back(add(b));
    }
    for (int i = 0; i < 1'000'000; ++i) {
      const auto b = static_cast<std::uint32_t>(rnd() % ExtStream::kBooks);
      const std::uint64_t u = rnd() % 100;
      if (u < 50 || live[b].empty()) {
        r.timed.push_back(add(b));
        continue;
      }
      const std::size_t k = rnd() % live[b].size();
      ExtOp op;
      op.kind = u < 90 ? ExtOp::Kind::cancel : ExtOp::Kind::execute;
      op.book = b;
      op.qty = live[b][k].qty;
      op.id = std::move(live[b][k].id);
      live[b][k] = std::move(live[b].back());
      live[b].pop_back();
      r.timed.push_back(std::move(op));
    }
    for (const auto& l : live) r.live_after += l.size();
    return r;
  }();
  return s;
}

template <class Book>
inline void apply_ext(Book& b, const ExtOp& op) {
  if (op.kind == ExtOp::Kind::add) {
    benchmark::DoNotOptimize(
        b.add_external(op.id, side_of(op.side), ob::Price(op.price), ob::Qty(op.qty)));
    return;
  }
  const ob::Result<ob::OrderId> id = b.resolve(op.id);
  if (op.kind == ExtOp::Kind::cancel) {
    benchmark::DoNotOptimize(b.cancel(*id));
  } else {
    benchmark::DoNotOptimize(b.execute(*id, ob::Qty(op.qty)));
  }
}

template <class Book>
void BM_ExternalIds(benchmark::State& state) {
  const ExtStream& s = ext_stream();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::unique_ptr<Book>> books;
    for (std::uint32_t b = 0; b < ExtStream::kBooks; ++b) {
      books.push_back(std::make_unique<Book>(ob::Mode::mirror));
    }
    const std::size_t heap0 = heap_in_use();
    for (const ExtOp& op : s.warm) apply_ext(*books[op.book], op);
    // Heap the warm-up's 300,000 orders added to the empty books (all
    // structures: nodes, id indexes, names, upstream-id index).
    state.counters["heap_per_order"] =
        static_cast<double>(heap_in_use() - heap0) / static_cast<double>(s.warm.size());
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    for (const ExtOp& op : s.timed) apply_ext(*books[op.book], op);
    const auto t1 = std::chrono::steady_clock::now();
    state.PauseTiming();
    std::size_t live = 0;
    for (const auto& b : books) live += b->order_count();
    if (live != s.live_after) {
      state.SkipWithError("unexpected live order count");  // an op failed
    }
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    state.counters["ops_per_s"] = static_cast<double>(s.timed.size()) / secs;
    state.counters["ns_per_op"] = secs * 1e9 / static_cast<double>(s.timed.size());
    books.clear();
    state.ResumeTiming();
  }
}

using Fast = ob::OrderBook;
using Naive = ob::ReferenceBook;

BENCHMARK(BM_ItchStream<Fast>)
    ->Name("ItchStream/fast")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ItchStream<Naive>)
    ->Name("ItchStream/naive")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Drift<Fast>)->Name("Drift/fast")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Drift<Naive>)->Name("Drift/naive")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OneLevel10k<Fast>)->Name("OneLevel10k/fast");
BENCHMARK(BM_OneLevel10k<Naive>)->Name("OneLevel10k/naive");
BENCHMARK(BM_Sweep100<Fast>)->Name("Sweep100/fast")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sweep100<Naive>)
    ->Name("Sweep100/naive")
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W4<Fast>)->Name("W4/fast")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W4<Naive>)->Name("W4/naive")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExternalIds<Fast>)
    ->Name("ExternalIds/fast")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ExternalIds<Naive>)
    ->Name("ExternalIds/naive")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
