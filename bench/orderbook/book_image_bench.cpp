// Book image benchmarks (Google Benchmark), part of orderbook_bench: what a
// durability snapshot and a recovery cost (issue 16: recovering a book of
// 1,000,000 resting orders must take well under 1 s; target for decode +
// from_image <= 300 ms).
//
// The book: a mirror book of 1,000,000 resting orders from the ITCH-like
// generator (l3_stream.hpp: most within 15 ticks of the mid, 3% up to 5,000
// ticks away), under one of three kinds of id:
//   /assigned   book-assigned ids (no upstream ids)
//   /short      upstream ids of up to 7 digits (kept inline by std::string)
//   /uuid       36-byte UUID-like upstream ids (one heap buffer each)
//
//   BookImage/image/<ids>       OrderBook::image()
//   BookImage/encode/<ids>      encode(image)
//   BookImage/decode/<ids>      decode_book_image(bytes)
//   BookImage/from_image/<ids>  OrderBook::from_image(image)
//   BookImage/recover/<ids>     decode_book_image + from_image + freeing the
//                               decoded image: a recovery
//
// Each iteration times the call alone (manual time); freeing its result (the
// image, the bytes, the book) is not timed. Counters: orders, levels, encoded bytes and bytes per
// order. Run: build-rel/bench/orderbook_bench --benchmark_filter=BookImage Thread-safety:
// single-threaded benchmarks.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "bench/orderbook/l3_stream.hpp"
#include "orderbook/book_image.hpp"
#include "orderbook/order_book.hpp"

namespace {

constexpr int kOrders = 1'000'000;

enum Ids : int { assigned = 0, short_upstream = 1, uuid_upstream = 2 };

std::string upstream_id(int ids, std::uint64_t n) {
  if (ids == short_upstream) return std::to_string(n);
  // UUID-like: a mix of n in the UUID v4 layout (36 bytes).
  std::uint64_t a = n * 0x9E3779B97F4A7C15ull;
  std::uint64_t b = (n ^ 0xD1B54A32D192ED03ull) * 0xBF58476D1CE4E5B9ull;
  char s[40];
  std::snprintf(s, sizeof s, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>(a >> 16) & 0xFFFF, static_cast<unsigned>(a) & 0xFFF,
                static_cast<unsigned>(b >> 52),
                static_cast<unsigned long long>(b) & 0xFFFFFFFFFFFFull);
  return s;
}

// The book, its image and its bytes, for one kind of id at a time (each
// takes a few hundred MB; the previous one is freed first).
struct Fixture {
  int ids = -1;
  std::unique_ptr<ob::OrderBook> book;
  ob::BookImage image;
  std::string bytes;
};

const Fixture& fixture(int ids) {
  static Fixture f;
  if (f.ids == ids) return f;
  f = Fixture{};
  f.ids = ids;
  f.book = std::make_unique<ob::OrderBook>(ob::Mode::mirror, kOrders);
  obbench::L3Generator g(1, obbench::L3Params{1'000'000, 0.0, 50});
  for (int i = 0; i < kOrders; ++i) {
    const obbench::L3Op op = g.add();
    const ob::Side side = op.side == 0 ? ob::Side::buy : ob::Side::sell;
    if (ids == assigned) {
      (void)f.book->add(ob::NewOrder{side, ob::Price(op.price), ob::Qty(op.qty)});
    } else {
      (void)f.book->add_external(upstream_id(ids, op.id), side, ob::Price(op.price),
                                 ob::Qty(op.qty));
    }
  }
  f.image = f.book->image();
  f.bytes = ob::encode(f.image);
  return f;
}

void counters(benchmark::State& state, const Fixture& f) {
  const ob::OrderBook& b = *f.book;
  state.counters["orders"] = static_cast<double>(b.order_count());
  state.counters["levels"] =
      static_cast<double>(b.level_count(ob::Side::buy) + b.level_count(ob::Side::sell));
  state.counters["bytes"] = static_cast<double>(f.bytes.size());
  state.counters["bytes_per_order"] =
      static_cast<double>(f.bytes.size()) / static_cast<double>(b.order_count());
}

// Runs `timed` once per iteration under manual time; its result is dropped untimed.
template <class F>
void timed_loop(benchmark::State& state, F&& timed) {
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto result = timed();
    const auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(result);
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
}

void BM_Image(benchmark::State& state, int ids) {
  const Fixture& f = fixture(ids);
  timed_loop(state, [&] { return f.book->image(); });
  counters(state, f);
}

void BM_Encode(benchmark::State& state, int ids) {
  const Fixture& f = fixture(ids);
  timed_loop(state, [&] { return ob::encode(f.image); });
  counters(state, f);
}

void BM_Decode(benchmark::State& state, int ids) {
  const Fixture& f = fixture(ids);
  timed_loop(state, [&] {
    ob::Result<ob::BookImage> r = ob::decode_book_image(f.bytes);
    if (!r.ok()) state.SkipWithError("decode failed");
    return r;
  });
  counters(state, f);
}

void BM_FromImage(benchmark::State& state, int ids) {
  const Fixture& f = fixture(ids);
  timed_loop(state, [&] {
    ob::Result<ob::OrderBook> r = ob::OrderBook::from_image(f.image);
    if (!r.ok()) state.SkipWithError("from_image failed");
    return r;
  });
  counters(state, f);
}

void BM_Recover(benchmark::State& state, int ids) {
  const Fixture& f = fixture(ids);
  timed_loop(state, [&] {
    const ob::Result<ob::BookImage> im = ob::decode_book_image(f.bytes);
    if (!im.ok()) {
      state.SkipWithError("decode failed");
      return ob::Result<ob::OrderBook>(im.error());
    }
    ob::Result<ob::OrderBook> r = ob::OrderBook::from_image(*im);
    if (!r.ok() || r->order_count() != f.book->order_count())
      state.SkipWithError("recovery failed");
    return r;
  });
  counters(state, f);
}

// Grouped by kind of id, so each fixture is built once.
void register_all() {
  for (int ids : {assigned, short_upstream, uuid_upstream}) {
    const std::string suffix = ids == assigned         ? "/assigned"
                               : ids == short_upstream ? "/short"
                                                       : "/uuid";
    auto reg = [&](const char* name, void (*fn)(benchmark::State&, int)) {
      benchmark::RegisterBenchmark(("BookImage/" + std::string(name) + suffix).c_str(), fn, ids)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    };
    reg("image", BM_Image);
    reg("encode", BM_Encode);
    reg("decode", BM_Decode);
    reg("from_image", BM_FromImage);
    reg("recover", BM_Recover);
  }
}

[[maybe_unused]] const int registered = (register_all(), 0);

}  // namespace
