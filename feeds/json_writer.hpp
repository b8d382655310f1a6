#pragma once
// The one place marketd writes JSON text: NDJSON event lines, WebSocket frames
// and REST bodies all go through JsonWriter, which owns the separators and the
// string escapes, so no caller can write a double comma or an unescaped quote.
// Zero-copy into a caller's std::string; no allocation beyond its growth.
// Thread-safety: a JsonWriter is used by one thread; the free functions are pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "orderbook/book_spec.hpp"
#include "orderbook/price.hpp"

namespace feeds {

/// Appends `s` as a JSON string literal: quotes, `"` `\` and control
/// characters escaped, other bytes (UTF-8) as they are.
void append_json_string(std::string& out, std::string_view s);

/// Writes one JSON value (objects and arrays nested up to 64 deep) into `out`.
/// Inside an object every value is preceded by key(); the writer inserts the
/// commas and colons. Misuse (a value without a key in an object, unbalanced
/// ends) is a programming error caught by assertions in debug builds.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  /// The name of the next member of the current object.
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view s);  ///< escaped
  JsonWriter& number(std::int64_t v);
  JsonWriter& number(std::uint64_t v);
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  /// A price as an exact decimal string at the spec's tick scale.
  JsonWriter& price(ob::Price p, const ob::BookSpec& spec);
  /// A quantity (an order's, or a 128-bit level total) as an exact decimal
  /// string at the spec's lot scale.
  JsonWriter& qty(ob::LevelQty q, const ob::BookSpec& spec);
  /// An already formatted decimal (or other text known to need no escapes), quoted.
  JsonWriter& plain_string(std::string_view s);

  // Members: key(name) followed by the value.
  JsonWriter& member(std::string_view name, std::string_view s) { return key(name).string(s); }
  JsonWriter& member(std::string_view name, const char* s) { return key(name).string(s); }
  JsonWriter& member(std::string_view name, std::int64_t v) { return key(name).number(v); }
  JsonWriter& member(std::string_view name, std::uint64_t v) { return key(name).number(v); }
  JsonWriter& member(std::string_view name, int v) { return key(name).number(std::int64_t{v}); }
  JsonWriter& member(std::string_view name, bool v) { return key(name).boolean(v); }
  /// `null` when absent.
  JsonWriter& member(std::string_view name, std::optional<std::int64_t> v) {
    return v ? member(name, *v) : key(name).null();
  }
  JsonWriter& price_member(std::string_view name, std::optional<ob::Price> p,
                           const ob::BookSpec& spec) {
    key(name);
    return p ? price(*p, spec) : null();
  }
  JsonWriter& qty_member(std::string_view name, std::optional<ob::LevelQty> q,
                         const ob::BookSpec& spec) {
    key(name);
    return q ? qty(*q, spec) : null();
  }
  /// `"ts":"2026-11-21T10:00:00.123456Z","ts_ns":N` (both null when ts_ns == 0),
  /// or under other names (`"start"`, `"start_ns"`).
  JsonWriter& time_members(std::int64_t ts_ns, std::string_view name = "ts",
                           std::string_view ns_name = "ts_ns");

  /// True once every container begun has ended.
  bool complete() const { return depth_ == 0 && wrote_value_; }

 private:
  void before_value();

  std::string& out_;
  std::uint64_t nonempty_ = 0;   // bit d: the container at depth d has an element
  std::uint64_t in_object_ = 0;  // bit d: the container at depth d is an object
  unsigned depth_ = 0;
  bool after_key_ = false;
  bool wrote_value_ = false;
};

/// RFC 3339 UTC with microseconds: `2026-11-21T10:00:00.123456Z`.
std::string format_rfc3339(std::int64_t ts_ns);

}  // namespace feeds
