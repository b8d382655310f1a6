#pragma once
// Fixed-point price and quantity: integer counts of ticks and lots.
// The decimal meaning (tick size, lot size) lives in BookSpec; the book itself
// only ever compares and adds integers, so it never divides on the hot path.
// Thread-safety: value types.

#include <compare>
#include <cstdint>
#include <limits>

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

/// a + b, or the largest quantity when that would overflow (a running total
/// such as a ticker's volume saturates instead of wrapping).
constexpr Qty saturating_add(Qty a, Qty b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a.lots(), b.lots(), &sum)) {
    constexpr auto kLimits = std::numeric_limits<std::int64_t>();
    return Qty(b.lots() > 0 ? kLimits.max() : kLimits.min());
  }
  return Qty(sum);
}

/// A price level's aggregate quantity in lots. A level holds up to 2^32
/// orders of up to 2^63 - 1 lots each, so its total is 128-bit: exact however
/// many orders rest there (API.md "Arithmetic never wraps"). Stored as two
/// 64-bit words (8-byte aligned); a book's levels store it in 12 bytes
/// (detail::LevelTotal).
class LevelQty {
 public:
  __extension__ using Rep = __int128;
  __extension__ using URep = unsigned __int128;

  constexpr LevelQty() = default;
  /// Implicit: every order quantity is a level quantity.
  constexpr LevelQty(Qty q) : LevelQty(Rep{q.lots()}) {}  // NOLINT(google-explicit-constructor)
  constexpr explicit LevelQty(Rep lots)
      : lo_(static_cast<std::uint64_t>(lots)), hi_(static_cast<std::int64_t>(lots >> 64)) {}

  /// The raw lot count.
  constexpr Rep lots() const {
    return static_cast<Rep>((static_cast<URep>(static_cast<std::uint64_t>(hi_)) << 64) | lo_);
  }
  constexpr bool positive() const { return lots() > 0; }
  /// The total as an order quantity; only for totals known to fit (<= a Qty).
  constexpr Qty narrow() const { return Qty(static_cast<std::int64_t>(lots())); }

  friend constexpr bool operator==(LevelQty a, LevelQty b) { return a.lots() == b.lots(); }
  friend constexpr auto operator<=>(LevelQty a, LevelQty b) { return a.lots() <=> b.lots(); }
  constexpr LevelQty& operator+=(Qty q) { return *this = LevelQty(lots() + q.lots()); }
  constexpr LevelQty& operator-=(Qty q) { return *this = LevelQty(lots() - q.lots()); }

 private:
  std::uint64_t lo_ = 0;
  std::int64_t hi_ = 0;
};

}  // namespace ob
