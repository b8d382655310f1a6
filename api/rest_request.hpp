#pragma once
// What a REST request says, before any process is asked: which /api/v1 route
// a method and target name (and the role they need), and the request bodies
// and query parameters read into typed values or API.md's error. RestApi
// (api/rest_api.hpp) answers with these; nothing here does I/O, so the fuzz
// target rest_request_fuzz feeds them raw requests.
//
//   auto route = api::route_of(req.method(), target);   // nullopt: 404 not_found
//   if (!who.may(route->needed)) -> 403
//   auto order = api::parse_order(req.body(), info.spec);
//   if (!order) -> order.error().status, code, message
//
// A route names its {symbol} as sent: checking it (400 invalid_symbol) is the
// handler's, after the rate limit and the key. Bodies must be one JSON object
// with distinct keys, every member well-formed JSON, read or not (members no
// field reads nest at most 64 deep), else 400 invalid_json; the fields read
// must be strings.
// Thread-safety: pure functions; the body parsers keep one simdjson parser per thread.

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstddef>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/access.hpp"
#include "runtime/result.hpp"
#include "services/candles.hpp"
#include "services/order_book_server.hpp"
#include "services/symbol_spec.hpp"

namespace api {

/// The /api/v1 routes of API.md, in the order of route_labels().
enum class RouteKind : unsigned char {
  symbols,
  symbol,
  ticker,
  top,
  depth,
  orders,
  order,
  ingest,
  candles,
  trades,
  time
};

/// One /api/v1 route a request names; the views point into its target.
struct Route {
  RouteKind kind = RouteKind::symbols;
  std::string_view symbol;    ///< the {symbol} segment as sent, unchecked; empty when none
  std::string_view order_id;  ///< the {id} segment of RouteKind::order; empty otherwise
  Role needed = Role::read;   ///< the role `method` needs here (read for one the route refuses)
};

/// Why a request is refused before it reaches a process: API.md's status, code and message.
struct RequestError {
  boost::beast::http::status status = boost::beast::http::status::bad_request;
  std::string code;
  std::string message;
};

/// The /api/v1 route `method` on `target` (query ignored) names; nullopt when none (404).
std::optional<Route> route_of(boost::beast::http::verb method, std::string_view target);

/// The metrics `route` label of `kind`, e.g. "/api/v1/symbols/{symbol}/depth".
std::string_view route_label(RouteKind kind);

/// Every /api/v1 route label, indexed by RouteKind.
std::span<const std::string_view> route_labels();

/// `path`'s segments; nullopt unless it starts with '/' and no segment is empty.
std::optional<std::vector<std::string_view>> segments(std::string_view path);

/// The spec a PUT /api/v1/symbols/{symbol} body asks for (tick_size, lot_size, mode).
rt::Result<services::SymbolSpec, RequestError> parse_symbol_spec(std::string_view body);

/// The order a POST .../orders body places on a book of `spec`; its owner is left empty.
rt::Result<services::OrderRequest, RequestError> parse_order(std::string_view body,
                                                             const services::SymbolSpec& spec);

/// The `levels` query parameter of GET .../depth: 1..1000, 10 when absent.
rt::Result<std::size_t, RequestError> parse_depth_levels(std::string_view target);

/// What GET .../candles asks for (API.md): interval (required), from/to
/// (RFC 3339 or ns; from inclusive, to exclusive, on a candle's start),
/// limit 1..1000 (500).
struct CandlesQuery {
  services::CandleInterval interval = services::CandleInterval::m1;
  std::int64_t from_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_ns = std::numeric_limits<std::int64_t>::max();
  std::size_t limit = 500;
};
rt::Result<CandlesQuery, RequestError> parse_candles_query(std::string_view target);

/// The `limit` of GET .../trades: 1..1000, 100 when absent.
rt::Result<std::size_t, RequestError> parse_trades_limit(std::string_view target);

/// The instant in query parameter `name` (API.md: RFC 3339, e.g.
/// "2026-12-07T10:00:00.123Z" or "…+02:00", or integer ns since the epoch),
/// as ns since the epoch; nullopt when absent.
rt::Result<std::optional<std::int64_t>, RequestError> parse_time_param(std::string_view target,
                                                                       std::string_view name);

/// A JSON object body read into named string fields (parse_object).
struct BodyFields {
  struct Field {
    bool present = false;    ///< the key appears
    bool is_string = false;  ///< ... with a string value, unescaped into `text`
    std::string text;
  };
  std::vector<std::pair<std::string_view, Field>> fields;

  /// The field `name`; an absent one when it was not asked for or not sent.
  const Field& get(std::string_view name) const;
};

/// `body`'s fields among `names`; why not when it is not one JSON object with distinct keys.
rt::Result<BodyFields, std::string> parse_object(std::string_view body,
                                                 std::initializer_list<std::string_view> names);

}  // namespace api
