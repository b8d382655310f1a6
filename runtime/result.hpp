#pragma once
// Result<T, E>: a value or an error, for operations that can fail in ways the
// caller must handle (calls, starts). A small stand-in for C++23 std::expected.
// Thread-safety: a value type.

#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace rt {

/// Marks the error alternative when constructing a Result.
template <class E>
struct Err {
  E error;
};
template <class E>
Err(E) -> Err<E>;

/// An empty success value, for operations that succeed with nothing to say.
struct Ok {
  friend bool operator==(Ok, Ok) = default;
};

template <class T, class E>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  template <class E2>
  Result(Err<E2> err) : v_(std::in_place_index<1>, E(std::move(err.error))) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value; throws std::logic_error when this holds an error.
  T& value() & { return check(), std::get<0>(v_); }
  const T& value() const& { return check(), std::get<0>(v_); }
  T&& value() && { return check(), std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  /// The error; precondition: !ok().
  const E& error() const { return std::get<1>(v_); }

 private:
  void check() const {
    if (!ok()) throw std::logic_error("rt::Result: value() on an error");
  }
  std::variant<T, E> v_;
};

}  // namespace rt
