// libFuzzer target over the WebSocket client-message parser (API.md "WebSocket").
//
// The input is one client text message. Every answer is either a request of
// a known type (channels and symbols non-empty for (un)subscribe) or a
// refusal with one of API.md's codes; nothing may crash or read past the text.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/ws_protocol.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text;
  text.reserve(size + simdjson::SIMDJSON_PADDING);  // as the connection reads it
  text.assign(reinterpret_cast<const char*>(data), size);
  api::ClientRequest req;
  if (auto refused = api::parse_client_message(text, req)) {
    const std::string_view c = refused->code;
    require(c == "invalid_json" || c == "bad_request" || c == "unknown_type");
    require(!refused->message.empty());
    return 0;
  }
  if (req.type != api::ClientRequest::Type::ping) {
    require(!req.channels.empty() && !req.symbols.empty());
  }
  return 0;
}
