#pragma once
// The W4 operation generator, exactly as specified in
// shared/peers/elixir/README.md ("W4 operation generator"): xorshift64*
// seeded with 0x9E3779B97F4A7C15, 60% passive adds, 35% cancels of a live id
// (swap-remove), 5% crossing adds; ids are 1, 2, ... in add order (the book
// under test must assign the same ids). Shared by W4 (actor) and W4b (library).
// Thread-safety: not thread-safe: a generator is owned by one thread.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace w4 {

inline constexpr std::uint64_t kSeed = 0x9E3779B97F4A7C15ull;
inline constexpr std::int64_t kMid = 10000;

/// xorshift64* (Vigna): the state keeps the unmultiplied value.
class XorShift64Star {
 public:
  explicit XorShift64Star(std::uint64_t seed = kSeed) : s_(seed) {}
  std::uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }

 private:
  std::uint64_t s_;
};

/// One W4 operation: an add (side 0 = buy, 1 = sell; `id` is the id the book
/// will assign) or a cancel of `id`.
struct Op {
  enum class Kind : std::uint8_t { add, cancel };
  Kind kind = Kind::add;
  std::uint8_t side = 0;
  bool crossing = false;  ///< an add from the crossing branch (priced through MID)
  std::int64_t price = 0;
  std::int64_t qty = 0;
  std::uint64_t id = 0;
};

/// Generates operations one at a time, in the reference order.
class Generator {
 public:
  explicit Generator(std::uint64_t seed = kSeed) : rng_(seed) {}

  Op next() {
    const std::uint64_t u = rng_.next() % 100;
    if (u < 60 || (u < 95 && live_.empty())) return add(false);
    if (u < 95) {
      const std::size_t idx = static_cast<std::size_t>(rng_.next() % live_.size());
      Op op;
      op.kind = Op::Kind::cancel;
      op.id = live_[idx];
      live_[idx] = live_.back();
      live_.pop_back();
      return op;
    }
    return add(true);
  }

 private:
  Op add(bool crossing) {
    Op op;
    op.crossing = crossing;
    op.side = static_cast<std::uint8_t>(rng_.next() % 2);  // draw order: side, off, qty
    const auto off = static_cast<std::int64_t>(rng_.next() % (crossing ? 10 : 50));
    op.qty = 1 + static_cast<std::int64_t>(rng_.next() % 100);
    const bool buy = op.side == 0;
    op.price = (buy != crossing) ? kMid - 1 - off : kMid + 1 + off;
    op.id = next_id_++;
    live_.push_back(op.id);
    return op;
  }

  XorShift64Star rng_;
  std::uint64_t next_id_ = 1;
  std::vector<std::uint64_t> live_;
};

/// The first `n` operations.
inline std::vector<Op> generate(std::size_t n, std::uint64_t seed = kSeed) {
  std::vector<Op> ops;
  ops.reserve(n);
  Generator g(seed);
  for (std::size_t i = 0; i < n; ++i) ops.push_back(g.next());
  return ops;
}

}  // namespace w4
