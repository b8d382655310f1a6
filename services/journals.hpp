#pragma once
// Journals: what the symbol servers share to make their changes durable
// (API.md "Durability", docs/decisions/023-journal-integration.md) — the data
// directory, the one group-commit writer, and what recovery found damaged.
// Owned by the Application, built before the process tree and destroyed
// after it, so every server's appends are answered before the writer goes.
// Thread-safety: the store is immutable, the writer and the damage list are thread-safe.

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/scheduler.hpp"
#include "services/symbol_spec.hpp"
#include "storage/journal_writer.hpp"
#include "storage/store.hpp"

namespace services {

class BookHistory;

/// Symbols whose journal recovery found damaged (and quarantined), for /readyz.
class JournalDamage {
 public:
  void report(std::string_view symbol, std::string what) {
    std::lock_guard lock(mu_);
    damaged_[std::string(symbol)] = std::move(what);
  }
  /// True when `symbol`'s journal was found damaged in this run.
  bool has(std::string_view symbol) const {
    std::lock_guard lock(mu_);
    return damaged_.find(symbol) != damaged_.end();
  }
  /// A deleted symbol's damage is gone with its journal.
  void forget(std::string_view symbol) {
    std::lock_guard lock(mu_);
    if (auto it = damaged_.find(symbol); it != damaged_.end()) damaged_.erase(it);
  }
  /// "BTC-USD: <what>" for the first damaged symbol, and how many there are; nullopt if none.
  std::optional<std::string> summary() const {
    std::lock_guard lock(mu_);
    if (damaged_.empty()) return std::nullopt;
    const auto& [symbol, what] = *damaged_.begin();
    std::string s = symbol + ": " + what;
    if (damaged_.size() > 1) s += " (and " + std::to_string(damaged_.size() - 1) + " more symbols)";
    return s;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> damaged_;
};

/// When book servers snapshot (so recovery replays at most that much), and
/// what old journal they keep.
struct SnapshotPolicy {
  std::uint64_t every_records = 100'000;              ///< records since the last snapshot
  std::chrono::milliseconds every{60'000};            ///< or this long, if any record came
  std::optional<storage::RetentionPolicy> retention;  ///< `--retain`; nullopt: keep all
};

/// The data directory and its writer.
struct Journals {
  Journals(storage::Store s, storage::WriterOptions options, SnapshotPolicy p);
  ~Journals();

  /// Deletes a symbol's journal once what it has in flight is answered (DELETE /symbols).
  storage::Status remove(std::string_view symbol);

  const storage::Store store;
  storage::JournalWriter writer;
  const SnapshotPolicy snapshots;
  JournalDamage damage;
  /// Where `depth?at=T` queries replay the past (services/book_history.hpp).
  const std::unique_ptr<BookHistory> history;
};

/// Runs one of the writer's ordered operations (flush, remove, quarantine:
/// `op(done)`) and waits until it is done. Blocks (as a blocking call: a spare
/// thread stands in for a worker); the writer has its own thread.
template <class Op>
storage::Status await_done(Op&& op) {
  auto done = std::make_shared<std::promise<storage::Status>>();
  std::future<storage::Status> answered = done->get_future();
  if (storage::Status s = op([done](const storage::Status& st) { done->set_value(st); }); !s) {
    return s;
  }
  if (answered.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    // A sync may take long: a spare thread keeps the worker pool at strength.
    rt::Scheduler::BlockingScope blocking(rt::Scheduler::current());
    answered.wait();
  }
  return answered.get();
}

/// The spec a symbol's journal begins with; nullopt for an empty journal,
/// an error when it cannot be read or does not begin with one.
rt::Result<std::optional<SymbolSpec>, std::string> journaled_spec(const storage::Store& store,
                                                                  std::string_view symbol);

}  // namespace services
