#pragma once
// Ingest: where parsed normalized events enter the services (POST /ingest,
// replay, upstream sources).
//
// For each event it finds the symbol (creating it on first sight: `mirror`
// for L3 events and ticks, `l2` for level events, with the configured default
// spec — API.md "Book modes"), resolves its decimals at the symbol's scale,
// and routes it to the symbol's OrderBookServer: one message per symbol per
// batch, events in their order. The book applies them and forwards ticks and
// trades to the symbol's PriceFeedHandler.
//
// apply() waits for every book's verdict so each rejected line is reported
// with its physical line number; submit() does not wait (failures are only
// counted in marketd_ingest_rejects_total).
// Thread-safety: thread-safe; it holds no mutable state.

#include <atomic>
#include <cstddef>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "feeds/event.hpp"
#include "feeds/ndjson.hpp"
#include "feeds/replay.hpp"
#include "runtime/gen_server.hpp"
#include "services/book_state.hpp"
#include "services/context.hpp"
#include "services/symbol_directory.hpp"

namespace services {

/// The outcome of a batch, as POST /ingest answers it.
struct IngestReport {
  static constexpr std::size_t kMaxErrors = 100;  ///< errors listed (all are counted)
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  /// The first kMaxErrors, by line. Never holds more, however many lines
  /// fail: while a batch is applied it is a max-heap on the line.
  std::vector<feeds::LineError> errors;
  /// Set when the body was cut short (IngestServer stopped between two
  /// slices): this line and every later one were not applied, neither
  /// accepted nor rejected; `errors` then ends with one `unavailable` record
  /// for this line (in place of the last reject when the list is full).
  /// Every line before it was judged: accepted or rejected as counted.
  std::optional<std::size_t> not_applied_from;
};

/// Finds the directory process (it may have been restarted).
using DirectoryLookup = std::function<std::optional<rt::Ref<SymbolDirectory>>()>;

/// What creating symbols may still cost while a body is applied in parts.
struct NewSymbolBudget {
  /// New symbols the next part may ask the directory for.
  std::size_t left = std::numeric_limits<std::size_t>::max();
  /// The directory's limit_exceeded, once seen: later new symbols of the same
  /// body are rejected with it at no cost (a flood costs the directory once).
  std::optional<feeds::FieldError> full;
};

class Ingest {
 public:
  Ingest(ContextPtr ctx, DirectoryLookup directory, SymbolSpec default_spec);

  /// Applies a batch and reports every line's fate (blocking: call from a
  /// worker or a tool, not from an event loop).
  IngestReport apply(const feeds::ParsedBatch& batch) const;
  /// Applies the front of `rest`: its events up to the first whose symbol
  /// would be created beyond `budget.left`; `rest` keeps the others (empty
  /// when all went). Creating a book costs far more than applying an event,
  /// so this bounds the time one part holds a worker. `budget.left` must be
  /// at least 1, or a first event of a new symbol leaves the front empty.
  IngestReport apply_front(feeds::ParsedBatch& rest, NewSymbolBudget& budget) const;
  /// Routes a batch without waiting for the books; returns what was routed
  /// (parse and symbol errors are counted as rejected).
  IngestReport submit(const feeds::ParsedBatch& batch) const;

  /// A batch sent to its books whose verdicts are not yet collected.
  struct InFlight {
    IngestReport report;                 ///< so far: parse and routing errors
    std::shared_ptr<const void> routed;  ///< what went to which book, by line
    std::vector<rt::PendingCall<std::vector<EventFailure>>> verdicts;
  };
  /// apply() in two halves, so that several batches can be in flight: sends
  /// the batch's events to their books (creating symbols as apply does)...
  InFlight dispatch(const feeds::ParsedBatch& batch) const;
  /// ...and waits for the verdicts (blocking, as apply).
  IngestReport collect(InFlight&& batch) const;

 private:
  struct Routed;
  Routed route(const feeds::ParsedBatch& batch, IngestReport& report,
               std::optional<feeds::FieldError>& full) const;
  IngestReport apply(const feeds::ParsedBatch& batch, std::optional<feeds::FieldError>& full) const;
  InFlight dispatch(const feeds::ParsedBatch& batch, std::optional<feeds::FieldError>& full) const;
  /// The symbol's book, created if new; else why its lines are rejected.
  rt::Result<BookHandle, feeds::FieldError> book_for(std::string_view symbol,
                                                     feeds::EventType first) const;
  void reject(IngestReport& report, feeds::LineError e) const;

  ContextPtr ctx_;
  DirectoryLookup directory_;
  SymbolSpec default_spec_;
};

/// A process that parses and applies bodies for callers that must not block
/// (the API's POST /ingest uses rt::async_call on it), never on an io thread.
/// A body goes in slices of whole lines (kSliceBytes): each slice is parsed,
/// applied (Ingest::apply's waits are backed by a spare thread) and then the
/// process yields, so a 1 MiB body never holds a runtime worker for more
/// than one slice while the books and the rate limiter wait for it. A slice
/// whose lines name many new symbols goes in parts of kNewSymbolsPerTurn
/// creations, yielding between them: a book's creation (its supervisor's
/// start, its journal's recovery) runs on this worker, and 200 of them in a
/// row held GET /top for 50 ms on a one-worker runtime. Bodies
/// are applied one at a time, in arrival order; the mailbox bound turns a
/// flood of requests into `overloaded` answers.
///
/// Stopping (ADR 020): the server traps exits, so its supervisor's
/// `shutdown` is a message handled between two slices: the slice being
/// applied finishes, no further slice is, and every caller — the body in
/// progress and each queued one — is answered with its report so far and
/// IngestReport::not_applied_from (1 for a queued body). Shutdown thus waits
/// for one slice, not for a body. A `kill` (the shutdown timeout passed) or
/// a crash within a slice leaves that body's caller with `exited`: which of
/// the slice's lines were applied is then unknown.
class IngestServer : public rt::GenServer<IngestServer> {
 public:
  /// An NDJSON body.
  struct Apply {
    std::string body;
    using Reply = IngestReport;
  };
  static constexpr std::size_t kSliceBytes = 16 * 1024;
  /// Books a slice may create before the process yields.
  static constexpr std::size_t kNewSymbolsPerTurn = 16;

  explicit IngestServer(const Ingest& ingest) : ingest_(ingest) {}
  /// Traps exits: a shutdown then waits for the slice being applied.
  Action init();
  CallAction<IngestReport> handle_call(Apply a, From<IngestReport>& from);
  /// Yielded to self between slices.
  struct NextSlice {};
  Action handle_info(const NextSlice&);
  /// Answers every caller whose report is exact (all, between two slices)
  /// with what was applied and from which line nothing was.
  void terminate(const rt::ExitReason& reason);

 private:
  struct Job {
    std::string body;
    std::size_t pos = 0;                     // next byte to parse
    std::size_t line = 1;                    // its physical line
    std::optional<feeds::ParsedBatch> rest;  // a slice's lines not yet applied
    NewSymbolBudget budget;
    IngestReport report;
    From<IngestReport> from;
  };
  /// Parses and applies the front job's next slice; replies once it is done.
  void run_slice();
  void yield();

  const Ingest& ingest_;
  feeds::NdjsonParser parser_;  // reused: its buffers grow to the longest line once
  std::deque<Job> jobs_;
  bool in_slice_ = false;  // a slice is being applied: the front job's report is not exact
};

/// Hands replayed (or other NDJSON-source) batches to their books and waits
/// for their verdicts, one batch behind: while the books answer a batch once
/// its journal records are durable (a sync), they already work on the next.
/// The replay pipeline's back-pressure still reaches them: at most two
/// batches are in the books at once.
class IngestSink final : public feeds::EventSink {
 public:
  explicit IngestSink(const Ingest& ingest) : ingest_(ingest) {}
  void submit(feeds::ParsedBatch&& batch) override;
  /// Waits for the last batch's verdicts.
  void finish() override;
  /// Events the books accepted / lines rejected anywhere, so far.
  std::uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  void count(const IngestReport& r);

  const Ingest& ingest_;
  std::optional<Ingest::InFlight> in_flight_;  // the batch whose verdicts come next
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace services
