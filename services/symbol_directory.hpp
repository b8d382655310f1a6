#pragma once
// The symbol directory: creates symbols and finds their servers.
//
// Creating a symbol starts its PriceFeedHandler and OrderBookServer under the
// DynamicSupervisor of the partition its name hashes to, registered by symbol
// in the `feeds` and `books` registries (each entry's value is the symbol's
// spec). Creation goes through one SymbolDirectory process so that two
// creators of the same symbol cannot race; lookups never touch it: they read
// the registries (find_book / find_feed), so they scale with readers and
// nothing holds a raw pointer to a server.
//
// Ensure semantics (API.md PUT /symbols): a new symbol is created; an
// existing one with the same spec is returned (created = false); with another
// spec it is a conflict, unless `adopt_existing` (ingest: use what exists).
// An existing symbol whose servers are not running is restarted first.
//
// The directory stays consistent with what runs (issue 15, finding 12): it
// monitors every symbol partition, and when one dies (its DynamicSupervisor
// gave up, taking every server in it along) it starts the partition's symbols
// again under the partition's successor, retrying until it is there. Until
// then those symbols count in DirectoryHealth::unavailable (/readyz 503).
// Remove stops a symbol's servers, tells its subscribers (through its
// PriceFeedHandler) and removes its metric series, in that order, so a
// symbol re-created later starts from fresh series.
// Thread-safety: a process; find_* and DirectoryHealth are thread-safe.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/gen_server.hpp"
#include "runtime/partition_supervisor.hpp"
#include "services/context.hpp"
#include "services/order_book_server.hpp"
#include "services/price_feed_handler.hpp"
#include "services/symbol_spec.hpp"

namespace services {

/// Why Ensure failed.
struct DirectoryError {
  enum class Code : std::uint8_t {
    invalid_symbol,  ///< the name does not match API.md's symbol pattern
    conflict,        ///< the symbol exists with another spec (`existing`)
    unavailable,     ///< its servers could not be started (`detail`)
    limit_exceeded,  ///< a new symbol past SymbolLimits::max_symbols
    unknown_symbol,  ///< Remove: no such symbol
  };
  Code code = Code::unavailable;
  SymbolInfoPtr existing;
  std::string detail;
};

/// A symbol's book server with its spec, as found in the `books` registry.
struct BookHandle {
  rt::Ref<OrderBookServer> server;
  SymbolInfoPtr info;
};
/// A symbol's feed handler with its spec, as found in the `feeds` registry.
struct FeedHandle {
  rt::Ref<PriceFeedHandler> server;
  SymbolInfoPtr info;
};
/// The book server of `symbol`, if running.
std::optional<BookHandle> find_book(const ServiceContext& ctx, std::string_view symbol);
/// The feed handler of `symbol`, if running.
std::optional<FeedHandle> find_feed(const ServiceContext& ctx, std::string_view symbol);
/// For a source that caches a book handle: replaces it with its successor if
/// the server restarted, and says whether the book is behind (down, or its
/// mailbox holds at least `max_backlog` messages).
bool book_behind(const ServiceContext& ctx, BookHandle& book, std::int64_t max_backlog);

/// What /readyz needs from the directory, readable from any thread; it
/// outlives every incarnation of the directory process.
class DirectoryHealth {
 public:
  /// Symbols the directory lists whose servers are not running (their
  /// partition is being restarted or could not take them back yet).
  std::size_t unavailable() const { return unavailable_.load(std::memory_order_acquire); }
  void set_unavailable(std::size_t n) { unavailable_.store(n, std::memory_order_release); }

 private:
  std::atomic<std::size_t> unavailable_{0};
};

class SymbolDirectory : public rt::GenServer<SymbolDirectory> {
 public:
  struct Ensured {
    SymbolInfoPtr info;
    bool created = false;
  };
  /// Creates `symbol` with `spec` unless it exists (call).
  struct Ensure {
    std::string symbol;
    SymbolSpec spec;
    bool adopt_existing = false;
    using Reply = rt::Result<Ensured, DirectoryError>;
  };
  /// Every symbol, sorted by name (call).
  struct List {
    using Reply = std::vector<SymbolInfoPtr>;
  };
  /// One symbol's spec, if it exists (call).
  struct Get {
    std::string symbol;
    using Reply = SymbolInfoPtr;
  };
  struct Removed {
    SymbolInfoPtr info;
    /// The feed's last report (empty if it did not answer).
    std::optional<PriceFeedHandler::Report> last;
  };
  /// Deletes `symbol`: its servers, subscriptions and metric series (call).
  struct Remove {
    std::string symbol;
    using Reply = rt::Result<Removed, DirectoryError>;
  };

  SymbolDirectory(ContextPtr ctx, rt::PartitionSupervisor partitions,
                  std::shared_ptr<DirectoryHealth> health);

  Action init();
  CallAction<rt::Result<Ensured, DirectoryError>> handle_call(
      const Ensure& e, From<rt::Result<Ensured, DirectoryError>>&);
  CallAction<std::vector<SymbolInfoPtr>> handle_call(const List&,
                                                     From<std::vector<SymbolInfoPtr>>&);
  CallAction<SymbolInfoPtr> handle_call(const Get& g, From<SymbolInfoPtr>&);
  CallAction<rt::Result<Removed, DirectoryError>> handle_call(
      const Remove& r, From<rt::Result<Removed, DirectoryError>>&);
  /// A watched partition went down.
  Action handle_info(const rt::Down& d);
  /// Sent to self: start partition `partition`'s symbols again.
  struct RestorePartition {
    std::size_t partition;
  };
  Action handle_info(const RestorePartition& r);

 private:
  rt::Result<rt::Ok, std::string> start_servers(const SymbolInfoPtr& info);
  rt::Result<rt::Ok, std::string> stop_servers(std::string_view symbol);
  /// Monitors partition `i`'s supervisor; false if it is not there (restarting).
  bool watch(std::size_t i);
  void restore_later(std::size_t partition, std::chrono::milliseconds after);
  /// Publishes how many listed symbols wait for their partition.
  void update_health();

  ContextPtr ctx_;
  rt::PartitionSupervisor partitions_;
  std::shared_ptr<DirectoryHealth> health_;
  std::map<std::string, SymbolInfoPtr, std::less<>> symbols_;
  std::vector<rt::MonitorRef> watched_;  // by partition
  std::set<std::size_t> restoring_;      // partitions whose symbols wait
};

/// Child id of a symbol's servers under its DynamicSupervisor.
std::string feed_child_id(std::string_view symbol);
std::string book_child_id(std::string_view symbol);

}  // namespace services
