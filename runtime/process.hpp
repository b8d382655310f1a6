#pragma once
// The process control block: identity, mailbox, links, monitors, exit-signal
// handling and the run loop the scheduler drives. Behaviours (GenServer,
// Supervisor, ...) derive from it; user code normally sees only Pid and the
// behaviour's API.
//
// Semantics (OTP's, with these C++ differences, each documented where it lives):
// - A process runs on at most one thread at a time and handles its mailbox in
//   order. A callback is never preempted: a `kill` takes effect when the
//   running callback returns.
// - Exit signals bypass the mailbox (a `kill` does not wait behind a backlog).
//   With trap_exit on, a signal becomes an ExitSignal message, queued in order
//   with the messages the same sender sent before and after it.
// - A process blocked in a call, an await or await_exit dies at once on an
//   exit signal it does not trap (and on `kill`): the wait throws
//   detail::ExitUnwind, which unwinds the callback (destructors run) to the
//   run loop, where the signal takes effect. Callbacks must let it pass
//   (a `catch (...)` must rethrow it).
// - A message to a dead process is dropped; a pending call in a dead mailbox is
//   answered with the exit reason (`noproc` if it arrived after the death).
// - Links are bidirectional; linking to a dead process delivers an exit signal
//   with reason `noproc`. `exit(pid, kill)` is untrappable and the victim's
//   links and monitors see `killed`.
// - A monitor of a dead process delivers Down{noproc} at once.
//
// Thread-safety: post()/exit_signal()/alive()/info are thread-safe; link,
// monitor, trap_exit and the other "self" operations must be called by the
// process itself, from its callbacks (or its init).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/detail/link_set.hpp"
#include "runtime/detail/mpsc_queue.hpp"
#include "runtime/detail/spin_lock.hpp"
#include "runtime/envelope.hpp"
#include "runtime/exit_reason.hpp"
#include "runtime/pid.hpp"

namespace rt {

class Runtime;
namespace detail {
class SpinningCaller;
}

/// Identifies one monitor; unique within a Runtime.
struct MonitorRef {
  std::uint64_t id = 0;
  friend bool operator==(MonitorRef, MonitorRef) = default;
  explicit operator bool() const { return id != 0; }
};

/// Delivered (as an info message) to a watcher when a monitored process exits.
struct Down {
  MonitorRef ref;
  Pid pid;
  ExitReason reason;
};

/// An exit signal received while trapping exits, delivered as an info message.
struct ExitSignal {
  Pid from;
  ExitReason reason;
};

/// What a send reports: delivered to the mailbox, no such process, or a full bounded mailbox.
enum class SendStatus : unsigned char { ok, noproc, overloaded };

/// Something that must know when a process exits (a Registry entry, a
/// supervisor's bookkeeping). Runs on the exiting process's thread.
class ExitHook {
 public:
  virtual ~ExitHook() = default;
  virtual void on_process_exit(Process& p) noexcept = 0;
  /// Appends what this hook says of its process to a crash log (e.g. its registered key).
  virtual void describe(std::string& /*out*/) const {}

 private:
  friend class Process;
  ExitHook* next_hook_ = nullptr;
};

/// A snapshot of one process, for introspection and metrics. Counters are
/// published at the end of each turn, so they may lag a message in progress.
struct ProcessInfo {
  Pid pid;
  std::string name;
  std::int64_t mailbox_depth = 0;
  std::int64_t mailbox_high_water = 0;
  std::uint64_t handled = 0;
  std::uint32_t restarts = 0;
  bool trap_exit = false;
};

/// Options common to every process start.
struct ProcessOptions {
  std::string name;  ///< for logs and introspection (defaults to the registered key)
  std::size_t mailbox_capacity = 0;  ///< 0 = unbounded; else casts beyond it report `overloaded`
  std::uint32_t restarts = 0;        ///< incarnation count, set by a supervisor
};

class Process {
 public:
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  virtual ~Process();

  Pid self() const noexcept { return Pid(const_cast<Process*>(this)); }
  std::uint64_t id() const noexcept { return id_; }
  const std::string& name() const noexcept { return name_; }
  Runtime& runtime() const noexcept { return *runtime_; }
  bool alive() const noexcept { return alive_.load(std::memory_order_acquire); }
  /// The reason the process exited (meaningful once !alive()).
  ExitReason exit_reason() const;
  std::int64_t mailbox_depth() const noexcept { return depth_.load(std::memory_order_relaxed); }
  ProcessInfo info() const;
  /// A timeout meaning "no timeout" for await_exit (OTP's infinity).
  static constexpr std::chrono::milliseconds kWaitForever = std::chrono::hours(24 * 365 * 100);
  /// Blocks until the process has exited or `timeout` passes; true if it exited.
  /// For supervisors' shutdown timeouts and tools; inside a worker it counts as
  /// a blocking call (a spare thread keeps the pool running).
  /// On a worker, a process queued with an exit signal it does not trap
  /// runs its exit on this thread first, as a blocking call runs its callee.
  bool await_exit(std::chrono::milliseconds timeout);
  /// A per-behaviour-type tag, so typed references are checked without RTTI.
  const void* type_tag() const noexcept { return type_tag_; }

  // ---- thread-safe ------------------------------------------------------

  /// Enqueues a message, taking ownership. `bounded` messages respect the
  /// mailbox capacity; system messages (replies, Down, timers) do not.
  SendStatus post(std::unique_ptr<Envelope> env, bool bounded = true);
  /// Sends an exit signal to this process (Erlang's exit/2). `linked` marks
  /// a signal propagated through a link, which also removes the link.
  void exit_signal(const Pid& from, ExitReason reason, bool linked = false);
  /// Callers spinning on a reply from this process, each ready to run it on its
  /// own thread (detail::SpinningCaller).
  std::uint16_t spinning_callers() const noexcept {
    return spinning_callers_.load(std::memory_order_relaxed);
  }
  /// True when an exit signal waits that ends this process (kill, or one it
  /// does not trap): a blocking wait of this process then unwinds.
  bool fatal_signal_pending() const noexcept;

  // ---- running a callee on its caller's thread (see rt::call) -------------
  // A call may run an idle callee's turn on the calling thread only for a
  // request type the callee has answered before by returning its reply at
  // once (never through From::reply), so that neither the call's deadline nor
  // the caller's release at the reply depends on the callee's code.

  /// Names a (server type, request type) pair: GenServer<I>::call_tag<Req>().
  /// 16 bits, so that it fits the padding of an idle process (W3's bytes).
  using CallTag = std::uint16_t;
  static constexpr CallTag kNoCallTag = 0;
  /// The tag of a process that replied through From: it is never run inline again.
  static constexpr CallTag kNeverInline = 0xFFFF;
  /// A fresh tag (kNeverInline once 65,534 pairs are named: inlining is only an optimisation).
  static CallTag next_call_tag() noexcept;

  /// The request type the callee may be run inline for.
  CallTag inline_call_tag() const noexcept {
    return inline_call_tag_.load(std::memory_order_relaxed);
  }
  /// Replaces the inline tag `expected` by `tag` (no-op if it changed meanwhile).
  void swap_inline_call_tag(CallTag expected, CallTag tag) noexcept {
    inline_call_tag_.compare_exchange_strong(expected, tag, std::memory_order_relaxed);
  }
  void forbid_inline_calls() noexcept {
    inline_call_tag_.store(kNeverInline, std::memory_order_relaxed);
  }

  // ---- called by the process itself -------------------------------------

  /// Links to `other` (idempotent). A dead `other` sends us `noproc`.
  void link(const Pid& other);
  /// Removes a link in both directions (idempotent).
  void unlink(const Pid& other);
  /// Monitors `target`; a Down{ref} arrives when it exits (at once if it is dead).
  MonitorRef monitor(const Pid& target);
  /// Removes a monitor; a Down for it not yet handled is discarded. True if it was active.
  bool demonitor(MonitorRef ref);
  /// With trap_exit on, exit signals (except `kill`) arrive as ExitSignal messages.
  void trap_exit(bool on) noexcept { trap_exit_.store(on, std::memory_order_relaxed); }
  bool trapping_exits() const noexcept { return trap_exit_.load(std::memory_order_relaxed); }
  /// The process that started this one (a supervisor), if any; empty once exited.
  const Pid& parent() const noexcept { return parent_; }
  /// Attaches a hook run when this process exits. The hook must outlive the process or detach.
  void add_exit_hook(ExitHook& hook) noexcept;
  /// Detaches a hook; true if it was attached.
  bool remove_exit_hook(ExitHook& hook) noexcept;

  /// Ends the running turn after the message being handled (erlang:yield/0);
  /// owner thread only. See rt::yield.
  void request_yield() noexcept { yield_requested_ = true; }

 protected:
  Process() = default;
  /// Binds the process to a runtime, names it and enters it in the process
  /// table. Called once by start() before init.
  void attach(Runtime& rt, ProcessOptions options, Pid parent, const void* type_tag);

  /// A monitored process exited (only for monitors still active).
  virtual void handle_down(Down&& down) = 0;
  /// A trapped exit signal. GenServer's default: a signal from the parent stops the server.
  virtual void handle_exit_signal(ExitSignal&& sig) = 0;
  /// A callback threw: the behaviour's last word (GenServer runs terminate) before exit.
  virtual void on_crash(const ExitReason& /*reason*/) noexcept {}
  /// The process is exiting for any reason (GenServer fails its deferred calls).
  virtual void on_exit(const ExitReason& /*reason*/) noexcept {}
  /// Runs once before the next message (OTP's handle_continue); set by behaviours.
  void set_continue(std::unique_ptr<Envelope> cont) noexcept { continue_ = std::move(cont); }

  /// Ends the process with `reason` (from its own thread): links and monitors are
  /// notified, exit hooks run, pending calls in the mailbox learn the reason.
  void exit_self(ExitReason reason);

 private:
  friend class Scheduler;
  friend class Runtime;
  friend class DownEnvelope;
  friend class ExitSignalEnvelope;
  friend class detail::SpinningCaller;
  friend void intrusive_ptr_add_ref(Process* p) noexcept;
  friend void intrusive_ptr_release(Process* p) noexcept;
  template <class>
  friend class GenServer;

  struct Signal {
    Pid from;
    ExitReason reason;
    bool linked;
  };
  struct MonitorEntry {
    MonitorRef ref;
    Pid other;
  };
  // Monitors and pending signals are rare; allocated on first use so idle
  // processes stay small. Links live in the process (links_): one is common.
  struct Relations {
    std::vector<MonitorEntry> watchers;  // who monitors me
    std::vector<Signal> signals;         // pending exit signals
  };

  /// Handles messages until `budget` are handled or the handlers have sent
  /// `send_budget`; returns the number handled. Scheduler only.
  unsigned run_slice(unsigned budget, std::uint32_t send_budget);
  /// Messages or signals are waiting (safe to call after the process was released).
  bool has_pending_messages() const noexcept;
  /// A continue is pending: run again before releasing (owner thread only).
  bool must_continue() const noexcept;
  void handle_signals();
  /// What an exit signal does to this process now (OTP's rules, in one place):
  /// `kill` ends it untrappably; a trapping process receives a message; an
  /// untrapped `normal` is ignored unless it comes from the process itself;
  /// any other reason ends it.
  enum class SignalEffect : unsigned char { killed, message, exits, ignored };
  SignalEffect effect_of(const Pid& from, const ExitReason& reason, bool linked) const noexcept;
  void deliver(Envelope& env);
  void crash(ExitReason reason, const Envelope& env) noexcept;
  void drain_dead_mailbox() noexcept;
  void on_down_envelope(Down&& down);
  void remove_link(Process& other) noexcept;
  void remove_watcher(MonitorRef ref) noexcept;
  Relations& relations();  // caller holds lock_

  // Layout: no padding to cache lines (an idle process is 4 lines, not 6);
  // what a sender touches (alive_, scheduled_, capacity_, depth_, the
  // mailbox's tail) sits together.
  Runtime* runtime_ = nullptr;
  const void* type_tag_ = nullptr;
  std::uint64_t id_ = 0;
  std::atomic<std::uint32_t> refs_{0};
  mutable std::atomic<std::uint32_t> exited_{0};  // futex word: 1 once exited
  std::atomic<bool> alive_{false};                // true from attach() until exit
  std::atomic<bool> scheduled_{true};             // true until start() releases the process
  std::atomic<bool> signals_pending_{false};
  std::atomic<bool> trap_exit_{false};  // read by senders: a trapped signal queues in order
  bool crashed_ = false;
  bool yield_requested_ = false;   // owner thread only: the turn ends after this message
  mutable detail::SpinLock lock_;  // guards relations_, links_ and alive_ transitions
  std::uint8_t table_shard_ = 0;   // Runtime's process table shard
  std::uint32_t restarts_ = 0;
  // These two fill padding: no size change.
  std::atomic<std::uint16_t> spinning_callers_{0};  // at most one per thread
  std::atomic<CallTag> inline_call_tag_{kNoCallTag};
  std::size_t capacity_ = 0;
  std::atomic<std::int64_t> depth_{0};
  std::atomic<std::int64_t> depth_high_water_{0};
  detail::MpscQueue mailbox_;
  std::atomic<std::uint64_t> handled_{0};
  std::unique_ptr<Envelope> continue_;
  ExitHook* hooks_ = nullptr;
  std::unique_ptr<Relations> relations_;
  detail::LinkSet links_;
  std::vector<MonitorEntry> monitoring_;  // whom I monitor; owner thread only
  std::string name_;
  Pid parent_;
  ExitReason exit_reason_;
  Process* table_prev_ = nullptr;  // Runtime's process table (intrusive)
  Process* table_next_ = nullptr;
};

/// The process whose callback is running on this thread, or nullptr.
Process* current_process() noexcept;
/// Erlang's yield/0: the calling process's turn ends once its current message
/// is handled, and it waits at the back of the shared run queue, behind every
/// process made ready meanwhile. For a process that works through a long job
/// in slices of a message each: the message budget of a turn counts messages,
/// not time, and 64 slices of a millisecond would hold a worker for 64 ms.
/// No effect outside a process.
void yield() noexcept;
/// Pid of the calling process (empty outside a process).
Pid self() noexcept;
/// Erlang's exit/2: sends an exit signal with `reason` to `pid` from the caller.
void exit(const Pid& pid, ExitReason reason);

namespace detail {
/// Thrown by a blocking wait of a process that must exit at once (see
/// fatal_signal_pending); caught by the run loop. Not a std::exception, so
/// `catch (const std::exception&)` in a callback does not swallow it.
struct ExitUnwind {};
/// How long a blocked process sleeps before it looks for a fatal signal again.
inline constexpr std::chrono::milliseconds kSignalPollSlice{2};

/// Counts the calling thread, for its lifetime, as a caller spinning on a reply
/// from `p` and ready to run p itself: a turn of p running inline for another
/// caller then ends once that caller's reply is ready (Process::run_slice), and
/// the turn's remaining messages move to this thread. No-op for nullptr.
class SpinningCaller {
 public:
  explicit SpinningCaller(Process* p) noexcept;
  ~SpinningCaller();
  SpinningCaller(const SpinningCaller&) = delete;
  SpinningCaller& operator=(const SpinningCaller&) = delete;

 private:
  Process* p_;
};

/// Sets the thread's current process for a scope (scheduler and start()).
class CurrentProcessScope {
 public:
  explicit CurrentProcessScope(Process* p) noexcept;
  ~CurrentProcessScope();
  CurrentProcessScope(const CurrentProcessScope&) = delete;
  CurrentProcessScope& operator=(const CurrentProcessScope&) = delete;

 private:
  Process* saved_;
};
}  // namespace detail

}  // namespace rt
