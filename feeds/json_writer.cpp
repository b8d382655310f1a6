#include "feeds/json_writer.hpp"

#include <fmt/format.h>

#include <cassert>
#include <charconv>
#include <ctime>

#include "orderbook/decimal.hpp"

namespace feeds {

void append_json_string(std::string& out, std::string_view s) {
  // Hand-written: simdjson only parses, fmt's "{:?}" escapes are C++'s, not
  // JSON's, and Boost.JSON is not header-only (its src.hpp may be compiled into
  // one library of a program only). RFC 8259 §7 needs no more than this.
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out += '\\';
    switch (c) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '\n':
        out += 'n';
        break;
      case '\r':
        out += 'r';
        break;
      case '\t':
        out += 't';
        break;
      case '\b':
        out += 'b';
        break;
      case '\f':
        out += 'f';
        break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void JsonWriter::before_value() {
  const std::uint64_t bit = std::uint64_t{1} << depth_;
  if (depth_ == 0) {
    assert(!wrote_value_ && "one JsonWriter writes one value");
    wrote_value_ = true;
    return;
  }
  if (in_object_ & bit) {
    assert(after_key_ && "a value inside an object needs its key first");
    after_key_ = false;
    return;
  }
  if (nonempty_ & bit) out_ += ',';
  nonempty_ |= bit;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  const std::uint64_t bit = std::uint64_t{1} << depth_;
  assert(depth_ > 0 && (in_object_ & bit) && !after_key_);
  if (nonempty_ & bit) out_ += ',';
  nonempty_ |= bit;
  append_json_string(out_, name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  ++depth_;
  assert(depth_ < 64);
  const std::uint64_t bit = std::uint64_t{1} << depth_;
  nonempty_ &= ~bit;
  in_object_ |= bit;
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  assert(depth_ > 0 && (in_object_ & (std::uint64_t{1} << depth_)) && !after_key_);
  out_ += '}';
  --depth_;
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  ++depth_;
  assert(depth_ < 64);
  const std::uint64_t bit = std::uint64_t{1} << depth_;
  nonempty_ &= ~bit;
  in_object_ &= ~bit;
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  assert(depth_ > 0 && !(in_object_ & (std::uint64_t{1} << depth_)));
  out_ += ']';
  --depth_;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
  before_value();
  append_json_string(out_, s);
  return *this;
}

JsonWriter& JsonWriter::plain_string(std::string_view s) {
  before_value();
  out_ += '"';
  out_ += s;
  out_ += '"';
  return *this;
}

namespace {
template <class Int>
void append_integer(std::string& out, Int v) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, v);
  out.append(digits, r.ptr);
}
}  // namespace

JsonWriter& JsonWriter::number(std::int64_t v) {
  before_value();
  append_integer(out_, v);
  return *this;
}

JsonWriter& JsonWriter::number(std::uint64_t v) {
  before_value();
  append_integer(out_, v);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::price(ob::Price p, const ob::BookSpec& spec) {
  before_value();
  out_ += '"';
  ob::append_price(out_, p, spec);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::qty(ob::LevelQty q, const ob::BookSpec& spec) {
  before_value();
  out_ += '"';
  ob::append_qty(out_, q, spec);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::time_members(std::int64_t ts_ns, std::string_view name,
                                     std::string_view ns_name) {
  if (ts_ns == 0) {
    key(name).null();
    return key(ns_name).null();
  }
  key(name);
  before_value();
  out_ += '"';
  out_ += format_rfc3339(ts_ns);
  out_ += '"';
  return member(ns_name, ts_ns);
}

std::string format_rfc3339(std::int64_t ts_ns) {
  const auto secs = static_cast<std::time_t>(ts_ns / 1'000'000'000);
  const std::int64_t micros = (ts_ns % 1'000'000'000) / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

}  // namespace feeds
