#include "api/runtime_metrics.hpp"

#include <algorithm>

namespace api {

namespace {

prometheus::MetricFamily single(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {m}};
}

}  // namespace

std::vector<prometheus::MetricFamily> collect_runtime_metrics(rt::Runtime& runtime) {
  using prometheus::MetricType;
  const rt::RuntimeStats s = runtime.stats();
  std::int64_t high_water = 0;
  for (const rt::ProcessInfo& p : runtime.processes()) {
    high_water = std::max(high_water, p.mailbox_high_water);
  }
  return {
      single("marketd_processes", "Processes alive in the runtime", MetricType::Gauge,
             static_cast<double>(s.alive)),
      single("marketd_processes_spawned_total", "Processes started", MetricType::Counter,
             static_cast<double>(s.spawned)),
      single("marketd_process_crashes_total", "Processes ended by an exception in a callback",
             MetricType::Counter, static_cast<double>(s.crashed)),
      single("marketd_call_timeouts_total", "Calls that timed out", MetricType::Counter,
             static_cast<double>(s.call_timeouts)),
      single("marketd_mailbox_depth_high_water",
             "Deepest mailbox of any live process since it started", MetricType::Gauge,
             static_cast<double>(high_water)),
      single("marketd_scheduler_utilisation", "Share of scheduler worker time spent running",
             MetricType::Gauge, runtime.scheduler().utilisation()),
  };
}

}  // namespace api
