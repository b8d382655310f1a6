// W1 cast_throughput: 1,000 feed servers under the PartitionSupervisor of
// DynamicSupervisors, registered by symbol; 2 producer processes send
// 2,000,000 casts addressed by symbol through the Registry.

#include <latch>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/feed_tree.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/registry.hpp"

namespace mdbench {
namespace {

constexpr int kSymbols = 1000;
constexpr int kProducers = 2;
constexpr std::int64_t kPerProducer = 1'000'000;
constexpr std::int64_t kChunk = 2000;  // casts per turn, then the producer yields

class Producer : public rt::GenServer<Producer> {
 public:
  struct Go {};
  Producer(const Names& names, const std::vector<std::string>& symbols, int index, std::latch& done)
      : names_(names), symbols_(symbols), index_(index), done_(done) {}

  Action handle_cast(const Go&) {
    std::int64_t end = std::min(sent_ + kChunk, kPerProducer);
    for (; sent_ < end; ++sent_) {
      const std::string& sym = symbols_[(index_ * 500 + sent_) % kSymbols];
      rt::cast(rt::via<FeedServer>(names_, std::string_view(sym)),
               FeedServer::PriceUpdate{sent_, 1});
    }
    if (sent_ < kPerProducer) {
      rt::cast(ref(), Go{});  // yield: let the servers run between chunks
    } else {
      done_.count_down();
    }
    return noreply();
  }

 private:
  const Names& names_;
  const std::vector<std::string>& symbols_;
  int index_;
  std::latch& done_;
  std::int64_t sent_ = 0;
};

}  // namespace

ResultLine run_w1_cast_throughput() {
  rt::Runtime runtime;
  FeedTree tree(runtime);
  Names& names = tree.names();
  auto symbols = symbol_names("SYM", kSymbols, 4);
  for (const auto& s : symbols) {
    if (!tree.start_feed(s)) return ResultLine("W1", "cast_throughput").set_valid(false);
  }
  std::latch done(kProducers);
  std::vector<rt::Ref<Producer>> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.push_back(*rt::start<Producer>(runtime, {}, names, symbols, p, done));
  }

  auto t0 = Clock::now();
  for (auto& p : producers) rt::cast(p, Producer::Go{});
  done.wait();
  std::uint64_t processed = 0;
  bool valid = true;
  for (const auto& s : symbols) {
    for (;;) {
      auto n = rt::call(rt::via<FeedServer>(names, std::string_view(s)), FeedServer::TickCount{});
      if (!n) {
        valid = false;
        break;
      }
      if (*n >= 2000) {
        valid = valid && *n == 2000;
        processed += *n;
        break;
      }
    }
  }
  auto t1 = Clock::now();
  double ms = elapsed_ms(t0, t1);
  const std::int64_t total = kProducers * kPerProducer;
  valid = valid && processed == static_cast<std::uint64_t>(total);
  return ResultLine("W1", "cast_throughput")
      .add("symbols", kSymbols)
      .add("producers", kProducers)
      .add("total", total)
      .add("processed", static_cast<std::int64_t>(processed))
      .add_decimal("elapsed_ms", ms)
      .add("msgs_per_s", static_cast<std::int64_t>(total / (ms / 1000.0)))
      .add("workers", runtime.scheduler().workers())
      .set_valid(valid);
}

}  // namespace mdbench
