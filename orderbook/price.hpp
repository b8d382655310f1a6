#pragma once
// Fixed-point price and quantity: integer counts of ticks and lots.
// The decimal meaning (tick size, lot size) lives in BookSpec; the book itself
// only ever compares and adds integers, so it never divides on the hot path.
// Thread-safety: value types.

#include <compare>
#include <cstdint>

namespace ob {

/// A price as a whole number of ticks (tick size from BookSpec).
class Price {
 public:
  /// Largest accepted price in ticks (2^62): keeps sums and window offsets free of overflow.
  static constexpr std::int64_t kMaxTicks = std::int64_t{1} << 62;

  constexpr Price() = default;
  constexpr explicit Price(std::int64_t ticks) : ticks_(ticks) {}

  /// The raw tick count.
  constexpr std::int64_t ticks() const { return ticks_; }
  /// True for a price a book accepts: 0 < ticks <= kMaxTicks.
  constexpr bool valid() const { return ticks_ > 0 && ticks_ <= kMaxTicks; }

  friend constexpr auto operator<=>(Price, Price) = default;

 private:
  std::int64_t ticks_ = 0;
};

/// A quantity as a whole number of lots (lot size from BookSpec).
class Qty {
 public:
  constexpr Qty() = default;
  constexpr explicit Qty(std::int64_t lots) : lots_(lots) {}

  /// The raw lot count.
  constexpr std::int64_t lots() const { return lots_; }
  /// True for an order quantity: strictly positive.
  constexpr bool positive() const { return lots_ > 0; }

  friend constexpr auto operator<=>(Qty, Qty) = default;
  friend constexpr Qty operator+(Qty a, Qty b) { return Qty(a.lots_ + b.lots_); }
  friend constexpr Qty operator-(Qty a, Qty b) { return Qty(a.lots_ - b.lots_); }
  constexpr Qty& operator+=(Qty o) {
    lots_ += o.lots_;
    return *this;
  }
  constexpr Qty& operator-=(Qty o) {
    lots_ -= o.lots_;
    return *this;
  }

 private:
  std::int64_t lots_ = 0;
};

/// The smaller of two quantities.
constexpr Qty min(Qty a, Qty b) {
  return a < b ? a : b;
}

}  // namespace ob
