// libFuzzer target over what a REST request says before a process is asked
// (api/rest_request.hpp): the router and every body parser.
//
// The input is a raw request: byte 0 the method ('G' GET, 'P' POST, 'U' PUT,
// 'D' DELETE, 'H' HEAD; any other byte one of a few more verbs), then the
// target up to the first '\n', then the body. The router names a route whose
// label, filled with its symbol and id, is the path. (The symbol is named as
// sent: its syntax is the handler's 400 invalid_symbol, after the rate limit
// and the key, so here it is only non-empty and one segment.) The body
// parsers answer a value that holds their promises or one of API.md's 400
// codes, accept only JSON, and never throw (an escaping exception is a crash).

#include <simdjson.h>

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

#include "api/rest_request.hpp"
#include "orderbook/decimal.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

namespace {

namespace http = boost::beast::http;

http::verb method_of(std::uint8_t b) {
  switch (b) {
    case 'G':
      return http::verb::get;
    case 'P':
      return http::verb::post;
    case 'U':
      return http::verb::put;
    case 'D':
      return http::verb::delete_;
    case 'H':
      return http::verb::head;
    default:
      break;
  }
  static constexpr http::verb kOthers[] = {
      http::verb::get,   http::verb::post,    http::verb::put,     http::verb::delete_,
      http::verb::patch, http::verb::options, http::verb::unknown, http::verb::connect};
  return kOthers[b % std::size(kOthers)];
}

/// `label` with {symbol} and {id} filled in from `r`.
std::string fill(std::string_view label, const api::Route& r) {
  std::string out;
  for (std::size_t i = 0; i < label.size();) {
    if (label.substr(i).starts_with("{symbol}")) {
      out += r.symbol;
      i += 8;
    } else if (label.substr(i).starts_with("{id}")) {
      out += r.order_id;
      i += 4;
    } else {
      out += label[i++];
    }
  }
  return out;
}

void check_route(http::verb method, std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  const auto route = api::route_of(method, target);
  const auto again = api::route_of(method, path);  // the query never picks the route
  require(route.has_value() == again.has_value());
  if (!route) return;
  require(again->kind == route->kind && again->needed == route->needed);

  // The label, filled in, is the path: nothing dropped, nothing collapsed.
  require(fill(api::route_label(route->kind), *route) == path);
  const bool has_symbol =
      route->kind != api::RouteKind::symbols && route->kind != api::RouteKind::ingest;
  require(has_symbol == !route->symbol.empty());
  require(route->symbol.find('/') == std::string_view::npos);
  require((route->kind == api::RouteKind::order) == !route->order_id.empty());
  require(route->order_id.find('/') == std::string_view::npos);
  const auto seg = api::segments(path);
  require(seg && seg->size() >= 3 && seg->size() <= 6);

  // API.md's roles: ingest is admin's; trade only places and cancels orders;
  // GET never needs more than read elsewhere.
  if (route->kind == api::RouteKind::ingest) require(route->needed == api::Role::admin);
  if (route->needed == api::Role::trade) {
    require((route->kind == api::RouteKind::orders && method == http::verb::post) ||
            (route->kind == api::RouteKind::order && method == http::verb::delete_));
  }
  if (method == http::verb::get && route->kind != api::RouteKind::ingest) {
    require(route->needed == api::Role::read);
  }
}

void check_error(const api::RequestError& e) {
  require(e.status == http::status::bad_request);
  require(e.code == "invalid_json" || e.code == "bad_request" || e.code == "invalid_price" ||
          e.code == "invalid_quantity");
  require(!e.message.empty());
}

/// RFC 8259's grammar, strictly: the oracle for "a body accepted is JSON".
/// Separate from simdjson on purpose (its DOM refuses integers past 64 bits,
/// which RFC 8259 allows). UTF-8 is left to simdjson::validate_utf8.
class JsonGrammar {
 public:
  /// True when `text` is one JSON object and nothing else.
  static bool is_object(std::string_view text) {
    JsonGrammar g(text);
    g.space();
    if (g.peek() != '{' || !g.value()) return false;
    g.space();
    return g.i_ == text.size() && simdjson::validate_utf8(text.data(), text.size());
  }

 private:
  explicit JsonGrammar(std::string_view text) : s_(text) {}

  bool more() const { return i_ < s_.size(); }
  char peek() const { return more() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (peek() != c || !more()) return false;
    ++i_;
    return true;
  }
  void space() {
    while (more() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool digits() {  // one or more
    const std::size_t from = i_;
    while (peek() >= '0' && peek() <= '9') ++i_;
    return i_ > from;
  }

  bool value() {
    space();
    switch (peek()) {
      case '{':
        return members('}', true);
      case '[':
        return members(']', false);
      case '"':
        return string();
      case 't':
        return word("true");
      case 'f':
        return word("false");
      case 'n':
        return word("null");
      default:
        return number();
    }
  }
  // An object's members (`keyed`) or an array's elements, after the opening bracket.
  bool members(char close, bool keyed) {
    ++i_;
    space();
    if (eat(close)) return true;
    for (;;) {
      space();
      if (keyed) {
        if (!string()) return false;
        space();
        if (!eat(':')) return false;
      }
      if (!value()) return false;
      space();
      if (eat(close)) return true;
      if (!eat(',')) return false;
    }
  }
  bool string() {
    if (!eat('"')) return false;
    while (more()) {
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (!more()) return false;
      const char e = s_[i_++];
      if (e == 'u') {
        for (int k = 0; k < 4; ++k, ++i_) {
          if (!more() || !std::isxdigit(static_cast<unsigned char>(s_[i_]))) return false;
        }
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  bool number() {
    eat('-');
    if (!eat('0') && !(peek() >= '1' && peek() <= '9' && digits())) return false;
    if (eat('.') && !digits()) return false;
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (!digits()) return false;
    }
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

/// `body` as an order on `spec`; `is_object`: whether parse_order's object parse accepts it.
void check_order(std::string_view body, const services::SymbolSpec& spec, bool is_object) {
  auto o = api::parse_order(body, spec);
  if (!o) {
    check_error(o.error());
    require((o.error().code == "invalid_json") == !is_object);
    return;
  }
  require(is_object);
  require(o->qty.positive());
  auto q = ob::parse_qty(ob::format_qty(o->qty, spec.book), spec.book);
  require(q.ok() && *q == o->qty);
  if (o->type == ob::OrderType::limit) {
    require(o->price.valid());
    auto p = ob::parse_price(ob::format_price(o->price, spec.book), spec.book);
    require(p.ok() && *p == o->price);
  } else {
    require(o->tif == ob::TimeInForce::ioc && o->price == ob::Price{});
  }
  require(o->client_order_id.size() <= 64);
  require(o->owner.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const http::verb method = method_of(data[0]);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto newline = rest.find('\n');
  const std::string_view target = rest.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);

  check_route(method, target);

  if (auto levels = api::parse_depth_levels(target)) {
    require(*levels >= 1 && *levels <= 1000);
  } else {
    check_error(levels.error());
    require(levels.error().code == "bad_request");
  }

  // The body as an object: what is asked for, and only that; and only JSON
  // (API.md: a body that is not JSON is 400 invalid_json), whichever fields are read.
  const bool order_object =
      api::parse_object(body, {"side", "qty", "price", "type", "tif", "client_order_id"}).ok();
  const bool spec_object = api::parse_object(body, {"tick_size", "lot_size", "mode"}).ok();
  const auto fields = api::parse_object(body, {"side", "qty", "price", "type", "tif",
                                               "client_order_id", "tick_size", "lot_size", "mode"});
  if (order_object || spec_object || fields) require(JsonGrammar::is_object(body));
  if (fields) {
    require(fields->fields.size() == 9);
    for (const auto& [name, f] : fields->fields)
      require(f.present || (!f.is_string && f.text.empty()));
    require(!fields->get("nope").present);
  } else {
    require(!fields.error().empty());
  }

  // The body as a PUT symbol spec; an accepted spec prints and re-parses to itself.
  auto spec = api::parse_symbol_spec(body);
  if (spec) {
    require(spec_object);
    auto again = services::SymbolSpec::parse(spec->tick_size(), spec->lot_size(), spec->mode);
    require(again.ok() && *again == *spec);
  } else {
    check_error(spec.error());
    require((spec.error().code == "invalid_json") == !spec_object);
  }

  // The body as an order, on a few books and on the spec it declares itself.
  static const services::SymbolSpec kSpecs[] = {
      *services::SymbolSpec::parse("0.01", "0.0001"), *services::SymbolSpec::parse("1", "1"),
      *services::SymbolSpec::parse("0.000000000000000001", "0.000000000000000001"),
      *services::SymbolSpec::parse("1000", "0.5")};
  for (const services::SymbolSpec& s : kSpecs) check_order(body, s, order_object);
  if (spec) check_order(body, *spec, order_object);
  return 0;
}
