#pragma once
// What every symbol server shares: its registries, the system event manager,
// the metrics and the timing options. Built once by the Application and
// passed (as a shared pointer) into every server it starts.
// Thread-safety: immutable after construction; the members are thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "runtime/registry.hpp"
#include "services/journals.hpp"
#include "services/metrics.hpp"
#include "services/symbol_spec.hpp"
#include "services/system_events.hpp"

namespace services {

/// symbol -> server, with the symbol's spec as the entry's value.
using SymbolRegistry = rt::Registry<std::string, SymbolInfoPtr>;

/// Timing of the symbol servers (API.md "Staleness").
struct SymbolTiming {
  std::chrono::milliseconds heartbeat{1000};    ///< how often staleness is checked
  std::chrono::milliseconds stale_after{5000};  ///< no update for this long: stale
  /// A book tells its feed handler about non-trade updates at most this often
  /// (the first update after a quiet spell always goes at once).
  std::chrono::milliseconds touch_interval{100};
};

/// What one client may grow (API.md "Access, limits and safety"): each refused
/// with limit_exceeded, nothing changed.
struct SymbolLimits {
  std::size_t max_symbols = 10'000;             ///< symbols, however created
  std::size_t max_orders_per_book = 1'000'000;  ///< resting orders per book, ingested ones too
  std::size_t max_orders_per_owner = 100'000;   ///< resting API orders per principal
};

/// Where each incarnation of a symbol's OrderBookServer gets its first order
/// id, so an id marketd assigns never names another order within the process
/// (API.md "REST"): incarnation k of a symbol's book numbers its orders from
/// k * 2^40 + 1 (the first one from 1). Entries outlive a deleted symbol, so
/// re-creating it does not reuse ids either. This is the one seam for
/// durability: a recovered book continues from its journal's ids, and never below this.
class OrderIdSeeds {
 public:
  static constexpr std::uint64_t kBlock = std::uint64_t{1} << 40;
  /// The first id of the next book incarnation of `symbol`.
  std::uint64_t next_first_id(std::string_view symbol) {
    std::lock_guard lock(mu_);
    return incarnations_[std::string(symbol)]++ * kBlock + 1;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::uint64_t> incarnations_;
};

/// Resting API orders per owner across every book, for
/// SymbolLimits::max_orders_per_owner. Books reserve before an order may rest
/// and release when it leaves (filled, cancelled, or its book gone).
class RestingOrderCounts {
 public:
  /// Counts one more resting order of `owner` unless it already has `max`.
  bool try_reserve(std::string_view owner, std::size_t max) {
    std::lock_guard lock(mu_);
    auto it = counts_.find(owner);
    if (it == counts_.end()) it = counts_.emplace(std::string(owner), 0).first;
    if (it->second >= max) return false;
    ++it->second;
    return true;
  }
  void release(std::string_view owner) {
    std::lock_guard lock(mu_);
    auto it = counts_.find(owner);
    if (it == counts_.end()) return;
    if (--it->second == 0) counts_.erase(it);  // no entry per owner that has none
  }
  std::size_t count(std::string_view owner) const {
    std::lock_guard lock(mu_);
    auto it = counts_.find(owner);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::size_t, std::less<>> counts_;
};

struct ServiceContext {
  SymbolTiming timing;
  SymbolLimits limits;
  SymbolRegistry& feeds;  ///< symbol -> PriceFeedHandler
  SymbolRegistry& books;  ///< symbol -> OrderBookServer
  SystemEvents events;
  std::shared_ptr<Metrics> metrics;
  std::shared_ptr<OrderIdSeeds> order_ids = std::make_shared<OrderIdSeeds>();
  std::shared_ptr<RestingOrderCounts> resting_orders = std::make_shared<RestingOrderCounts>();
  /// Where every accepted change is journaled; null: nothing is (tests, `--data-dir ''`).
  std::shared_ptr<Journals> journals;
};
using ContextPtr = std::shared_ptr<const ServiceContext>;

/// Wall-clock time in ns since the Unix epoch (receipt time of events).
std::int64_t wall_clock_ns();

}  // namespace services
