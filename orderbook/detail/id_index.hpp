#pragma once
// IdIndex: order id -> pool slot in O(1), tuned for ids handed out in sequence.
//
// A direct-mapped ring of 4-byte slots indexed by `id & mask` holds recent
// ids: consecutive ids take consecutive slots, so adds stream through memory
// and a lookup is one small read next to other recent ids. When a new id maps
// onto a slot still held by a live older order (ids a ring apart), the older
// one moves to an overflow hash map (IdMap, mixed hash), so long-lived orders
// never form the probe clusters plain identity hashing would. The ring doubles
// when the overflow grows past an eighth of it.
//
// The ring stores no ids: callers pass `id_of(slot)` so a hit is confirmed
// against the order itself (which the caller is about to touch anyway).
// Thread-safety: not thread-safe: owned by one thread.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "orderbook/detail/id_map.hpp"

namespace ob::detail {

class IdIndex {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

  explicit IdIndex(std::size_t expected = 0) {
    std::size_t n = 1u << 10;  // 4 KiB for a quiet book; grows with its orders
    while (n < expected * 2) n *= 2;
    ring_.assign(n, kNone);
    mask_ = n - 1;
  }

  /// The slot of `id`, or kNone.
  template <class IdOf>
  std::uint32_t find(std::uint64_t id, const IdOf& id_of) const {
    const std::uint32_t s = ring_[id & mask_];
    if (s != kNone && id_of(s) == id) return s;
    // Id 0 is never assigned (and is IdMap's empty marker).
    return overflow_.size() == 0 || id == 0 ? kNone : overflow_.find(id);
  }

  /// Starts fetching the ring slot of `id` (a hint, no effect otherwise).
  void prefetch(std::uint64_t id) const { __builtin_prefetch(&ring_[id & mask_]); }

  /// Adds an id known to be absent.
  template <class IdOf>
  void insert(std::uint64_t id, std::uint32_t slot, const IdOf& id_of) {
    std::uint32_t& r = ring_[id & mask_];
    if (r != kNone) {
      overflow_.insert(id_of(r), r);  // the older order moves aside
      if (overflow_.size() * 8 > ring_.size()) {
        r = slot;
        ++size_;
        grow(id_of);
        return;
      }
    }
    r = slot;
    ++size_;
  }

  /// Removes an id known to be present at `slot`.
  void erase(std::uint64_t id, std::uint32_t slot) {
    std::uint32_t& r = ring_[id & mask_];
    if (r == slot) {
      r = kNone;
    } else {
      overflow_.erase(id);
    }
    --size_;
  }

  std::size_t size() const { return size_; }
  std::size_t bytes() const { return ring_.capacity() * sizeof(std::uint32_t) + overflow_.bytes(); }

 private:
  template <class IdOf>
  void grow(const IdOf& id_of) {
    std::vector<std::uint32_t> old;
    old.swap(ring_);
    ring_.assign(old.size() * 2, kNone);
    mask_ = ring_.size() - 1;
    IdMap spill;
    spill.swap(overflow_);
    auto put = [&](std::uint64_t id, std::uint32_t slot) {
      std::uint32_t& r = ring_[id & mask_];
      if (r == kNone) {
        r = slot;
      } else if (id_of(r) < id) {  // keep the newer id in the ring
        overflow_.insert(id_of(r), r);
        r = slot;
      } else {
        overflow_.insert(id, slot);
      }
    };
    for (std::uint32_t slot : old) {
      if (slot != kNone) put(id_of(slot), slot);
    }
    spill.for_each([&](std::uint64_t id, std::uint32_t slot) { put(id, slot); });
  }

  std::vector<std::uint32_t> ring_;
  std::size_t mask_ = 0;
  IdMap overflow_{16};
  std::size_t size_ = 0;
};

}  // namespace ob::detail
