#include "runtime/timer_service.hpp"

#include <algorithm>
#include <climits>
#include <functional>
#include <mutex>

#include "runtime/detail/futex.hpp"
#include "runtime/process.hpp"

namespace rt {

namespace {
std::int64_t ns_of(TimerService::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
constexpr std::int64_t kNever = INT64_MAX;
}  // namespace

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

TimerService::TimerService()
    : shards_(std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 1u << kShardBits)),
      thread_([this] { run(); }) {}

TimerService::~TimerService() {
  shutdown();
}

void TimerService::shutdown() {
  if (stopping_.exchange(true)) return;
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  detail::futex_wake(epoch_, 1);
  if (thread_.joinable()) thread_.join();
  for (Shard& s : shards_) {
    std::lock_guard g(s.lock);
    s.pending.clear();
    s.heap.clear();
  }
}

TimerService::Shard& TimerService::my_shard() {
  // Threads take shards in turn on first use: workers, io threads and the
  // timer's users each arm into their own (when there are enough shards).
  static std::atomic<unsigned> next_thread{0};
  thread_local const unsigned index = next_thread.fetch_add(1, std::memory_order_relaxed);
  return shards_[index % shards_.size()];
}

TimerRef TimerService::start(Pid target, std::unique_ptr<Envelope> env, Clock::duration delay) {
  if (!target) return {};  // nobody to deliver to (an empty target marks a function timer)
  return add(Pending{std::move(target), std::move(env)}, delay);
}

TimerRef TimerService::start(std::function<void()> fn, Clock::duration delay) {
  return add(Pending{{}, std::make_unique<FnTask>(std::move(fn))}, delay);
}

TimerRef TimerService::add(Pending pending, Clock::duration delay) {
  if (stopping_.load(std::memory_order_relaxed)) return {};
  const Clock::time_point when = Clock::now() + delay;
  Shard& shard = my_shard();
  const auto index = static_cast<std::uint64_t>(&shard - shards_.data());
  std::uint64_t id = 0;
  {
    std::lock_guard g(shard.lock);
    id = (shard.next_seq++ << kShardBits) | index;
    shard.pending.emplace(id, std::move(pending));
    shard.heap.push_back(Due{when, id});
    std::push_heap(shard.heap.begin(), shard.heap.end(), std::greater<>{});
  }
  // Dekker pair with run(): it clears next_wake_ns_ before scanning the shards.
  const std::int64_t wake = next_wake_ns_.load(std::memory_order_seq_cst);
  if (wake == 0 || ns_of(when) < wake) {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) detail::futex_wake(epoch_, 1);
  }
  return TimerRef{id};
}

bool TimerService::cancel(TimerRef ref) {
  if (!ref) return false;
  Shard& shard = shard_of(ref.id);
  Pending doomed;  // destroyed outside the lock
  {
    std::lock_guard g(shard.lock);
    auto it = shard.pending.find(ref.id);
    if (it == shard.pending.end()) return false;
    doomed = std::move(it->second);
    shard.pending.erase(it);  // its heap entry stays, skipped when it comes due...
    // ...unless dead entries pile up (one-hour timers cancelled at message
    // rate): compacting once they outnumber the live ones costs O(heap) per
    // heap/2 cancels, amortised O(1) each.
    if (shard.heap.size() > 2 * shard.pending.size() + kCompactSlack) compact(shard);
  }
  return true;
}

void TimerService::compact(Shard& shard) {
  std::erase_if(shard.heap, [&](const Due& d) { return !shard.pending.contains(d.id); });
  std::make_heap(shard.heap.begin(), shard.heap.end(), std::greater<>{});
}

template <class Count>
std::size_t TimerService::sum_over_shards(Count count) const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard g(s.lock);
    n += count(s);
  }
  return n;
}

std::size_t TimerService::pending() const {
  return sum_over_shards([](const Shard& s) { return s.pending.size(); });
}

std::size_t TimerService::held_entries() const {
  return sum_over_shards([](const Shard& s) { return s.heap.size(); });
}

void TimerService::run() {
  struct Fire {
    Clock::time_point when;
    Pending pending;
  };
  std::vector<Fire> fire;
  while (!stopping_.load(std::memory_order_acquire)) {
    next_wake_ns_.store(0, std::memory_order_seq_cst);  // scanning: every arm wakes us
    const std::uint32_t e = epoch_.load(std::memory_order_seq_cst);
    const Clock::time_point now = Clock::now();
    std::int64_t earliest = kNever;
    for (Shard& s : shards_) {
      std::lock_guard g(s.lock);
      while (!s.heap.empty() && s.heap.front().when <= now) {
        std::pop_heap(s.heap.begin(), s.heap.end(), std::greater<>{});
        const Due due = s.heap.back();
        s.heap.pop_back();
        auto it = s.pending.find(due.id);
        if (it == s.pending.end()) continue;  // cancelled
        fire.push_back(Fire{due.when, std::move(it->second)});
        s.pending.erase(it);
      }
      if (!s.heap.empty()) earliest = std::min(earliest, ns_of(s.heap.front().when));
    }
    if (!fire.empty()) {
      // Shards are each in order; merged, the batch goes out by deadline.
      std::stable_sort(fire.begin(), fire.end(),
                       [](const Fire& a, const Fire& b) { return a.when < b.when; });
      for (Fire& f : fire) {
        if (!f.pending.target) {
          static_cast<FnTask&>(*f.pending.env).run();
        } else if (Process* proc = f.pending.target.get()) {
          proc->post(std::move(f.pending.env), /*bounded=*/false);
        }
      }
      fire.clear();
      continue;  // firing took time: look again before sleeping
    }
    next_wake_ns_.store(earliest, std::memory_order_seq_cst);
    sleeping_.store(true, std::memory_order_seq_cst);
    if (epoch_.load(std::memory_order_seq_cst) == e && !stopping_.load(std::memory_order_seq_cst)) {
      const std::int64_t left = earliest == kNever ? -1 : earliest - ns_of(Clock::now());
      if (earliest == kNever || left > 0) {
        detail::futex_wait(epoch_, e, std::chrono::nanoseconds(left));
      }
    }
    sleeping_.store(false, std::memory_order_relaxed);
  }
}

}  // namespace rt
