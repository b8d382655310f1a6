#include "api/rest_request.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <sstream>

#include <date/date.h>

#include "api/access.hpp"
#include "feeds/json_skim.hpp"
#include "feeds/unique_keys.hpp"
#include "orderbook/decimal.hpp"

namespace api {

namespace http = boost::beast::http;
namespace od = simdjson::ondemand;

namespace {

// The `route` label of each /api/v1 route, indexed by RouteKind.
constexpr std::string_view kRouteNames[] = {"/api/v1/symbols",
                                            "/api/v1/symbols/{symbol}",
                                            "/api/v1/symbols/{symbol}/ticker",
                                            "/api/v1/symbols/{symbol}/top",
                                            "/api/v1/symbols/{symbol}/depth",
                                            "/api/v1/symbols/{symbol}/orders",
                                            "/api/v1/symbols/{symbol}/orders/{id}",
                                            "/api/v1/ingest",
                                            "/api/v1/symbols/{symbol}/candles",
                                            "/api/v1/symbols/{symbol}/trades",
                                            "/api/v1/time"};

/// The role `method` needs on `kind` (read: GET; trade: orders; admin:
/// PUT/DELETE symbols, ingest). A method the route refuses needs read, so
/// that a reader learns 405 rather than 403.
Role role_needed(RouteKind kind, http::verb method) {
  Role needed = Role::read;
  if ((kind == RouteKind::orders && method == http::verb::post) ||
      (kind == RouteKind::order && method == http::verb::delete_)) {
    needed = Role::trade;
  }
  if (kind == RouteKind::ingest ||
      (kind == RouteKind::symbol && (method == http::verb::put || method == http::verb::delete_))) {
    needed = Role::admin;
  }
  return needed;
}

rt::Err<RequestError> bad(std::string_view code, std::string message) {
  return rt::Err{RequestError{http::status::bad_request, std::string(code), std::move(message)}};
}

}  // namespace

// ---- routing -------------------------------------------------------------------------

std::optional<std::vector<std::string_view>> segments(std::string_view path) {
  // An empty segment ("//", a trailing "/") is not found rather than
  // collapsed onto another route.
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  for (;;) {
    const auto end = path.find('/');
    const std::string_view segment = path.substr(0, end);
    if (segment.empty()) return std::nullopt;
    out.push_back(segment);
    if (end == std::string_view::npos) return out;
    path.remove_prefix(end + 1);
  }
}

std::optional<Route> route_of(http::verb method, std::string_view target) {
  const auto seg = segments(target.substr(0, target.find('?')));
  if (!seg || seg->size() < 3 || (*seg)[0] != "api" || (*seg)[1] != "v1") return std::nullopt;
  const std::vector<std::string_view>& s = *seg;
  std::optional<RouteKind> kind;
  if (s.size() == 3 && s[2] == "symbols") kind = RouteKind::symbols;
  if (s.size() == 3 && s[2] == "ingest") kind = RouteKind::ingest;
  if (s.size() == 3 && s[2] == "time") kind = RouteKind::time;
  if (s.size() == 4 && s[2] == "symbols") kind = RouteKind::symbol;
  if (s.size() == 5 && s[2] == "symbols") {
    if (s[4] == "ticker") kind = RouteKind::ticker;
    if (s[4] == "top") kind = RouteKind::top;
    if (s[4] == "depth") kind = RouteKind::depth;
    if (s[4] == "orders") kind = RouteKind::orders;
    if (s[4] == "candles") kind = RouteKind::candles;
    if (s[4] == "trades") kind = RouteKind::trades;
  }
  if (s.size() == 6 && s[2] == "symbols" && s[4] == "orders") kind = RouteKind::order;
  if (!kind) return std::nullopt;
  Route route{.kind = *kind, .needed = role_needed(*kind, method)};
  if (s.size() >= 4) route.symbol = s[3];
  if (*kind == RouteKind::order) route.order_id = s[5];
  return route;
}

std::string_view route_label(RouteKind kind) {
  return kRouteNames[static_cast<std::size_t>(kind)];
}

std::span<const std::string_view> route_labels() {
  return kRouteNames;
}

// ---- request bodies and parameters ---------------------------------------------------

rt::Result<services::SymbolSpec, RequestError> parse_symbol_spec(std::string_view body) {
  auto fields = parse_object(body, {"tick_size", "lot_size", "mode"});
  if (!fields) return bad("invalid_json", fields.error());
  const auto& tick = fields->get("tick_size");
  const auto& lot = fields->get("lot_size");
  const auto& mode_field = fields->get("mode");
  if (!tick.present || !tick.is_string) {
    return bad("invalid_price", "tick_size: expected a decimal string");
  }
  if (!lot.present || !lot.is_string) {
    return bad("invalid_quantity", "lot_size: expected a decimal string");
  }
  ob::Mode mode = ob::Mode::venue;
  if (mode_field.present) {
    auto m = mode_field.is_string ? services::parse_mode(mode_field.text) : std::nullopt;
    if (!m) return bad("bad_request", "mode: venue, mirror or l2");
    mode = *m;
  }
  auto spec = services::SymbolSpec::parse(tick.text, lot.text, mode);
  if (!spec) {
    return spec.error() == ob::ErrorCode::invalid_price
               ? bad("invalid_price", "tick_size: a decimal > 0, at most 18 decimals")
               : bad("invalid_quantity", "lot_size: a decimal > 0, at most 18 decimals");
  }
  return *spec;
}

rt::Result<services::OrderRequest, RequestError> parse_order(std::string_view body,
                                                             const services::SymbolSpec& spec) {
  auto fields = parse_object(body, {"side", "qty", "price", "type", "tif", "client_order_id"});
  if (!fields) return bad("invalid_json", fields.error());
  services::OrderRequest o;
  const auto& side = fields->get("side");
  if (!side.present || !side.is_string || (side.text != "buy" && side.text != "sell")) {
    return bad("bad_request", "side: \"buy\" or \"sell\"");
  }
  o.side = side.text == "buy" ? ob::Side::buy : ob::Side::sell;
  const auto& type = fields->get("type");
  if (type.present) {
    if (!type.is_string || (type.text != "limit" && type.text != "market")) {
      return bad("bad_request", "type: \"limit\" or \"market\"");
    }
    o.type = type.text == "limit" ? ob::OrderType::limit : ob::OrderType::market;
  }
  const auto& tif = fields->get("tif");
  if (tif.present) {
    if (!tif.is_string || (tif.text != "gtc" && tif.text != "ioc" && tif.text != "fok")) {
      return bad("bad_request", "tif: \"gtc\", \"ioc\" or \"fok\"");
    }
    o.tif = tif.text == "gtc"   ? ob::TimeInForce::gtc
            : tif.text == "ioc" ? ob::TimeInForce::ioc
                                : ob::TimeInForce::fok;
  }
  if (o.type == ob::OrderType::market) {
    if (tif.present && o.tif != ob::TimeInForce::ioc) {
      return bad("bad_request", "tif: a market order is always ioc");
    }
    o.tif = ob::TimeInForce::ioc;
  }
  const auto& qty = fields->get("qty");
  if (!qty.present || !qty.is_string) {
    return bad("invalid_quantity", "qty: expected a decimal string");
  }
  auto q = ob::parse_qty(qty.text, spec.book);
  if (!q) {
    return bad("invalid_quantity",
               fmt::format("qty: a decimal > 0 on the lot {}", spec.lot_size()));
  }
  o.qty = *q;
  const auto& price = fields->get("price");
  if (o.type == ob::OrderType::market) {
    if (price.present) return bad("bad_request", "price: not allowed on a market order");
  } else {
    if (!price.present || !price.is_string) {
      return bad("invalid_price", "price: expected a decimal string");
    }
    auto p = ob::parse_price(price.text, spec.book);
    if (!p) {
      return bad("invalid_price",
                 fmt::format("price: a decimal > 0 on the tick {}", spec.tick_size()));
    }
    o.price = *p;
  }
  const auto& client_id = fields->get("client_order_id");
  if (client_id.present) {
    if (!client_id.is_string || client_id.text.size() > 64) {
      return bad("bad_request", "client_order_id: a string of at most 64 bytes");
    }
    o.client_order_id = client_id.text;
  }
  return o;
}

namespace {

// An integer query parameter in [lo, hi], `fallback` when absent.
rt::Result<std::size_t, RequestError> bounded_param(std::string_view target, std::string_view name,
                                                    std::size_t lo, std::size_t hi,
                                                    std::size_t fallback) {
  const std::optional<std::string> v = query_value(target, name);
  if (!v) return fallback;
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || end != v->data() + v->size() || n < lo || n > hi) {
    return bad("bad_request", fmt::format("{}: an integer from {} to {}", name, lo, hi));
  }
  return n;
}

}  // namespace

rt::Result<CandlesQuery, RequestError> parse_candles_query(std::string_view target) {
  CandlesQuery q;
  const std::optional<std::string> interval = query_value(target, "interval");
  const auto parsed = interval ? services::parse_candle_interval(*interval) : std::nullopt;
  if (!parsed) return bad("bad_request", "interval: one of 1s 1m 5m 15m 1h 1d");
  q.interval = *parsed;
  auto from = parse_time_param(target, "from");
  if (!from) return rt::Err{from.error()};
  auto to = parse_time_param(target, "to");
  if (!to) return rt::Err{to.error()};
  if (*from) q.from_ns = **from;
  if (*to) q.to_ns = **to;
  auto limit = bounded_param(target, "limit", 1, 1000, 500);
  if (!limit) return rt::Err{limit.error()};
  q.limit = *limit;
  return q;
}

rt::Result<std::size_t, RequestError> parse_trades_limit(std::string_view target) {
  return bounded_param(target, "limit", 1, 1000, 100);
}

rt::Result<std::size_t, RequestError> parse_depth_levels(std::string_view target) {
  std::size_t levels = 10;
  if (auto p = query_value(target, "levels")) {
    auto [end, ec] = std::from_chars(p->data(), p->data() + p->size(), levels);
    if (ec != std::errc{} || end != p->data() + p->size() || levels < 1 || levels > 1000) {
      return bad("bad_request", "levels: an integer from 1 to 1000");
    }
  }
  return levels;
}

namespace {

// An RFC 3339 date-time in UTC ns: `Z` or a numeric offset, any fraction of a second.
std::optional<std::int64_t> parse_rfc3339(const std::string& text) {
  using Ns = date::sys_time<std::chrono::nanoseconds>;
  for (const char* format : {"%FT%TZ", "%FT%T%Ez"}) {
    std::istringstream in(text);
    Ns t;
    in >> date::parse(format, t);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) {
      return t.time_since_epoch().count();
    }
  }
  return std::nullopt;
}

}  // namespace

rt::Result<std::optional<std::int64_t>, RequestError> parse_time_param(std::string_view target,
                                                                       std::string_view name) {
  const std::optional<std::string> v = query_value(target, name);
  if (!v) return std::optional<std::int64_t>();
  const auto refused = bad("bad_request", fmt::format("{}: a time in RFC 3339 "
                                                      "(2026-12-07T10:00:00.123Z) or integer "
                                                      "nanoseconds since the Unix epoch",
                                                      name));
  if (!v->empty() && v->find_first_not_of("0123456789") == std::string::npos) {
    std::int64_t ns = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ns);
    if (ec != std::errc{} || end != v->data() + v->size()) return refused;
    return std::optional(ns);
  }
  // int64 ns since the epoch reach April 2262: later years would overflow unseen.
  int year = 0;
  auto [end, ec] =
      std::from_chars(v->data(), v->data() + std::min<std::size_t>(v->size(), 4), year);
  if (ec != std::errc{} || end != v->data() + 4 || year < 1970 || year > 2261) return refused;
  if (std::optional<std::int64_t> ns = parse_rfc3339(*v)) return std::optional(*ns);
  return refused;
}

// ---- JSON object bodies --------------------------------------------------------------

const BodyFields::Field& BodyFields::get(std::string_view name) const {
  static const Field kAbsent;
  for (const auto& [n, f] : fields) {
    if (n == name) return f;
  }
  return kAbsent;
}

rt::Result<BodyFields, std::string> parse_object(std::string_view body,
                                                 std::initializer_list<std::string_view> names) {
  const rt::Err not_object{std::string("the body must be a JSON object")};
  thread_local od::parser parser;
  simdjson::padded_string padded(body);
  od::document doc;
  if (parser.iterate(padded).get(doc)) return not_object;
  od::object obj;
  if (doc.get_object().get(obj)) return not_object;
  BodyFields out;
  for (std::string_view n : names) out.fields.emplace_back(n, BodyFields::Field{});
  feeds::UniqueKeys keys;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return not_object;
    if (!keys.add(key)) return rt::Err{"duplicate key \"" + std::string(key) + "\""};
    od::value v;
    if (field.value().get(v)) return not_object;
    BodyFields::Field* slot = nullptr;
    for (auto& [n, f] : out.fields) {
      if (n == key) slot = &f;
    }
    od::json_type type;
    if (v.type().get(type)) return not_object;
    if (slot == nullptr || type != od::json_type::string) {
      if (slot != nullptr) slot->present = true;  // present, but not a string
      if (feeds::skim_json_value(v)) return not_object;
      continue;
    }
    std::string_view text;
    if (v.get_string().get(text)) return not_object;
    *slot = BodyFields::Field{true, true, std::string(text)};
  }
  // Anything after the object (OUT_OF_BOUNDS means nothing follows) is not JSON.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return not_object;
  return out;
}

}  // namespace api
