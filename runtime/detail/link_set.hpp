#pragma once
// The set of a process's links: a small vector while it has a few (most
// processes have 0-2 links: small and cache-friendly), a hash set once it has
// many (a supervisor with 100,000 children must link and unlink in O(1)).
// Thread-safety: none; guarded by the owning process's lock.

#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <variant>
#include <vector>

#include "runtime/pid.hpp"

namespace rt::detail {

class LinkSet {
 public:
  /// Adds `p`; false if already present.
  bool insert(const Pid& p) {
    if (auto* v = std::get_if<Small>(&set_)) {
      if (std::find(v->begin(), v->end(), p) != v->end()) return false;
      if (v->size() < kSmall) {
        v->push_back(p);
        return true;
      }
      Large large(v->begin(), v->end());
      set_ = std::move(large);
    }
    return std::get<Large>(set_).insert(p).second;
  }
  /// Removes `p` if present.
  void erase(const Pid& p) {
    if (auto* v = std::get_if<Small>(&set_)) {
      auto it = std::find(v->begin(), v->end(), p);
      if (it != v->end()) {
        *it = std::move(v->back());
        v->pop_back();
      }
    } else {
      std::get<Large>(set_).erase(p);
    }
  }
  /// Calls fn(pid) for every link.
  template <class F>
  void for_each(F&& fn) const {
    std::visit(
        [&](const auto& s) {
          for (const Pid& p : s) fn(p);
        },
        set_);
  }

 private:
  static constexpr std::size_t kSmall = 16;
  using Small = std::vector<Pid>;
  using Large = boost::unordered_flat_set<Pid, std::hash<Pid>>;
  std::variant<Small, Large> set_;
};

}  // namespace rt::detail
