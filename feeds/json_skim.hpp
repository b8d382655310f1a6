#pragma once
// Checking the JSON values nobody reads. simdjson On-Demand skips a value it
// is not asked for without looking at it, so `{"type":"ping","x":trwe}` would
// pass for an object. Every parser of outside text (NDJSON ingest lines, REST
// bodies, WebSocket messages) hands each value it does not read to
// skim_json_value, so that text that is not JSON is invalid_json whichever
// member the damage is in (API.md). Raw control characters in strings are
// already refused by simdjson's stage 1.
// Thread-safety: free functions on the caller's document.

#include <simdjson.h>

namespace feeds {

/// Nesting accepted inside a value nobody reads; deeper is DEPTH_ERROR.
inline constexpr int kMaxSkimDepth = 64;

/// Checks a value nobody reads: well-formed, nested at most kMaxSkimDepth
/// deep (`depth` is the value's own level, 1 for a member of the top object).
simdjson::error_code skim_json_value(simdjson::ondemand::value v, int depth = 1);

/// True when `e`, from reading `v` as a number, only means the integer is
/// past 64 bits: simdjson 3.0 refuses those, but they are JSON all the same.
bool is_big_integer(simdjson::ondemand::value& v, simdjson::error_code e);

}  // namespace feeds
