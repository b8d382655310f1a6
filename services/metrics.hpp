#pragma once
// The service's Prometheus metrics (API.md "Metrics"), in one prometheus-cpp
// registry: the only process-wide mutable state the design allows. Families
// are created once; per-symbol children are looked up once per server start
// (SymbolMetrics), so the hot path only increments.
// Thread-safety: prometheus-cpp metrics are thread-safe; Family::Add locks.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>

#include "orderbook/side.hpp"

namespace services {

/// The `kind` label of marketd_process_restarts_total: which server restarted.
namespace restart_kind {
inline constexpr std::string_view order_book_server = "order_book_server";
inline constexpr std::string_view price_feed_handler = "price_feed_handler";
}  // namespace restart_kind

/// The per-symbol series of one symbol.
struct SymbolMetrics {
  prometheus::Counter& ticks;        ///< marketd_ticks_ingested_total
  prometheus::Counter& orders;       ///< marketd_orders_total
  prometheus::Counter& cancels;      ///< marketd_cancels_total
  prometheus::Counter& trades;       ///< marketd_trades_total
  prometheus::Counter& seq_gaps;     ///< marketd_feed_sequence_gaps_total
  prometheus::Counter& seq_rejects;  ///< marketd_feed_sequence_rejects_total
  prometheus::Gauge& stale;          ///< marketd_feed_stale
  prometheus::Gauge& last_update;    ///< marketd_last_update_timestamp_seconds
  prometheus::Gauge& bid_levels;     ///< marketd_book_levels{side="buy"}
  prometheus::Gauge& ask_levels;     ///< marketd_book_levels{side="sell"}
  prometheus::Gauge& bid_orders;     ///< marketd_book_resting_orders{side="buy"}
  prometheus::Gauge& ask_orders;     ///< marketd_book_resting_orders{side="sell"}
};

class Metrics {
 public:
  Metrics();
  /// The registry to expose (the API layer adds its own families to it).
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  /// The series of `symbol` (created on first use; the same ones afterwards).
  SymbolMetrics symbol(const std::string& symbol);
  /// Removes `symbol`'s series (DELETE /symbols): only once no server holds them.
  void remove_symbol(const std::string& symbol);
  /// marketd_ingest_rejects_total{reason}.
  prometheus::Counter& ingest_rejects(std::string_view reason);
  /// marketd_process_restarts_total{kind}.
  prometheus::Counter& restarts(std::string_view kind);
  /// marketd_symbols: symbols served.
  prometheus::Gauge& symbols() { return symbols_; }
  /// marketd_subscriber_overloads_total: frames a full subscriber mailbox refused.
  prometheus::Counter& subscriber_overloads() { return subscriber_overloads_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& ticks_;
  prometheus::Family<prometheus::Counter>& orders_;
  prometheus::Family<prometheus::Counter>& cancels_;
  prometheus::Family<prometheus::Counter>& trades_;
  prometheus::Family<prometheus::Counter>& seq_gaps_;
  prometheus::Family<prometheus::Counter>& seq_rejects_;
  prometheus::Family<prometheus::Gauge>& stale_;
  prometheus::Family<prometheus::Gauge>& last_update_;
  prometheus::Family<prometheus::Gauge>& levels_;
  prometheus::Family<prometheus::Gauge>& resting_;
  prometheus::Family<prometheus::Counter>& rejects_;
  prometheus::Family<prometheus::Counter>& restarts_;
  prometheus::Gauge& symbols_;
  prometheus::Counter& subscriber_overloads_;
};

}  // namespace services
