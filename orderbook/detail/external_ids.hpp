#pragma once
// ExternalIds: a book's upstream (string) order ids, by order slot.
//
// Each order slot that holds an upstream order keeps its name in `names_`
// (std::string: SSO keeps ids up to 15 bytes inline; names are copied, never
// moved, so each slot's buffer is reused and long ids stop allocating once
// warm). The index
// is an IdMap from the name's 64-bit hash to the slot: flat 16-byte entries,
// linear probing, backward-shift deletion. A hit is confirmed by comparing
// the slot's name, so equal hashes of different names are told apart.
// Replaces a node-based std::unordered_map whose lookups missed the cache
// several times each once 1,000 books' maps outgrew it (docs/decisions/002).
//
// Names of orders removed by the last operation stay readable (retired) until
// clear_retired(), so trades can report their makers.
//
// `Hash` is a parameter only so tests can force collisions.
// Thread-safety: not thread-safe: owned by one thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "orderbook/detail/id_map.hpp"

namespace ob::detail {

template <class Hash = std::hash<std::string_view>>
class ExternalIds {
 public:
  static constexpr std::uint32_t kNone = IdMap::kNone;

  /// The index key of a name (never 0: IdMap's empty marker).
  static std::uint64_t hash(std::string_view name) {
    const auto h = static_cast<std::uint64_t>(Hash{}(name));
    return h == 0 ? 1 : h;
  }

  /// The slot holding `name` (whose hash is `h`), or kNone.
  std::uint32_t find(std::string_view name, std::uint64_t h) const {
    return index_.find(h, [&](std::uint32_t s) { return std::string_view(names_[s]) == name; });
  }
  std::uint32_t find(std::string_view name) const { return find(name, hash(name)); }

  /// Starts fetching the index slot a find for hash `h` reads first (a hint).
  void prefetch(std::uint64_t h) const { index_.prefetch(h); }

  /// Names the order in `slot` (which holds no name); `h` = hash(name).
  void attach(std::uint32_t slot, std::string_view name, std::uint64_t h) {
    if (names_.size() <= slot) names_.resize(slot + 1);
    names_[slot].assign(name.data(), name.size());
    index_.insert(h, slot);
  }

  /// Moves the retired name of `id` back onto `slot` (an order that kept its
  /// id but changed slot, e.g. modify); false if `id` was not retired.
  bool reattach(std::uint32_t slot, std::uint64_t id) {
    for (std::size_t k = 0; k < retired_n_; ++k) {
      if (retired_[k].id != id) continue;
      if (names_.size() <= slot) names_.resize(slot + 1);
      names_[slot].assign(retired_[k].name);
      retired_[k].id = 0;
      index_.insert(hash(names_[slot]), slot);
      return true;
    }
    return false;
  }

  /// Removes the name of order `id` in `slot` from the index; it stays
  /// readable through retired_name(id) until clear_retired().
  void retire(std::uint32_t slot, std::uint64_t id) {
    std::string& name = names_[slot];
    index_.erase(hash(name), slot);
    // Copies, not moves: every buffer keeps its capacity, so long ids stop
    // allocating once each slot and retired entry has seen one.
    push_retired(id).name.assign(name);
    name.clear();
  }

  /// Records the name of an order that never rested (filled at once).
  void retire_unattached(std::uint64_t id, std::string_view name) {
    push_retired(id).name.assign(name.data(), name.size());
  }

  /// Makes room for names in slots below `slots`, `names` of them in the index.
  void reserve(std::size_t slots, std::size_t names) {
    names_.reserve(slots);
    index_.reserve(names);
  }

  /// Forgets the retired names (at the start of each operation).
  void clear_retired() { retired_n_ = 0; }

  /// The name in `slot` (empty if none).
  std::string_view name(std::uint32_t slot) const {
    return slot < names_.size() ? std::string_view(names_[slot]) : std::string_view();
  }
  /// The name of an order removed by the last operation (empty if none).
  std::string_view retired_name(std::uint64_t id) const {
    for (std::size_t k = 0; k < retired_n_; ++k) {
      if (retired_[k].id == id) return retired_[k].name;
    }
    return {};
  }

  /// Names in the index.
  std::size_t size() const { return index_.size(); }
  /// Bytes held (index, per-slot names and their heap buffers, retired names).
  std::size_t bytes() const {
    std::size_t b = index_.bytes() + names_.capacity() * sizeof(std::string) +
                    retired_.capacity() * sizeof(Retired);
    for (const std::string& n : names_) b += heap_bytes(n);
    for (const Retired& r : retired_) b += heap_bytes(r.name);
    return b;
  }

  /// Checks the index: chains intact, every entry's key is its slot's name's
  /// hash and that name finds this slot (so names are unique). Calls
  /// slot_ok(slot) to let the owner check the order; returns false on the
  /// first failure. O(capacity).
  template <class SlotOk>
  bool check(const SlotOk& slot_ok) const {
    if (!index_.chains_intact()) return false;
    bool ok = true;
    index_.for_each([&](std::uint64_t key, std::uint32_t slot) {
      if (!ok) return;
      ok = slot < names_.size() && !names_[slot].empty() && hash(names_[slot]) == key &&
           find(names_[slot], key) == slot && slot_ok(slot);
    });
    return ok;
  }

 private:
  struct Retired {
    std::uint64_t id = 0;
    std::string name;
  };

  static std::size_t heap_bytes(const std::string& s) {
    return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0;
  }

  Retired& push_retired(std::uint64_t id) {
    if (retired_n_ == retired_.size()) retired_.emplace_back();
    Retired& r = retired_[retired_n_++];
    r.id = id;
    return r;
  }

  IdMap index_{16};  // 256 B until a book sees upstream orders
  std::vector<std::string> names_;
  std::vector<Retired> retired_;  // [0, retired_n_) are live; the rest keep buffers
  std::size_t retired_n_ = 0;
};

}  // namespace ob::detail
