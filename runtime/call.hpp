#pragma once
// The machinery of `call`: the error a call reports, the one-shot reply slot a
// caller waits on, and `From`, the handle a server replies through (now, or
// later from anywhere: OTP's GenServer.reply).
//
// Edge cases, as OTP: a reply after the caller timed out is dropped (the slot
// is reference-counted, so nothing leaks); a server that dies before replying
// answers every pending call with its exit reason; a call to a dead process
// returns `noproc`; a call to a full bounded mailbox returns `overloaded`.
// Thread-safety: From::reply and the slot are safe from any thread; each slot
// is resolved at most once (later attempts are no-ops).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/smart_ptr/intrusive_ptr.hpp>

#include "runtime/detail/futex.hpp"
#include "runtime/exit_reason.hpp"
#include "runtime/result.hpp"
#include "runtime/scheduler.hpp"

namespace rt {

class Process;

/// Why a call produced no reply.
struct CallError {
  enum class Code : unsigned char {
    timeout,       ///< no reply within the timeout
    noproc,        ///< the server was not alive
    exited,        ///< the server exited before replying; `reason` says why
    overloaded,    ///< the server's bounded mailbox was full
    calling_self,  ///< a process called itself (would deadlock)
  };
  Code code = Code::timeout;
  ExitReason reason;

  std::string to_string() const;
  friend bool operator==(const CallError& a, const CallError& b) {
    return a.code == b.code && a.reason == b.reason;
  }
};

template <class T>
using CallResult = Result<T, CallError>;

/// The default call timeout (OTP's 5 s).
inline constexpr std::chrono::milliseconds kDefaultCallTimeout{5000};

namespace detail {

/// Reference-counted, resolved once; type-independent part so servers can fail
/// pending calls of any reply type when they exit.
class ReplySlotBase {
 public:
  virtual ~ReplySlotBase() = default;
  /// Resolves with an error (no-op if already resolved).
  virtual void fail(CallError err) noexcept = 0;
  bool resolved() const noexcept { return claimed_.load(std::memory_order_acquire); }
  /// True once the reply (or the error) can be read.
  bool ready() const noexcept { return state_.load(std::memory_order_acquire) == kReady; }

  friend void intrusive_ptr_add_ref(ReplySlotBase* s) noexcept {
    s->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  friend void intrusive_ptr_release(ReplySlotBase* s) noexcept {
    if (s->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
  }

 protected:
  enum : std::uint32_t { kPending = 0, kReady = 1, kSleeping = 2 };
  bool claim() noexcept { return !claimed_.exchange(true, std::memory_order_acq_rel); }
  void publish() noexcept {
    if (state_.exchange(kReady, std::memory_order_acq_rel) == kSleeping) futex_wake(state_, 1);
  }
  /// Waits until ready or the deadline; true if ready. While it spins, a
  /// `callee` found waiting in a run queue is run on this thread (see
  /// Scheduler::try_run_queued); pass nullptr where that is not allowed.
  /// Called by a process, throws ExitUnwind when a fatal exit signal arrives.
  bool wait_ready(std::chrono::steady_clock::time_point deadline, Process* callee = nullptr);

  std::atomic<std::uint32_t> refs_{0};
  std::atomic<bool> claimed_{false};
  std::atomic<std::uint32_t> state_{kPending};
};

/// Marks, for its lifetime, the reply this thread's innermost call waits for,
/// so that a callee run inline here can hand itself over once it is ready
/// (see SpinningCaller). Scopes nest with nested calls.
class AwaitingReply {
 public:
  explicit AwaitingReply(const ReplySlotBase& slot) noexcept;
  ~AwaitingReply();
  AwaitingReply(const AwaitingReply&) = delete;
  AwaitingReply& operator=(const AwaitingReply&) = delete;

 private:
  const ReplySlotBase* saved_;
};
/// The reply this thread's innermost call waits for (nullptr outside a call).
const ReplySlotBase* awaited_reply() noexcept;
/// Marks the process running on this thread (if any) as never run inline.
void forbid_inline_calls_to_current() noexcept;

/// What an asynchronous caller runs when its call completes (move-only callables welcome).
template <class T>
class Completion {
 public:
  virtual ~Completion() = default;
  virtual void complete(CallResult<T> result) = 0;
};

template <class T>
class ReplySlot final : public ReplySlotBase {
 public:
  /// Resolves with a value; false if the slot was already resolved (late reply: dropped).
  bool resolve(T value) { return settle(CallResult<T>(std::move(value))); }
  void fail(CallError err) noexcept override {
    try {
      settle(CallResult<T>(Err{std::move(err)}));
    } catch (...) {  // a completion that throws must not escape a dying process
    }
  }
  /// For async calls, set before the request is posted: runs once, on the resolving thread.
  void on_complete(std::unique_ptr<Completion<T>> c) { completion_ = std::move(c); }

  /// Blocks until resolved or `timeout` elapses (then resolves with `timeout`).
  /// `callee`, when known, is run here if it is runnable but not running.
  CallResult<T> wait(std::chrono::steady_clock::duration timeout, Process* callee = nullptr) {
    // An inline-run callee has often answered already: skip the clock read then.
    const bool ready = state_.load(std::memory_order_acquire) == kReady;
    if (!ready && !wait_ready(std::chrono::steady_clock::now() + timeout, callee)) {
      if (claim()) {
        result_.emplace(Err{CallError{CallError::Code::timeout, {}}});
        publish();
      } else {
        wait_ready(std::chrono::steady_clock::time_point::max());  // a reply is landing now
      }
    }
    return std::move(*result_);
  }

 private:
  bool settle(CallResult<T> r) {
    if (!claim()) return false;
    result_.emplace(std::move(r));
    if (completion_) completion_->complete(std::move(*result_));
    publish();
    return true;
  }

  std::optional<CallResult<T>> result_;
  std::unique_ptr<Completion<T>> completion_;
};

template <class T>
using ReplySlotPtr = boost::intrusive_ptr<ReplySlot<T>>;

}  // namespace detail

/// The caller of a pending call; reply through it now or later, from any thread.
template <class R>
class From {
 public:
  From() = default;
  explicit From(detail::ReplySlotPtr<R> slot) : slot_(std::move(slot)) {}

  /// Sends the reply; false if already replied or the caller gave up (timeout).
  /// A server that replies this way keeps running after the reply, so its
  /// callers never run it on their own thread again (see rt::call).
  bool reply(R value) const {
    detail::forbid_inline_calls_to_current();
    return slot_ && slot_->resolve(std::move(value));
  }
  /// True once replied, failed or timed out.
  bool done() const { return !slot_ || slot_->resolved(); }
  detail::ReplySlotBase* slot() const { return slot_.get(); }

 private:
  detail::ReplySlotPtr<R> slot_;
};

}  // namespace rt
