// W2 call_latency: 100,000 sequential calls from a client process to one feed
// server through the Registry, each timed.

#include <future>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/feed_server.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/registry.hpp"

namespace mdbench {
namespace {

using Names = rt::Registry<std::string>;
constexpr int kWarmup = 5000;
constexpr int kCalls = 100'000;

struct Samples {
  std::vector<double> us;
  double loop_ms = 0;
  bool valid = true;
};

class LatencyClient : public rt::GenServer<LatencyClient> {
 public:
  struct Run {};
  LatencyClient(const Names& names, std::promise<Samples>& out) : names_(names), out_(out) {}

  Action handle_cast(const Run&) {
    Samples s;
    s.us.reserve(kCalls);
    auto target = rt::via<FeedServer>(names_, std::string_view("LAT0"));
    for (int i = 0; i < kWarmup; ++i) (void)rt::call(target, FeedServer::GetState{});
    auto loop0 = Clock::now();
    for (int i = 0; i < kCalls; ++i) {
      auto t0 = Clock::now();
      auto r = rt::call(target, FeedServer::GetState{});
      auto t1 = Clock::now();
      s.us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      s.valid = s.valid && r.ok() && r->tick_count == 1;
    }
    s.loop_ms = elapsed_ms(loop0, Clock::now());
    out_.set_value(std::move(s));
    return noreply();
  }

 private:
  const Names& names_;
  std::promise<Samples>& out_;
};

}  // namespace

ResultLine run_w2_call_latency() {
  rt::Runtime runtime;
  Names names;
  auto server = *rt::start<FeedServer>(runtime, {.name = "LAT0", .register_as = names.via("LAT0")},
                                       std::string("LAT0"));
  rt::cast(server, FeedServer::PriceUpdate{100, 1});
  std::promise<Samples> promise;
  auto client = *rt::start<LatencyClient>(runtime, {.name = "client"}, names, promise);
  rt::cast(client, LatencyClient::Run{});
  Samples s = promise.get_future().get();
  std::sort(s.us.begin(), s.us.end());
  double mean = 0;
  for (double v : s.us) mean += v;
  mean /= static_cast<double>(s.us.size());
  return ResultLine("W2", "call_latency")
      .add("calls", kCalls)
      .add_decimal("p50_us", percentile(s.us, 50))
      .add_decimal("p99_us", percentile(s.us, 99))
      .add_decimal("mean_us", mean)
      .add_decimal("max_us", s.us.back())
      .add("calls_per_s", static_cast<std::int64_t>(kCalls / (s.loop_ms / 1000.0)))
      .add("workers", runtime.scheduler().workers())
      .set_valid(s.valid && s.us.size() == kCalls);
}

}  // namespace mdbench
