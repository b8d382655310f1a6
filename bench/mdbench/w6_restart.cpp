// W6 restart: a feed server crashed 10,000 times under a DynamicSupervisor
// (max_restarts 1e9 per 1 s). As in the peer, a coordinator process monitors
// the server, casts the crash, waits for Down, then polls the Registry (one
// poll per turn, yielding in between) until the restarted server's new pid
// shows up. Logging is off for the loop.

#include <spdlog/spdlog.h>

#include <future>
#include <unordered_set>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/feed_server.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/dynamic_supervisor.hpp"
#include "runtime/registry.hpp"

namespace mdbench {
namespace {

constexpr int kRestarts = 10'000;
constexpr int kChunk = 1000;
using Names = rt::Registry<std::string>;

struct Outcome {
  std::vector<double> chunk_ms;
  std::unordered_set<std::uint64_t> distinct;
  rt::Pid last;
  bool ok = true;
};

class Crasher : public rt::GenServer<Crasher> {
 public:
  struct Go {};
  struct Poll {};
  Crasher(const Names& names, std::promise<Outcome>& done) : names_(names), done_(done) {}

  Action handle_cast(const Go&) {
    out_.last = names_.whereis("CRASH0").value_or(rt::Pid());
    out_.distinct.insert(out_.last.id());
    chunk_start_ = Clock::now();
    crash_current();
    return noreply();
  }
  Action handle_info(const rt::Down&) { return poll(); }
  Action handle_cast(const Poll&) { return poll(); }

 private:
  void crash_current() {
    monitor(out_.last);
    rt::cast(*rt::Ref<FeedServer>::from(out_.last), FeedServer::Boom{});
  }
  Action poll() {
    auto now = names_.whereis("CRASH0");
    if (!now || *now == out_.last) {
      rt::cast(ref(), Poll{});  // not re-registered yet: look again next turn
      return noreply();
    }
    out_.last = *now;
    out_.distinct.insert(now->id());
    if (++restarts_ % kChunk == 0) {
      out_.chunk_ms.push_back(elapsed_ms(chunk_start_, Clock::now()));
      chunk_start_ = Clock::now();
    }
    if (restarts_ == kRestarts) {
      done_.set_value(std::move(out_));
      return stop(rt::ExitReason::normal());
    }
    crash_current();
    return noreply();
  }

  const Names& names_;
  std::promise<Outcome>& done_;
  Outcome out_;
  int restarts_ = 0;
  Clock::time_point chunk_start_;
};

}  // namespace

ResultLine run_w6_restart() {
  rt::Runtime runtime;
  Names names;
  auto sup = *rt::start<rt::DynamicSupervisor>(
      runtime, {.name = "restart_sup"},
      rt::DynamicSupervisorSpec{.max_restarts = 1'000'000'000,
                                .max_seconds = std::chrono::seconds(1)});
  rt::ChildSpec spec = rt::child<FeedServer>("CRASH0", std::string("CRASH0"));
  spec.options.register_as = names.via("CRASH0");
  if (!rt::start_child(sup, spec).ok()) return ResultLine("W6", "restart").set_valid(false);

  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);
  std::promise<Outcome> promise;
  auto coordinator = *rt::start<Crasher>(runtime, {.name = "coordinator"}, names, promise);
  const auto t0 = Clock::now();
  rt::cast(coordinator, Crasher::Go{});
  auto future = promise.get_future();
  const bool finished = future.wait_for(std::chrono::seconds(120)) == std::future_status::ready;
  const double ms = elapsed_ms(t0, Clock::now());
  spdlog::set_level(level);
  if (!finished) return ResultLine("W6", "restart").set_valid(false);
  Outcome out = future.get();

  const bool valid = out.distinct.size() == kRestarts + 1 && out.last.alive() &&
                     names.whereis("CRASH0") == out.last && rt::count_children(sup).active == 1;
  auto per_s = [](double chunk) { return static_cast<std::int64_t>(kChunk / (chunk / 1000.0)); };
  return ResultLine("W6", "restart")
      .add("restarts", kRestarts)
      .add_decimal("elapsed_ms", ms)
      .add("restarts_per_s", static_cast<std::int64_t>(kRestarts / (ms / 1000.0)))
      .add("first1k_per_s", out.chunk_ms.empty() ? 0 : per_s(out.chunk_ms.front()))
      .add("last1k_per_s", out.chunk_ms.empty() ? 0 : per_s(out.chunk_ms.back()))
      .add("distinct_pids", static_cast<std::int64_t>(out.distinct.size()))
      .add("workers", runtime.scheduler().workers())
      .set_valid(valid);
}

}  // namespace mdbench
