#pragma once
// What an idle worker remembers of one busy worker, to decide whether taking
// processes from its queue pays. A moved process pulls its state and every
// message sent to it across cores (~0.1-0.4 µs a cache line on the machines
// we measured), so a queue of short turns -- a fan-out's subscribers, each
// handling one tick -- runs faster where its messages are. Stealing pays
// when the victim's turns are long on average, or when it is stuck in one
// turn and its queue waits behind it. See docs/decisions/012-local-scheduling.md.
// Thread-safety: none; each thief owns its watches.

#include <chrono>
#include <cstdint>

namespace rt::detail {

class StealWatch {
 public:
  static constexpr std::chrono::nanoseconds kWindow{20'000};    ///< turns are averaged over this
  static constexpr std::chrono::nanoseconds kHeavyTurn{1'000};  ///< an average turn worth moving
  static constexpr std::chrono::nanoseconds kStuck{
      100'000};  ///< one turn this long: take its queue

  /// Whether to steal now from a victim with a non-empty queue that has run
  /// `turns` turns so far, at time `now_ns`. The first look only starts watching.
  bool worth_stealing(std::uint64_t turns, std::int64_t now_ns) {
    if (since_ == 0) {
      start(turns, now_ns);
      return false;
    }
    if (turns != last_turns_) {
      last_turns_ = turns;
      progress_at_ = now_ns;
    }
    if (now_ns - progress_at_ >= kStuck.count()) return true;
    if (now_ns - since_ < kWindow.count()) return false;
    // No turn ended in the window: one long turn, which `stuck` judges.
    const auto ran = static_cast<std::int64_t>(turns - window_turns_);
    const bool heavy = ran > 0 && now_ns - since_ >= kHeavyTurn.count() * ran;
    window_turns_ = turns;
    since_ = now_ns;
    return heavy;
  }

  /// Forgets what was seen (the victim's queue drained, or the thief slept).
  void reset() noexcept { since_ = 0; }

 private:
  void start(std::uint64_t turns, std::int64_t now_ns) {
    window_turns_ = last_turns_ = turns;
    since_ = progress_at_ = now_ns;
  }

  std::uint64_t window_turns_ = 0;  // victim's turns at the start of the window
  std::int64_t since_ = 0;          // window start; 0 = not watching
  std::uint64_t last_turns_ = 0;    // victim's turns when last seen to change
  std::int64_t progress_at_ = 0;    // when they last changed
};

}  // namespace rt::detail
