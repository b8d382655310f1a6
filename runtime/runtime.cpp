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

void Runtime::add(Process& p) noexcept {
  intrusive_ptr_add_ref(&p);  // a live process is owned by the runtime, referenced or not
  Shard& s = shards_[p.id() % kShards];
  {
    std::lock_guard g(s.lock);
    p.table_next_ = s.head;
    if (s.head) s.head->table_prev_ = &p;
    s.head = &p;
  }
  alive_.fetch_add(1, std::memory_order_relaxed);
  spawned_.fetch_add(1, std::memory_order_relaxed);
}

void Runtime::remove(Process& p, bool crashed) noexcept {
  Shard& s = shards_[p.id() % kShards];
  {
    std::lock_guard g(s.lock);
    if (p.table_prev_)
      p.table_prev_->table_next_ = p.table_next_;
    else
      s.head = p.table_next_;
    if (p.table_next_) p.table_next_->table_prev_ = p.table_prev_;
    p.table_prev_ = p.table_next_ = nullptr;
  }
  alive_.fetch_sub(1, std::memory_order_relaxed);
  exited_.fetch_add(1, std::memory_order_relaxed);
  if (crashed) crashed_.fetch_add(1, std::memory_order_relaxed);
  intrusive_ptr_release(&p);  // callers hold their own reference while exiting
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
  st.spawned = spawned_.load(std::memory_order_relaxed);
  st.exited = exited_.load(std::memory_order_relaxed);
  st.crashed = crashed_.load(std::memory_order_relaxed);
  st.call_timeouts = call_timeouts_.load(std::memory_order_relaxed);
  st.alive = alive_.load(std::memory_order_relaxed);
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
    if (alive_.load() == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (std::chrono::steady_clock::now() < deadline);
  return alive_.load() == 0;
}

}  // namespace rt
