#pragma once
// The runtime's own metrics, read at scrape time (they are counters the
// runtime keeps anyway, so nothing is updated on the hot path).
// Thread-safety: thread-safe (reads atomics and a process snapshot).

#include <prometheus/metric_family.h>

#include <vector>

#include "runtime/runtime.hpp"

namespace api {

/// marketd_processes, marketd_processes_spawned_total, marketd_process_crashes_total,
/// marketd_call_timeouts_total, marketd_mailbox_depth_high_water,
/// marketd_scheduler_utilisation.
std::vector<prometheus::MetricFamily> collect_runtime_metrics(rt::Runtime& runtime);

}  // namespace api
