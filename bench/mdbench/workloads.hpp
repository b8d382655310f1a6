#pragma once
// The workloads of shared/BENCH.md. Each runs to completion, validates its own
// result and returns its line; definitions follow shared/peers/elixir/README.md.

#include <span>
#include <string_view>

#include "bench/mdbench/result_line.hpp"

namespace mdbench {

/// A named workload: `id` is what the command line selects (`W1`, `W4b`, ...).
struct Workload {
  std::string_view id;
  ResultLine (*run)();
};

/// Every workload, in the order `mdbench` with no argument runs them.
std::span<const Workload> all_workloads();

ResultLine run_m0_core_round_trip();
ResultLine run_i1_idle_cpu();
ResultLine run_i2_ingest_parse();
ResultLine run_i3_ingest_e2e();
ResultLine run_i3j_ingest_e2e_journal();
ResultLine run_r1_recovery();
ResultLine run_w1_cast_throughput();
ResultLine run_w2_call_latency();
ResultLine run_w3_spawn();
ResultLine run_w3s_spawn_single_supervisor();
ResultLine run_w3d_spawn_direct();
ResultLine run_w4_orderbook_actor();
ResultLine run_w4b_orderbook_lib();
ResultLine run_w5_fanout();
ResultLine run_w6_restart();
ResultLine run_w7_rate_limiter();
ResultLine run_t1_timers();

}  // namespace mdbench
