#pragma once
// JournalWriter: group commit for every symbol's journal, on one I/O thread
// of its own — a plain std::thread, never a runtime worker, so no fsync ever
// blocks a thread that runs book servers.
//
//   JournalWriter w(store, {.fsync = FsyncPolicy::batch});
//   w.append("BTC-USD", seq, encode(change), [](const Status& s) { /* answer now */ });
//
// append() is accepted (returns ok; its callback will run exactly once) or
// refused (returns the error; no callback). The I/O thread takes everything
// queued when it gets to it — at once when it was idle, so a lone append
// waits for nothing but its own write — writes each symbol's records with
// one write per segment, syncs per FsyncPolicy, then calls the callbacks in
// the order the appends were accepted (so in seq order per symbol):
//   always  each record is written and fdatasync'ed before its callback;
//   batch   records are written as they come and synced when the writer runs
//           out of work or `window` after the oldest unsynced one, whichever
//           comes first — the callback follows the sync (one syncfs(2) for
//           the batch when it dirtied 8 files or more, else an fdatasync each);
//   never   callbacks follow the write: the records survive a crash of the
//           process, not of the machine.
// A record is never acknowledged unless it was written (and synced, unless
// `never`): a failed write or sync (ENOSPC, EIO, EFBIG, ...) fails the
// callbacks of every record it covered, cuts the file back to its last good
// size, fails that symbol's later records of the same batch
// (earlier_failed), and makes health() unhealthy with the reason until a
// later record is made durable. A segment is synced when it is closed
// whatever the policy, so only the newest segment of a symbol can have a
// torn tail; closed segments are compressed with zstd in slices between
// batches.
// Opening a symbol (its first append) cuts a torn tail off its newest
// segment. Damage in the middle of that segment is left as it is — the
// segment is closed and appends continue in a new one — for the caller's
// reader to report or pass over; only damage the writer cannot find the end
// of (a foreign magic, seqs out of order) blocks appends (corrupt) until
// quarantine().
// remove, quarantine, retain and snapshot are ordered with the appends: each
// runs after everything accepted before it has been answered; flush, after
// its symbol's records are decided.
// Destruction stops accepting, writes, syncs and answers everything accepted,
// then joins the thread.
// Thread-safety: every public member may be called from any thread, except
// that callbacks run on the I/O thread and must not destroy the writer; keep
// them short (post a message), they delay every later answer.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <variant>

#include "runtime/registry.hpp"
#include "storage/error.hpp"
#include "storage/retention.hpp"
#include "storage/segment.hpp"
#include "storage/store.hpp"

namespace storage {

/// When a record counts as durable (`--fsync`).
enum class FsyncPolicy : std::uint8_t { always, batch, never };

/// "always", "batch", "never".
const char* to_string(FsyncPolicy p) noexcept;
/// Parses `--fsync`'s value; nullopt for anything else.
std::optional<FsyncPolicy> parse_fsync_policy(std::string_view text) noexcept;

/// What a queued record counts for in WriterOptions::max_queued_bytes beyond its payload.
inline constexpr std::size_t kQueuedRecordOverhead = 128;

/// How a JournalWriter writes.
struct WriterOptions {
  FsyncPolicy fsync = FsyncPolicy::batch;
  /// batch: the longest a written record waits for its sync while appends keep coming.
  std::chrono::microseconds window{10'000};
  /// A segment is closed when the next record would take it past this size.
  std::uint64_t segment_bytes = std::uint64_t{32} << 20;
  /// Compress closed segments with zstd at this level.
  bool compress = true;
  int zstd_level = 3;
  /// Input bytes compressed between two batches: bounds the delay compression adds to a batch.
  std::size_t compress_step_bytes = std::size_t{1} << 20;
  /// Bytes queued and not yet taken by the I/O thread (payload + kQueuedRecordOverhead
  /// per record) beyond which append() refuses (overloaded).
  std::size_t max_queued_bytes = std::size_t{64} << 20;
  /// The clock retention measures age with (tests inject one); null = system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// Whether the journal can take writes, and if not why (for /readyz).
struct Health {
  bool healthy = true;
  std::string
      reason;  ///< the last failure, e.g. "no_space: write …/BTC-USD/…log: No space left on device"
};

/// Counters since start (for /metrics).
struct WriterStats {
  std::uint64_t records = 0;              ///< records acknowledged durable
  std::uint64_t bytes = 0;                ///< framed bytes written
  std::uint64_t batches = 0;              ///< times the I/O thread took the queue
  std::uint64_t syncs = 0;                ///< fdatasync calls on segments, and syncfs calls
  std::uint64_t failures = 0;             ///< records answered with an error
  std::uint64_t segments_compressed = 0;  ///< closed segments turned into `.log.zst`
  /// Open segments found damaged in the middle when their symbol was opened, and
  /// closed as they were (appends go to a new segment; readers report the damage).
  std::uint64_t damaged_segments = 0;
};

/// Appends records to per-symbol journals with group commit on its own thread.
class JournalWriter {
 public:
  /// Called once per accepted record, on the I/O thread: ok = durable per the policy.
  using OnDurable = std::function<void(const Status&)>;
  /// Called once when an ordered operation (flush, remove, quarantine) is done.
  using OnDone = std::function<void(const Status&)>;
  /// Called once with what a retention pass deleted.
  using OnRetained = std::function<void(const Result<RetentionReport>&)>;

  /// Starts the I/O thread. `store` must outlive nothing: it is copied.
  explicit JournalWriter(Store store, WriterOptions options = {});
  /// Stops accepting, answers everything accepted, joins the I/O thread.
  ~JournalWriter();
  /// What the destructor does, for owners whose writer outlives its users:
  /// stops accepting, answers everything accepted, joins the I/O thread. The
  /// callbacks hold references (to processes, say) that may own the writer;
  /// running them all here breaks such a cycle. Idempotent; not from a callback.
  void close();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  /// Queues record `seq` of `symbol`. Refused (no callback): invalid symbol,
  /// payload too large, queue full (overloaded), stopping. Accepted: the
  /// callback reports durability, or out_of_order (seq not above the
  /// symbol's last), corrupt (the journal needs quarantine() first), or the
  /// write's failure.
  Status append(std::string_view symbol, std::uint64_t seq, std::string payload,
                OnDurable on_durable);
  /// `done` runs once every record of `symbol` accepted before it is written
  /// and durable or failed — its file says which. Only that symbol's file is
  /// synced; its records' callbacks keep their order, so one may run after
  /// `done` while an earlier record of another symbol still waits for its batch.
  /// If nothing was ever appended to `symbol`, `done` runs at once, on the caller.
  Status flush(std::string_view symbol, OnDone done);
  /// Deletes `symbol`'s journal after its accepted records (DELETE /symbols);
  /// a later append starts a new journal for the name.
  Status remove(std::string_view symbol, OnDone done);
  /// Store::quarantine on the I/O thread: the symbol's journal ends at the last
  /// good record again and appends continue after it.
  Status quarantine(std::string_view symbol, Corruption corruption, OnDone done);
  /// Store::apply_retention on the I/O thread, at the options' clock's now.
  Status retain(std::string_view symbol, RetentionPolicy policy, OnRetained done);
  /// Store::write_snapshot on the I/O thread, once every record accepted
  /// before it is answered — and only if record `seq` of `symbol` is then
  /// durable (else invalid_argument): a snapshot never holds what the journal
  /// may lose. Counts against max_queued_bytes like a record.
  Status snapshot(std::string_view symbol, std::uint64_t seq, std::string bytes, OnDone done);

  /// Healthy unless the last write or sync failed (and none succeeded since).
  Health health() const;
  /// Counters since start.
  WriterStats stats() const;

 private:
  struct Append {
    std::string symbol;
    std::uint64_t seq;
    std::string payload;
    OnDurable on_durable;
  };
  struct Control {
    enum class Kind : std::uint8_t { flush, remove, quarantine, retain, snapshot } kind;
    std::string symbol;
    OnDone done;
    Corruption corruption;
    RetentionPolicy policy;
    OnRetained retained;
    std::uint64_t seq = 0;  // snapshot
    std::string bytes;      // snapshot
  };
  using Item = std::variant<Append, Control>;
  struct Io;  // the I/O thread's state, touched by that thread only

  Status enqueue(Item item, std::size_t bytes, std::string_view appends_to = {});
  void run();

  const Store store_;
  const WriterOptions options_;

  mutable std::mutex m_;
  std::condition_variable wake_;
  std::deque<Item> queue_;  // guarded by m_
  // Every symbol ever appended to (guarded by m_): flush answers the others at once.
  std::unordered_set<std::string, rt::TransparentHash, std::equal_to<>> appended_;
  std::size_t queued_bytes_ = 0;  // guarded by m_
  bool stopping_ = false;         // guarded by m_
  Health health_;                 // guarded by m_
  WriterStats stats_;             // guarded by m_

  std::unique_ptr<Io> io_;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace storage
