#pragma once
// Error codes of the book and the decimal codec; names match API.md's codes.
// Thread-safety: value types.

#include <cstdint>
#include <string_view>

namespace ob {

/// Why an operation was refused. A refused operation changes nothing.
enum class ErrorCode : std::uint8_t {
  invalid_price,     ///< malformed, <= 0, out of range, or not a multiple of the tick
  invalid_quantity,  ///< malformed, <= 0, out of range, not a multiple of the lot, too large
  unknown_order,     ///< no resting order with that id
  duplicate_order,   ///< an order with that external id already rests
  mode_mismatch,     ///< the operation is of the wrong kind for the book's mode
  invalid_field,     ///< another malformed field (e.g. an empty external id, a bad spec)
  limit_exceeded,    ///< a configured limit (resting orders per book or per owner) is reached
  /// Never from the book itself: its owner cannot take a change now (its
  /// journal failed or is refusing writes); nothing was changed.
  unavailable,
};

/// The snake_case name, as in API.md error bodies.
constexpr std::string_view to_string(ErrorCode e) {
  switch (e) {
    case ErrorCode::invalid_price:
      return "invalid_price";
    case ErrorCode::invalid_quantity:
      return "invalid_quantity";
    case ErrorCode::unknown_order:
      return "unknown_order";
    case ErrorCode::duplicate_order:
      return "duplicate_order";
    case ErrorCode::mode_mismatch:
      return "mode_mismatch";
    case ErrorCode::invalid_field:
      return "invalid_field";
    case ErrorCode::limit_exceeded:
      return "limit_exceeded";
    case ErrorCode::unavailable:
      return "unavailable";
  }
  return "internal";
}

}  // namespace ob
