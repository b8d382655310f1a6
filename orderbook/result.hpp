#pragma once
// Result<T>: a value or an ErrorCode (a small std::expected, which g++ 12 lacks).
// Status is Result<void>.
// Thread-safety: value types.

#include <cassert>
#include <type_traits>
#include <utility>

#include "orderbook/error.hpp"

namespace ob {

/// Either a T or the ErrorCode saying why there is none.
template <class T>
class [[nodiscard]] Result {
  static_assert(std::is_default_constructible_v<T>, "Result<T> keeps a default T on error");

 public:
  Result(T value) : value_(std::move(value)) {}   // NOLINT: implicit, like expected
  Result(ErrorCode e) : error_(e), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  /// The error; only meaningful when !ok().
  ErrorCode error() const { return error_; }

  const T& value() const {
    assert(ok_);
    return value_;
  }
  T& value() {
    assert(ok_);
    return value_;
  }
  const T& operator*() const { return value(); }
  T& operator*() { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  T value_{};
  ErrorCode error_{};
  bool ok_ = true;
};

/// Success or an ErrorCode.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(ErrorCode e) : error_(e), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  ErrorCode error() const { return error_; }

 private:
  ErrorCode error_{};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace ob
