#pragma once
// The runtime: scheduler threads, timers, and the table of live processes.
// Every process belongs to one Runtime, which must outlive the processes'
// activity: its destructor kills every process still alive, waits for them to
// exit, then stops its threads.
// Thread-safety: all public functions are thread-safe.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "runtime/detail/spin_lock.hpp"
#include "runtime/process.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/timer_service.hpp"

namespace rt {

/// Counters the runtime keeps for metrics.
struct RuntimeStats {
  std::uint64_t spawned = 0;
  std::uint64_t exited = 0;
  std::uint64_t crashed = 0;  ///< exits with an error reason from a callback
  std::uint64_t call_timeouts = 0;
  std::int64_t alive = 0;
};

class Runtime {
 public:
  struct Options {
    Scheduler::Options scheduler;
  };

  Runtime() : Runtime(Options{}) {}
  explicit Runtime(Options opts);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  Scheduler& scheduler() noexcept { return scheduler_; }
  TimerService& timers() noexcept { return timers_; }

  /// A snapshot of every live process (name, mailbox depth, messages handled, restarts).
  std::vector<ProcessInfo> processes() const;
  /// Number of live processes.
  std::int64_t process_count() const noexcept;
  RuntimeStats stats() const noexcept;

  /// Kills every live process and waits (up to `timeout`) for all to exit. True if all did.
  /// The runtime is shutting down from then on: supervisors stop restarting.
  bool kill_all(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// True once kill_all began: a child's exit is the runtime going down, and
  /// restarting it would only start something to kill (and log a false alarm).
  bool shutting_down() const noexcept { return shutting_down_.load(std::memory_order_acquire); }

  // ---- for the runtime's own types ---------------------------------------
  /// A fresh id for a monitor or subscription (processes get theirs from add).
  std::uint64_t next_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }
  void count_call_timeout() noexcept { call_timeouts_.fetch_add(1, std::memory_order_relaxed); }

 private:
  friend class Process;
  void add(Process& p) noexcept;
  void remove(Process& p, bool crashed) noexcept;

  // The process table, sharded by the thread that starts a process (a worker
  // uses its own shard), so concurrent starts share no cache line: each
  // shard numbers its processes and counts them.
  struct alignas(64) Shard {
    mutable detail::SpinLock lock;
    Process* head = nullptr;
    std::uint64_t next_seq = 1;  // process ids: seq * kShards + shard index
    // Written under the lock, read without it.
    std::atomic<std::int64_t> alive{0};
    std::atomic<std::uint64_t> spawned{0};
    std::atomic<std::uint64_t> exited{0};
    std::atomic<std::uint64_t> crashed{0};
  };
  static constexpr std::size_t kShards = 16;
  std::size_t local_shard() const noexcept;

  std::array<Shard, kShards> shards_;
  alignas(64) std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> shutting_down_{false};
  std::atomic<std::uint64_t> call_timeouts_{0};
  TimerService timers_;
  Scheduler scheduler_;  // last: its threads stop first
};

}  // namespace rt
