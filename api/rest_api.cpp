#include "api/rest_api.hpp"

#include <fmt/format.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <optional>
#include <vector>

#include "api/rest_request.hpp"
#include "api/runtime_metrics.hpp"
#include "api/web_assets.hpp"
#include "feeds/ndjson.hpp"
#include "feeds/symbol.hpp"
#include "orderbook/decimal.hpp"
#include "runtime/asio_call.hpp"
#include "services/book_history.hpp"
#include "services/wire.hpp"

namespace api {

// GCC 12 mishandles temporaries that live across a co_await (double
// destruction of aggregates built inside the awaited expression), so every
// call is first made into a named awaitable and then awaited.

namespace net = boost::asio;
namespace http = boost::beast::http;
using feeds::JsonWriter;

std::string error_body(std::string_view code, std::string_view message) {
  std::string out;
  feeds::JsonWriter w(out);
  w.begin_object().key("error").begin_object();
  w.member("code", code).member("message", message).end_object().end_object();
  return out;
}

namespace {

Response json_response(const Request& req, http::status status, std::string body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::server, "marketd");
  res.body() = std::move(body);
  return res;
}

Response error_response(const Request& req, http::status status, std::string_view code,
                        std::string_view message) {
  return json_response(req, status, error_body(code, message));
}

/// A call into a process failed: say why in API.md's terms.
Response call_failed(const Request& req, const rt::CallError& e) {
  switch (e.code) {
    case rt::CallError::Code::timeout:
      // The request may still be applied (a call's message cannot be taken
      // back): API.md's 504 means "outcome unknown". An order repeated with
      // its client_order_id is then answered, not placed twice.
      return error_response(req, http::status::gateway_timeout, "timeout",
                            "the server process did not answer in time; the request may still "
                            "be applied (repeat an order with its client_order_id)");
    case rt::CallError::Code::overloaded:
      return error_response(req, http::status::service_unavailable, "overloaded",
                            "the server process is overloaded; try again later");
    default:
      return error_response(req, http::status::service_unavailable, "overloaded",
                            "the server process is restarting; try again");
  }
}

std::string_view to_wire(ob::OrderStatus s) {
  switch (s) {
    case ob::OrderStatus::resting:
      return "resting";
    case ob::OrderStatus::partially_filled:
      return "partially_filled";
    case ob::OrderStatus::filled:
      return "filled";
    case ob::OrderStatus::cancelled:
      return "cancelled";
  }
  return "resting";
}

// ---- response bodies (every one written through feeds::JsonWriter) ----------------

std::string_view to_wire(ob::TimeInForce tif) {
  return tif == ob::TimeInForce::gtc ? "gtc" : tif == ob::TimeInForce::ioc ? "ioc" : "fok";
}

void write_symbol(JsonWriter& w, const services::SymbolInfo& s,
                  const std::optional<services::PriceFeedHandler::Report>& feed) {
  const bool traded = feed && feed->ticker.tick_count > 0;
  w.begin_object().member("symbol", s.symbol).member("mode", ob::to_string(s.spec.mode));
  w.member("tick_size", s.spec.tick_size()).member("lot_size", s.spec.lot_size());
  w.member("state",
           services::wire::to_string(feed ? feed->state : services::wire::FeedState::idle));
  w.price_member("last_price", traded ? std::optional(feed->ticker.last_price) : std::nullopt,
                 s.spec.book);
  w.end_object();
}

std::string symbol_json(const services::SymbolInfo& s,
                        const std::optional<services::PriceFeedHandler::Report>& feed) {
  std::string out;
  JsonWriter w(out);
  write_symbol(w, s, feed);
  return out;
}

std::string ticker_json(const services::SymbolInfo& s,
                        const services::PriceFeedHandler::Report& r) {
  const services::wire::Ticker& t = r.ticker;
  const auto& spec = s.spec.book;
  const bool traded = t.tick_count > 0;
  auto price = [&](ob::Price p) { return traded ? std::optional(p) : std::nullopt; };
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("symbol", s.symbol).member("seq", t.seq);
  w.price_member("last_price", price(t.last_price), spec);
  w.qty_member("last_size", traded ? std::optional(t.last_size) : std::nullopt, spec);
  w.key("last_side");
  if (traded) {
    w.string(ob::to_string(t.last_side));
  } else {
    w.null();
  }
  w.time_members(t.ts_ns).member("tick_count", t.tick_count);
  w.qty_member("volume", t.volume, spec);
  w.price_member("high", price(t.high), spec);
  w.price_member("low", price(t.low), spec);
  w.price_member("open", price(t.open), spec);
  w.member("state", services::wire::to_string(r.state));
  w.member("last_update_age_ms", r.last_update_age_ms).end_object();
  return out;
}

void write_level(JsonWriter& w, std::string_view name, const std::optional<ob::LevelView>& l,
                 const services::SymbolSpec& spec) {
  w.key(name);
  if (!l) {
    w.null();
    return;
  }
  w.begin_object().key("price").price(l->price, spec.book).key("qty").qty(l->qty, spec.book);
  w.member("orders", std::uint64_t{l->orders}).end_object();
}

std::string top_json(const services::SymbolInfo& s, const services::wire::Top& t) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("symbol", s.symbol).member("seq", t.seq);
  write_level(w, "bid", t.bid, s.spec);
  write_level(w, "ask", t.ask, s.spec);
  if (t.bid && t.ask) {
    w.key("spread").plain_string(ob::format_spread(t.bid->price, t.ask->price, s.spec.book));
    w.key("mid").plain_string(ob::format_mid(t.bid->price, t.ask->price, s.spec.book));
  } else {
    w.key("spread").null().key("mid").null();
  }
  w.time_members(t.ts_ns).end_object();
  return out;
}

std::string depth_json(const services::SymbolInfo& s, const services::Depth& d) {
  std::string out;
  out.reserve(64 + 32 * (d.bids.size() + d.asks.size()));
  JsonWriter w(out);
  w.begin_object().member("symbol", s.symbol).member("seq", d.seq);
  services::wire::write_levels(w.key("bids"), d.bids, s.spec);
  services::wire::write_levels(w.key("asks"), d.asks, s.spec);
  w.end_object();
  return out;
}

std::string candles_json(const services::SymbolInfo& s, services::CandleInterval interval,
                         const std::vector<services::Candle>& candles, std::int64_t now_ns) {
  const auto& spec = s.spec.book;
  std::string out;
  out.reserve(64 + 200 * candles.size());
  JsonWriter w(out);
  w.begin_object().member("symbol", s.symbol).member("interval", services::to_string(interval));
  w.key("candles").begin_array();
  for (const services::Candle& c : candles) {
    w.begin_object();
    services::wire::candle_members(w, c, spec, services::candle_closed(c, interval, now_ns));
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

std::string trades_json(const services::SymbolInfo& s,
                        const std::vector<services::TradeRecord>& trades) {
  const auto& spec = s.spec.book;
  std::string out;
  out.reserve(64 + 128 * trades.size());
  JsonWriter w(out);
  w.begin_object().member("symbol", s.symbol).key("trades").begin_array();
  for (const services::TradeRecord& t : trades) {
    w.begin_object().member("seq", t.seq).key("price").price(t.price, spec);
    w.key("size").qty(t.size, spec).member("side", ob::to_string(t.side));
    w.time_members(t.ts_ns).end_object();
  }
  w.end_array().end_object();
  return out;
}

// Runs `replay` (it reads the journal: blocking) on the history's own
// thread; the caller's coroutine resumes on its own executor with the result.
template <class T, class F>
net::awaitable<rt::Result<T, services::PastError>> in_history(services::BookHistory& history,
                                                              F replay) {
  // An optional: co_spawn needs a default-constructible result.
  using Answer = std::optional<rt::Result<T, services::PastError>>;
  auto run = [replay = std::move(replay)]() -> net::awaitable<Answer> { co_return replay(); };
  auto op = net::co_spawn(history.executor(), std::move(run), net::use_awaitable);
  Answer answer = co_await std::move(op);
  co_return std::move(*answer);
}

std::string order_json(const services::SymbolInfo& s, const services::OrderReport& o) {
  const auto& spec = s.spec.book;
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("order_id", o.order_id);
  if (!o.client_order_id.empty()) w.member("client_order_id", o.client_order_id);
  w.member("symbol", s.symbol).member("side", ob::to_string(o.side));
  w.member("type", o.type == ob::OrderType::limit ? "limit" : "market");
  w.member("tif", to_wire(o.tif));
  if (o.price) w.key("price").price(*o.price, spec);
  w.key("qty").qty(o.qty, spec).member("status", to_wire(o.status));
  w.key("filled_qty").qty(o.filled, spec).key("remaining_qty").qty(o.remaining, spec);
  w.key("trades").begin_array();
  for (const services::OrderFill& f : o.trades) {
    w.begin_object().member("trade_id", std::to_string(f.trade_id));
    w.key("price").price(f.price, spec).key("qty").qty(f.qty, spec);
    w.member("maker_order_id", f.maker_order_id).end_object();
  }
  w.end_array().end_object();
  return out;
}

std::string ingest_json(const services::IngestReport& r) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  if (r.not_applied_from) {
    // Cut short (ADR 020): an error envelope, and the report of what was applied.
    w.key("error").begin_object().member("code", "overloaded");
    w.member("message", r.errors.back().message).end_object();
  }
  w.member("accepted", std::uint64_t{r.accepted});
  w.member("rejected", std::uint64_t{r.rejected}).key("errors").begin_array();
  for (const feeds::LineError& e : r.errors) {
    w.begin_object().member("line", std::uint64_t{e.line}).member("code", feeds::to_string(e.code));
    w.member("message", e.message).end_object();
  }
  w.end_array().end_object();
  return out;
}

std::string status_json(std::string_view status) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("status", status).end_object();
  return out;
}

/// The feed handler's report for `symbol`, or nullopt when it does not answer
/// (a listing then shows the symbol idle rather than failing).
net::awaitable<std::optional<services::PriceFeedHandler::Report>> feed_report(
    const services::ServiceContext& ctx, std::string symbol, std::chrono::milliseconds timeout) {
  auto h = services::find_feed(ctx, symbol);
  if (!h) co_return std::nullopt;
  auto ex = co_await net::this_coro::executor;
  auto t_op = rt::async_call(ex, h->server, services::PriceFeedHandler::GetTicker{}, timeout,
                             net::use_awaitable);
  auto t = co_await std::move(t_op);
  if (!t) co_return std::nullopt;
  co_return std::move(*t);
}

/// True when the directory lists `symbol` although no server of it was found
/// (its partition is restarting): such a symbol is unavailable, not unknown.
net::awaitable<bool> listed_but_down(const services::Application& app, std::string symbol,
                                     std::chrono::milliseconds timeout) {
  auto dir = app.directory();
  if (!dir) co_return false;
  auto ex = co_await net::this_coro::executor;
  auto get_op = rt::async_call(ex, *dir, services::SymbolDirectory::Get{std::move(symbol)}, timeout,
                               net::use_awaitable);
  auto got = co_await std::move(get_op);
  co_return got.ok() && *got != nullptr;
}

// The other `route` labels: the service endpoints and anything unrouted
// (the built-in page's are its paths: web_assets()).
constexpr std::string_view kServiceRouteNames[] = {"/healthz", "/readyz", "/metrics", "other"};

// The page loads only itself: its script, its style sheet, and this server's
// REST and WebSocket (no inline code, no other origin, no frames).
constexpr std::string_view kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// True when an If-None-Match value names `etag` (weak comparison, RFC 9110 13.1.2).
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    if_none_match.remove_prefix(comma == std::string_view::npos ? if_none_match.size() : comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

/// A file of the built-in page, or 304 when the client holds this version.
/// `no-cache`: a browser asks again each time, and a new marketd's page is
/// taken at once.
Response asset_response(const Request& req, const WebAsset& asset) {
  const bool held = etag_matches(req[http::field::if_none_match], asset.etag);
  Response res{held ? http::status::not_modified : http::status::ok, req.version()};
  res.set(http::field::server, "marketd");
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::etag, asset.etag);
  if (held) return res;
  res.set(http::field::content_type, asset.content_type);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Content-Security-Policy", kPagePolicy);
  res.body().assign(asset.body);
  return res;
}

}  // namespace

// ---- the handler -----------------------------------------------------------------------

RestApi::RestApi(services::Application& app, ApiMetrics& metrics, RestOptions options)
    : app_(app), metrics_(metrics), options_(options) {
  // Every series whose labels are known now exists from the start, at 0, so a
  // dashboard or an alert on it sees a series before the first request.
  auto declare = [this](std::string_view route) {
    for (unsigned status : {200u, 400u, 500u}) metrics_.requests(route, status);
    metrics_.latency(route);
  };
  for (std::string_view route : route_labels()) declare(route);
  for (std::string_view route : kServiceRouteNames) declare(route);
  for (const WebAsset& asset : web_assets()) declare(asset.path);
}

net::awaitable<Response> RestApi::handle(const Request& req, RequestContext who) const {
  const auto started = std::chrono::steady_clock::now();
  auto ex = co_await net::this_coro::executor;
  const std::string_view target(req.target().data(), req.target().size());
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const http::verb method = req.method();
  const std::vector<std::string_view> seg =
      segments(path).value_or(std::vector<std::string_view>{});
  std::string route = "other";

  auto finish = [&](Response res) {
    res.keep_alive(req.keep_alive());
    // A 304 has no body and no Content-Length (it is not the GET's).
    if (res.result() != http::status::not_modified) res.prepare_payload();
    // HEAD: the GET's headers, Content-Length included, and no body.
    if (method == http::verb::head) res.body().clear();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_.requests(route, res.result_int()).Increment();
    metrics_.latency(route).Observe(secs);
    if (options_.access_log) {
      spdlog::info("event=access method={} target=\"{}\" status={} client={} bytes={} us={}",
                   std::string_view(req.method_string()), redact_target(target), res.result_int(),
                   who.principal, res.body().size(), static_cast<std::int64_t>(secs * 1e6));
    }
    return res;
  };
  auto method_not_allowed = [&](std::string_view allow) {
    Response res = error_response(req, http::status::method_not_allowed, "method_not_allowed",
                                  fmt::format("{} is not allowed here", req.method_string()));
    res.set(http::field::allow, allow);
    return res;
  };

  // ---- browser rules: every route ----
  if (!who.browser_refusal.empty()) {
    co_return finish(
        error_response(req, http::status::forbidden, "forbidden", who.browser_refusal));
  }

  // ---- service endpoints (not rate limited) ----
  if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "readyz" || seg[0] == "metrics")) {
    // Not "/" + std::string(...): g++ 12 -O3 reports a false -Werror=restrict on it.
    route.assign(1, '/').append(seg[0]);
    if (method != http::verb::get) co_return finish(method_not_allowed("GET"));
    if (seg[0] == "healthz")
      co_return finish(json_response(req, http::status::ok, status_json("ok")));
    if (seg[0] == "readyz") {
      const std::optional<std::string> why = app_.not_ready_reason();
      if (!why) co_return finish(json_response(req, http::status::ok, status_json("ready")));
      // An error like any other (API.md "Errors"), the reason its message.
      co_return finish(error_response(req, http::status::service_unavailable, "overloaded",
                                      "not ready: " + *why));
    }
    prometheus::TextSerializer serializer;
    Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    std::vector<prometheus::MetricFamily> families = app_.metrics()->registry()->Collect();
    for (auto& f : collect_runtime_metrics(app_.runtime())) families.push_back(std::move(f));
    res.body() = serializer.Serialize(families);
    co_return finish(std::move(res));
  }

  // ---- the built-in page (api/web_assets.hpp): holds no data, so no key, not counted ----
  if (const WebAsset* asset = find_web_asset(path)) {
    route.assign(asset->path);
    if (method != http::verb::get && method != http::verb::head) {
      co_return finish(method_not_allowed("GET, HEAD"));
    }
    co_return finish(asset_response(req, *asset));
  }

  // ---- which route (api/rest_request.hpp) ----
  const std::optional<Route> found = route_of(method, target);
  if (!found)
    co_return finish(error_response(req, http::status::not_found, "not_found", "no such route"));
  using R = RouteKind;
  const R r = found->kind;
  route = std::string(route_label(r));

  // ---- rate limit: every /api/v1 request counts ----
  const services::RateLimiters& limiters = app_.limiters();
  std::optional<std::uint32_t> remaining;
  if (limiters.enabled()) {
    auto decision_op =
        limiters.async_check(ex, who.principal, 1, options_.call_timeout, net::use_awaitable);
    auto decision = co_await std::move(decision_op);
    if (!decision) co_return finish(call_failed(req, decision.error()));
    if (auto* limited = std::get_if<services::RateLimited>(&*decision)) {
      metrics_.rate_limited.Increment();
      Response res = error_response(req, http::status::too_many_requests, "rate_limited",
                                    "too many requests; retry later");
      res.set(http::field::retry_after, std::to_string(limited->retry_after_seconds()));
      res.set("X-RateLimit-Limit", std::to_string(limiters.config().limit));
      res.set("X-RateLimit-Remaining", "0");
      co_return finish(std::move(res));
    }
    remaining = std::get<services::RateOk>(*decision).remaining;
  }
  auto counted = [&](Response res) {
    if (remaining) {
      res.set("X-RateLimit-Limit", std::to_string(limiters.config().limit));
      res.set("X-RateLimit-Remaining", std::to_string(*remaining));
    }
    return finish(std::move(res));
  };
  auto fail = [&](http::status s, std::string_view code, std::string_view message) {
    return counted(error_response(req, s, code, message));
  };
  auto refuse = [&](const RequestError& e) { return fail(e.status, e.code, e.message); };
  const services::ServiceContext& ctx = *app_.context();
  // No server found for a symbol: 404, or 503 while its partition restarts.
  auto missing = [&](const std::string& name) -> net::awaitable<Response> {
    auto listed_op = listed_but_down(app_, name, options_.call_timeout);
    if (co_await std::move(listed_op)) {
      co_return fail(http::status::service_unavailable, "overloaded",
                     name + " is restarting (its partition restarts); try again");
    }
    co_return fail(http::status::not_found, "unknown_symbol", "no such symbol");
  };

  // A replay of the journal that failed: T out of range, else damage or I/O.
  auto past_failed = [&](const services::SymbolInfo& info, const services::PastError& e) {
    if (e.code == services::PastError::Code::out_of_range) {
      return fail(http::status::not_found, "not_found", e.message);
    }
    spdlog::error("symbol={} replaying its journal: {}", info.symbol, e.message);
    return fail(http::status::internal_server_error, "internal", e.message);
  };
  // GET .../depth?at=T: the past, replayed from the journal on the history's
  // own thread (services/book_history.hpp), a bounded number at once.
  auto past_depth = [&](const services::SymbolInfo& info, std::int64_t t,
                        std::size_t levels) -> net::awaitable<Response> {
    services::Journals* journals = ctx.journals.get();
    if (journals == nullptr) {
      co_return fail(http::status::not_found, "not_found",
                     "at: no journal is kept, so no past is retained (see --data-dir)");
    }
    std::optional<services::BookHistory::Slot> slot = journals->history->try_begin();
    if (!slot) {
      co_return fail(http::status::service_unavailable, "overloaded",
                     "at: other past queries are being replayed; try again");
    }
    auto past_op = in_history<services::Depth>(
        *journals->history, [journals, symbol = info.symbol, spec = info.spec, t, levels] {
          return services::depth_at(journals->store, symbol, spec, t, levels,
                                    services::wall_clock_ns());
        });
    auto past = co_await std::move(past_op);
    if (!past) co_return past_failed(info, past.error());
    co_return counted(json_response(req, http::status::ok, depth_json(info, *past)));
  };

  // ---- access: a known key with the route's role ----
  if (who.failure != AuthFailure::none) {
    Response res = error_response(req, http::status::unauthorized, "unauthorized",
                                  who.failure == AuthFailure::missing
                                      ? "an API key is required (Authorization: Bearer KEY)"
                                      : "unknown API key");
    res.set(http::field::www_authenticate, "Bearer");
    co_return counted(std::move(res));
  }
  const Role needed = found->needed;
  if (!who.may(needed)) {
    co_return fail(http::status::forbidden, "forbidden",
                   needed == Role::admin ? "this needs a key with the admin role"
                                         : "this needs a key with the trade role");
  }

  if (r == R::time) {
    if (method != http::verb::get) co_return counted(method_not_allowed("GET"));
    std::string out;
    JsonWriter(out).begin_object().time_members(services::wall_clock_ns()).end_object();
    co_return counted(json_response(req, http::status::ok, out));
  }

  // ---- /symbols ----
  if (r == R::symbols) {
    if (method != http::verb::get) co_return counted(method_not_allowed("GET"));
    auto dir = app_.directory();
    if (!dir)
      co_return fail(http::status::service_unavailable, "overloaded", "directory restarting");
    auto list_op = rt::async_call(ex, *dir, services::SymbolDirectory::List{},
                                  options_.call_timeout, net::use_awaitable);
    auto list = co_await std::move(list_op);
    if (!list) co_return counted(call_failed(req, list.error()));
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("symbols").begin_array();
    for (const services::SymbolInfoPtr& s : *list) {
      auto feed_op = feed_report(ctx, s->symbol, options_.call_timeout);
      auto feed = co_await std::move(feed_op);
      write_symbol(w, *s, feed);
    }
    w.end_array().end_object();
    co_return counted(json_response(req, http::status::ok, std::move(out)));
  }

  // ---- /ingest ----
  if (r == R::ingest) {
    if (method != http::verb::post) co_return counted(method_not_allowed("POST"));
    auto server = app_.ingest_server();
    if (!server)
      co_return fail(http::status::service_unavailable, "overloaded", "ingest restarting");
    // Parsed by the ingest process, off the io threads (a 1 MiB body is milliseconds).
    auto report_op = rt::async_call(ex, *server, services::IngestServer::Apply{req.body()},
                                    options_.call_timeout, net::use_awaitable);
    auto report = co_await std::move(report_op);
    if (!report) co_return counted(call_failed(req, report.error()));
    // A body cut short by a shutdown: 503, saying from which line to send it again.
    co_return counted(json_response(
        req, report->not_applied_from ? http::status::service_unavailable : http::status::ok,
        ingest_json(*report)));
  }

  // ---- /symbols/{symbol}... ----
  const std::string symbol(found->symbol);
  if (!feeds::is_valid_symbol(symbol)) {
    co_return fail(http::status::bad_request, "invalid_symbol",
                   "a symbol matches ^[A-Z0-9][A-Z0-9._-]{0,31}$");
  }

  if (r == R::symbol) {
    if (method == http::verb::get) {
      auto book = services::find_book(ctx, symbol);
      if (!book) {
        auto missing_op = missing(symbol);
        co_return co_await std::move(missing_op);
      }
      auto feed_op = feed_report(ctx, symbol, options_.call_timeout);
      auto feed = co_await std::move(feed_op);
      co_return counted(json_response(req, http::status::ok, symbol_json(*book->info, feed)));
    }
    if (method == http::verb::delete_) {
      auto dir = app_.directory();
      if (!dir)
        co_return fail(http::status::service_unavailable, "overloaded", "directory restarting");
      auto removed_op = rt::async_call(ex, *dir, services::SymbolDirectory::Remove{symbol},
                                       options_.call_timeout, net::use_awaitable);
      auto removed = co_await std::move(removed_op);
      if (!removed) co_return counted(call_failed(req, removed.error()));
      if (!*removed) {
        const services::DirectoryError& e = removed->error();
        if (e.code == services::DirectoryError::Code::unknown_symbol) {
          co_return fail(http::status::not_found, "unknown_symbol", "no such symbol");
        }
        co_return fail(http::status::service_unavailable, "overloaded", e.detail);
      }
      co_return counted(
          json_response(req, http::status::ok, symbol_json(*(*removed)->info, (*removed)->last)));
    }
    if (method != http::verb::put) co_return counted(method_not_allowed("GET, PUT, DELETE"));
    auto spec = parse_symbol_spec(req.body());
    if (!spec) co_return refuse(spec.error());
    auto dir = app_.directory();
    if (!dir)
      co_return fail(http::status::service_unavailable, "overloaded", "directory restarting");
    auto made_op = rt::async_call(ex, *dir, services::SymbolDirectory::Ensure{symbol, *spec, false},
                                  options_.call_timeout, net::use_awaitable);
    auto made = co_await std::move(made_op);
    if (!made) co_return counted(call_failed(req, made.error()));
    if (!*made) {
      const services::DirectoryError& e = made->error();
      if (e.code == services::DirectoryError::Code::conflict) {
        co_return fail(http::status::conflict, "conflict", "the symbol exists with another spec");
      }
      if (e.code == services::DirectoryError::Code::limit_exceeded) {
        co_return fail(http::status::forbidden, "limit_exceeded", e.detail);
      }
      co_return fail(http::status::service_unavailable, "overloaded", e.detail);
    }
    co_return counted(json_response(req,
                                    (*made)->created ? http::status::created : http::status::ok,
                                    symbol_json(*(*made)->info, std::nullopt)));
  }

  if (r == R::ticker) {
    if (method != http::verb::get) co_return counted(method_not_allowed("GET"));
    auto h = services::find_feed(ctx, symbol);
    if (!h) {
      auto missing_op = missing(symbol);
      co_return co_await std::move(missing_op);
    }
    auto t_op = rt::async_call(ex, h->server, services::PriceFeedHandler::GetTicker{},
                               options_.call_timeout, net::use_awaitable);
    auto t = co_await std::move(t_op);
    if (!t) co_return counted(call_failed(req, t.error()));
    co_return counted(json_response(req, http::status::ok, ticker_json(*h->info, *t)));
  }

  auto book = services::find_book(ctx, symbol);
  if (!book) {
    auto missing_op = missing(symbol);
    co_return co_await std::move(missing_op);
  }
  const services::SymbolInfo& info = *book->info;

  if (r == R::top) {
    if (method != http::verb::get) co_return counted(method_not_allowed("GET"));
    auto t_op = rt::async_call(ex, book->server, services::OrderBookServer::GetTop{},
                               options_.call_timeout, net::use_awaitable);
    auto t = co_await std::move(t_op);
    if (!t) co_return counted(call_failed(req, t.error()));
    co_return counted(json_response(req, http::status::ok, top_json(info, *t)));
  }

  if (r == R::depth) {
    if (method != http::verb::get) co_return counted(method_not_allowed("GET"));
    auto levels = parse_depth_levels(target);
    if (!levels) co_return refuse(levels.error());
    auto at = parse_time_param(target, "at");
    if (!at) co_return refuse(at.error());
    if (*at) {
      auto past_op = past_depth(info, **at, *levels);
      co_return co_await std::move(past_op);
    }
    auto d_op = rt::async_call(ex, book->server, services::OrderBookServer::GetDepth{*levels},
                               options_.call_timeout, net::use_awaitable);
    auto d = co_await std::move(d_op);
    if (!d) co_return counted(call_failed(req, d.error()));
    co_return counted(json_response(req, http::status::ok, depth_json(info, *d)));
  }

  if (r == R::candles) {
    if (method != http::verb::get) co_return counted(method_not_allowed("GET"));
    auto q = parse_candles_query(target);
    if (!q) co_return refuse(q.error());
    auto c_op = rt::async_call(
        ex, book->server,
        services::OrderBookServer::GetCandles{q->interval, q->from_ns, q->to_ns, q->limit},
        options_.call_timeout, net::use_awaitable);
    auto c = co_await std::move(c_op);
    if (!c) co_return counted(call_failed(req, c.error()));
    services::Journals* journals = ctx.journals.get();
    if (c->complete || journals == nullptr) {
      co_return counted(
          json_response(req, http::status::ok,
                        candles_json(info, q->interval, c->candles, services::wall_clock_ns())));
    }
    // Older than the book's ring holds: rebuilt from the journal, as depth?at=T.
    std::optional<services::BookHistory::Slot> slot = journals->history->try_begin();
    if (!slot) {
      co_return fail(http::status::service_unavailable, "overloaded",
                     "from: older candles are being rebuilt for other requests; try again");
    }
    auto past_op = in_history<std::vector<services::Candle>>(
        *journals->history, [journals, symbol = info.symbol, spec = info.spec, q = *q] {
          return services::candles_from_journal(journals->store, symbol, spec, q.interval,
                                                q.from_ns, q.to_ns, q.limit);
        });
    auto past = co_await std::move(past_op);
    if (!past) co_return past_failed(info, past.error());
    co_return counted(json_response(
        req, http::status::ok, candles_json(info, q->interval, *past, services::wall_clock_ns())));
  }

  if (r == R::trades) {
    if (method != http::verb::get) co_return counted(method_not_allowed("GET"));
    auto limit = parse_trades_limit(target);
    if (!limit) co_return refuse(limit.error());
    auto t_op = rt::async_call(ex, book->server, services::OrderBookServer::GetTrades{*limit},
                               options_.call_timeout, net::use_awaitable);
    auto t = co_await std::move(t_op);
    if (!t) co_return counted(call_failed(req, t.error()));
    co_return counted(json_response(req, http::status::ok, trades_json(info, *t)));
  }

  auto order_failed = [&](ob::ErrorCode e) {
    switch (e) {
      case ob::ErrorCode::unknown_order:
        return fail(http::status::not_found, "unknown_order", "no resting order with that id");
      case ob::ErrorCode::mode_mismatch:
        return fail(http::status::conflict, "mode_mismatch",
                    fmt::format("orders need a venue symbol; {} is {}", info.symbol,
                                ob::to_string(info.spec.mode)));
      case ob::ErrorCode::invalid_price:
        return fail(http::status::bad_request, "invalid_price", "price: not accepted by the book");
      case ob::ErrorCode::invalid_quantity:
        return fail(http::status::bad_request, "invalid_quantity", "qty: not accepted by the book");
      case ob::ErrorCode::duplicate_order:
        return fail(http::status::conflict, "duplicate_order",
                    "client_order_id: already used by an order with other fields");
      case ob::ErrorCode::limit_exceeded:
        return fail(http::status::forbidden, "limit_exceeded",
                    "a resting-order limit is reached (--max-orders-per-book or "
                    "--max-orders-per-key): cancel orders first");
      case ob::ErrorCode::unavailable:
        return fail(http::status::service_unavailable, "overloaded",
                    fmt::format("{} is not taking changes: its journal cannot write (see /readyz)",
                                info.symbol));
      case ob::ErrorCode::invalid_field:
        break;
    }
    return fail(http::status::bad_request, "bad_request", "rejected by the book");
  };

  if (r == R::order) {
    if (method != http::verb::get && method != http::verb::delete_) {
      co_return counted(method_not_allowed("GET, DELETE"));
    }
    const std::string id(found->order_id);
    std::string owner = who.principal;
    // Both answer with the Order: as it rests (GET) or as it was cancelled (DELETE).
    auto o_op = method == http::verb::get
                    ? rt::async_call(ex, book->server,
                                     services::OrderBookServer::GetOrder{id, std::move(owner)},
                                     options_.call_timeout, net::use_awaitable)
                    : rt::async_call(ex, book->server,
                                     services::OrderBookServer::CancelOrder{id, std::move(owner)},
                                     options_.call_timeout, net::use_awaitable);
    auto o = co_await std::move(o_op);
    if (!o) co_return counted(call_failed(req, o.error()));
    if (!*o) co_return order_failed(o->error());
    co_return counted(json_response(req, http::status::ok, order_json(info, **o)));
  }

  // r == R::orders
  if (method != http::verb::post) co_return counted(method_not_allowed("POST"));
  auto parsed = parse_order(req.body(), info.spec);
  if (!parsed) co_return refuse(parsed.error());
  services::OrderRequest o = std::move(*parsed);
  o.owner = who.principal;
  auto placed_op = rt::async_call(ex, book->server, services::OrderBookServer::PlaceOrder{o},
                                  options_.call_timeout, net::use_awaitable);
  auto placed = co_await std::move(placed_op);
  if (!placed) co_return counted(call_failed(req, placed.error()));
  if (!*placed) co_return order_failed(placed->error());
  // A repeat of a client_order_id (after a 504, say) answers the first order: 200.
  co_return counted(json_response(req,
                                  (*placed)->repeated ? http::status::ok : http::status::created,
                                  order_json(info, **placed)));
}

}  // namespace api
