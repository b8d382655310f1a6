#pragma once
// System events (symbol created, feed live/stale, process restarted) go
// through one EventManager (OTP's gen_event) to a logging handler and a
// metrics handler, so servers announce what happened without knowing who
// listens.
// Thread-safety: SystemEvent is a value; handlers run in the manager process.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/event_manager.hpp"
#include "services/metrics.hpp"

namespace services {

struct SystemEvent {
  enum class Kind : std::uint8_t {
    symbol_created,
    symbol_removed,
    feed_live,
    feed_stale,
    process_restarted
  };
  Kind kind = Kind::symbol_created;
  std::string symbol;  ///< the symbol concerned (empty for non-symbol processes)
  std::string detail;  ///< created: the spec; live/stale: age; restarted: the process kind
};

/// "symbol_created", "feed_live", ...
std::string_view to_string(SystemEvent::Kind k);

using SystemEvents = rt::EventManager<SystemEvent>;

/// Logs every system event with spdlog (stale as a warning).
class LogHandler final : public rt::EventHandler<SystemEvent> {
 public:
  void handle_event(const SystemEvent& e) override;
};

/// Turns system events into metrics: marketd_symbols and
/// marketd_process_restarts_total. Never a per-symbol series: an event may
/// arrive after its symbol was removed, and would bring the series back.
class MetricsHandler final : public rt::EventHandler<SystemEvent> {
 public:
  explicit MetricsHandler(std::shared_ptr<Metrics> metrics) : metrics_(std::move(metrics)) {}
  void handle_event(const SystemEvent& e) override;

 private:
  std::shared_ptr<Metrics> metrics_;
};

}  // namespace services
