#pragma once
// MaxRateStream: one subscription stream capped at `max_hz` messages per
// second (API.md "Max rate"): a WebSocket session's top or ticker, or a book
// server's book stream shared by all its subscribers at that rate and depth
// (ADR 029). A frame offered at least a period after the last one sent goes
// at once; one offered sooner is held, merged with whatever else arrives, and
// the merge is sent when the period is over (the owner arms a timer for
// due_ns()):
//   - top, ticker: the newest frame wins (it is the whole state);
//   - book: updates merge per level (the newest quantity wins), into one
//     book_update whose `seq` and `checksum` are the last merged update's and
//     whose `merged` counts every book seq it covers, so a client's seq
//     continuity check still holds and its book equals the unmerged stream's
//     at that seq.
// The offered frames must be in order and continuous. A snapshot sent for the stream covers what is
// held: restart() drops it.
// This is merging by rate, not by backlog: the Outbox's conflation of a slow
// client's queue is still what bounds memory.
// Thread-safety: not thread-safe; owned by one process.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>

#include "orderbook/events.hpp"
#include "services/publication.hpp"
#include "services/symbol_spec.hpp"

namespace services {

class MaxRateStream {
 public:
  /// A stream sending at most `max_hz` (>= 1) frames per second.
  explicit MaxRateStream(std::uint32_t max_hz);

  /// The clock of caps: steady and precise (1 ms periods), in ns.
  static std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  std::uint32_t max_hz() const { return max_hz_; }
  /// The frame to send now (`f` itself), or null: it is held until due_ns().
  FramePtr offer(FramePtr f, std::int64_t now_ns);
  /// Whether frames are held, and when they may go (steady-clock ns).
  bool holding() const { return held_ != nullptr; }
  std::int64_t due_ns() const { return last_sent_ns_ + period_ns_; }
  /// What is held, as one frame (a merged book_update encoded for `info`),
  /// now sent; null when nothing is held.
  FramePtr take(const SymbolInfo& info, std::int64_t now_ns);
  /// A snapshot (or current state) was sent at `now_ns`: drops what is held.
  void restart(std::int64_t now_ns);

  /// Set while the session has a flush timer armed for this stream.
  bool timer_armed = false;

 private:
  std::uint32_t max_hz_;
  std::int64_t period_ns_;
  std::int64_t last_sent_ns_ = std::numeric_limits<std::int64_t>::min() / 2;
  FramePtr held_;  // the newest frame held
  // Book: the held updates' levels, their newest quantity, and the seqs they cover.
  std::map<std::pair<ob::Side, std::int64_t>, ob::LevelQty> levels_;
  std::uint64_t merged_ = 0;
};

}  // namespace services
