#pragma once
// PartitionSupervisor: N copies of one child, each in its own partition, so
// that no single process is a bottleneck (Elixir's PartitionSupervisor). The
// pattern marketd uses to start per-symbol servers: a PartitionSupervisor of
// DynamicSupervisors, the partition chosen by hashing the symbol.
// - `partitions` defaults to the scheduler's worker count.
// - `child(i)` builds partition i's spec (`with_arguments`: it gets its index).
// - Routing: an integer key goes to abs(key) % N (unsigned: key % N, also
//   past 2^63); a string key, however spelt, to a stable hash of its text
//   (boost::hash of its std::string_view) % N; any other key to boost::hash
//   % N. `whereis(key)` is a Registry lookup, not a call, so routing scales
//   with readers.
// - The partitions run under a one_for_one Supervisor with the usual options;
//   a restarted partition re-registers and is found again.
// - Inside a tree: child_spec() gives the spec to put under a parent
//   supervisor and a router that stays valid across restarts of the whole
//   PartitionSupervisor (the routing registry outlives every incarnation, and
//   the supervisor itself is registered in it).
// Thread-safety: whereis/partition_for are thread-safe; the object must
// outlive the use of its partitions (it owns their registry).

#include <boost/container_hash/hash.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "runtime/registry.hpp"
#include "runtime/supervisor.hpp"

namespace rt {

struct PartitionSupervisorSpec {
  std::size_t partitions = 0;  ///< start(): 0 = scheduler workers; child_spec(): required
  std::function<ChildSpec(std::size_t partition)> child;
  std::uint32_t max_restarts = 3;
  std::chrono::seconds max_seconds{5};
};

class PartitionSupervisor {
 public:
  /// Starts the partitions (under a Supervisor linked to the caller when it is a process).
  static Result<PartitionSupervisor, StartError> start(Runtime& rt, PartitionSupervisorSpec spec,
                                                       StartOptions options = {});
  /// The router and the ChildSpec that starts the partitions under a parent
  /// supervisor (type supervisor, shutdown infinity). `partitions` must be set.
  static std::pair<PartitionSupervisor, ChildSpec> child_spec(std::string id,
                                                              PartitionSupervisorSpec spec);

  std::size_t partitions() const noexcept { return partitions_; }
  /// The partition a key routes to. A string key routes by its text whatever
  /// its spelling (literal, char*, std::string, std::string_view); an integer
  /// key by its value: abs(key) % N when signed, key % N when unsigned.
  template <class Key>
  std::size_t partition_for(const Key& key) const {
    if constexpr (std::is_convertible_v<const Key&, std::string_view>) {
      // One hash for every spelling: hashing the Key type itself would take a
      // literal's trailing NUL or a char*'s address.
      if constexpr (std::is_pointer_v<Key> || std::is_null_pointer_v<Key>) {
        if (key == nullptr) return partition_for(std::string_view());  // as ""
      }
      return partition_for(std::string_view(key));
    } else if constexpr (std::is_integral_v<Key>) {
      static_assert(sizeof(Key) <= sizeof(std::uint64_t), "integer keys up to 64 bits");
      // Negate in unsigned arithmetic: abs(INT64_MIN) = 2^63 fits there only.
      const auto value = static_cast<std::uint64_t>(key);
      std::uint64_t magnitude = value;
      if constexpr (std::is_signed_v<Key>) {
        if (key < 0) magnitude = 0 - value;
      }
      return static_cast<std::size_t>(magnitude % partitions_);
    } else {
      return boost::hash<Key>{}(key) % partitions_;
    }
  }
  std::size_t partition_for(std::string_view key) const {
    return boost::hash<std::string_view>{}(key) % partitions_;
  }
  /// The process serving `key`'s partition (empty while it restarts).
  template <class Key>
  std::optional<Pid> whereis(const Key& key) const {
    return registry_->whereis(partition_for(key));
  }
  /// Typed view of whereis for partitions of a known behaviour.
  template <class Impl, class Key>
  std::optional<Ref<Impl>> whereis_ref(const Key& key) const {
    auto pid = whereis(key);
    return pid ? Ref<Impl>::from(std::move(*pid)) : std::nullopt;
  }
  /// The supervisor process (for which_children, stopping, linking); empty
  /// while it is being restarted.
  Ref<Supervisor> supervisor() const;

 private:
  using Partitions = Registry<std::size_t>;
  /// The registry key of the supervisor itself (partitions are 0..N-1).
  static constexpr std::size_t kSupervisorKey = static_cast<std::size_t>(-1);
  PartitionSupervisor(std::shared_ptr<Partitions> registry, std::size_t n)
      : registry_(std::move(registry)), partitions_(n) {}

  std::shared_ptr<Partitions> registry_;
  std::size_t partitions_;
};

}  // namespace rt
