#pragma once
// IdMap: uint64 key -> uint32 value, open addressing with linear probing and
// backward-shift deletion (no tombstones, so probe lengths stay short under
// the add/cancel churn of a book). Key 0 is reserved as "empty".
//
// Keys may repeat when they are hashes of something longer (ExternalIds keys
// upstream names by their 64-bit hash): find(key, accept) and erase(key,
// value) then tell the entries apart by value.
// Thread-safety: not thread-safe: owned by one thread.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ob::detail {

class IdMap {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

  explicit IdMap(std::size_t capacity = 1024) { rehash(round_up(capacity)); }

  /// The value for `key`, or kNone.
  std::uint32_t find(std::uint64_t key) const {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.value;
      if (s.key == 0) return kNone;
    }
  }

  /// The value of the first entry under `key` that `accept(value)` confirms,
  /// or kNone.
  template <class Accept>
  std::uint32_t find(std::uint64_t key, const Accept& accept) const {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key && accept(s.value)) return s.value;
      if (s.key == 0) return kNone;
    }
  }

  /// Inserts an entry (its key absent, or told apart by value; see above).
  void insert(std::uint64_t key, std::uint32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    std::size_t i = home(key);
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{key, value};
    ++size_;
  }

  /// Replaces the value of a present key.
  void assign(std::uint64_t key, std::uint32_t value) {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) {
        slots_[i].value = value;
        return;
      }
    }
  }

  /// Removes a key known to be present.
  void erase(std::uint64_t key) {
    std::size_t i = home(key);
    while (slots_[i].key != key) i = (i + 1) & mask_;
    erase_at(i);
  }

  /// Removes the entry (key, value), known to be present.
  void erase(std::uint64_t key, std::uint32_t value) {
    std::size_t i = home(key);
    while (slots_[i].key != key || slots_[i].value != value) i = (i + 1) & mask_;
    erase_at(i);
  }

  /// Starts fetching the slot where a probe for `key` begins (a hint, no effect otherwise).
  void prefetch(std::uint64_t key) const { __builtin_prefetch(&slots_[home(key)]); }

  /// Makes room for `n` entries without rehashing again.
  void reserve(std::size_t n) {
    if (n * 2 > slots_.size()) rehash(round_up(n * 2));
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return slots_.size(); }
  void swap(IdMap& o) noexcept {
    slots_.swap(o.slots_);
    std::swap(mask_, o.mask_);
    std::swap(shift_, o.shift_);
    std::swap(size_, o.size_);
  }
  /// Bytes held by the table (for memory-per-order reports).
  std::size_t bytes() const { return slots_.capacity() * sizeof(Slot); }

  /// True when every entry is reachable from its home, with no empty slot in
  /// between: what backward-shift deletion must keep. O(capacity).
  bool chains_intact() const {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].key == 0) continue;
      for (std::size_t j = home(slots_[i].key); j != i; j = (j + 1) & mask_) {
        if (slots_[j].key == 0) return false;
      }
    }
    return true;
  }

  /// Calls f(key, value) for every entry (order unspecified).
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.key != 0) f(s.key, s.value);
    }
  }

 private:
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t value = 0;
  };

  void erase_at(std::size_t i) {
    // Backward shift: pull later entries of the cluster into the hole when
    // the hole lies between their home and their slot.
    for (std::size_t j = (i + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j].key);
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    --size_;
  }

  static std::size_t round_up(std::size_t n) {
    std::size_t c = 16;
    while (c < n) c *= 2;
    return c;
  }
  // Fibonacci hashing: keys in runs (sequential ids) spread over the table.
  std::size_t home(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void rehash(std::size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64;
    for (std::size_t c = capacity; c > 1; c >>= 1) --shift_;
    size_ = 0;
    for (const Slot& s : old) {
      if (s.key != 0) insert(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace ob::detail
