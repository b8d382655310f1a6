#pragma once
// UniqueKeys: notices a key that appears twice in one JSON object. API.md
// makes such an object invalid_json everywhere (REST bodies, WebSocket
// messages, ingest lines): which copy wins is ambiguous, and parsers disagree.
// simdjson On-Demand does not detect duplicates, so every parser hands the
// keys it walks (unescaped) to one of these, per object, in the walk it
// already makes. Cost: O(1) per key — a look through the first few, then a
// hash set — so an object of n keys costs O(n) however it is built.
// Thread-safety: a value; one per object walk.

#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace feeds {

class UniqueKeys {
 public:
  /// Records `key`; false when it was recorded before. The view must stay
  /// valid until this object is destroyed.
  bool add(std::string_view key) {
    if (many_.empty()) {
      if (std::find(few_.begin(), few_.end(), key) != few_.end()) return false;
      if (few_.size() < kFew) {
        few_.push_back(key);
        return true;
      }
      many_.insert(few_.begin(), few_.end());
    }
    return many_.insert(key).second;
  }

 private:
  static constexpr std::size_t kFew = 8;  // typical objects: no allocation at all
  boost::container::small_vector<std::string_view, kFew> few_;
  boost::unordered_flat_set<std::string_view> many_;
};

}  // namespace feeds
