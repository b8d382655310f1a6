#pragma once
// The byte codec the services' durable formats share (journal records, book
// snapshots): little-endian integers, strings as u32 length + bytes, and a
// reader that checks every length against what is left, so damaged bytes are
// an error, never a crash or an allocation the input cannot justify.
// Thread-safety: functions and a reader used by one thread.

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/record.hpp"

namespace services::detail {

inline void put_u8(std::string& out, std::uint8_t v) {
  out.push_back(static_cast<char>(v));
}
inline void put_u32(std::string& out, std::uint32_t v) {
  storage::put_u32(out, v);
}
inline void put_u64(std::string& out, std::uint64_t v) {
  storage::put_u64(out, v);
}
inline void put_i64(std::string& out, std::int64_t v) {
  storage::put_u64(out, static_cast<std::uint64_t>(v));
}
inline void put_str(std::string& out, std::string_view s) {
  storage::put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}
/// An enum as one byte.
template <class E>
void put_enum(std::string& out, E e) {
  put_u8(out, static_cast<std::uint8_t>(e));
}

/// Reads bytes front to back. The first failure sticks (later reads return
/// zeros and empty strings), so a decoder reads all its fields and asks error() once.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : rest_(bytes) {}

  std::uint8_t u8() { return take(1) ? static_cast<std::uint8_t>(last_[0]) : 0; }
  std::uint32_t u32() { return take(4) ? storage::get_u32(last_.data()) : 0; }
  std::uint64_t u64() { return take(8) ? storage::get_u64(last_.data()) : 0; }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::string str() {
    const std::uint32_t n = u32();
    return take(n) ? std::string(last_) : std::string();
  }
  /// An enum whose values are 0..max.
  template <class E>
  E enumerated(E max) {
    const std::uint8_t v = u8();
    if (v > static_cast<std::uint8_t>(max)) fail("an enumeration out of range");
    return static_cast<E>(v);
  }
  /// A count of items of at least `min_bytes` each: refused (0) when the bytes left cannot hold
  /// them.
  std::uint64_t count(std::size_t min_bytes, std::string_view what) {
    const std::uint64_t n = u64();
    if (n > left() / min_bytes) {
      fail(fmt::format("{} {} claimed in {} bytes", n, what, left()));
      return 0;
    }
    return n;
  }
  void fail(std::string why) {
    if (!error_) error_ = std::move(why);
  }
  /// What went wrong, including bytes left over.
  std::optional<std::string> error() const {
    if (error_) return error_;
    if (!rest_.empty()) return fmt::format("{} bytes after the end", rest_.size());
    return std::nullopt;
  }
  bool failed() const { return error_.has_value(); }
  std::size_t left() const { return rest_.size(); }

 private:
  bool take(std::size_t n) {
    if (error_) return false;
    if (rest_.size() < n) {
      fail(fmt::format("truncated: {} bytes wanted, {} left", n, rest_.size()));
      return false;
    }
    last_ = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }

  std::string_view rest_;
  std::string_view last_;
  std::optional<std::string> error_;
};

}  // namespace services::detail
