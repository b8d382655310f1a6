#pragma once
// Synthetic L3 streams for the order book benchmarks: an ITCH-like mix
// (48% add, 44% delete, 4% replace, 2% partial cancel, 2% execute) with price
// distances from a reference price mostly 0-15 ticks and a long tail to
// thousands, optionally drifting. The generator models the book (live ids,
// their sides, prices and quantities) so every operation is valid, and
// predicts the book-assigned ids (every add and replace takes the next one).
// Thread-safety: not thread-safe: owned by one thread.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <random>
#include <vector>

namespace obbench {

struct L3Op {
  enum class Kind : std::uint8_t { add, cancel, replace, reduce, execute };
  Kind kind = Kind::add;
  std::uint8_t side = 0;  // 0 buy, 1 sell
  std::int64_t price = 0;
  std::int64_t qty = 0;
  std::uint64_t id = 0;  // target (cancel/replace/reduce/execute) or assigned id (add)
};

struct L3Params {
  std::int64_t mid = 1'000'000;
  double drift_per_op = 0.0;   // ticks the reference price moves per operation
  int recent_cancel_pct = 50;  // deletes that hit one of the last 4096 live orders
};

class L3Generator {
 public:
  explicit L3Generator(std::uint64_t seed, L3Params p = {}) : rng_(seed), p_(p), mid_(p.mid) {}

  /// An add that rests (used to build the initial book).
  L3Op add() {
    mid_ += p_.drift_per_op;
    L3Op op;
    op.kind = L3Op::Kind::add;
    op.side = static_cast<std::uint8_t>(rng_() & 1);
    op.price = price(op.side);
    op.qty = 1 + static_cast<std::int64_t>(rng_() % 500);
    op.id = next_id_++;
    live_.push_back(Live{op.id, op.side, op.price, op.qty});
    return op;
  }

  /// The next operation of the ITCH-like mix.
  L3Op next() {
    const std::uint64_t u = rng_() % 100;
    if (u < 48 || live_.empty()) return add();
    mid_ += p_.drift_per_op;
    const std::size_t i = pick();
    Live& o = live_[i];
    L3Op op;
    op.id = o.id;
    op.side = o.side;
    if (u < 92) {
      op.kind = L3Op::Kind::cancel;
      remove(i);
    } else if (u < 96) {
      op.kind = L3Op::Kind::replace;
      op.price = price(o.side);
      op.qty = 1 + static_cast<std::int64_t>(rng_() % 500);
      const Live n{next_id_++, o.side, op.price, op.qty};
      remove(i);
      live_.push_back(n);
    } else {
      op.kind = u < 98 ? L3Op::Kind::reduce : L3Op::Kind::execute;
      op.qty = o.qty == 1
                   ? 1
                   : 1 + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(o.qty - 1));
      if (op.kind == L3Op::Kind::execute && rng_() % 2 == 0) op.qty = o.qty;  // full fill
      o.qty -= op.qty;
      if (o.qty == 0) remove(i);
    }
    return op;
  }

  std::size_t live() const { return live_.size(); }

 private:
  struct Live {
    std::uint64_t id;
    std::uint8_t side;
    std::int64_t price;
    std::int64_t qty;
  };

  // Distance from the reference: geometric-ish 0..15, 3% tail up to 5,000 ticks.
  std::int64_t price(std::uint8_t side) {
    std::int64_t d;
    if (rng_() % 100 < 3) {
      d = 16 + static_cast<std::int64_t>(rng_() % 5000);
    } else {
      d = std::min<std::int64_t>(
          15, std::countr_zero(rng_() | (1ull << 15)) * 2 + static_cast<std::int64_t>(rng_() % 2));
    }
    const auto m = static_cast<std::int64_t>(mid_);
    return side == 0 ? m - 1 - d : m + 1 + d;
  }
  std::size_t pick() {
    const std::size_t n = live_.size();
    if (static_cast<int>(rng_() % 100) < p_.recent_cancel_pct && n > 4096) {
      return n - 1 - static_cast<std::size_t>(rng_() % 4096);
    }
    return static_cast<std::size_t>(rng_() % n);
  }
  void remove(std::size_t i) {
    live_[i] = live_.back();
    live_.pop_back();
  }

  std::mt19937_64 rng_;
  L3Params p_;
  double mid_;
  std::uint64_t next_id_ = 1;
  std::vector<Live> live_;
};

}  // namespace obbench
