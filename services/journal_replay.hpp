#pragma once
// JournalReplay: a recorded session from another marketd's data directory,
// re-emitted into this one's books (`marketd --replay-journal DIR`).
//
//   auto r = JournalReplay::start(app, "/srv/recorded/var", {"BTC-USD"}, {.paced = true});
//   if (!r) log(r.error());                 // no such directory, no such symbol, ...
//   auto totals = (*r)->wait(std::chrono::minutes(5));
//
// Each symbol's journal is read in seq order (storage::JournalReader: one
// segment image in memory per symbol, never a file changed, a writer may be
// running on the directory); the symbols' records are merged by receipt time,
// so the session comes out in the order the recording marketd received it.
// - `spec` records create the symbol here with the recorded spec (a symbol
//   that exists with another spec is skipped, and said why);
// - `events` records go to the symbol's book as the batch they were, stamped
//   with this marketd's receipt time (the events keep their own ts_ns);
// - `order`, `cancel` and `ids` records are not re-emitted: they are one
//   desk's API calls against that marketd's order ids, not the market's feed.
//   They are counted.
// Paced: the first events record anchors wall time, and each later one is
// applied once its receipt time's distance from the anchor has elapsed.
// Otherwise as fast as the books answer. Each batch is applied with a call
// (the books' verdicts are counted), so the replay never runs ahead of them.
// The replay runs on its own thread, never a runtime worker. A damaged
// journal ends that symbol's replay at its last good record, and one whose
// start `--retain` deleted is not replayed (a book is the sum of all its
// records); both are said in `stopped_symbols`, and the others go on.
// Memory: the merge holds one segment image (at most 32 MiB) per symbol
// still being replayed; `--replay-symbols` bounds it on a large directory.
// Thread-safety: wait(), done(), progress() and cancel() from any thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/result.hpp"

namespace services {

class Application;

/// What a journal replay did, so far or in the end.
struct JournalReplayTotals {
  std::uint64_t batches = 0;      ///< events records applied
  std::uint64_t events = 0;       ///< events in them
  std::uint64_t rejected = 0;     ///< events the books refused (as they would a client's)
  std::uint64_t api_records = 0;  ///< order, cancel and ids records passed over
  std::vector<std::string> stopped_symbols;  ///< "SYMBOL: why" for each that ended early
};

/// How a journal replay runs.
struct JournalReplayOptions {
  bool paced = false;  ///< at the recorded pace (receipt times) instead of at once
  /// Called once at the end (not when cancelled), on the replay's thread.
  std::function<void(const JournalReplayTotals&)> on_done;
};

/// A running (or finished) replay; destroying it cancels and joins it.
class JournalReplay {
 public:
  /// Opens `dir` for reading and starts replaying `symbols` (empty: every
  /// symbol with a journal there). Fails when `dir` is not a data directory,
  /// a named symbol has no journal, or `dir` is this marketd's own.
  static rt::Result<std::unique_ptr<JournalReplay>, std::string> start(
      Application& app, std::filesystem::path dir, std::vector<std::string> symbols,
      JournalReplayOptions options = {});
  struct State;
  class Token {  // only start() makes one
    friend class JournalReplay;
    Token() = default;
  };
  JournalReplay(Token, std::unique_ptr<State> state);
  ~JournalReplay();
  JournalReplay(const JournalReplay&) = delete;
  JournalReplay& operator=(const JournalReplay&) = delete;

  /// Waits up to `timeout` for the end; the totals, or "timeout" / "cancelled".
  rt::Result<JournalReplayTotals, std::string> wait(std::chrono::milliseconds timeout) const;
  /// True once every record was replayed (or the replay was cancelled).
  bool done() const;
  /// The counts so far.
  JournalReplayTotals progress() const;
  /// Stops the replay between two records (a paced wait ends at once).
  void cancel();

 private:
  std::unique_ptr<State> state_;
};

}  // namespace services
