#include "runtime/runtime.hpp"

#include <spdlog/spdlog.h>

#include <mutex>
#include <thread>

namespace rt {

namespace {
// Creates spdlog's registry before any runtime thread exists: processes log
// from worker threads, and the registry is a lazily built static inside the
// shared library.
const Scheduler::Options& with_logger_ready(const Scheduler::Options& o) {
  spdlog::default_logger_raw();
  return o;
}
}  // namespace

Runtime::Runtime(Options opts) : timers_(), scheduler_(with_logger_ready(opts.scheduler)) {}

Runtime::~Runtime() {
  kill_all();
  scheduler_.shutdown();
  timers_.shutdown();
}

namespace {
// Under the shard's lock: a plain read-modify-write, no locked instruction.
template <class T>
void bump(std::atomic<T>& counter, T by) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
}  // namespace

std::size_t Runtime::local_shard() const noexcept {
  if (auto w = scheduler_.worker_here()) return *w % kShards;
  thread_local const std::size_t by_thread =
      std::hash<std::thread::id>{}(std::this_thread::get_id());
  return by_thread % kShards;
}

void Runtime::add(Process& p) noexcept {
  intrusive_ptr_add_ref(&p);  // a live process is owned by the runtime, referenced or not
  const std::size_t index = local_shard();
  Shard& s = shards_[index];
  p.table_shard_ = static_cast<std::uint8_t>(index);
  std::lock_guard g(s.lock);
  p.id_ = s.next_seq++ * kShards + index;
  p.table_next_ = s.head;
  if (s.head) s.head->table_prev_ = &p;
  s.head = &p;
  bump(s.alive, std::int64_t{1});
  bump(s.spawned, std::uint64_t{1});
}

void Runtime::remove(Process& p, bool crashed) noexcept {
  Shard& s = shards_[p.table_shard_];
  {
    std::lock_guard g(s.lock);
    if (p.table_prev_)
      p.table_prev_->table_next_ = p.table_next_;
    else
      s.head = p.table_next_;
    if (p.table_next_) p.table_next_->table_prev_ = p.table_prev_;
    p.table_prev_ = p.table_next_ = nullptr;
    bump(s.alive, std::int64_t{-1});
    bump(s.exited, std::uint64_t{1});
    if (crashed) bump(s.crashed, std::uint64_t{1});
  }
  intrusive_ptr_release(&p);  // callers hold their own reference while exiting
}

std::int64_t Runtime::process_count() const noexcept {
  std::int64_t n = 0;
  for (const Shard& s : shards_) n += s.alive.load(std::memory_order_relaxed);
  return n;
}

std::vector<ProcessInfo> Runtime::processes() const {
  std::vector<Pid> pids;
  for (const Shard& s : shards_) {
    std::lock_guard g(s.lock);
    for (Process* p = s.head; p; p = p->table_next_) pids.push_back(p->self());
  }
  std::vector<ProcessInfo> out;
  out.reserve(pids.size());
  for (const Pid& pid : pids) {
    if (pid.alive()) out.push_back(pid.get()->info());
  }
  return out;
}

RuntimeStats Runtime::stats() const noexcept {
  RuntimeStats st;
  for (const Shard& s : shards_) {
    st.spawned += s.spawned.load(std::memory_order_relaxed);
    st.exited += s.exited.load(std::memory_order_relaxed);
    st.crashed += s.crashed.load(std::memory_order_relaxed);
    st.alive += s.alive.load(std::memory_order_relaxed);
  }
  st.call_timeouts = call_timeouts_.load(std::memory_order_relaxed);
  return st;
}

bool Runtime::kill_all(std::chrono::milliseconds timeout) {
  shutting_down_.store(true, std::memory_order_release);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    std::vector<Pid> pids;
    for (const Shard& s : shards_) {
      std::lock_guard g(s.lock);
      for (Process* p = s.head; p; p = p->table_next_) pids.push_back(p->self());
    }
    for (const Pid& pid : pids) pid.get()->exit_signal(Pid(), ExitReason::kill());
    if (process_count() == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (std::chrono::steady_clock::now() < deadline);
  return process_count() == 0;
}

}  // namespace rt
