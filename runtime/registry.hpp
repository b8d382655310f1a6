#pragma once
// Registry: a local, partitioned key -> process store, as Elixir's Registry.
//
// - Keys are unique (one process per key: naming) or duplicate (many: pub/sub).
// - Entries belong to processes: a process registers itself (register_key),
//   or is registered at start by `via` naming; its entries vanish when it exits.
// - Partitions are hash-selected, each with its own read-mostly lock: reads
//   (lookup, dispatch, via sends) touch only a per-thread counter of one
//   partition, so lookups scale across threads; no lock is global.
// - A registry must outlive the processes registered in it (it is normally
//   started before them and stopped after them, as in the OTP tree).
//
// Thread-safety: all functions are thread-safe. register_key/unregister act on
// the calling process. `dispatch` and `select` run their callbacks under a
// partition's shared lock: callbacks must not register or unregister.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/detail/read_mostly_lock.hpp"
#include "runtime/gen_server.hpp"
#include "runtime/process.hpp"
#include "runtime/result.hpp"

namespace rt {

/// Hash that lets string-keyed registries look up by std::string_view without copying.
struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
  template <class K>
  requires(!std::is_convertible_v<const K&, std::string_view>) std::size_t operator()(
      const K& k) const noexcept {
    return std::hash<K>{}(k);
  }
};

/// Why a registration failed.
struct RegisterError {
  enum class Code : unsigned char { already_registered, not_a_process };
  Code code;
  Pid owner;  ///< for already_registered: the process holding the key
};

template <class Key = std::string, class Value = std::monostate>
class Registry {
 public:
  enum class Keys : unsigned char { unique, duplicate };
  struct Options {
    Keys keys = Keys::unique;
    std::size_t partitions = 0;  ///< 0 = hardware threads
  };
  /// One registration: the process and the value it registered with.
  struct Entry {
    Pid pid;
    Value value;
  };

  explicit Registry(Options opts = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Registers the calling process under `key`.
  Result<Ok, RegisterError> register_key(Key key, Value value = {});
  /// Registers `p` (the caller itself, or a process not yet running: via naming).
  Result<Ok, RegisterError> register_process(Process& p, Key key, Value value = {});
  /// Removes the calling process's entries under `key`.
  void unregister(const Key& key);

  /// Every entry under `key` (at most one for unique keys).
  template <class K>
  std::vector<Entry> lookup(const K& key) const;
  /// The owner of a unique key.
  template <class K>
  std::optional<Pid> whereis(const K& key) const;
  /// Runs fn(const Entry&) for each entry under `key`, under the partition's
  /// shared lock (no copies, no reference-count traffic): pub/sub fan-out.
  template <class K, class F>
  void dispatch(const K& key, F&& fn) const;
  /// Total number of entries.
  std::size_t count() const;
  /// Entries under `key`.
  template <class K>
  std::size_t count(const K& key) const;
  /// (key, entry) pairs for which pred(key, entry) is true.
  template <class Pred>
  std::vector<std::pair<Key, Entry>> select(Pred pred) const;
  /// Keys `pid` is registered under.
  std::vector<Key> keys(const Pid& pid) const;

  /// `via` naming: pass as StartOptions::register_as to register a server at start.
  std::function<std::optional<Pid>(Process&)> via(Key key, Value value = {}) {
    return
        [this, key = std::move(key), value = std::move(value)](Process& p) -> std::optional<Pid> {
          auto r = register_process(p, key, value);
          if (r) return std::nullopt;
          return r.error().owner;
        };
  }

 private:
  // An entry lives in its map node (one allocation, the key stored once);
  // node-based maps keep its address until it is erased, so the process can
  // hold it as an exit hook.
  struct Node final : ExitHook {
    Registry* registry;
    const Key* key = nullptr;  // the map node's key, set once inserted
    Entry entry;
    Node(Registry* r, Entry e) : registry(r), entry(std::move(e)) {}
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    void on_process_exit(Process& p) noexcept override { registry->remove_node(p, this); }
  };
  // The same hash, but not noexcept: libstdc++ then keeps each node's hash
  // code in the node (free here: the node's size class does not change).
  // Without it, every step along a bucket's chain -- each unique-key check,
  // insert and rehash -- rehashes a key string to find where the bucket ends.
  struct CachedHash {
    using is_transparent = void;
    template <class K>
    std::size_t operator()(const K& k) const {  // NOLINT: deliberately not noexcept
      return TransparentHash{}(k);
    }
  };
  using Map = std::unordered_multimap<Key, Node, CachedHash, std::equal_to<>>;
  struct alignas(64) Partition {
    mutable detail::ReadMostlyLock mutex;
    Map map;
  };

  template <class K>
  Partition& partition_for(const K& key) const {
    return partitions_[TransparentHash{}(key) % partitions_.size()];
  }
  void remove_node(Process& p, Node* node) noexcept;

  Keys keys_;
  mutable std::vector<Partition> partitions_;
};

/// A typed `{via, Registry, key}` address: cast/call/send resolve it per message.
template <class Impl, class Reg, class K>
struct Via {
  const Reg& registry;
  K key;
};
/// Addresses the Impl server registered under `key` in `reg`.
template <class Impl, class Reg, class K>
Via<Impl, Reg, K> via(const Reg& reg, K key) {
  return Via<Impl, Reg, K>{reg, std::move(key)};
}

/// Casts through a via address: resolved and posted under the registry's read
/// lock, without touching the process's reference count.
template <class Impl, class Reg, class K, class M>
SendStatus cast(const Via<Impl, Reg, K>& to, M msg) {
  static_assert(detail::HasCast<Impl, M>, "no handle_cast clause for this message type");
  SendStatus status = SendStatus::noproc;
  to.registry.dispatch(to.key, [&](const typename Reg::Entry& e) {
    Process* p = e.pid.get();
    if (p->type_tag() == GenServer<Impl>::tag()) {
      status = p->post(std::make_unique<CastEnvelope<Impl, M>>(std::move(msg)));
    }
  });
  return status;
}

/// Calls through a via address (`noproc` if nothing is registered under the key).
template <class Impl, class Reg, class K, class Req>
CallResult<typename Req::Reply> call(const Via<Impl, Reg, K>& to, Req req,
                                     std::chrono::milliseconds timeout = kDefaultCallTimeout) {
  std::optional<Pid> pid = to.registry.whereis(to.key);
  std::optional<Ref<Impl>> ref = pid ? Ref<Impl>::from(*pid) : std::nullopt;
  if (!ref) return Err{CallError{CallError::Code::noproc, {}}};
  return call(*ref, std::move(req), timeout);
}

// ---- implementation -------------------------------------------------------------

template <class Key, class Value>
Registry<Key, Value>::Registry(Options opts)
    : keys_(opts.keys),
      partitions_(opts.partitions ? opts.partitions
                                  : std::max(1u, std::thread::hardware_concurrency())) {}

template <class Key, class Value>
Registry<Key, Value>::~Registry() {
  // Detach from processes still alive, so their exit does not touch a dead registry.
  for (Partition& part : partitions_) {
    std::unique_lock g(part.mutex);
    for (auto& [key, node] : part.map) {
      if (Process* p = node.entry.pid.get()) p->remove_exit_hook(node);
    }
  }
}

template <class Key, class Value>
Result<Ok, RegisterError> Registry<Key, Value>::register_key(Key key, Value value) {
  Process* p = current_process();
  if (p == nullptr) return Err{RegisterError{RegisterError::Code::not_a_process, {}}};
  return register_process(*p, std::move(key), std::move(value));
}

template <class Key, class Value>
Result<Ok, RegisterError> Registry<Key, Value>::register_process(Process& p, Key key, Value value) {
  Partition& part = partition_for(key);
  Node* node = nullptr;
  {
    std::unique_lock g(part.mutex);
    if (keys_ == Keys::unique) {
      auto it = part.map.find(key);
      if (it != part.map.end()) {
        Pid owner = it->second.entry.pid;
        g.unlock();
        return Err{RegisterError{RegisterError::Code::already_registered, std::move(owner)}};
      }
    }
    auto it = part.map.emplace(std::piecewise_construct, std::forward_as_tuple(std::move(key)),
                               std::forward_as_tuple(this, Entry{p.self(), std::move(value)}));
    node = &it->second;
    node->key = &it->first;
  }
  p.add_exit_hook(*node);
  return Ok{};
}

template <class Key, class Value>
void Registry<Key, Value>::unregister(const Key& key) {
  Process* p = current_process();
  if (p == nullptr) return;
  Partition& part = partition_for(key);
  std::vector<typename Map::node_type> doomed;  // released outside the lock
  {
    std::unique_lock g(part.mutex);
    auto [first, last] = part.map.equal_range(key);
    for (auto it = first; it != last;) {
      auto next = std::next(it);
      if (it->second.entry.pid.get() == p) {
        p->remove_exit_hook(it->second);
        doomed.push_back(part.map.extract(it));
      }
      it = next;
    }
  }
}

template <class Key, class Value>
void Registry<Key, Value>::remove_node(Process& /*p*/, Node* node) noexcept {
  Partition& part = partition_for(*node->key);
  typename Map::node_type doomed;  // released outside the lock (with its Pid)
  std::unique_lock g(part.mutex);
  auto [first, last] = part.map.equal_range(*node->key);
  for (auto it = first; it != last; ++it) {
    if (&it->second == node) {
      doomed = part.map.extract(it);
      break;
    }
  }
  g.unlock();
}

template <class Key, class Value>
template <class K>
auto Registry<Key, Value>::lookup(const K& key) const -> std::vector<Entry> {
  std::vector<Entry> out;
  dispatch(key, [&](const Entry& e) { out.push_back(e); });
  return out;
}

template <class Key, class Value>
template <class K>
std::optional<Pid> Registry<Key, Value>::whereis(const K& key) const {
  std::optional<Pid> out;
  dispatch(key, [&](const Entry& e) {
    if (!out) out = e.pid;
  });
  return out;
}

template <class Key, class Value>
template <class K, class F>
void Registry<Key, Value>::dispatch(const K& key, F&& fn) const {
  Partition& part = partition_for(key);
  std::shared_lock g(part.mutex);
  auto [first, last] = part.map.equal_range(key);
  for (auto it = first; it != last; ++it) fn(static_cast<const Entry&>(it->second.entry));
}

template <class Key, class Value>
std::size_t Registry<Key, Value>::count() const {
  std::size_t n = 0;
  for (const Partition& part : partitions_) {
    std::shared_lock g(part.mutex);
    n += part.map.size();
  }
  return n;
}

template <class Key, class Value>
template <class K>
std::size_t Registry<Key, Value>::count(const K& key) const {
  std::size_t n = 0;
  dispatch(key, [&](const Entry&) { ++n; });
  return n;
}

template <class Key, class Value>
template <class Pred>
auto Registry<Key, Value>::select(Pred pred) const -> std::vector<std::pair<Key, Entry>> {
  std::vector<std::pair<Key, Entry>> out;
  for (const Partition& part : partitions_) {
    std::shared_lock g(part.mutex);
    for (const auto& [key, node] : part.map) {
      if (pred(key, static_cast<const Entry&>(node.entry))) out.emplace_back(key, node.entry);
    }
  }
  return out;
}

template <class Key, class Value>
std::vector<Key> Registry<Key, Value>::keys(const Pid& pid) const {
  std::vector<Key> out;
  for (auto& [key, entry] : select([&](const Key&, const Entry& e) { return e.pid == pid; })) {
    out.push_back(key);
  }
  return out;
}

}  // namespace rt
