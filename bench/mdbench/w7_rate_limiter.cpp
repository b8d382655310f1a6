// W7 rate_limiter: 1,000,000 checks over 1,000 keys from 2 client processes,
// limit 100 per 1 s window (shared/peers/elixir/README.md, "W7 rate_limiter").
// The clients are Tasks, started by a coordinator process as the peer's bench
// process does, making sequential blocking checks through the RateLimiters
// facade (key hash -> partition -> call). The peer runs one RateLimiter; ours
// is the "limiters" PartitionSupervisor of DESIGN.md, one partition per
// scheduler worker.

#include <cmath>
#include <string>
#include <vector>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/task.hpp"
#include "services/rate_limiter.hpp"

namespace mdbench {
namespace {

constexpr std::int64_t kChecks = 1'000'000;
constexpr int kKeys = 1'000;
constexpr int kClients = 2;
constexpr std::uint32_t kLimit = 100;
constexpr std::chrono::milliseconds kWindow{1000};

struct ClientCounts {
  std::int64_t ok = 0;
  std::int64_t limited = 0;
  std::int64_t errors = 0;  // calls that got no answer (must stay 0)
};

struct Run {
  ClientCounts total;
  Clock::time_point t0;  // before the clients start
  Clock::time_point t1;  // after both finished
  bool clients_done = true;
};

}  // namespace

ResultLine run_w7_rate_limiter() {
  rt::Runtime runtime;
  auto limiters = *services::RateLimiters::start(runtime, {.limit = kLimit, .window = kWindow});
  const std::vector<std::string> keys = symbol_names("key-", kKeys, 4);
  const std::int64_t per_client = kChecks / kClients;

  // As the peer's bench process: a process starts the two client Tasks (linked
  // and monitored) and awaits them.
  auto client = [&limiters, &keys, per_client](int first) {
    ClientCounts n;
    for (std::int64_t i = 0; i < per_client; ++i) {
      auto d = limiters.check(keys[static_cast<std::size_t>((first + i) % kKeys)]);
      if (!d) {
        ++n.errors;
      } else if (services::allowed(*d)) {
        ++n.ok;
      } else {
        ++n.limited;
      }
    }
    return n;
  };
  auto coordinator =
      rt::task::async(runtime,
                      [&] {
                        Run run;
                        run.t0 = Clock::now();
                        std::vector<rt::Task<ClientCounts>> clients;
                        for (int c = 0; c < kClients; ++c) {
                          clients.push_back(rt::task::async(
                              runtime, [&client, c] { return client(c * (kKeys / kClients)); },
                              {.name = "w7 client"}));
                        }
                        for (auto& t : clients) {
                          auto r = rt::task::await(t, std::chrono::minutes(10));
                          run.clients_done = run.clients_done && r.ok();
                          if (!r) continue;
                          run.total.ok += r->ok;
                          run.total.limited += r->limited;
                          run.total.errors += r->errors;
                        }
                        run.t1 = Clock::now();
                        return run;
                      },
                      {.name = "w7 coordinator"});
  auto result = rt::task::await(coordinator, std::chrono::minutes(10));
  const Run run = result.ok() ? *result : Run{.clients_done = false};
  const ClientCounts& total = run.total;
  const bool clients_done = run.clients_done;

  auto stats = limiters.stats();
  rt::stop(limiters.supervisor(), rt::ExitReason::shutdown());

  const double ms = elapsed_ms(run.t0, run.t1);
  const std::int64_t checks = per_client * kClients;
  // Anchored per-key windows: at most `limit` per key per window started in the run.
  const auto windows = static_cast<std::int64_t>(std::floor(ms / kWindow.count())) + 1;
  const std::int64_t max_ok = std::int64_t{kKeys} * kLimit * windows;
  const bool valid =
      clients_done && stats.ok() && total.errors == 0 && total.ok + total.limited == checks &&
      static_cast<std::uint64_t>(total.ok) == stats->ok &&
      static_cast<std::uint64_t>(total.limited) == stats->rate_limited && total.ok <= max_ok &&
      total.ok >= std::min<std::int64_t>(std::int64_t{kKeys} * kLimit, checks);
  return ResultLine("W7", "rate_limiter")
      .add("checks", checks)
      .add("keys", kKeys)
      .add("clients", kClients)
      .add("limit", kLimit)
      .add("window_ms", kWindow.count())
      .add_decimal("elapsed_ms", ms)
      .add("checks_per_s", static_cast<std::int64_t>(static_cast<double>(checks) / (ms / 1000.0)))
      .add("ok", total.ok)
      .add("rate_limited", total.limited)
      .add("partitions", static_cast<std::int64_t>(limiters.partitions()))
      .set_valid(valid);
}

}  // namespace mdbench
