#pragma once
// The set of a process's links. Most processes have exactly one (a supervised
// child's link to its supervisor), so the first link is held inline and costs
// no allocation; more go to a small vector, and a hash set once there are many
// (a supervisor with 100,000 children must link and unlink in O(1)).
// Thread-safety: none; guarded by the owning process's lock.

#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <memory>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/pid.hpp"

namespace rt::detail {

class LinkSet {
 public:
  /// Adds `p`; false if already present.
  bool insert(const Pid& p) {
    if (first_ == p || (more_ && more_->contains(p))) return false;
    if (!first_) {
      first_ = p;
      return true;
    }
    if (!more_) more_ = std::make_unique<Many>();
    return more_->insert(p);
  }
  /// Removes `p` if present.
  void erase(const Pid& p) {
    if (first_ == p) {
      first_ = Pid();
    } else if (more_) {
      more_->erase(p);
    }
  }
  bool empty() const noexcept { return !first_ && (!more_ || more_->empty()); }
  /// Calls fn(pid) for every link.
  template <class F>
  void for_each(F&& fn) const {
    if (first_) fn(first_);
    if (more_) more_->for_each(fn);
  }

 private:
  class Many {
   public:
    bool contains(const Pid& p) const {
      if (const auto* v = std::get_if<Small>(&set_)) {
        return std::find(v->begin(), v->end(), p) != v->end();
      }
      return std::get<Large>(set_).contains(p);
    }
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
    bool empty() const {
      return std::visit([](const auto& s) { return s.empty(); }, set_);
    }
    template <class F>
    void for_each(F& fn) const {
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

  Pid first_;                   // the common single link, without an allocation
  std::unique_ptr<Many> more_;  // the others, allocated at the second link
};

}  // namespace rt::detail
