#pragma once
// MaxRateStream: one subscription stream (a symbol's top, ticker or book) of
// one WebSocket session, capped at `max_hz` messages per second (API.md "Max
// rate"). A frame offered at least a period after the last one sent goes at
// once; one offered sooner is held, merged with whatever else arrives, and
// the merge is sent when the period is over (the session arms a timer for
// due_ns()):
//   - top, ticker: the newest frame wins (it is the whole state);
//   - book: updates merge per level (the newest quantity wins), into one
//     book_update whose `seq` and `checksum` are the last merged update's and
//     whose `merged` counts every book seq it covers, so a client's seq
//     continuity check still holds and its book equals the unmerged stream's
//     at that seq.
// The offered frames must be in order and continuous (the session checks
// book seqs before offering). A snapshot sent for the stream covers what is
// held: restart() drops it.
// This is merging by rate, not by backlog: the Outbox's conflation of a slow
// client's queue is still what bounds memory.
// Thread-safety: not thread-safe; owned by the session process.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>

#include "orderbook/events.hpp"
#include "services/publication.hpp"
#include "services/symbol_spec.hpp"

namespace api {

class MaxRateStream {
 public:
  /// A stream sending at most `max_hz` (>= 1) frames per second.
  explicit MaxRateStream(std::uint32_t max_hz);

  std::uint32_t max_hz() const { return max_hz_; }
  /// The frame to send now (`f` itself), or null: it is held until due_ns().
  services::FramePtr offer(services::FramePtr f, std::int64_t now_ns);
  /// Whether frames are held, and when they may go (steady-clock ns).
  bool holding() const { return held_ != nullptr; }
  std::int64_t due_ns() const { return last_sent_ns_ + period_ns_; }
  /// What is held, as one frame (a merged book_update encoded for `info`),
  /// now sent; null when nothing is held.
  services::FramePtr take(const services::SymbolInfo& info, std::int64_t now_ns);
  /// A snapshot (or current state) was sent at `now_ns`: drops what is held.
  void restart(std::int64_t now_ns);

  /// Set while the session has a flush timer armed for this stream.
  bool timer_armed = false;

 private:
  std::uint32_t max_hz_;
  std::int64_t period_ns_;
  std::int64_t last_sent_ns_ = std::numeric_limits<std::int64_t>::min() / 2;
  services::FramePtr held_;  // the newest frame held
  // Book: the held updates' levels, their newest quantity, and the seqs they cover.
  std::map<std::pair<ob::Side, std::int64_t>, ob::LevelQty> levels_;
  std::uint64_t merged_ = 0;
};

}  // namespace api
