#include "runtime/call.hpp"

#include <fmt/format.h>

#include <utility>

#include "runtime/process.hpp"

namespace rt {

std::string CallError::to_string() const {
  switch (code) {
    case Code::timeout:
      return "timeout";
    case Code::noproc:
      return "noproc";
    case Code::exited:
      return fmt::format("exited: {}", reason.to_string());
    case Code::overloaded:
      return "overloaded";
    case Code::calling_self:
      return "calling_self";
  }
  return "unknown";
}

namespace detail {

namespace {
thread_local const ReplySlotBase* tl_awaited = nullptr;
}  // namespace

AwaitingReply::AwaitingReply(const ReplySlotBase& slot) noexcept
    : saved_(std::exchange(tl_awaited, &slot)) {}
AwaitingReply::~AwaitingReply() {
  tl_awaited = saved_;
}
bool awaited_reply_ready() noexcept {
  return tl_awaited != nullptr && tl_awaited->ready();
}

bool ReplySlotBase::wait_ready(std::chrono::steady_clock::time_point deadline, Process* callee) {
  // Spin first: a reply from a running server usually lands within microseconds,
  // and a futex round trip costs more than that. A callee that ended its turn
  // with our request still queued (it raced the end of its turn) waits in a
  // run queue: run it here rather than block and hand over to a spare thread.
  Scheduler* sched = callee != nullptr ? Scheduler::current() : nullptr;
  // ~25 µs: a supervisor's start_child that met a page fault or a table
  // growth on the other core answers within that; blocking costs a futex
  // round trip (W3: 1,000 calls blocked per 100,000 at 200 spins, 40 at 1,000).
  {
    // A callee running inline on another thread for an earlier caller hands
    // itself over to us once that caller's reply is ready (run_slice).
    SpinningCaller spinning(sched != nullptr ? callee : nullptr);
    for (int i = 0; i < 1000; ++i) {
      if (ready()) return true;
      if (sched != nullptr && i % 16 == 15 && sched->try_run_queued(callee)) continue;
      cpu_relax();
    }
    if (sched != nullptr && sched->try_run_queued(callee) && ready()) return true;
  }
  Scheduler::BlockingScope blocking(Scheduler::current());
  for (;;) {
    std::uint32_t s = state_.load(std::memory_order_acquire);
    if (s == kReady) return true;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (s == kPending && !state_.compare_exchange_strong(s, kSleeping, std::memory_order_acq_rel)) {
      continue;  // became ready
    }
    auto left = deadline == std::chrono::steady_clock::time_point::max()
                    ? std::chrono::nanoseconds(-1)
                    : std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
    futex_wait(state_, kSleeping, left);
  }
}

}  // namespace detail
}  // namespace rt
