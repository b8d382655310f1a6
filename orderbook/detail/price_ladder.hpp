#pragma once
// PriceLadder: one side's price levels, best first, O(1) at the top.
//
// Levels are addressed by a key where smaller is better on both sides (asks:
// +ticks, bids: -ticks). Keys inside a window of kWindow ticks starting at
// `lo_` live in a direct array indexed by offset, with a two-level bitmap for
// find-next-level in O(1); keys beyond the window (worse than every window key)
// live in a std::map. The window follows the best price: it is re-placed when
// a new best falls before it, when the best drifts past its middle, or when it
// runs empty while far levels remain - so drifting prices cost an occasional
// O(levels) re-placement, never a permanent slow path. See
// docs/decisions/002-orderbook-hot-path.md.
// Thread-safety: not thread-safe: owned by one thread.

#include <bit>
#include <cassert>
#include <cstdint>
#include <map>
#include <vector>

#include "orderbook/price.hpp"

namespace ob::detail {

inline constexpr std::uint32_t kNil = 0xFFFFFFFFu;

/// A level's exact total (a LevelQty) in 12 bytes, so that a Level is 32
/// bytes, two to a cache line: at most 2^32 orders of < 2^63 lots each sum
/// to < 2^95, so the high word needs only 32 bits.
class [[gnu::packed, gnu::aligned(4)]] LevelTotal {
 public:
  /// The largest total one holds (2^95 - 1 lots).
  static constexpr LevelQty::Rep kMaxLots = (LevelQty::Rep{1} << 95) - 1;

  LevelTotal() = default;
  LevelTotal(LevelQty q) {
    set(q.lots());
  }  // NOLINT(google-explicit-constructor)
  LevelTotal(Qty q) {
    set(q.lots());
  }  // NOLINT(google-explicit-constructor)
  operator LevelQty() const {
    return LevelQty(lots());
  }  // NOLINT(google-explicit-constructor)

  LevelQty::Rep lots() const {
    const auto hi = static_cast<LevelQty::URep>(static_cast<LevelQty::Rep>(hi_));
    return static_cast<LevelQty::Rep>((hi << 64) | lo_);
  }
  bool positive() const {
    return lots() > 0;
  }
  /// The total as an order quantity; only for totals known to fit (<= a Qty).
  Qty narrow() const {
    return Qty(static_cast<std::int64_t>(lo_));
  }
  LevelTotal& operator+=(Qty q) {
    set(lots() + q.lots());
    return *this;
  }
  LevelTotal& operator-=(Qty q) {
    set(lots() - q.lots());
    return *this;
  }
  friend bool operator==(const LevelTotal& a, const LevelQty& b) {
    return a.lots() == b.lots();
  }
  friend auto operator<=>(const LevelTotal& a, const LevelQty& b) {
    return a.lots() <=> b.lots();
  }

 private:
  void set(LevelQty::Rep v) {
    lo_ = static_cast<std::uint64_t>(v);
    hi_ = static_cast<std::int32_t>(v >> 64);
    assert(lots() == v);  // within 2^95, as argued above
  }
  std::uint64_t lo_ = 0;
  std::int32_t hi_ = 0;
};
static_assert(sizeof(LevelTotal) == 12);

/// One aggregated price level with its intrusive FIFO of orders (pool indices).
struct Level {
  std::int64_t key = 0;  // price key: asks +ticks, bids -ticks
  LevelTotal total;      // exact: never overflows, however many orders rest here
  std::uint32_t count = 0;
  std::uint32_t head = kNil;  // oldest order; reused as the free-list link
  std::uint32_t tail = kNil;
};
static_assert(sizeof(Level) == 32, "two levels to a cache line");

class PriceLadder {
 public:
  static constexpr int kWindowBits = 12;
  static constexpr std::int64_t kWindow = std::int64_t{1} << kWindowBits;  // 4096 ticks
  static constexpr int kWords = static_cast<int>(kWindow / 64);
  static_assert(kWords <= 64, "one summary word");

  PriceLadder() : slots_(static_cast<std::size_t>(kWindow), kNil) { scratch_.reserve(64); }

  /// The level with `key`, or kNil.
  std::uint32_t find(std::int64_t key) const {
    const std::uint64_t off = offset(key);
    if (off < static_cast<std::uint64_t>(kWindow)) {
      return test(off) ? slots_[off] : kNil;
    }
    if (key < lo_ || far_.empty()) return kNil;
    auto it = far_.find(key);
    return it == far_.end() ? kNil : it->second;
  }

  /// Creates the (absent) level `key`, empty, and returns its index.
  std::uint32_t insert(std::int64_t key) {
    const std::uint32_t idx = allocate(key);
    if (count_ == 0) {
      lo_ = key - kWindow / 4;
    } else if (key < lo_) {
      recenter(key - kWindow / 4);  // a new best before the window
    }
    ++count_;
    const std::uint64_t off = offset(key);
    if (off < static_cast<std::uint64_t>(kWindow)) {
      place(off, idx);
    } else {
      far_.emplace(key, idx);
    }
    if (best_ == kNil || key < levels_[best_].key) best_ = idx;
    return idx;
  }

  /// Removes level `idx` (its orders must be gone already).
  void erase(std::uint32_t idx) {
    const std::int64_t key = levels_[idx].key;
    const std::uint64_t off = offset(key);
    if (off < static_cast<std::uint64_t>(kWindow)) {
      unplace(off);
    } else {
      far_.erase(key);
    }
    release(idx);
    --count_;
    if (idx != best_) return;
    const int first = first_set();
    if (first >= 0) {
      best_ = slots_[static_cast<std::size_t>(first)];
      // The best drifted into the far half: move the window with it.
      if (first > kWindow / 2) recenter(levels_[best_].key - kWindow / 4);
    } else if (!far_.empty()) {
      best_ = far_.begin()->second;
      recenter(far_.begin()->first - kWindow / 4);
    } else {
      best_ = kNil;
    }
  }

  /// The best level, or kNil when the side is empty.
  std::uint32_t best() const { return best_; }

  /// The next worse level after `idx`, or kNil.
  std::uint32_t next(std::uint32_t idx) const { return after(levels_[idx].key); }

  /// The best level with a key greater than `key` (which need not be a level), or kNil.
  /// O(1) inside the window (bitmap scan), O(log far) beyond it.
  std::uint32_t after(std::int64_t key) const {
    if (count_ == 0) return kNil;
    if (key < lo_) return best_;  // every level's key is >= lo_
    const std::uint64_t off = offset(key);
    if (off < static_cast<std::uint64_t>(kWindow)) {
      const int n = next_set(static_cast<int>(off));
      if (n >= 0) return slots_[static_cast<std::size_t>(n)];
      return far_.empty() ? kNil : far_.begin()->second;
    }
    auto it = far_.upper_bound(key);
    return it == far_.end() ? kNil : it->second;
  }

  Level& operator[](std::uint32_t idx) { return levels_[idx]; }
  const Level& operator[](std::uint32_t idx) const { return levels_[idx]; }

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  /// Levels kept outside the window (for tests and reports).
  std::size_t far_size() const { return far_.size(); }
  /// Approximate bytes held (for memory-per-order reports).
  std::size_t bytes() const {
    return levels_.capacity() * sizeof(Level) + slots_.capacity() * sizeof(std::uint32_t) +
           far_.size() * 48;
  }

 private:
  std::uint64_t offset(std::int64_t key) const {
    return static_cast<std::uint64_t>(key) - static_cast<std::uint64_t>(lo_);
  }
  bool test(std::uint64_t off) const { return (bits_[off >> 6] >> (off & 63)) & 1u; }
  void place(std::uint64_t off, std::uint32_t idx) {
    slots_[off] = idx;
    bits_[off >> 6] |= std::uint64_t{1} << (off & 63);
    summary_ |= std::uint64_t{1} << (off >> 6);
  }
  void unplace(std::uint64_t off) {
    std::uint64_t& w = bits_[off >> 6];
    w &= ~(std::uint64_t{1} << (off & 63));
    if (w == 0) summary_ &= ~(std::uint64_t{1} << (off >> 6));
  }
  int first_set() const {
    if (summary_ == 0) return -1;
    const int w = std::countr_zero(summary_);
    return w * 64 + std::countr_zero(bits_[w]);
  }
  int next_set(int off) const {
    const int w = off >> 6;
    const int b = off & 63;
    const std::uint64_t m = b == 63 ? 0 : bits_[w] & (~std::uint64_t{0} << (b + 1));
    if (m != 0) return w * 64 + std::countr_zero(m);
    const std::uint64_t s = w == 63 ? 0 : summary_ & (~std::uint64_t{0} << (w + 1));
    if (s == 0) return -1;
    const int w2 = std::countr_zero(s);
    return w2 * 64 + std::countr_zero(bits_[w2]);
  }

  // Moves the window to start at new_lo: window levels now outside go to the
  // far map (they are all worse than the new window), far levels now inside
  // come in. Cost: O(levels moved + kWords).
  void recenter(std::int64_t new_lo) {
    scratch_.clear();
    for (int w = 0; w < kWords; ++w) {
      for (std::uint64_t bits = bits_[w]; bits != 0; bits &= bits - 1) {
        scratch_.push_back(slots_[static_cast<std::size_t>(w * 64 + std::countr_zero(bits))]);
      }
      bits_[w] = 0;
    }
    summary_ = 0;
    lo_ = new_lo;
    for (std::uint32_t idx : scratch_) {
      const std::uint64_t off = offset(levels_[idx].key);
      if (off < static_cast<std::uint64_t>(kWindow)) {
        place(off, idx);
      } else {
        assert(levels_[idx].key >= lo_ + kWindow);
        far_.emplace(levels_[idx].key, idx);
      }
    }
    for (auto it = far_.begin(); it != far_.end() && it->first < lo_ + kWindow;) {
      assert(it->first >= lo_);
      place(offset(it->first), it->second);
      it = far_.erase(it);
    }
  }

  std::uint32_t allocate(std::int64_t key) {
    std::uint32_t idx;
    if (free_ != kNil) {
      idx = free_;
      free_ = levels_[idx].head;
    } else {
      idx = static_cast<std::uint32_t>(levels_.size());
      levels_.emplace_back();
    }
    levels_[idx] = Level{key, Qty(0), 0, kNil, kNil};
    return idx;
  }
  void release(std::uint32_t idx) {
    levels_[idx].head = free_;
    free_ = idx;
  }

  std::vector<Level> levels_;
  std::uint32_t free_ = kNil;
  std::vector<std::uint32_t> slots_;
  std::uint64_t bits_[kWords] = {};
  std::uint64_t summary_ = 0;
  std::int64_t lo_ = 0;
  std::map<std::int64_t, std::uint32_t> far_;
  std::uint32_t best_ = kNil;
  std::size_t count_ = 0;
  std::vector<std::uint32_t> scratch_;
};

}  // namespace ob::detail
