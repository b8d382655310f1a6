#pragma once
// Timers: `send_after` delivers a message to a process after a delay, and can
// be cancelled until it fires. One thread keeps a min-heap of deadlines
// (O(log n) insert, O(1) cancel by id), so 100k pending timers are cheap.
// Precision is the OS's (typically 50-100 µs); firing pushes the message into
// the target's mailbox like any other send.
// Thread-safety: all public functions are thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "runtime/envelope.hpp"
#include "runtime/pid.hpp"

namespace rt {

/// Identifies a pending timer; cancel it with TimerService::cancel.
struct TimerRef {
  std::uint64_t id = 0;
  explicit operator bool() const { return id != 0; }
  friend bool operator==(TimerRef, TimerRef) = default;
};

class TimerService {
 public:
  using Clock = std::chrono::steady_clock;

  TimerService();
  ~TimerService();
  TimerService(const TimerService&) = delete;
  TimerService& operator=(const TimerService&) = delete;

  /// Posts `env` to `target` after `delay` (as a system message: never refused by a bounded
  /// mailbox).
  TimerRef start(Pid target, std::unique_ptr<Envelope> env, Clock::duration delay);
  /// Runs `fn` on the timer thread after `delay` (keep it short: it delays other timers).
  TimerRef start(std::function<void()> fn, Clock::duration delay);
  /// Cancels a pending timer; false if it already fired or was cancelled (its message may be
  /// queued).
  bool cancel(TimerRef ref);
  /// Timers not yet fired.
  std::size_t pending() const;
  /// Stops the thread; pending timers are discarded.
  void shutdown();

 private:
  // 16 bytes: a process's timer (100,000 idle servers each hold one) carries
  // no room for the rarer function timers, whose function rides in `env`.
  struct Pending {
    Pid target;                     // empty for a function timer
    std::unique_ptr<Envelope> env;  // a FnTask for a function timer
  };
  class FnTask;
  TimerRef add(Pending p, Clock::duration delay);
  struct Due {
    Clock::time_point when;
    std::uint64_t id;
    bool operator>(const Due& o) const { return when > o.when || (when == o.when && id > o.id); }
  };
  void run();

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> heap_;
  std::unordered_map<std::uint64_t, Pending> pending_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rt
