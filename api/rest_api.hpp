#pragma once
// RestApi: the routes of API.md's REST contract and the service endpoints
// (/healthz, /readyz, /metrics). One coroutine per request, on the
// connection's strand; every question to a process is an rt::async_call.
//
// Every /api/v1 request is first counted against its client key (X-Api-Key,
// else the remote address) by the RateLimiter partitions: 429 rate_limited
// with Retry-After when over, and X-RateLimit-Limit/Remaining on every
// counted answer. Errors are `{"error":{"code","message"}}` with API.md's
// codes; an unknown route is 404 not_found, a known route with another
// method 405 method_not_allowed (with Allow).
// Thread-safety: handle() may run on many io threads at once; RestApi holds
// no mutable state.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <string>
#include <string_view>

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

  /// Answers one request. `client_key` identifies the caller for rate
  /// limiting; `remote` is the peer's address (see principal_of).
  boost::asio::awaitable<Response> handle(const Request& req, std::string client_key,
                                          std::string remote) const;

 private:
  services::Application& app_;
  ApiMetrics& metrics_;
  RestOptions options_;
};

/// Who a request acts as: the owner of the orders it places, the only one
/// that can read or cancel them (API.md "Orders belong to their key"). Until
/// access control lands this is the remote address ("ip:ADDR"); the keys work
/// replaces this one function with the authenticated key.
std::string principal_of(const Request& req, std::string_view remote);

/// The JSON error body of API.md.
std::string error_body(std::string_view code, std::string_view message);

}  // namespace api
