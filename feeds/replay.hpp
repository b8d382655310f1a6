#pragma once
// Replay: NDJSON events from a file or stdin, through a Stage pipeline
//
//   reader ──chunks of whole lines──▶ parser ──ParsedBatch──▶ router ──▶ EventSink
//
// so that memory stays flat however large the file: the reader reads a chunk
// (~64 KiB of complete lines, with its first line number) only when the parser
// asks for one *and* fewer than `window` chunks are between it and the sink;
// the router hands each batch to the sink and then gives the chunk's credit
// back to the reader. At most `window` chunks (their text and parsed events)
// are held by the pipeline at any time, in either mode.
//
//   auto replay = feeds::Replay::start(runtime, "day.ndjson", sink, {.paced = true});
//   if (!replay) log(replay.error().message);            // e.g. the file does not exist
//   auto totals = replay->wait(std::chrono::minutes(5)); // lines, accepted, rejected
//
// Modes:
// - fast (default): batches go to the sink as soon as they are parsed.
// - paced: the first event with a ts_ns anchors wall time; a later event is
//   handed over once (its ts_ns - the anchor's) has elapsed, to within the
//   runtime timers' precision (rt::send_after, rounded up to the next ms, never
//   early). Events without ts_ns wait only for the events before them: order
//   is always kept. A batch is then handed over in slices (split_front).
// Ending: the replay ends when the router has handed the sink everything
// (totals), or with a ReplayError when reading fails, the sink throws,
// cancel() is called, or a pipeline process dies (then the others are stopped).
// The reader never holds more than max_line_bytes of one unfinished line: a
// line whose end it has not found by then is read past, not buffered, and
// reported as invalid_json ("line longer than N bytes"). (A long line that
// arrives whole within one 64 KiB read goes to the parser, whatever the limit.) A missing or
// unreadable file is an error of start(), not of the replay. Reading stdin blocks one scheduler
// worker while the pipe is empty. Thread-safety: Replay's members are thread-safe;
// EventSink::submit is called from the router process only, one call at a time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "feeds/ndjson.hpp"
#include "runtime/pid.hpp"
#include "runtime/result.hpp"
#include "runtime/runtime.hpp"

namespace feeds {

/// How a replay runs.
struct ReplayOptions {
  bool paced = false;  ///< pace events by ts_ns (see header notes)
  std::size_t chunk_bytes =
      64 * 1024;  ///< target chunk size (whole lines; a longer line is one chunk)
  std::size_t max_line_bytes = 16u << 20;  ///< longer lines are skipped: invalid_json
  std::size_t window = 4;  ///< chunks read but not yet fully handed to the sink, at most
};

/// A replay's counts so far (progress()) or in the end (wait()).
struct ReplayTotals {
  std::uint64_t bytes_read = 0;  ///< bytes read from the source
  std::uint64_t lines_read = 0;  ///< physical lines read (reader side)
  std::uint64_t lines = 0;       ///< physical lines handed to the sink, blank ones included
  std::uint64_t accepted = 0;    ///< events handed to the sink
  std::uint64_t rejected = 0;    ///< lines the parser rejected (LineErrors handed over)
  std::uint64_t batches = 0;     ///< submit() calls
  std::uint64_t max_chunks_in_flight = 0;  ///< high-water of chunks read, not yet handed over
};

/// Why a replay could not start or did not finish.
struct ReplayError {
  enum class Code : std::uint8_t {
    open_failed,   ///< the file could not be opened (message: path and errno text)
    read_failed,   ///< reading failed midway
    sink_failed,   ///< EventSink::submit threw
    cancelled,     ///< cancel() was called
    start_failed,  ///< a pipeline process did not start
    crashed,       ///< a pipeline process died (the runtime shut down, ...)
    timeout,       ///< wait() gave up; the replay goes on
  };
  Code code = Code::crashed;
  std::string message;
};

namespace detail {
struct ReplayState;
}

/// A running (or finished) replay: a handle. Dropping it does not stop the replay.
class Replay {
 public:
  /// Called once when the replay ends, from a runtime thread (keep it short).
  using OnDone = std::function<void(const rt::Result<ReplayTotals, ReplayError>&)>;

  /// Opens `path` ("-" for stdin) and starts the pipeline feeding `sink`.
  static rt::Result<Replay, ReplayError> start(rt::Runtime& runtime, const std::string& path,
                                               std::shared_ptr<EventSink> sink,
                                               ReplayOptions options = {}, OnDone on_done = {});

  /// Waits for the end up to `timeout`: the totals, or why it failed (timeout included).
  rt::Result<ReplayTotals, ReplayError> wait(std::chrono::milliseconds timeout) const;
  /// True once the replay has ended, well or not.
  bool done() const;
  /// The counts so far.
  ReplayTotals progress() const;
  /// Stops the replay; it ends with `cancelled` (unless it had ended already).
  void cancel();

 private:
  Replay(std::shared_ptr<detail::ReplayState> state, rt::Pid router)
      : state_(std::move(state)), router_(std::move(router)) {}
  std::shared_ptr<detail::ReplayState> state_;
  rt::Pid router_;
};

}  // namespace feeds
