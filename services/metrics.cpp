#include "services/metrics.hpp"

#include "feeds/event.hpp"

namespace services {

namespace {

template <class Builder>
auto& family(Builder b, prometheus::Registry& r, const char* name, const char* help) {
  return b.Name(name).Help(help).Register(r);
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      ticks_(family(prometheus::BuildCounter(), *registry_, "marketd_ticks_ingested_total",
                    "Trade ticks received per symbol (ingested, simulated or matched)")),
      orders_(family(prometheus::BuildCounter(), *registry_, "marketd_orders_total",
                     "Orders accepted per symbol (API orders and ingested adds)")),
      cancels_(family(prometheus::BuildCounter(), *registry_, "marketd_cancels_total",
                      "Orders cancelled per symbol")),
      trades_(family(prometheus::BuildCounter(), *registry_, "marketd_trades_total",
                     "Trades per symbol")),
      seq_gaps_(family(prometheus::BuildCounter(), *registry_, "marketd_feed_sequence_gaps_total",
                       "Upstream sequence gaps per symbol")),
      seq_rejects_(family(prometheus::BuildCounter(), *registry_,
                          "marketd_feed_sequence_rejects_total",
                          "Upstream ticks rejected as duplicate or out of order, per symbol")),
      stale_(family(prometheus::BuildGauge(), *registry_, "marketd_feed_stale",
                    "1 while the symbol's feed is stale")),
      last_update_(family(prometheus::BuildGauge(), *registry_,
                          "marketd_last_update_timestamp_seconds",
                          "Unix time of the symbol's last update")),
      levels_(family(prometheus::BuildGauge(), *registry_, "marketd_book_levels",
                     "Price levels in the book per symbol and side")),
      resting_(family(prometheus::BuildGauge(), *registry_, "marketd_book_resting_orders",
                      "Resting orders per symbol and side")),
      rejects_(family(prometheus::BuildCounter(), *registry_, "marketd_ingest_rejects_total",
                      "Ingested events rejected, per reason")),
      restarts_(family(prometheus::BuildCounter(), *registry_, "marketd_process_restarts_total",
                       "Processes restarted by their supervisor, per kind")),
      symbols_(family(prometheus::BuildGauge(), *registry_, "marketd_symbols", "Symbols served")
                   .Add({})),
      subscriber_overloads_(family(prometheus::BuildCounter(), *registry_,
                                   "marketd_subscriber_overloads_total",
                                   "Frames refused by a subscriber's full mailbox")
                                .Add({})) {
  // Series whose labels are known at start exist from the start, at 0, so
  // alerts and dashboards see them before the first event (Prometheus' advice).
  for (feeds::EventError e : feeds::kEventErrors) ingest_rejects(feeds::to_string(e));
  for (std::string_view kind :
       {restart_kind::order_book_server, restart_kind::price_feed_handler}) {
    restarts(kind);
  }
}

SymbolMetrics Metrics::symbol(const std::string& symbol) {
  const prometheus::Labels l{{"symbol", symbol}};
  const prometheus::Labels buy{{"symbol", symbol}, {"side", "buy"}};
  const prometheus::Labels sell{{"symbol", symbol}, {"side", "sell"}};
  return SymbolMetrics{ticks_.Add(l),     orders_.Add(l),      cancels_.Add(l),
                       trades_.Add(l),    seq_gaps_.Add(l),    seq_rejects_.Add(l),
                       stale_.Add(l),     last_update_.Add(l), levels_.Add(buy),
                       levels_.Add(sell), resting_.Add(buy),   resting_.Add(sell)};
}

void Metrics::remove_symbol(const std::string& symbol) {
  // Family removes by pointer: look the series up (Add returns the existing ones).
  const SymbolMetrics m = this->symbol(symbol);
  ticks_.Remove(&m.ticks);
  orders_.Remove(&m.orders);
  cancels_.Remove(&m.cancels);
  trades_.Remove(&m.trades);
  seq_gaps_.Remove(&m.seq_gaps);
  seq_rejects_.Remove(&m.seq_rejects);
  stale_.Remove(&m.stale);
  last_update_.Remove(&m.last_update);
  levels_.Remove(&m.bid_levels);
  levels_.Remove(&m.ask_levels);
  resting_.Remove(&m.bid_orders);
  resting_.Remove(&m.ask_orders);
}

prometheus::Counter& Metrics::ingest_rejects(std::string_view reason) {
  return rejects_.Add({{"reason", std::string(reason)}});
}

prometheus::Counter& Metrics::restarts(std::string_view kind) {
  return restarts_.Add({{"kind", std::string(kind)}});
}

}  // namespace services
