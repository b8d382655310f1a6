// W5 fanout: one feed server, 1,000 subscriber processes, 10,000 ticks ->
// 10,000,000 deliveries, each subscriber checking order.

#include <latch>
#include <thread>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/feed_server.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/registry.hpp"

namespace mdbench {
namespace {

using Names = rt::Registry<std::string>;
constexpr int kSubscribers = 1000;
constexpr int kTicks = 10'000;

struct DoneLatch final : BenchSubscriber::Done {
  std::latch latch{kSubscribers};
  std::atomic<int> out_of_order{0};
  void finished(bool in_order) override {
    if (!in_order) out_of_order.fetch_add(1);
    latch.count_down();
  }
};

}  // namespace

ResultLine run_w5_fanout() {
  rt::Runtime runtime;
  Names names;
  auto feed = *rt::start<FeedServer>(runtime, {.name = "FAN0", .register_as = names.via("FAN0")},
                                     std::string("FAN0"));
  DoneLatch done;
  for (int i = 0; i < kSubscribers; ++i) {
    auto sub = *rt::start<BenchSubscriber>(runtime, {}, kTicks, done);
    (void)rt::call(feed, FeedServer::Subscribe{sub});
  }
  auto addr = rt::via<FeedServer>(names, std::string_view("FAN0"));
  auto t0 = Clock::now();
  for (int i = 1; i <= kTicks; ++i) rt::cast(addr, FeedServer::PriceUpdate{i, 1});
  done.latch.wait();
  auto t1 = Clock::now();

  std::size_t after = kSubscribers;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    auto st = rt::call(feed, FeedServer::GetState{});
    if (st && st->subscribers == 0) {
      after = 0;
      break;
    }
    std::this_thread::yield();
  }
  auto count = rt::call(feed, FeedServer::TickCount{});
  const double ms = elapsed_ms(t0, t1);
  const std::int64_t deliveries = static_cast<std::int64_t>(kSubscribers) * kTicks;
  return ResultLine("W5", "fanout")
      .add("subscribers", kSubscribers)
      .add("ticks", kTicks)
      .add("deliveries", deliveries)
      .add_decimal("elapsed_ms", ms)
      .add("deliveries_per_s", static_cast<std::int64_t>(deliveries / (ms / 1000.0)))
      .add("subscribers_after_exit", static_cast<std::int64_t>(after))
      .add("workers", runtime.scheduler().workers())
      .set_valid(done.out_of_order.load() == 0 && after == 0 && count && *count == kTicks);
}

}  // namespace mdbench
