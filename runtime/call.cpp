#include "runtime/call.hpp"

#include <fmt/format.h>

#include <time.h>

#include <algorithm>
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
const ReplySlotBase* awaited_reply() noexcept {
  return tl_awaited;
}
void forbid_inline_calls_to_current() noexcept {
  if (Process* p = current_process()) p->forbid_inline_calls();
}

std::chrono::milliseconds coarse_tick() noexcept {
  static const std::chrono::milliseconds tick = [] {
    timespec res{};
    clock_getres(CLOCK_MONOTONIC_COARSE, &res);
    return std::chrono::milliseconds(std::max<std::int64_t>(
        1, (res.tv_sec * 1'000'000'000 + res.tv_nsec + 999'999) / 1'000'000));
  }();
  return tick;
}

bool ReplySlotBase::wait_ready(std::chrono::steady_clock::time_point deadline, Process* callee) {
  // Spin first: a reply from a running server usually lands within microseconds,
  // and a futex round trip costs more than that. A callee that ended its turn
  // with our request still queued (it raced the end of its turn) waits in a
  // run queue: run it here rather than block and hand over to a spare thread.
  Scheduler* sched = callee != nullptr ? Scheduler::current() : nullptr;
  // A waiting process dies at once on a fatal exit signal (OTP: a process in
  // `receive` is killed there); a plain thread has none to watch.
  const Process* waiter = current_process();
  auto must_unwind = [waiter] { return waiter != nullptr && waiter->fatal_signal_pending(); };
  // ~25 µs: a supervisor's start_child that met a page fault or a table
  // growth on the other core answers within that; blocking costs a futex
  // round trip (W3: 1,000 calls blocked per 100,000 at 200 spins, 40 at 1,000).
  {
    // A callee running inline on another thread for an earlier caller hands
    // itself over to us once that caller's reply is ready (run_slice).
    SpinningCaller spinning(sched != nullptr ? callee : nullptr);
    for (int i = 0; i < 1000; ++i) {
      if (ready()) return true;
      if (i % 64 == 63 && must_unwind()) throw ExitUnwind{};
      if (sched != nullptr && i % 16 == 15 && sched->try_run_queued(callee)) continue;
      cpu_relax();
    }
    if (sched != nullptr && sched->try_run_queued(callee) && ready()) return true;
  }
  Scheduler::BlockingScope blocking(Scheduler::current());
  for (;;) {
    std::uint32_t s = state_.load(std::memory_order_acquire);
    if (s == kReady) return true;
    if (must_unwind()) throw ExitUnwind{};
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (s == kPending && !state_.compare_exchange_strong(s, kSleeping, std::memory_order_acq_rel)) {
      continue;  // became ready
    }
    auto left = deadline == std::chrono::steady_clock::time_point::max()
                    ? std::chrono::nanoseconds(-1)
                    : std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
    // A process sleeps in slices so that a fatal signal reaches it within one.
    if (waiter != nullptr && (left.count() < 0 || left > kSignalPollSlice)) left = kSignalPollSlice;
    futex_wait(state_, kSleeping, left);
  }
}

}  // namespace detail
}  // namespace rt
