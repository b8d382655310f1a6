#include "api/api_metrics.hpp"

#include <string>

namespace api {

namespace {

prometheus::Family<prometheus::Counter>& counters(prometheus::Registry& r, const char* name,
                                                  const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
prometheus::Family<prometheus::Gauge>& gauges(prometheus::Registry& r, const char* name,
                                              const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

}  // namespace

ApiMetrics::ApiMetrics(prometheus::Registry& r)
    : ws_connections(gauges(r, "marketd_ws_connections", "Open WebSocket connections").Add({})),
      ws_messages_sent(
          counters(r, "marketd_ws_messages_sent_total", "WebSocket messages sent to clients")
              .Add({})),
      ws_messages_conflated(counters(r, "marketd_ws_messages_conflated_total",
                                     "WebSocket messages replaced by a newer state (slow client)")
                                .Add({})),
      ws_slow_disconnects(counters(r, "marketd_ws_slow_client_disconnects_total",
                                   "WebSocket connections closed 1013 for falling behind")
                              .Add({})),
      ws_rate_limited(counters(r, "marketd_ws_rate_limited_messages_total",
                               "Client WebSocket messages refused by the per-connection limit")
                          .Add({})),
      rate_limited(
          counters(r, "marketd_rate_limited_requests_total", "REST requests answered 429").Add({})),
      accept_fd_exhausted(counters(r, "marketd_accept_fd_exhausted_total",
                                   "Accepts that failed for want of a file descriptor")
                              .Add({})),
      requests_(
          counters(r, "marketd_http_requests_total", "HTTP requests by route and status class")),
      latency_(prometheus::BuildHistogram()
                   .Name("marketd_http_request_duration_seconds")
                   .Help("HTTP request latency by route")
                   .Register(r)) {}

prometheus::Counter& ApiMetrics::requests(std::string_view route, unsigned status) {
  const std::string code = std::to_string(status / 100) + "xx";
  return requests_.Add({{"route", std::string(route)}, {"code", code}});
}

prometheus::Histogram& ApiMetrics::latency(std::string_view route) {
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1};
  return latency_.Add({{"route", std::string(route)}}, kBuckets);
}

}  // namespace api
