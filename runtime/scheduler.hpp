#pragma once
// The scheduler: a fixed pool of worker threads multiplexing processes.
//
// - Each worker has a local run queue plus a one-process "next" slot: a
//   process woken by a worker runs next on that worker (message ping-pong stays
//   on one core); all take from a global injection queue (used by non-worker
//   threads: timers, Asio, tests).
// - Stealing pays only for work bigger than the move: a moved process pulls
//   its state and its messages across cores. An idle worker watches a busy
//   one and takes half its queue (up to 16) only if its turns average ≥ 1 µs
//   or it has been in one turn for 100 µs; a queue of short turns (a fan-out's
//   subscribers) stays where its messages are. See ADR 012.
// - Fairness: a process handles at most `budget` messages per turn, or fewer
//   once its handlers have sent `send_budget` messages (BEAM's reductions,
//   counted in messages and sends), then goes to the back of the queue.
// - Idle workers spin briefly, then park on a futex: an idle runtime costs no CPU.
// - Blocking calls from a worker (see BlockingScope) wake a spare thread when
//   work is queued (or later, as it is queued) so that N workers keep running
//   processes; spares park at once when idle and for good when calls return.
//
// Thread-safety: schedule() from any thread; the rest is internal.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "runtime/detail/spin_lock.hpp"

namespace rt {

class Process;

class Scheduler {
 public:
  struct Options {
    unsigned workers = 0;  ///< 0 = std::thread::hardware_concurrency()
    unsigned budget = 64;  ///< messages per process turn
    /// Sends per process turn: a turn also ends once its handlers have sent
    /// this many messages (the BEAM's 4,000 reductions, a send costing one),
    /// so a fan-out process lets the processes it woke run in batches.
    std::uint32_t send_budget = 4096;
    unsigned spin_before_park = 2000;  ///< idle polls before a worker sleeps
  };

  explicit Scheduler(Options opts);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Makes `p` runnable; the caller has already set p's scheduled flag.
  void schedule(Process* p);
  /// Stops and joins all threads; queued processes are released unrun.
  void shutdown();

  unsigned workers() const noexcept { return core_workers_; }
  /// Threads started so far: the workers plus the spares blocking calls needed.
  unsigned threads() const noexcept { return worker_count_.load(std::memory_order_acquire); }
  /// Fraction of wall time workers spent running processes since start, 0..1.
  double utilisation() const noexcept;

  /// Runs `p` on this thread now if it is waiting in this worker's next slot
  /// (a blocking call helping its callee). True if it ran.
  bool try_run_inline(Process* p, bool (*eligible)(const Process&) = nullptr);
  /// Runs `p` on this thread now if it waits in this worker's next slot or in
  /// any run queue: a caller whose callee is runnable but not running runs it
  /// itself instead of blocking until another thread picks it up. True if it ran.
  /// With `eligible`, only a process for which it holds once taken out of its
  /// queue (and so not running anywhere) is run; others go back to a queue.
  bool try_run_queued(Process* p, bool (*eligible)(const Process&) = nullptr);

  /// Marks the calling worker blocked (in a call) for a scope, so that a spare
  /// thread keeps the pool at full strength. No-op on non-worker threads.
  class BlockingScope {
   public:
    explicit BlockingScope(Scheduler* s);
    ~BlockingScope();
    BlockingScope(const BlockingScope&) = delete;
    BlockingScope& operator=(const BlockingScope&) = delete;

   private:
    Scheduler* s_;
  };

  /// The scheduler whose worker is running on this thread, or nullptr.
  static Scheduler* current() noexcept;
  /// The index of this scheduler's worker running on this thread, if one is.
  std::optional<unsigned> worker_here() const noexcept;

 private:
  struct Worker;
  void run_worker(Worker& w);
  Process* find_work(Worker& w);
  Process* steal(Worker& self);
  bool worth_stealing(Worker& self, Worker& victim, std::int64_t& now);
  void run_process(Worker& w, Process* p);
  void wake_one();
  void push_local(Worker& w, Process* p);
  void push_global(Process* p);
  bool any_work() const;
  bool spare_entitled_and_parked() const;
  void park(Worker& w);
  void enter_blocking();
  void leave_blocking();
  bool spare_should_stop(const Worker& w) const;

  Options opts_;
  unsigned core_workers_;
  std::vector<std::unique_ptr<Worker>> workers_;  // core first, then spares
  std::mutex spawn_mutex_;                        // guards adding spares
  std::atomic<unsigned> worker_count_{0};
  detail::SpinLock global_lock_;
  std::deque<Process*> global_;
  std::atomic<std::int64_t> global_size_{0};
  std::atomic<std::uint32_t> epoch_{0};  // futex word for parked workers
  std::atomic<int> sleepers_{0};
  std::atomic<std::uint32_t> spare_epoch_{0};  // futex word for parked spares
  std::atomic<int> spare_sleepers_{0};         // spares parked on spare_epoch_
  std::atomic<int> blocked_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> idle_ns_{0};  // core workers' time without work
  std::int64_t started_ns_;
};

}  // namespace rt
