// Placeholder until the orderbook issue lands: reports an invalid run.
#include "bench/mdbench/workloads.hpp"

namespace mdbench {
ResultLine run_w4b_orderbook_lib() { return ResultLine("W4b", "orderbook_lib").set_valid(false); }
}  // namespace mdbench
