#pragma once
// The WebSocket protocol's client side (API.md "WebSocket", Client → server):
// what a client message may say, and its parser.
//
//   api::ClientRequest req;
//   if (auto refused = api::parse_client_message(text, req)) answer_error(*refused);
//
// Parsing is one simdjson On-Demand pass: the message must be one JSON object
// with no duplicate key (invalid_json); `type` a string among subscribe,
// unsubscribe, ping (else bad_request / unknown_type); `id` an integer;
// `channels` and `symbols` non-empty arrays of strings for (un)subscribe;
// `depth` an integer 1..5000 (API.md "Book depth"), and only with "book"
// among the channels, else bad_request; `max_hz` an integer 1..1000 (API.md
// "Max rate"), and not with "trades" or a "candles:I" channel, else bad_request.
// Unknown members are ignored. Channel and symbol names are not checked here.
// Thread-safety: parse_client_message keeps one simdjson parser per thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/publication.hpp"

namespace api {

/// A parsed client message (API.md "Client → server").
struct ClientRequest {
  enum class Type : std::uint8_t { subscribe, unsubscribe, ping };
  Type type = Type::ping;
  std::optional<std::int64_t> id;
  std::vector<std::string> channels;
  std::vector<std::string> symbols;
  std::optional<std::uint32_t> depth;   ///< a `book` subscription's window, when given
  std::optional<std::uint32_t> max_hz;  ///< at most this many messages per second per stream
};

using services::kMaxMaxHz;  // API.md "Max rate": the bounds of `max_hz`
using services::kMinMaxHz;

/// Why a client message is refused: API.md's error code and a message.
struct ClientError {
  std::string_view code;
  std::string message;
  std::optional<std::int64_t> id;
};

/// Parses `text` into `out`; the refusal when the message is not acceptable.
/// `text` must have simdjson's padding spare in its capacity (SIMDJSON_PADDING).
std::optional<ClientError> parse_client_message(const std::string& text, ClientRequest& out);

}  // namespace api
