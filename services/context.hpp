#pragma once
// What every symbol server shares: its registries, the system event manager,
// the metrics and the timing options. Built once by the Application and
// passed (as a shared pointer) into every server it starts.
// Thread-safety: immutable after construction; the members are thread-safe.

#include <chrono>
#include <memory>
#include <string>

#include "runtime/registry.hpp"
#include "services/metrics.hpp"
#include "services/symbol_spec.hpp"
#include "services/system_events.hpp"

namespace services {

/// symbol -> server, with the symbol's spec as the entry's value.
using SymbolRegistry = rt::Registry<std::string, SymbolInfoPtr>;

/// Timing of the symbol servers (API.md "Staleness").
struct SymbolTiming {
  std::chrono::milliseconds heartbeat{1000};    ///< how often staleness is checked
  std::chrono::milliseconds stale_after{5000};  ///< no update for this long: stale
  /// A book tells its feed handler about non-trade updates at most this often
  /// (the first update after a quiet spell always goes at once).
  std::chrono::milliseconds touch_interval{100};
};

struct ServiceContext {
  SymbolTiming timing;
  SymbolRegistry& feeds;  ///< symbol -> PriceFeedHandler
  SymbolRegistry& books;  ///< symbol -> OrderBookServer
  SystemEvents events;
  std::shared_ptr<Metrics> metrics;
};
using ContextPtr = std::shared_ptr<const ServiceContext>;

/// Wall-clock time in ns since the Unix epoch (receipt time of events).
std::int64_t wall_clock_ns();

}  // namespace services
