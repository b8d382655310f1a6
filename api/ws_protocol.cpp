#include "api/ws_protocol.hpp"

#include <simdjson.h>

#include <algorithm>
#include <string>
#include <utility>

#include "feeds/json_skim.hpp"
#include "feeds/unique_keys.hpp"
#include "services/publication.hpp"

namespace api {
namespace {

namespace od = simdjson::ondemand;

// simdjson errors that mean "well-formed JSON of the wrong shape".
bool is_type_error(simdjson::error_code e) {
  return e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_OUT_OF_RANGE ||
         e == simdjson::NUMBER_ERROR;
}

// Reads an array of strings; a non-string element is a bad_request.
simdjson::error_code read_strings(od::value v, std::vector<std::string>& out, bool& wrong_type) {
  od::array a;
  if (auto e = v.get_array().get(a)) {
    wrong_type = is_type_error(e);
    return wrong_type ? feeds::skim_json_value(v) : e;
  }
  for (auto element : a) {
    od::value item;
    SIMDJSON_TRY(std::move(element).get(item));
    std::string_view s;
    if (auto e = item.get_string().get(s)) {
      if (!is_type_error(e)) return e;
      wrong_type = true;
      SIMDJSON_TRY(feeds::skim_json_value(item));
      continue;
    }
    out.emplace_back(s);
  }
  return simdjson::SUCCESS;
}

}  // namespace

std::optional<ClientError> parse_client_message(const std::string& text, ClientRequest& out) {
  thread_local od::parser parser;  // one per worker thread: sessions parse inside callbacks
  auto invalid = [](simdjson::error_code e) {
    return ClientError{"invalid_json", std::string("malformed JSON: ") + simdjson::error_message(e),
                       std::nullopt};
  };
  od::document doc;
  if (auto e = parser.iterate(text.data(), text.size(), text.capacity()).get(doc)) {
    return invalid(e);
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj)) {
    if (is_type_error(e))
      return ClientError{"invalid_json", "expected a JSON object", std::nullopt};
    return invalid(e);
  }
  std::optional<std::string> type;
  bool type_wrong = false, id_wrong = false, channels_wrong = false, symbols_wrong = false;
  bool has_channels = false, has_symbols = false, depth_wrong = false, max_hz_wrong = false;
  feeds::UniqueKeys keys;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return invalid(e);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return invalid(e);
    if (!keys.add(key)) {
      return ClientError{"invalid_json", "duplicate key \"" + std::string(key) + "\"",
                         std::nullopt};
    }
    od::value v = field.value();
    simdjson::error_code e = simdjson::SUCCESS;
    if (key == "type") {
      std::string_view t;
      e = v.get_string().get(t);
      if (e == simdjson::SUCCESS) {
        type = std::string(t);
        type_wrong = false;
      } else if (is_type_error(e)) {
        type_wrong = true;
        e = feeds::skim_json_value(v);
      }
    } else if (key == "id") {
      std::int64_t id = 0;
      e = v.get_int64().get(id);
      if (e == simdjson::SUCCESS) {
        out.id = id;
        id_wrong = false;
      } else if (is_type_error(e)) {
        out.id.reset();
        id_wrong = true;
        e = feeds::skim_json_value(v);
      }
    } else if (key == "channels") {
      has_channels = true;
      out.channels.clear();
      e = read_strings(v, out.channels, channels_wrong);
    } else if (key == "depth") {
      std::int64_t depth = 0;
      e = v.get_int64().get(depth);
      depth_wrong = e != simdjson::SUCCESS || depth < services::kMinBookDepth ||
                    depth > services::kMaxBookDepth;
      if (!depth_wrong) {
        out.depth = static_cast<std::uint32_t>(depth);
      } else {
        out.depth.reset();
        if (is_type_error(e)) e = feeds::skim_json_value(v);
      }
    } else if (key == "max_hz") {
      std::int64_t hz = 0;
      e = v.get_int64().get(hz);
      max_hz_wrong = e != simdjson::SUCCESS || hz < kMinMaxHz || hz > kMaxMaxHz;
      if (!max_hz_wrong) {
        out.max_hz = static_cast<std::uint32_t>(hz);
      } else {
        out.max_hz.reset();
        if (is_type_error(e)) e = feeds::skim_json_value(v);
      }
    } else if (key == "symbols") {
      has_symbols = true;
      out.symbols.clear();
      e = read_strings(v, out.symbols, symbols_wrong);
    } else {
      e = feeds::skim_json_value(v);  // ignored, but it must be JSON
    }
    if (e) return invalid(e);
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return invalid(simdjson::TRAILING_CONTENT);
  }
  if (id_wrong) return ClientError{"bad_request", "id: must be an integer", std::nullopt};
  if (type_wrong || !type)
    return ClientError{"bad_request", "type: missing or not a string", out.id};
  if (*type == "ping") {
    out.type = ClientRequest::Type::ping;
    return std::nullopt;
  }
  if (*type == "subscribe") {
    out.type = ClientRequest::Type::subscribe;
  } else if (*type == "unsubscribe") {
    out.type = ClientRequest::Type::unsubscribe;
  } else {
    std::string message = "type: unknown message type \"";
    message += *type;
    message += '"';
    return ClientError{"unknown_type", std::move(message), out.id};
  }
  if (!has_channels || channels_wrong || out.channels.empty()) {
    return ClientError{"bad_request", "channels: must be a non-empty array of strings", out.id};
  }
  if (!has_symbols || symbols_wrong || out.symbols.empty()) {
    return ClientError{"bad_request", "symbols: must be a non-empty array of strings", out.id};
  }
  if (depth_wrong) {
    return ClientError{"bad_request",
                       "depth: must be an integer from " + std::to_string(services::kMinBookDepth) +
                           " to " + std::to_string(services::kMaxBookDepth),
                       out.id};
  }
  // API.md defines depth for book only: elsewhere it is a mistake worth saying.
  if (out.depth &&
      std::find(out.channels.begin(), out.channels.end(), "book") == out.channels.end()) {
    return ClientError{"bad_request", "depth: applies to the book channel only", out.id};
  }
  if (max_hz_wrong) {
    return ClientError{"bad_request",
                       "max_hz: must be an integer from " + std::to_string(kMinMaxHz) + " to " +
                           std::to_string(kMaxMaxHz),
                       out.id};
  }
  // Trades are never merged, and candles already come at most once a second.
  if (out.max_hz && std::any_of(out.channels.begin(), out.channels.end(), [](const auto& c) {
        return c == "trades" || c.starts_with("candles:");
      })) {
    return ClientError{"bad_request", "max_hz: applies to the top, ticker and book channels only",
                       out.id};
  }
  return std::nullopt;
}

}  // namespace api
