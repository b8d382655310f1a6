#include "services/system_events.hpp"

#include <spdlog/spdlog.h>

namespace services {

std::string_view to_string(SystemEvent::Kind k) {
  switch (k) {
    case SystemEvent::Kind::symbol_created:
      return "symbol_created";
    case SystemEvent::Kind::symbol_removed:
      return "symbol_removed";
    case SystemEvent::Kind::feed_live:
      return "feed_live";
    case SystemEvent::Kind::feed_stale:
      return "feed_stale";
    case SystemEvent::Kind::process_restarted:
      return "process_restarted";
  }
  return "unknown";
}

void LogHandler::handle_event(const SystemEvent& e) {
  const bool routine = e.kind == SystemEvent::Kind::symbol_created ||
                       e.kind == SystemEvent::Kind::symbol_removed ||
                       e.kind == SystemEvent::Kind::feed_live;
  spdlog::log(routine ? spdlog::level::info : spdlog::level::warn, "event={} symbol={} {}",
              to_string(e.kind), e.symbol.empty() ? "-" : e.symbol, e.detail);
}

void MetricsHandler::handle_event(const SystemEvent& e) {
  switch (e.kind) {
    case SystemEvent::Kind::symbol_created:
      metrics_->symbols().Increment();
      break;
    case SystemEvent::Kind::symbol_removed:
      metrics_->symbols().Decrement();
      break;
    case SystemEvent::Kind::feed_live:
    case SystemEvent::Kind::feed_stale:
      break;  // the feed handler sets its own marketd_feed_stale
    case SystemEvent::Kind::process_restarted:
      metrics_->restarts(e.detail).Increment();
      break;
  }
}

}  // namespace services
