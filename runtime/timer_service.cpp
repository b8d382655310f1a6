#include "runtime/timer_service.hpp"

#include "runtime/process.hpp"

namespace rt {

/// A function timer's function, carried where a process timer carries its message.
class TimerService::FnTask final : public Envelope {
 public:
  explicit FnTask(std::function<void()> fn) : fn_(std::move(fn)) {}
  void deliver(Process& /*target*/) override { run(); }
  void run() { fn_(); }
  std::string_view type_name() const noexcept override { return "timer function"; }

 private:
  std::function<void()> fn_;
};

TimerService::TimerService() : thread_([this] { run(); }) {}

TimerService::~TimerService() {
  shutdown();
}

void TimerService::shutdown() {
  {
    std::lock_guard g(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard g(mutex_);
  pending_.clear();
}

TimerRef TimerService::start(Pid target, std::unique_ptr<Envelope> env, Clock::duration delay) {
  if (!target) return {};  // nobody to deliver to (an empty target marks a function timer)
  return add(Pending{std::move(target), std::move(env)}, delay);
}

TimerRef TimerService::start(std::function<void()> fn, Clock::duration delay) {
  return add(Pending{{}, std::make_unique<FnTask>(std::move(fn))}, delay);
}

TimerRef TimerService::add(Pending pending, Clock::duration delay) {
  Clock::time_point when = Clock::now() + delay;
  bool earliest = false;
  std::uint64_t id = 0;
  {
    std::lock_guard g(mutex_);
    if (stopping_) return {};
    id = next_id_++;
    pending_.emplace(id, std::move(pending));
    earliest = heap_.empty() || when < heap_.top().when;
    heap_.push(Due{when, id});
  }
  if (earliest) cv_.notify_one();
  return TimerRef{id};
}

bool TimerService::cancel(TimerRef ref) {
  Pending doomed;  // destroyed outside the lock
  {
    std::lock_guard g(mutex_);
    auto it = pending_.find(ref.id);
    if (it == pending_.end()) return false;
    doomed = std::move(it->second);
    pending_.erase(it);  // its heap entry is skipped when it comes due
  }
  return true;
}

std::size_t TimerService::pending() const {
  std::lock_guard g(mutex_);
  return pending_.size();
}

void TimerService::run() {
  std::vector<Pending> fire;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (heap_.empty()) {
      cv_.wait(lock);
      continue;
    }
    Clock::time_point now = Clock::now();
    if (heap_.top().when > now) {
      // A copy: wait_until unlocks, and a push may reallocate the heap under a reference.
      const Clock::time_point next = heap_.top().when;
      cv_.wait_until(lock, next);
      continue;
    }
    while (!heap_.empty() && heap_.top().when <= now) {
      auto it = pending_.find(heap_.top().id);
      heap_.pop();
      if (it == pending_.end()) continue;  // cancelled
      fire.push_back(std::move(it->second));
      pending_.erase(it);
    }
    lock.unlock();
    for (Pending& p : fire) {
      if (!p.target) {
        static_cast<FnTask&>(*p.env).run();
      } else if (Process* proc = p.target.get()) {
        proc->post(std::move(p.env), /*bounded=*/false);
      }
    }
    fire.clear();
    lock.lock();
  }
}

}  // namespace rt
