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
// - No user code runs under a registry lock: `dispatch` and `select` copy what
//   they found, then run their callbacks (as Elixir's Registry, whose reads
//   take no lock), so a callback may call, register, or make a process exit.
//
// Thread-safety: all functions are thread-safe. register_key/unregister act on
// the calling process.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

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

template <class Impl, class Reg, class K>
struct Via;

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
  /// Runs fn(const Entry&) for each entry under `key` (as found when it was
  /// called; no lock is held while fn runs): pub/sub fan-out.
  template <class K, class F>
  void dispatch(const K& key, F&& fn) const;
  /// Total number of entries.
  std::size_t count() const;
  /// Entries under `key`.
  template <class K>
  std::size_t count(const K& key) const;
  /// (key, entry) pairs for which pred(key, entry) is true (pred runs outside any lock).
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
  // Each entry is a node of its own, allocated before the partition is locked;
  // its address is the exit hook its process holds. A partition's open-addressed
  // table maps a key (by its hash, computed once) to the first node under it;
  // the nodes under one key form a ring in registration order (duplicate keys).
  struct Node final : ExitHook {
    Node(Registry* r, std::size_t h, Key k, Entry e)
        : registry(r), hash(h), key(std::move(k)), entry(std::move(e)) {}
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    void on_process_exit(Process& p) noexcept override { registry->remove_node(p, this); }
    void describe(std::string& out) const override {
      if (!out.empty()) out += ", ";
      if constexpr (std::is_convertible_v<const Key&, std::string_view>) {
        fmt::format_to(std::back_inserter(out), "{:?}", std::string_view(key));
      } else if constexpr (fmt::is_formattable<Key>::value) {
        fmt::format_to(std::back_inserter(out), "{}", key);
      }
    }

    Registry* registry;
    std::size_t hash;
    Key key;
    Entry entry;
    Node* prev = this;
    Node* next = this;
  };
  // A key's place in the table. `first` changes only when the first node of a
  // ring leaves and others remain; hash and equality do not depend on it.
  struct Slot {
    std::size_t hash;
    mutable Node* first;
  };
  template <class K>
  struct Probe {
    std::size_t hash;
    const K& key;
  };
  struct SlotHash {
    using is_transparent = void;
    std::size_t operator()(const Slot& s) const noexcept { return s.hash; }
    template <class K>
    std::size_t operator()(const Probe<K>& p) const noexcept {
      return p.hash;
    }
  };
  struct SlotEq {
    using is_transparent = void;
    bool operator()(const Slot& a, const Slot& b) const {
      return a.hash == b.hash && a.first->key == b.first->key;
    }
    template <class K>
    bool operator()(const Probe<K>& p, const Slot& s) const {
      return p.hash == s.hash && s.first->key == p.key;
    }
    template <class K>
    bool operator()(const Slot& s, const Probe<K>& p) const {
      return (*this)(p, s);
    }
  };
  using Table = boost::unordered_flat_set<Slot, SlotHash, SlotEq>;
  struct alignas(64) Partition {
    mutable detail::ReadMostlyLock mutex;
    Table table;
    std::size_t entries = 0;
  };

  Partition& partition_for(std::size_t hash) const {
    return partitions_[hash % partitions_.size()];
  }
  /// Runs fn(Node&) for each node of a key's ring, in order; fn may free the node.
  template <class F>
  static void for_each_in(const Slot& slot, F&& fn);
  /// Runs fn(Node&) for each node under `key`; the caller holds the partition's lock.
  template <class K, class F>
  static void for_each_under(const Partition& part, std::size_t hash, const K& key, F&& fn);
  /// Runs fn(const Entry&) for each entry under `key` under the partition's
  /// shared lock: for the runtime's own short visits (no user code).
  template <class K, class F>
  void visit(const K& key, F&& fn) const;
  template <class Impl, class Reg, class K, class M>
  friend SendStatus cast(const Via<Impl, Reg, K>& to, M msg);
  /// Takes `node` out of its ring and, if it was the last, its key out of the table.
  static void unlink(Partition& part, Node* node);
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
  to.registry.visit(to.key, [&](const typename Reg::Entry& e) {
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
    for (const Slot& slot : part.table) {
      for_each_in(slot, [](Node& n) {
        std::unique_ptr<Node> doomed(&n);
        if (Process* p = n.entry.pid.get()) p->remove_exit_hook(n);
      });
    }
    part.table.clear();
    part.entries = 0;
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
  const std::size_t hash = TransparentHash{}(key);
  Partition& part = partition_for(hash);
  // Allocated before locking: writers hold the lock only for the table probe.
  auto node = std::make_unique<Node>(this, hash, std::move(key), Entry{p.self(), std::move(value)});
  {
    std::unique_lock g(part.mutex);
    auto [it, inserted] = part.table.insert(Slot{hash, node.get()});
    if (!inserted) {
      if (keys_ == Keys::unique) {
        Pid owner = it->first->entry.pid;
        g.unlock();
        return Err{RegisterError{RegisterError::Code::already_registered, std::move(owner)}};
      }
      Node* first = it->first;  // join the ring at its end: registration order
      node->prev = first->prev;
      node->next = first;
      first->prev->next = node.get();
      first->prev = node.get();
    }
    ++part.entries;
  }
  p.add_exit_hook(*node.release());  // owned by the table until removed
  return Ok{};
}

template <class Key, class Value>
void Registry<Key, Value>::unlink(Partition& part, Node* node) {
  --part.entries;
  auto it = part.table.find(Probe<Key>{node->hash, node->key});
  if (node->next == node) {
    part.table.erase(it);
    return;
  }
  if (it->first == node) it->first = node->next;
  node->prev->next = node->next;
  node->next->prev = node->prev;
  node->prev = node->next = node;
}

template <class Key, class Value>
void Registry<Key, Value>::unregister(const Key& key) {
  Process* p = current_process();
  if (p == nullptr) return;
  const std::size_t hash = TransparentHash{}(key);
  Partition& part = partition_for(hash);
  std::vector<std::unique_ptr<Node>> doomed;  // released outside the lock
  {
    std::unique_lock g(part.mutex);
    std::vector<Node*> mine;
    for_each_under(part, hash, key, [&](Node& n) {
      if (n.entry.pid.get() == p) mine.push_back(&n);
    });
    doomed.reserve(mine.size());  // the last step that may throw: nothing has changed yet
    for (Node* n : mine) {
      p->remove_exit_hook(*n);
      unlink(part, n);
      doomed.emplace_back(n);
    }
  }
}

template <class Key, class Value>
void Registry<Key, Value>::remove_node(Process& /*p*/, Node* node) noexcept {
  Partition& part = partition_for(node->hash);
  {
    std::unique_lock g(part.mutex);
    unlink(part, node);
  }
  std::unique_ptr<Node> doomed(node);  // released outside the lock (with its Pid)
}

template <class Key, class Value>
template <class F>
void Registry<Key, Value>::for_each_in(const Slot& slot, F&& fn) {
  Node* const first = slot.first;
  Node* n = first;
  do {
    Node* next = n->next;  // read first: fn may free n
    fn(*n);
    n = next;
  } while (n != first);
}

template <class Key, class Value>
template <class K, class F>
void Registry<Key, Value>::for_each_under(const Partition& part, std::size_t hash, const K& key,
                                          F&& fn) {
  auto it = part.table.find(Probe<K>{hash, key});
  if (it != part.table.end()) for_each_in(*it, std::forward<F>(fn));
}

template <class Key, class Value>
template <class K>
auto Registry<Key, Value>::lookup(const K& key) const -> std::vector<Entry> {
  std::vector<Entry> out;
  visit(key, [&](const Entry& e) { out.push_back(e); });
  return out;
}

template <class Key, class Value>
template <class K>
std::optional<Pid> Registry<Key, Value>::whereis(const K& key) const {
  std::optional<Pid> out;
  visit(key, [&](const Entry& e) {
    if (!out) out = e.pid;
  });
  return out;
}

template <class Key, class Value>
template <class K, class F>
void Registry<Key, Value>::visit(const K& key, F&& fn) const {
  const std::size_t hash = TransparentHash{}(key);
  const Partition& part = partition_for(hash);
  std::shared_lock g(part.mutex);
  for_each_under(part, hash, key, [&](const Node& n) { fn(static_cast<const Entry&>(n.entry)); });
}

template <class Key, class Value>
template <class K, class F>
void Registry<Key, Value>::dispatch(const K& key, F&& fn) const {
  // Copied out first: the callback is user code, which may call a process
  // that exits or registers (either takes this partition's write lock).
  boost::container::small_vector<Entry, 4> found;
  visit(key, [&](const Entry& e) { found.push_back(e); });
  for (const Entry& e : found) fn(e);
}

template <class Key, class Value>
std::size_t Registry<Key, Value>::count() const {
  std::size_t n = 0;
  for (const Partition& part : partitions_) {
    std::shared_lock g(part.mutex);
    n += part.entries;
  }
  return n;
}

template <class Key, class Value>
template <class K>
std::size_t Registry<Key, Value>::count(const K& key) const {
  std::size_t n = 0;
  visit(key, [&](const Entry&) { ++n; });
  return n;
}

template <class Key, class Value>
template <class Pred>
auto Registry<Key, Value>::select(Pred pred) const -> std::vector<std::pair<Key, Entry>> {
  // Copied out first, one partition at a time: pred is user code (see dispatch).
  std::vector<std::pair<Key, Entry>> out;
  std::vector<std::pair<Key, Entry>> found;
  for (const Partition& part : partitions_) {
    found.clear();
    {
      std::shared_lock g(part.mutex);
      found.reserve(part.entries);
      for (const Slot& slot : part.table) {
        for_each_in(slot, [&](const Node& n) { found.emplace_back(n.key, n.entry); });
      }
    }
    for (auto& kv : found) {
      if (pred(std::as_const(kv.first), std::as_const(kv.second))) out.push_back(std::move(kv));
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
