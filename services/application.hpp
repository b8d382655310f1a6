#pragma once
// Application: the process tree of DESIGN.md, started in order and stopped in
// reverse.
//
//   Application (Supervisor "marketd", one_for_one)
//   ├── PartitionSupervisor "symbols" of DynamicSupervisors (PriceFeedHandler
//   │     and OrderBookServer per symbol, started on demand)
//   ├── SymbolDirectory "directory"
//   ├── PartitionSupervisor "limiters" of RateLimiters (routed by client key)
//   ├── IngestServer "ingest" (applies POST /ingest batches off the io threads)
//   └── Supervisor "feeds" (one_for_one): simulator / replay / upstream sources
//
// Beside the tree, owned by this object because every process refers to
// them: the `feeds` and `books` registries (created first, destroyed last),
// the metrics, and the system EventManager with its log and metrics handlers
// (started before the tree, stopped after it), and the journals (opened
// before the tree; every symbol found in them is started again, before the
// configured ones). ready() is true once the tree is up and the symbols exist.
// Thread-safety: start/stop from one thread; the accessors are thread-safe.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/partition_supervisor.hpp"
#include "runtime/registry.hpp"
#include "runtime/runtime.hpp"
#include "runtime/supervisor.hpp"
#include "services/context.hpp"
#include "services/ingest.hpp"
#include "services/rate_limiter.hpp"
#include "services/simulator_feed.hpp"
#include "services/symbol_directory.hpp"
#include "services/tick_feed.hpp"

namespace services {

/// A symbol to create at start.
struct SymbolDefinition {
  std::string symbol;
  SymbolSpec spec;
};

/// Durability (API.md "Durability"): where and how every change is journaled.
struct JournalConfig {
  std::filesystem::path data_dir = "var";
  storage::StoreOptions store;  ///< tests substitute the durability-deciding system calls here
  storage::WriterOptions writer;
  /// Snapshot cadence and `--retain`.
  SnapshotPolicy snapshots;
};

struct ApplicationConfig {
  std::size_t partitions = 0;  ///< symbol partitions; 0 = scheduler workers
  /// Rate limiter partitions; 0 = RateLimiters::default_partitions.
  std::size_t limiter_partitions = 0;
  SymbolTiming timing;
  SymbolLimits limits;
  /// Spec of symbols created by ingest (API.md: tick and lot 0.00000001).
  SymbolSpec ingest_default = *SymbolSpec::parse("0.00000001", "0.00000001", ob::Mode::mirror);
  std::vector<SymbolDefinition> symbols;
  /// Per-client request limits (API.md "Rate limiting"; limit 0 disables).
  RateLimitConfig rate_limit;
  /// The embedded simulator feed, started under `feeds` when set.
  std::optional<SimulatorFeedOptions> simulator;
  /// A synthetic trade feed over every symbol that exists at start (load tests).
  std::optional<TickFeedOptions> tick_feed;
  /// Journals under a data directory; nullopt: nothing is durable.
  std::optional<JournalConfig> journal;
};

class Application {
 public:
  /// Starts the tree and creates the configured symbols; the error says what failed.
  static rt::Result<std::unique_ptr<Application>, std::string> start(rt::Runtime& runtime,
                                                                     ApplicationConfig config);
  ~Application();
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  /// Stops the tree in reverse order, then the event manager. Idempotent.
  void stop();
  /// True from a successful start until stop.
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  /// Why the service is not ready to serve (API.md /readyz: every symbol
  /// partition running, no supervisor given up); nullopt when it is.
  std::optional<std::string> not_ready_reason() const;

  const ContextPtr& context() const { return context_; }
  rt::Runtime& runtime() const { return *runtime_; }
  const std::shared_ptr<Metrics>& metrics() const { return context_->metrics; }
  const Ingest& ingest() const { return *ingest_; }
  /// The process that applies ingest batches for asynchronous callers.
  std::optional<rt::Ref<IngestServer>> ingest_server() const;
  /// The rate limiter partitions' client API.
  const RateLimiters& limiters() const { return *limiters_; }
  /// The directory process (empty for the moment it is being restarted).
  std::optional<rt::Ref<SymbolDirectory>> directory() const;
  /// Creates a symbol (or returns the identical existing one) through the directory.
  rt::Result<SymbolDirectory::Ensured, DirectoryError> ensure_symbol(std::string symbol,
                                                                     SymbolSpec spec) const;
  /// Starts a feed source under the `feeds` supervisor.
  rt::Result<rt::Pid, rt::SupervisorError> start_feed(rt::ChildSpec spec) const;
  /// The router of the symbol partitions (DynamicSupervisors of symbol servers).
  const rt::PartitionSupervisor& symbol_partitions() const { return *symbol_partitions_; }
  /// The root supervisor.
  const rt::Ref<rt::Supervisor>& root() const { return root_; }
  const ApplicationConfig& config() const { return config_; }

 private:
  using Names = rt::Registry<std::string>;
  explicit Application(ApplicationConfig config);
  template <class Impl>
  std::optional<rt::Ref<Impl>> named(std::string_view name) const;

  ApplicationConfig config_;
  rt::Runtime* runtime_ = nullptr;
  // Declared first, destroyed last: every process in the tree refers to them.
  SymbolRegistry feeds_;
  SymbolRegistry books_;
  Names names_;
  ContextPtr context_;
  std::optional<Ingest> ingest_;
  std::optional<RateLimiters> limiters_;
  std::optional<rt::PartitionSupervisor> symbol_partitions_;
  std::shared_ptr<DirectoryHealth> directory_health_ = std::make_shared<DirectoryHealth>();
  rt::Ref<rt::Supervisor> root_;
  std::atomic<bool> ready_{false};
  bool stopped_ = false;
};

}  // namespace services
