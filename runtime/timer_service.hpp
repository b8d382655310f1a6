#pragma once
// Timers: `send_after` delivers a message to a process after a delay, and can
// be cancelled until it fires. Timers live in shards, one per hardware thread
// (a thread arms into its own shard): arming is a spin lock nobody else
// usually holds, a hash insert and a heap push on lines that stay in the
// arming core's cache. One thread sleeps until the earliest deadline of all
// shards and is only woken when an earlier one arrives, so 100k pending
// timers are cheap to arm, hold and cancel (O(log n) arm, amortised O(1)
// cancel by id). A cancel leaves its heap entry behind; once a shard's dead
// entries outnumber its live ones the heap is compacted, so the memory held
// follows the live timers, not the cancelled ones (an idle timeout re-armed
// on every message cancels one timer per message).
// Precision is the OS's (typically 50-100 µs); firing pushes the message into
// the target's mailbox like any other send.
// Thread-safety: all public functions are thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "runtime/detail/spin_lock.hpp"
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
  /// Timer entries held in memory: the pending ones and the cancelled ones not
  /// yet reclaimed (for tests and metrics).
  std::size_t held_entries() const;
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
  struct Due {
    Clock::time_point when;
    std::uint64_t id;
    bool operator>(const Due& o) const { return when > o.when || (when == o.when && id > o.id); }
  };
  struct alignas(64) Shard {
    mutable detail::SpinLock lock;
    // Min-heap by deadline (std::greater); an entry whose id is no longer in
    // `pending` was cancelled and is dropped when it comes due or at compaction.
    std::vector<Due> heap;
    boost::unordered_flat_map<std::uint64_t, Pending> pending;  // for cancel, by id
    std::uint64_t next_seq = 1;
  };
  // A TimerRef's id is (sequence << kShardBits) | shard.
  static constexpr unsigned kShardBits = 6;
  // Cancelled entries a shard may hold beyond its live count before
  // compacting: keeps small shards from compacting on every cancel.
  static constexpr std::size_t kCompactSlack = 64;

  TimerRef add(Pending p, Clock::duration delay);
  Shard& shard_of(std::uint64_t id) { return shards_[id & ((1u << kShardBits) - 1)]; }
  Shard& my_shard();
  static void compact(Shard& shard);
  /// Sums count(shard) over the shards, each under its lock.
  template <class Count>
  std::size_t sum_over_shards(Count count) const;
  void run();

  std::vector<Shard> shards_;
  // The timer thread sleeps on `epoch_` until `next_wake_ns_` (0 while it
  // scans); an arm earlier than that bumps the epoch and wakes it.
  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::int64_t> next_wake_ns_{0};
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace rt
