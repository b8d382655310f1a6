#pragma once
// What a strict client sees: every JSON text marketd sends (WebSocket frames,
// REST bodies) parsed by simdjson's DOM parser (strict RFC 8259) and checked
// against the exact shape API.md gives it: field names, no extra or duplicate
// fields, and each field's type (decimals are strings of digits, times are
// RFC 3339 with microseconds).

#include <simdjson.h>

#include <algorithm>
#include <initializer_list>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace testing_support {

struct Shape;

/// What a field holds.
enum class Kind {
  string,     ///< any string (or one of `one_of` when given)
  decimal,    ///< a decimal string: digits, optional fraction, optional leading '-'
  integer,    ///< a JSON integer
  boolean,    ///< true or false
  timestamp,  ///< RFC 3339 UTC with microseconds
  strings,    ///< an array of strings
  levels,     ///< [["price","qty"],…]
  changes,    ///< [["buy"|"sell","price","qty"],…]
  object,     ///< an object of shape `nested`
  objects,    ///< an array of objects of shape `nested`
};

struct Field {
  std::string_view name;
  Kind kind;
  bool nullable = false;
  bool optional = false;
  const Shape* nested = nullptr;
  std::vector<std::string_view> one_of = {};
};

struct Shape {
  std::vector<Field> fields;
};

namespace detail {

inline bool is_decimal(std::string_view s) {
  static const std::regex re(R"(-?[0-9]+(\.[0-9]+)?)");
  return std::regex_match(s.begin(), s.end(), re);
}
inline bool is_timestamp(std::string_view s) {
  static const std::regex re(R"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z)");
  return std::regex_match(s.begin(), s.end(), re);
}

inline std::string check_object(simdjson::dom::element e, const Shape& shape, std::string path);

inline std::string check_value(simdjson::dom::element v, const Field& f, const std::string& path) {
  using simdjson::dom::element_type;
  const std::string at = path + "." + std::string(f.name);
  if (v.is_null()) return f.nullable ? "" : at + ": null where a value is required";
  auto as_string = [&](simdjson::dom::element x, std::string& out) {
    std::string_view s;
    if (x.get_string().get(s)) return false;
    out = std::string(s);
    return true;
  };
  std::string s;
  switch (f.kind) {
    case Kind::string:
      if (!as_string(v, s)) return at + ": not a string";
      if (!f.one_of.empty() &&
          std::find(f.one_of.begin(), f.one_of.end(), std::string_view(s)) == f.one_of.end()) {
        return at + ": unexpected value \"" + s + "\"";
      }
      return "";
    case Kind::decimal:
      if (!as_string(v, s) || !is_decimal(s)) return at + ": not a decimal string";
      return "";
    case Kind::integer:
      if (!v.is_int64() && !v.is_uint64()) return at + ": not an integer";
      return "";
    case Kind::boolean:
      if (!v.is_bool()) return at + ": not a boolean";
      return "";
    case Kind::timestamp:
      if (!as_string(v, s) || !is_timestamp(s)) return at + ": not an RFC 3339 time with µs";
      return "";
    case Kind::strings: {
      simdjson::dom::array a;
      if (v.get_array().get(a)) return at + ": not an array";
      for (auto x : a) {
        if (!as_string(x, s)) return at + ": an item is not a string";
      }
      return "";
    }
    case Kind::levels:
    case Kind::changes: {
      simdjson::dom::array a;
      if (v.get_array().get(a)) return at + ": not an array";
      const std::size_t width = f.kind == Kind::levels ? 2 : 3;
      for (auto item : a) {
        simdjson::dom::array row;
        if (item.get_array().get(row) || row.size() != width) return at + ": a row of wrong width";
        std::size_t i = 0;
        for (auto x : row) {
          if (!as_string(x, s)) return at + ": a row item is not a string";
          const bool side = f.kind == Kind::changes && i == 0;
          if (side ? (s != "buy" && s != "sell") : !is_decimal(s)) {
            return at + ": bad row item \"" + s + "\"";
          }
          ++i;
        }
      }
      return "";
    }
    case Kind::object:
      return check_object(v, *f.nested, at);
    case Kind::objects: {
      simdjson::dom::array a;
      if (v.get_array().get(a)) return at + ": not an array";
      for (auto x : a) {
        if (std::string why = check_object(x, *f.nested, at + "[]"); !why.empty()) return why;
      }
      return "";
    }
  }
  return at + ": unknown kind";
}

inline std::string check_object(simdjson::dom::element e, const Shape& shape, std::string path) {
  simdjson::dom::object o;
  if (e.get_object().get(o)) return path + ": not an object";
  std::set<std::string, std::less<>> seen;
  for (auto [key, value] : o) {
    if (!seen.emplace(key).second) return path + ": duplicate key \"" + std::string(key) + "\"";
    auto f = std::find_if(shape.fields.begin(), shape.fields.end(),
                          [&](const Field& x) { return x.name == key; });
    if (f == shape.fields.end()) return path + ": unexpected field \"" + std::string(key) + "\"";
    if (std::string why = check_value(value, *f, path); !why.empty()) return why;
  }
  for (const Field& f : shape.fields) {
    if (!f.optional && !seen.contains(f.name)) {
      return path + ": missing field \"" + std::string(f.name) + "\"";
    }
  }
  return "";
}

}  // namespace detail

/// "" when `text` is strict JSON (RFC 8259, UTF-8); otherwise the parser's complaint.
inline std::string check_json(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text.data(), text.size()).get(root)) {
    return std::string("not strict JSON: ") + simdjson::error_message(err);
  }
  return "";
}

/// "" when `text` is strict JSON of exactly `shape`; otherwise what is wrong.
inline std::string check_shape(std::string_view text, const Shape& shape) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text.data(), text.size()).get(root)) {
    return std::string("not strict JSON: ") + simdjson::error_message(err);
  }
  return detail::check_object(root, shape, "$");
}

// ---- API.md "WebSocket", server → client ---------------------------------------------

inline const std::vector<std::string_view> kSides{"buy", "sell"};
inline const std::vector<std::string_view> kStates{"live", "stale", "recovering"};

/// The shape of each frame `type` API.md lists (nullptr for a type it does not list).
inline const Shape* ws_frame_shape(std::string_view type) {
  using K = Kind;
  static const Shape echo{{{"type", K::string},
                           {"id", K::integer, false, true},
                           {"channels", K::strings},
                           {"symbols", K::strings}}};
  static const Shape tick{{{"type", K::string},
                           {"symbol", K::string},
                           {"seq", K::integer},
                           {"price", K::decimal},
                           {"size", K::decimal},
                           {"side", K::string, false, false, nullptr, kSides},
                           {"ts", K::timestamp},
                           {"ts_ns", K::integer}}};
  static const Shape ticker{{{"type", K::string},
                             {"symbol", K::string},
                             {"seq", K::integer},
                             {"last_price", K::decimal, true},
                             {"volume", K::decimal},
                             {"high", K::decimal, true},
                             {"low", K::decimal, true},
                             {"ts", K::timestamp, true},
                             {"ts_ns", K::integer, true}}};
  static const Shape top{{{"type", K::string},
                          {"symbol", K::string},
                          {"seq", K::integer},
                          {"bid", K::decimal, true},
                          {"bid_qty", K::decimal, true},
                          {"ask", K::decimal, true},
                          {"ask_qty", K::decimal, true},
                          {"ts", K::timestamp, true},
                          {"ts_ns", K::integer, true}}};
  // API.md "Book depth": `checksum` always; `merged` only when an update covers several seqs.
  static const Shape snapshot{{{"type", K::string},
                               {"symbol", K::string},
                               {"seq", K::integer},
                               {"bids", K::levels},
                               {"asks", K::levels},
                               {"checksum", K::integer}}};
  static const Shape update{{{"type", K::string},
                             {"symbol", K::string},
                             {"seq", K::integer},
                             {"changes", K::changes},
                             {"checksum", K::integer},
                             {"merged", K::integer, false, true}}};
  static const Shape candle{
      {{"type", K::string},
       {"symbol", K::string},
       {"interval", K::string, false, false, nullptr, {"1s", "1m", "5m", "15m", "1h", "1d"}},
       {"start", K::timestamp},
       {"start_ns", K::integer},
       {"open", K::decimal},
       {"high", K::decimal},
       {"low", K::decimal},
       {"close", K::decimal},
       {"volume", K::decimal},
       {"trades", K::integer},
       {"vwap", K::decimal},
       {"closed", K::boolean}}};
  static const Shape status{{{"type", K::string},
                             {"symbol", K::string},
                             {"state", K::string, false, false, nullptr, kStates},
                             {"last_update_age_ms", K::integer}}};
  static const Shape heartbeat{{{"type", K::string}, {"ts", K::timestamp}, {"ts_ns", K::integer}}};
  static const Shape pong{{{"type", K::string}, {"id", K::integer, false, true}}};
  static const Shape error{{{"type", K::string},
                            {"id", K::integer, false, true},
                            {"code", K::string},
                            {"message", K::string}}};
  if (type == "subscribed" || type == "unsubscribed") return &echo;
  if (type == "tick") return &tick;
  if (type == "ticker") return &ticker;
  if (type == "top") return &top;
  if (type == "book_snapshot") return &snapshot;
  if (type == "book_update") return &update;
  if (type == "candle") return &candle;
  if (type == "status") return &status;
  if (type == "heartbeat") return &heartbeat;
  if (type == "pong") return &pong;
  if (type == "error") return &error;
  return nullptr;
}

/// Every server → client frame type of API.md.
inline const std::vector<std::string_view> kWsFrameTypes{
    "subscribed",  "unsubscribed", "tick",      "ticker", "top",   "book_snapshot",
    "book_update", "status",       "heartbeat", "pong",   "error", "candle"};

/// "" when `frame` is strict JSON with a `type` API.md lists and exactly that type's shape.
inline std::string check_ws_frame(std::string_view frame) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(frame.data(), frame.size()).get(root)) {
    return std::string("not strict JSON: ") + simdjson::error_message(err);
  }
  std::string_view type;
  if (root["type"].get_string().get(type)) return "no string \"type\"";
  const Shape* shape = ws_frame_shape(type);
  if (!shape) return "a frame type API.md does not list: " + std::string(type);
  return detail::check_object(root, *shape, std::string(type));
}

// ---- API.md "REST" -------------------------------------------------------------------

namespace rest {
using K = Kind;
inline const Shape kErrorDetail{{{"code", K::string}, {"message", K::string}}};
inline const Shape kError{{{"error", K::object, false, false, &kErrorDetail}}};
inline const Shape kStatus{{{"status", K::string}}};
inline const Shape kSymbol{{{"symbol", K::string},
                            {"mode", K::string, false, false, nullptr, {"venue", "mirror", "l2"}},
                            {"tick_size", K::decimal},
                            {"lot_size", K::decimal},
                            {"state", K::string, false, false, nullptr, {"live", "stale", "idle"}},
                            {"last_price", K::decimal, true}}};
inline const Shape kSymbols{{{"symbols", K::objects, false, false, &kSymbol}}};
inline const Shape kTicker{{{"symbol", K::string},
                            {"seq", K::integer},
                            {"last_price", K::decimal, true},
                            {"last_size", K::decimal, true},
                            {"last_side", K::string, true, false, nullptr, kSides},
                            {"ts", K::timestamp, true},
                            {"ts_ns", K::integer, true},
                            {"tick_count", K::integer},
                            {"volume", K::decimal},
                            {"high", K::decimal, true},
                            {"low", K::decimal, true},
                            {"open", K::decimal, true},
                            {"state", K::string, false, false, nullptr, {"live", "stale", "idle"}},
                            {"last_update_age_ms", K::integer, true}}};
inline const Shape kLevel{{{"price", K::decimal}, {"qty", K::decimal}, {"orders", K::integer}}};
inline const Shape kTop{{{"symbol", K::string},
                         {"seq", K::integer},
                         {"bid", K::object, true, false, &kLevel},
                         {"ask", K::object, true, false, &kLevel},
                         {"spread", K::decimal, true},
                         {"mid", K::decimal, true},
                         {"ts", K::timestamp, true},
                         {"ts_ns", K::integer, true}}};
inline const Shape kDepth{
    {{"symbol", K::string}, {"seq", K::integer}, {"bids", K::levels}, {"asks", K::levels}}};
inline const Shape kFill{{{"trade_id", K::string},
                          {"price", K::decimal},
                          {"qty", K::decimal},
                          {"maker_order_id", K::string}}};
inline const Shape kOrder{{{"order_id", K::string},
                           {"client_order_id", K::string, false, true},
                           {"symbol", K::string},
                           {"side", K::string, false, false, nullptr, kSides},
                           {"type", K::string, false, false, nullptr, {"limit", "market"}},
                           {"tif", K::string, false, false, nullptr, {"gtc", "ioc", "fok"}},
                           {"price", K::decimal, false, true},
                           {"qty", K::decimal},
                           {"status",
                            K::string,
                            false,
                            false,
                            nullptr,
                            {"resting", "partially_filled", "filled", "cancelled"}},
                           {"filled_qty", K::decimal},
                           {"remaining_qty", K::decimal},
                           {"trades", K::objects, false, false, &kFill}}};
inline const Shape kLineError{{{"line", K::integer}, {"code", K::string}, {"message", K::string}}};
inline const Shape kIngest{{{"accepted", K::integer},
                            {"rejected", K::integer},
                            {"errors", K::objects, false, false, &kLineError}}};
/// POST /ingest cut short by a shutdown (503): the error and the report so far (ADR 020).
inline const Shape kIngestCut{{{"error", K::object, false, false, &kErrorDetail},
                               {"accepted", K::integer},
                               {"rejected", K::integer},
                               {"errors", K::objects, false, false, &kLineError}}};
}  // namespace rest

}  // namespace testing_support
