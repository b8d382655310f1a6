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
// Thread-safety: a process; find_* are thread-safe.

#include <map>
#include <optional>
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

  SymbolDirectory(ContextPtr ctx, rt::PartitionSupervisor partitions);

  Action init();
  CallAction<rt::Result<Ensured, DirectoryError>> handle_call(
      const Ensure& e, From<rt::Result<Ensured, DirectoryError>>&);
  CallAction<std::vector<SymbolInfoPtr>> handle_call(const List&,
                                                     From<std::vector<SymbolInfoPtr>>&);
  CallAction<SymbolInfoPtr> handle_call(const Get& g, From<SymbolInfoPtr>&);

 private:
  rt::Result<rt::Ok, std::string> start_servers(const SymbolInfoPtr& info);

  ContextPtr ctx_;
  rt::PartitionSupervisor partitions_;
  std::map<std::string, SymbolInfoPtr, std::less<>> symbols_;
};

/// Child id of a symbol's servers under its DynamicSupervisor.
std::string feed_child_id(std::string_view symbol);
std::string book_child_id(std::string_view symbol);

}  // namespace services
