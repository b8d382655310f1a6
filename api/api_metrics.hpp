#pragma once
// The API layer's Prometheus metrics (API.md "Metrics"), registered in the
// service's one registry next to services::Metrics.
// Thread-safety: prometheus-cpp metrics are thread-safe.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string_view>

namespace api {

class ApiMetrics {
 public:
  explicit ApiMetrics(prometheus::Registry& registry);

  /// marketd_http_requests_total{route, code="2xx"...}.
  prometheus::Counter& requests(std::string_view route, unsigned status);
  /// marketd_http_request_duration_seconds{route}.
  prometheus::Histogram& latency(std::string_view route);

  prometheus::Gauge& ws_connections;           ///< marketd_ws_connections
  prometheus::Counter& ws_messages_sent;       ///< marketd_ws_messages_sent_total
  prometheus::Counter& ws_messages_conflated;  ///< marketd_ws_messages_conflated_total
  prometheus::Counter& ws_slow_disconnects;    ///< marketd_ws_slow_client_disconnects_total
  prometheus::Counter& ws_rate_limited;        ///< marketd_ws_rate_limited_messages_total
  prometheus::Counter& rate_limited;           ///< marketd_rate_limited_requests_total
  prometheus::Counter& accept_fd_exhausted;  ///< marketd_accept_fd_exhausted_total (EMFILE/ENFILE)

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

}  // namespace api
