// mdbench: runs the workloads named on the command line (all when none), one
// result line each on stdout; exits non-zero if any workload failed validation.

#include <spdlog/spdlog.h>

#include <array>
#include <cstdio>
#include <string_view>

#include "bench/mdbench/workloads.hpp"

namespace mdbench {

std::span<const Workload> all_workloads() {
  static constexpr std::array kWorkloads{
      Workload{"W1", &run_w1_cast_throughput},
      Workload{"W2", &run_w2_call_latency},
      Workload{"W3", &run_w3_spawn},
      Workload{"W3s", &run_w3s_spawn_single_supervisor},
      Workload{"W3d", &run_w3d_spawn_direct},
      Workload{"W4", &run_w4_orderbook_actor},
      Workload{"W4b", &run_w4b_orderbook_lib},
      Workload{"W5", &run_w5_fanout},
      Workload{"W6", &run_w6_restart},
      Workload{"I1", &run_i1_idle_cpu},
      Workload{"I2", &run_i2_ingest_parse},
      Workload{"I3", &run_i3_ingest_e2e},
      Workload{"I3J", &run_i3j_ingest_e2e_journal},
      Workload{"R1", &run_r1_recovery},
      Workload{"W7", &run_w7_rate_limiter},
      Workload{"M0", &run_m0_core_round_trip},
      Workload{"T1", &run_t1_timers},
  };
  return kWorkloads;
}

}  // namespace mdbench

int main(int argc, char** argv) {
  using namespace mdbench;
  spdlog::set_level(spdlog::level::warn);  // result lines only: no per-symbol info logs
  bool all_valid = true;
  auto run_one = [&](const Workload& w) {
    ResultLine line = w.run();
    std::printf("%s\n", line.str().c_str());
    std::fflush(stdout);
    all_valid = all_valid && line.valid();
  };
  if (argc == 1) {
    for (const Workload& w : all_workloads()) run_one(w);
    return all_valid ? 0 : 1;
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view wanted = argv[i];
    bool found = false;
    for (const Workload& w : all_workloads()) {
      if (w.id == wanted) {
        run_one(w);
        found = true;
      }
    }
    if (!found) {
      std::fprintf(stderr, "mdbench: unknown workload '%s'\n", argv[i]);
      return 2;
    }
  }
  return all_valid ? 0 : 1;
}
