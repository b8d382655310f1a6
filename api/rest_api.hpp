#pragma once
// RestApi: the routes of API.md's REST contract, the service endpoints
// (/healthz, /readyz, /metrics) and the built-in page. One coroutine per
// request, on the connection's strand; every question to a process is an
// rt::async_call.
//
// A request that breaks the browser rules (RequestContext::browser_refusal)
// is 403 forbidden on every route. Every /api/v1 request is then counted
// against its principal (the authenticated key, else the remote address) by
// the RateLimiter partitions: 429 rate_limited with Retry-After when over, and
// X-RateLimit-Limit/Remaining on every counted answer. Then its key: none or
// an unknown one is 401 unauthorized, a role short of the route's 403
// forbidden (read: GET; trade: orders; admin: PUT/DELETE symbols, ingest).
// /healthz, /readyz and /metrics need no key and are not counted, nor does the
// built-in page (api/web_assets.hpp: GET and HEAD of /, /app.js, /style.css;
// ETag, If-None-Match → 304). A HEAD answer never has a body. Errors are
// `{"error":{"code","message"}}` with API.md's codes; an unknown route is 404 not_found, a known
// route with another method 405 method_not_allowed (with Allow). Thread-safety: handle() may run on
// many io threads at once; RestApi holds no mutable state.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "api/access.hpp"
#include "api/api_metrics.hpp"
#include "services/application.hpp"

namespace api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

struct RestOptions {
  std::chrono::milliseconds call_timeout{5000};  ///< per call into a server process
  bool access_log = false;  ///< one info line per request (method, target, status, client, µs)
};

class RestApi {
 public:
  RestApi(services::Application& app, ApiMetrics& metrics, RestOptions options);

  /// Answers one request from the client `who` (api/access.hpp: its
  /// principal, role, and the browser rules' verdict).
  boost::asio::awaitable<Response> handle(const Request& req, RequestContext who) const;

 private:
  services::Application& app_;
  ApiMetrics& metrics_;
  RestOptions options_;
};

/// The JSON error body of API.md.
std::string error_body(std::string_view code, std::string_view message);

}  // namespace api
