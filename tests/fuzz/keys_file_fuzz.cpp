// libFuzzer target over what access control reads from outside: the keys
// file (--api-keys) and request targets (?key= on /ws, redacted for logs).
//
// parse_keys answers keys or an error naming the line, never throws; a
// target's key, however written, never survives redaction.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/access.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto keys = api::AccessControl::parse_keys(text)) {
    std::size_t lines = 1;
    for (char c : text) lines += c == '\n';
    require(keys->key_count() <= lines);
  } else {
    require(!keys.error().empty());
  }
  const std::string redacted = api::redact_target(text);
  if (auto key = api::query_value(redacted, "key")) {
    require(key->empty() || *key == "***");
  }
  (void)api::is_loopback_host(text);
  return 0;
}
