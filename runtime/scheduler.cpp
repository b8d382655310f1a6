#include "runtime/scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "runtime/detail/futex.hpp"
#include "runtime/detail/steal_watch.hpp"
#include "runtime/process.hpp"
#include "runtime/thread_name.hpp"

namespace rt {

namespace {
constexpr unsigned kMaxSpares = 256;
constexpr unsigned kSpareSpinBeforePark = 1;
constexpr unsigned kNextSlotStreak = 16;  // next-slot runs before the queue gets a turn
constexpr unsigned kGlobalCheckEvery = 61;
constexpr std::size_t kStealBatch = 16;  // larger batches bounce whole queues between workers
constexpr std::size_t kHelpScan = 64;    // queue entries a waiting caller looks through
// A worker that passed a busy victim over (see detail::StealWatch) looks
// again after kStealPollNs, pausing in between.
constexpr std::int64_t kStealPollNs = 10'000;
constexpr unsigned kWatchingPauses = 16;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

struct Scheduler::Worker {
  unsigned index = 0;
  bool spare = false;
  detail::SpinLock lock;
  std::deque<Process*> queue;
  // Read by thieves together: one line, written by this worker.
  alignas(64) std::atomic<std::int64_t> size{0};
  std::atomic<std::uint64_t> turns{0};  // process turns run; only this worker writes
  std::atomic<unsigned> blocking{0};    // blocking calls in progress: its queue waits for others
  alignas(64) Process* next = nullptr;  // only touched by this worker's thread
  std::vector<detail::StealWatch> watches;  // per victim index; only this worker's thread
  unsigned next_streak = 0;
  unsigned tick = 0;
  unsigned nest = 0;
  std::int64_t watch_again_at = 0;          // no stealing before then (see steal); 0 = now
  std::atomic<std::int64_t> idle_since{0};  // when this worker ran dry; 0 while busy
  std::thread thread;
};

namespace {
thread_local Scheduler* tl_scheduler = nullptr;
thread_local void* tl_worker = nullptr;  // Scheduler::Worker*, private type
}  // namespace

Scheduler* Scheduler::current() noexcept {
  return tl_scheduler;
}

std::optional<unsigned> Scheduler::worker_here() const noexcept {
  if (tl_scheduler != this || tl_worker == nullptr) return std::nullopt;
  return static_cast<const Worker*>(tl_worker)->index;
}

Scheduler::Scheduler(Options opts) : opts_(opts), started_ns_(now_ns()) {
  core_workers_ = opts_.workers ? opts_.workers : std::max(1u, std::thread::hardware_concurrency());
  workers_.resize(core_workers_ + kMaxSpares);
  for (unsigned i = 0; i < core_workers_; ++i) {
    workers_[i] = std::make_unique<Worker>();
    workers_[i]->index = i;
  }
  worker_count_.store(core_workers_, std::memory_order_release);
  for (unsigned i = 0; i < core_workers_; ++i) {
    Worker& w = *workers_[i];
    w.thread = std::thread([this, &w] { run_worker(w); });
  }
}

Scheduler::~Scheduler() {
  shutdown();
}

void Scheduler::shutdown() {
  if (stopping_.exchange(true)) return;
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  detail::futex_wake(epoch_, -1);
  spare_epoch_.fetch_add(1, std::memory_order_seq_cst);
  detail::futex_wake(spare_epoch_, -1);
  unsigned n = 0;
  {
    // enter_blocking adds spares under this lock and checks stopping_ first.
    std::lock_guard g(spawn_mutex_);
    n = worker_count_.load(std::memory_order_acquire);
  }
  for (unsigned i = 0; i < n; ++i) {
    if (workers_[i]->thread.joinable()) workers_[i]->thread.join();
  }
  auto release_all = [](std::deque<Process*>& q) {
    for (Process* p : q) intrusive_ptr_release(p);
    q.clear();
  };
  release_all(global_);
  for (unsigned i = 0; i < n; ++i) {
    release_all(workers_[i]->queue);
    if (workers_[i]->next) intrusive_ptr_release(workers_[i]->next);
    workers_[i]->next = nullptr;
  }
}

double Scheduler::utilisation() const noexcept {
  const auto wall = static_cast<double>((now_ns() - started_ns_) * core_workers_);
  if (wall <= 0) return 0.0;
  std::int64_t idle = idle_ns_.load(std::memory_order_relaxed);
  const std::int64_t now = now_ns();
  for (unsigned i = 0; i < core_workers_; ++i) {
    std::int64_t since = workers_[i]->idle_since.load(std::memory_order_relaxed);
    if (since != 0) idle += now - since;  // idle right now
  }
  return std::clamp(1.0 - static_cast<double>(idle) / wall, 0.0, 1.0);
}

void Scheduler::schedule(Process* p) {
  intrusive_ptr_add_ref(p);  // the run queue holds a reference
  auto* w = static_cast<Worker*>(tl_worker);
  if (w != nullptr && tl_scheduler == this && !stopping_.load(std::memory_order_relaxed)) {
    // Woken by this worker: run it next here; the displaced one becomes stealable.
    Process* displaced = w->next;
    w->next = p;
    if (displaced != nullptr) push_local(*w, displaced);
    return;
  }
  push_global(p);
}

void Scheduler::push_global(Process* p) {
  {
    std::lock_guard g(global_lock_);
    global_.push_back(p);
  }
  global_size_.fetch_add(1, std::memory_order_seq_cst);
  wake_one();
}

void Scheduler::push_local(Worker& w, Process* p) {
  {
    std::lock_guard g(w.lock);
    w.queue.push_back(p);
  }
  w.size.fetch_add(1, std::memory_order_seq_cst);
  wake_one();  // the queue is stealable: an idle worker may take it
}

void Scheduler::wake_one() {
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    detail::futex_wake(epoch_, 1);
  } else if (spare_entitled_and_parked()) {
    // A worker is blocked in a call and its spare waits for work: here is some.
    spare_epoch_.fetch_add(1, std::memory_order_seq_cst);
    detail::futex_wake(spare_epoch_, -1);
  }
}

bool Scheduler::spare_entitled_and_parked() const {
  // Spares run only while as many workers are blocked (spare_should_stop):
  // waking one beyond that count wakes a thread that parks again at once, and
  // a woken spare that steals turns one worker's run of inline calls into
  // cross-thread hand-offs (W7: 4x the context switches).
  const int blocked = blocked_.load(std::memory_order_seq_cst);
  const int parked = spare_sleepers_.load(std::memory_order_seq_cst);
  if (blocked <= 0 || parked <= 0) return false;
  const int spares =
      static_cast<int>(worker_count_.load(std::memory_order_acquire) - core_workers_);
  return spares - parked < blocked;
}

bool Scheduler::any_work() const {
  if (global_size_.load(std::memory_order_seq_cst) > 0) return true;
  unsigned n = worker_count_.load(std::memory_order_acquire);
  for (unsigned i = 0; i < n; ++i) {
    if (workers_[i]->size.load(std::memory_order_seq_cst) > 0) return true;
  }
  return false;
}

bool Scheduler::worth_stealing(Worker& self, Worker& victim, std::int64_t& now) {
  // A spare exists to take over; a blocked worker's queue has nobody else.
  if (self.spare || victim.blocking.load(std::memory_order_relaxed) != 0) return true;
  if (now == 0) now = now_ns();
  if (self.watches.size() < workers_.size()) self.watches.resize(workers_.size());
  return self.watches[victim.index].worth_stealing(victim.turns.load(std::memory_order_relaxed),
                                                   now);
}

Process* Scheduler::steal(Worker& self) {
  // Take up to half of a victim's queue in one visit (as Go and Tokio do):
  // fan-out fills one worker's queue quickly, and stealing one at a time
  // would pay a contended lock round trip per process.
  unsigned n = worker_count_.load(std::memory_order_acquire);
  std::int64_t now = 0;
  if (self.watch_again_at != 0) {
    // Passed over a victim lately: polling it at spin speed would pull its
    // queue's line away from it on every turn it runs.
    now = now_ns();
    if (now < self.watch_again_at) return nullptr;
    self.watch_again_at = 0;
  }
  bool declined = false;
  for (unsigned k = 1; k <= n; ++k) {
    Worker& v = *workers_[(self.index + k) % n];
    if (&v == &self) continue;
    if (v.size.load(std::memory_order_relaxed) <= 0) {
      if (v.index < self.watches.size()) self.watches[v.index].reset();  // drained: start over
      continue;
    }
    if (!worth_stealing(self, v, now)) {
      declined = true;
      continue;
    }
    std::unique_lock g(v.lock, std::try_to_lock);
    if (!g.owns_lock() || v.queue.empty()) continue;
    const std::size_t take = std::min<std::size_t>((v.queue.size() + 1) / 2, kStealBatch);
    Process* first = v.queue.front();
    v.queue.pop_front();
    std::vector<Process*> rest;
    rest.reserve(take - 1);
    for (std::size_t i = 1; i < take; ++i) {
      rest.push_back(v.queue.front());
      v.queue.pop_front();
    }
    v.size.fetch_sub(static_cast<std::int64_t>(take), std::memory_order_relaxed);
    g.unlock();
    if (!rest.empty()) {
      {
        std::lock_guard mine(self.lock);
        self.queue.insert(self.queue.end(), rest.begin(), rest.end());
      }
      self.size.fetch_add(static_cast<std::int64_t>(rest.size()), std::memory_order_seq_cst);
    }
    return first;
  }
  if (declined) self.watch_again_at = now + kStealPollNs;
  return nullptr;
}

Process* Scheduler::find_work(Worker& w) {
  ++w.tick;
  if (w.next != nullptr) {
    if (w.next_streak < kNextSlotStreak || w.size.load(std::memory_order_relaxed) == 0) {
      ++w.next_streak;
      Process* p = w.next;
      w.next = nullptr;
      return p;
    }
    // The queue has waited long enough: the next slot joins its tail.
    std::lock_guard g(w.lock);
    w.queue.push_back(w.next);
    w.size.fetch_add(1, std::memory_order_relaxed);
    w.next = nullptr;
  }
  w.next_streak = 0;
  auto pop_global = [this]() -> Process* {
    if (global_size_.load(std::memory_order_relaxed) <= 0) return nullptr;
    std::lock_guard g(global_lock_);
    if (global_.empty()) return nullptr;
    Process* p = global_.front();
    global_.pop_front();
    global_size_.fetch_sub(1, std::memory_order_relaxed);
    return p;
  };
  if (w.tick % kGlobalCheckEvery == 0) {
    if (Process* p = pop_global()) return p;
  }
  if (w.size.load(std::memory_order_relaxed) > 0) {
    std::lock_guard g(w.lock);
    if (!w.queue.empty()) {
      Process* p = w.queue.front();
      w.queue.pop_front();
      w.size.fetch_sub(1, std::memory_order_relaxed);
      return p;
    }
  }
  if (Process* p = pop_global()) return p;
  return steal(w);
}

void Scheduler::run_process(Worker& w, Process* p) {
  w.turns.store(w.turns.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  {
    detail::CurrentProcessScope scope(p);
    p->run_slice(opts_.budget, opts_.send_budget);
  }
  // A yield goes behind the shared queue too: this worker's own queue is
  // polled before it, so the back of the local queue could come first again.
  const bool yielded = std::exchange(p->yield_requested_, false);
  bool again = p->must_continue();
  if (!again) {
    p->scheduled_.store(false, std::memory_order_seq_cst);
    again = p->has_pending_messages() && !p->scheduled_.exchange(true, std::memory_order_acq_rel);
  }
  if (again) {
    // Back of a queue, so others get their turn; the queue keeps our reference.
    yielded ? push_global(p) : push_local(w, p);
    return;
  }
  intrusive_ptr_release(p);
}

bool Scheduler::try_run_inline(Process* p, bool (*eligible)(const Process&)) {
  auto* w = static_cast<Worker*>(tl_worker);
  if (w == nullptr || tl_scheduler != this || w->next != p || w->nest >= 8) return false;
  if (eligible != nullptr && !eligible(*p)) return false;
  w->next = nullptr;
  ++w->nest;
  run_process(*w, p);
  --w->nest;
  return true;
}

bool Scheduler::try_run_queued(Process* p, bool (*eligible)(const Process&)) {
  auto* w = static_cast<Worker*>(tl_worker);
  if (w == nullptr || tl_scheduler != this || w->nest >= 8) return false;
  if (w->next == p) return try_run_inline(p, eligible);
  // A process re-queued at the end of its turn sits at the back: look there first, and not far.
  auto take = [p](detail::SpinLock& lock, std::deque<Process*>& q,
                  std::atomic<std::int64_t>& size) {
    if (size.load(std::memory_order_relaxed) <= 0) return false;
    std::lock_guard g(lock);
    const std::size_t scan = std::min<std::size_t>(q.size(), kHelpScan);
    auto it = std::find(q.rbegin(), q.rbegin() + static_cast<std::ptrdiff_t>(scan), p);
    if (it == q.rbegin() + static_cast<std::ptrdiff_t>(scan)) return false;
    q.erase(std::next(it).base());
    size.fetch_sub(1, std::memory_order_relaxed);
    return true;
  };
  bool found = false;
  const unsigned n = worker_count_.load(std::memory_order_acquire);
  for (unsigned k = 0; k < n && !found; ++k) {
    Worker& v = *workers_[(w->index + k) % n];
    found = take(v.lock, v.queue, v.size);
  }
  if (!found) found = take(global_lock_, global_, global_size_);
  if (!found) return false;
  // The queue's reference is now ours, as if we had popped it.
  if (eligible != nullptr && !eligible(*p)) {
    push_local(*w, p);  // not ours to run after all: back in a queue, with its reference
    return false;
  }
  ++w->nest;
  run_process(*w, p);
  --w->nest;
  return true;
}

bool Scheduler::spare_should_stop(const Worker& w) const {
  return w.spare &&
         static_cast<int>(w.index - core_workers_) >= blocked_.load(std::memory_order_acquire);
}

void Scheduler::park(Worker& w) {
  std::uint32_t e = epoch_.load(std::memory_order_seq_cst);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  if (!any_work() && !stopping_.load(std::memory_order_seq_cst) && !spare_should_stop(w)) {
    // Core workers re-check every 100 ms: a safety net against a lost wake-up
    // costing a stall, at a few microseconds of CPU per second when idle.
    detail::futex_wait(epoch_, e,
                       w.spare ? std::chrono::milliseconds(10) : std::chrono::milliseconds(100));
  }
  sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  for (detail::StealWatch& o : w.watches) o.reset();  // what we saw before sleeping is stale
}

void Scheduler::run_worker(Worker& w) {
  tl_scheduler = this;
  tl_worker = &w;
  name_this_thread(w.spare ? fmt::format("md-spare-{}", w.index)
                           : fmt::format("md-worker-{}", w.index));
  unsigned idle_polls = 0;
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (spare_should_stop(w)) {
      // Hand back anything queued here, then sleep until a call blocks again.
      std::deque<Process*> leftovers;
      {
        std::lock_guard g(w.lock);
        leftovers.swap(w.queue);
        w.size.store(0, std::memory_order_relaxed);
      }
      if (w.next) leftovers.push_back(std::exchange(w.next, nullptr));
      if (!leftovers.empty()) {
        {
          std::lock_guard g(global_lock_);
          global_.insert(global_.end(), leftovers.begin(), leftovers.end());
        }
        global_size_.fetch_add(static_cast<std::int64_t>(leftovers.size()),
                               std::memory_order_seq_cst);
      }
      std::uint32_t e = spare_epoch_.load(std::memory_order_seq_cst);
      spare_sleepers_.fetch_add(1, std::memory_order_seq_cst);
      // We may have consumed a wake-up meant for work we will not do: pass it
      // on, counting ourselves parked so that an entitled spare is woken.
      if (any_work()) wake_one();
      if (spare_should_stop(w) && !stopping_.load()) detail::futex_wait(spare_epoch_, e);
      spare_sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      continue;
    }
    if (Process* p = find_work(w)) {
      if (idle_polls != 0) {
        // Clock reads only on idle<->busy transitions, never per process turn.
        std::int64_t since = w.idle_since.exchange(0, std::memory_order_relaxed);
        if (!w.spare && since != 0) idle_ns_.fetch_add(now_ns() - since, std::memory_order_relaxed);
        idle_polls = 0;
      }
      run_process(w, p);
      continue;
    }
    if (idle_polls == 0) w.idle_since.store(now_ns(), std::memory_order_relaxed);
    // A spare exists to run what a blocked worker cannot: it spins little, so
    // it does not take a core from the processes the blocked call waits for.
    if (++idle_polls < (w.spare ? kSpareSpinBeforePark : opts_.spin_before_park)) {
      // Waiting to look at a busy victim again: pause longer, leaving its
      // hyperthread sibling (often the victim) the core's resources.
      const unsigned pauses = w.watch_again_at != 0 ? kWatchingPauses : 1;
      for (unsigned i = 0; i < pauses; ++i) detail::cpu_relax();
      continue;
    }
    park(w);
    idle_polls = 1;  // spin again after waking: a woken worker that re-parks at once turns every
                     // wake-up into a syscall
  }
  tl_worker = nullptr;
  tl_scheduler = nullptr;
}

void Scheduler::enter_blocking() {
  auto* w = static_cast<Worker*>(tl_worker);
  w->blocking.store(w->blocking.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (w->next != nullptr) {
    // The next slot is not stealable: move it where a spare or a thief can take it.
    {
      std::lock_guard g(w->lock);
      w->queue.push_back(std::exchange(w->next, nullptr));
    }
    w->size.fetch_add(1, std::memory_order_seq_cst);
  }
  int blocked = blocked_.fetch_add(1, std::memory_order_seq_cst) + 1;
  unsigned spares = worker_count_.load(std::memory_order_acquire) - core_workers_;
  if (spares < static_cast<unsigned>(blocked) && spares < kMaxSpares) {
    std::lock_guard g(spawn_mutex_);
    unsigned idx = worker_count_.load(std::memory_order_acquire);
    if (idx - core_workers_ < static_cast<unsigned>(blocked) && !stopping_.load()) {
      workers_[idx] = std::make_unique<Worker>();
      Worker& s = *workers_[idx];
      s.index = idx;
      s.spare = true;
      worker_count_.store(idx + 1, std::memory_order_release);
      s.thread = std::thread([this, &s] { run_worker(s); });
    }
  }
  // No queued work, no spare: the blocked call waits for a process that is
  // running, and a spare would only compete with it for a core. Work queued
  // later reaches the spare through wake_one.
  if (!any_work()) return;
  spare_epoch_.fetch_add(1, std::memory_order_seq_cst);
  detail::futex_wake(spare_epoch_, -1);
  wake_one();
}

void Scheduler::leave_blocking() {
  auto* w = static_cast<Worker*>(tl_worker);
  w->blocking.store(w->blocking.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  blocked_.fetch_sub(1, std::memory_order_acq_rel);
}

Scheduler::BlockingScope::BlockingScope(Scheduler* s)
    : s_(s != nullptr && tl_scheduler == s && tl_worker != nullptr ? s : nullptr) {
  if (s_) s_->enter_blocking();
}

Scheduler::BlockingScope::~BlockingScope() {
  if (s_) s_->leave_blocking();
}

}  // namespace rt
