#pragma once
// GenServer: OTP's generic server as a CRTP base. A server is a class whose
// callbacks are overloads, one per message type — Elixir's pattern-matching
// clauses, checked by the compiler:
//
//   class Counter : public rt::GenServer<Counter> {
//    public:
//     struct Add { int n; };                         // a cast
//     struct Get { using Reply = int; };             // a call: its Reply type
//     Action init() { return ok(); }                 // optional
//     CallAction<int> handle_call(const Get&, From<int>) { return reply(total_); }
//     Action handle_cast(const Add& a) { total_ += a.n; return noreply(); }
//     Action handle_info(const rt::Down& d) { ...; return noreply(); }   // optional
//     void terminate(const rt::ExitReason&) {}       // optional
//    private:
//     int total_ = 0;                                // the state
//   };
//   auto ref = rt::start<Counter>(runtime, {});      // Result<Ref<Counter>, StartError>
//   rt::cast(*ref, Counter::Add{2});
//   rt::CallResult<int> n = rt::call(*ref, Counter::Get{});
//
// Callback return forms (OTP's tuples):
//   init          ok() | ok().with_timeout(t) | continue_with(c) | ignore() | stop(reason)
//   handle_call   reply(v) | reply(v).with_timeout(t) | reply(v).then(continue_with(c))
//                 | noreply() (reply later through From) | stop(reason) | stop(reason, v)
//   handle_cast / handle_info / handle_continue
//                 noreply() | noreply().with_timeout(t) | continue_with(c) | stop(reason)
//
// Semantics and edge cases:
// - The state is the object's members; only the server's own callbacks touch
//   them, one message at a time.
// - init runs synchronously in the starter's thread (as proc_lib's ack: the
//   starter gets init's outcome). Messages sent to the new pid during init
//   are queued. An exception in init is a start error, not a crash report.
// - A callback that throws ends the server with {error, what}: terminate runs,
//   the crash is logged with the server's name and the message type, links and
//   monitors are notified, and pending callers get `exited`.
// - An idle timeout (with_timeout) delivers rt::Timeout to handle_info if no
//   other message arrives first.
// - With trap_exit on, an exit signal from the parent (the supervisor, or for
//   a server started outside any process, any non-process) runs terminate and
//   exits with the same reason; other signals arrive as rt::ExitSignal in
//   handle_info. rt::stop is the orderly way to stop a server from outside.
// - A message type the server has no handle_info clause for is logged and
//   dropped (OTP logs "undefined handle_info").
// - `call` blocks the calling thread and returns by its deadline; the caller
//   is free once the callee replies. Inside a worker, the runtime may run an
//   idle callee's turn on the caller's thread (no thread hand-over: W2's
//   sub-microsecond calls), but only for a request type the callee has
//   answered before by returning its reply at once — never for one that
//   replies through From — and only for timeouts ≥ kInlineMinTimeout; such a
//   turn ends at the reply. Otherwise the call waits and a spare thread keeps
//   the pool running. A kill or an untrapped exit signal ends a blocked
//   caller at once (detail::ExitUnwind). Use async_call (asio_call.hpp) from
//   event loops, and send_request (request.hpp) from a process that asks
//   many servers or must not wait: its reply arrives as a message.
// Thread-safety: start, cast, send, call, send_after are thread-safe.

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/core/demangle.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/call.hpp"
#include "runtime/clock.hpp"
#include "runtime/process.hpp"
#include "runtime/runtime.hpp"

namespace rt {

template <class Impl>
class GenServer;

/// Delivered to handle_info when an idle timeout (with_timeout) expires.
struct Timeout {};

/// What a callback asks the server to do next.
class Action {
 public:
  /// Arms an idle timeout: rt::Timeout arrives if no message comes first.
  Action&& with_timeout(std::chrono::milliseconds t) && {
    timeout_ = t;
    return std::move(*this);
  }
  /// Runs `next`'s continue before any other message (for reply(v).then(...)).
  Action&& then(Action&& next) && {
    continue_ = std::move(next.continue_);
    return std::move(*this);
  }
  bool stops() const noexcept { return kind_ == Kind::stop; }
  bool ignores() const noexcept { return kind_ == Kind::ignore; }
  const ExitReason& reason() const noexcept { return reason_; }

 private:
  template <class>
  friend class GenServer;
  enum class Kind : unsigned char { proceed, stop, ignore };
  explicit Action(Kind k, ExitReason r = {}) : kind_(k), reason_(std::move(r)) {}

  Kind kind_ = Kind::proceed;
  std::optional<std::chrono::milliseconds> timeout_;
  ExitReason reason_;
  std::unique_ptr<Envelope> continue_;
};

/// handle_call's result: an Action plus, unless the reply is deferred, the reply.
template <class R>
class CallAction {
 public:
  CallAction(Action a) : action_(std::move(a)) {}  // NOLINT: noreply()/stop() convert
  CallAction(R value, Action a) : action_(std::move(a)), reply_(std::move(value)) {}
  template <class V>
  requires(!std::is_same_v<V, R> && std::is_convertible_v<V, R>)
      CallAction(CallAction<V>&& other)  // NOLINT: reply("text") for a std::string reply
      : action_(std::move(other.action_)) {
    if (other.reply_) reply_.emplace(std::move(*other.reply_));
  }

  CallAction&& with_timeout(std::chrono::milliseconds t) && {
    action_ = std::move(action_).with_timeout(t);
    return std::move(*this);
  }
  CallAction&& then(Action&& next) && {
    action_ = std::move(action_).then(std::move(next));
    return std::move(*this);
  }

 private:
  template <class>
  friend class GenServer;
  template <class>
  friend class CallAction;
  Action action_;
  std::optional<R> reply_;
};

/// A typed process reference: what start returns and what cast/call accept.
template <class Impl>
class Ref {
 public:
  Ref() = default;
  /// The typed view of `pid`, if its process is an Impl.
  static std::optional<Ref> from(Pid pid) {
    // By value, moved in: a Pid copy is an atomic increment on the process,
    // contended when many threads route to one server.
    if (pid && pid.get()->type_tag() == GenServer<Impl>::tag()) return Ref(std::move(pid));
    return std::nullopt;
  }
  const Pid& pid() const noexcept { return pid_; }
  bool alive() const noexcept { return pid_.alive(); }
  explicit operator bool() const noexcept { return static_cast<bool>(pid_); }
  friend bool operator==(const Ref&, const Ref&) = default;

 private:
  friend class GenServer<Impl>;
  explicit Ref(Pid pid) : pid_(std::move(pid)) {}
  Pid pid_;
};

/// Why a start failed.
struct StartError {
  enum class Code : unsigned char {
    already_started,  ///< the name is taken; `existing` holds its owner
    init_failed,      ///< init returned stop or threw; `reason` says why
    ignored,          ///< init returned ignore
  };
  Code code = Code::init_failed;
  ExitReason reason;
  Pid existing;
  std::string to_string() const;
};

template <class Impl>
using StartResult = Result<Ref<Impl>, StartError>;

/// How to start a server.
struct StartOptions {
  std::string name;                  ///< for logs and introspection
  std::size_t mailbox_capacity = 0;  ///< 0 = unbounded
  bool link = false;                 ///< link the caller (start_link); after a successful init
  bool trap_exit = false;            ///< start with trap_exit on (before init)
  Pid parent;                        ///< defaults to the caller
  std::uint32_t restarts = 0;        ///< incarnation number, set by supervisors
  /// Registers the new process before init (`via` naming); returns the current
  /// owner when the name is taken. See Registry::via.
  std::function<std::optional<Pid>(Process&)> register_as;
};

namespace detail {

template <class M>
std::string_view type_name_of() {
  static const std::string name = boost::core::demangle(typeid(M).name());
  return name;
}

/// Appends `m` for a crash log when the type has a fmt formatter (the log cuts it).
template <class M>
void render_message(std::string& out, const M& m) {
  if constexpr (fmt::is_formattable<M>::value) {
    try {
      fmt::format_to(std::back_inserter(out), "{}", m);
    } catch (...) {  // a formatter that throws leaves the log without the contents
    }
  }
}

/// Calls shorter than this never run their callee on the caller's thread: a
/// callee's callback that once ran fast and now runs long cannot make them late.
inline constexpr std::chrono::milliseconds kInlineMinTimeout{1000};
/// The resolution of coarse_monotonic_ms, added where a coarse reading must
/// not make a deadline early.
std::chrono::milliseconds coarse_tick() noexcept;

template <class Impl, class M>
concept HasCast = requires(Impl& s, M&& m) {
  s.handle_cast(std::move(m));
};
template <class Impl, class M>
concept HasInfo = requires(Impl& s, M&& m) {
  s.handle_info(std::move(m));
};
template <class Impl, class Req>
concept HasCall = requires(Impl& s, Req&& r, From<typename Req::Reply>& f) {
  s.handle_call(std::move(r), f);
};
template <class Impl, class C>
concept HasContinue = requires(Impl& s, C&& c) {
  s.handle_continue(std::move(c));
};

}  // namespace detail

template <class Impl>
class GenServer : public Process {
 public:
  // Callback vocabulary, so servers outside namespace rt read naturally.
  using Action = rt::Action;
  template <class R>
  using CallAction = rt::CallAction<R>;
  template <class R>
  using From = rt::From<R>;

  /// The tag that identifies processes of this behaviour type.
  static const void* tag() noexcept {
    static const char t = 0;
    return &t;
  }
  /// Typed reference to this server.
  Ref<Impl> ref() const { return Ref<Impl>(self()); }
  /// Identifies request type Req to this server type (Process::inline_call_tag).
  template <class Req>
  static Process::CallTag call_tag() noexcept {
    static const Process::CallTag t = Process::next_call_tag();
    return t;
  }

 protected:
  GenServer() = default;

  // ---- return forms for callbacks ----------------------------------------
  static Action ok() { return Action(Action::Kind::proceed); }
  static Action noreply() { return Action(Action::Kind::proceed); }
  static Action stop(ExitReason reason) { return Action(Action::Kind::stop, std::move(reason)); }
  static Action ignore() { return Action(Action::Kind::ignore); }
  template <class V>
  static CallAction<V> reply(V value) {
    return CallAction<V>(std::move(value), Action(Action::Kind::proceed));
  }
  template <class V>
  static CallAction<V> stop(ExitReason reason, V value) {
    return CallAction<V>(std::move(value), Action(Action::Kind::stop, std::move(reason)));
  }
  /// Runs Impl::handle_continue(c) before the next message.
  template <class C>
  static Action continue_with(C c) {
    static_assert(detail::HasContinue<Impl, C>, "no handle_continue for this type");
    Action a(Action::Kind::proceed);
    a.continue_ = std::make_unique<ContinueEnvelope<C>>(std::move(c));
    return a;
  }

 private:
  template <class I, class... Args>
  friend StartResult<I> start(Runtime&, StartOptions, Args&&...);
  template <class I>
  friend bool stop(const Ref<I>&, ExitReason, std::chrono::milliseconds);
  template <class, class>
  friend class CastEnvelope;
  template <class, class>
  friend class InfoEnvelope;
  template <class, class>
  friend class CallEnvelope;

  static StartResult<Impl> do_start(Runtime& rt, StartOptions opts,
                                    boost::intrusive_ptr<Impl> server) {
    Pid caller = rt::self();
    GenServer& p = *server;
    p.attach(rt, ProcessOptions{std::move(opts.name), opts.mailbox_capacity, opts.restarts},
             opts.parent ? opts.parent : caller, tag());
    p.trap_exit(opts.trap_exit);
    if (opts.register_as) {
      if (std::optional<Pid> existing = opts.register_as(p)) {
        p.exit_self(ExitReason::normal());
        return Err{StartError{StartError::Code::already_started, {}, *existing}};
      }
    }
    Action init_result = [&]() -> Action {
      detail::CurrentProcessScope scope(&p);
      try {
        if constexpr (requires(Impl & s) { s.init(); }) {
          return server->init();
        } else {
          return ok();
        }
      } catch (const std::exception& ex) {
        return stop(ExitReason::error(ex.what()));
      } catch (...) {
        return stop(ExitReason::error("unknown exception in init"));
      }
    }();
    if (init_result.stops() || init_result.ignores()) {
      ExitReason why = init_result.ignores() ? ExitReason::normal() : init_result.reason();
      p.exit_self(why);
      return Err{StartError{
          init_result.ignores() ? StartError::Code::ignored : StartError::Code::init_failed,
          why,
          {}}};
    }
    {
      detail::CurrentProcessScope scope(&p);
      p.apply(std::move(init_result));
    }
    if (opts.link) {
      if (Process* c = caller.get(); c != nullptr && c == current_process()) c->link(p.self());
    }
    // Release the process to the scheduler; run it now if messages arrived during init.
    bool run_now = p.must_continue();
    if (!run_now) {
      p.scheduled_.store(false, std::memory_order_seq_cst);
      run_now = p.has_pending_messages() && !p.scheduled_.exchange(true, std::memory_order_acq_rel);
    }
    if (run_now) {
      rt.scheduler().schedule(&p);
    }
    return *Ref<Impl>::from(p.self());
  }

  Impl& impl() { return static_cast<Impl&>(*this); }

  template <class C>
  class ContinueEnvelope final : public Envelope {
   public:
    explicit ContinueEnvelope(C c) : c_(std::move(c)) {}
    void deliver(Process& p) override {
      auto& s = static_cast<GenServer&>(p);
      s.apply(s.impl().handle_continue(std::move(c_)));
    }
    std::string_view type_name() const noexcept override { return detail::type_name_of<C>(); }

   private:
    C c_;
  };

  class StopEnvelope final : public Envelope {
   public:
    explicit StopEnvelope(ExitReason r) : reason_(std::move(r)) {}
    void deliver(Process& p) override {
      auto& s = static_cast<GenServer&>(p);
      s.run_terminate(reason_);
      s.exit_self(reason_);
    }
    std::string_view type_name() const noexcept override { return "stop"; }

   private:
    ExitReason reason_;
  };

  class IdleTimeoutEnvelope final : public Envelope {
   public:
    explicit IdleTimeoutEnvelope(std::uint32_t gen) : gen_(gen) {}
    void deliver(Process& p) override {
      auto& s = static_cast<GenServer&>(p);
      if (s.timeout_gen_ == gen_ && s.timeout_armed_) s.dispatch_info(Timeout{});
    }
    std::string_view type_name() const noexcept override { return "Timeout"; }

   private:
    std::uint32_t gen_;
  };

 public:  // dispatch entry points used by the envelopes
  template <class Req>
  void dispatch_call(Req&& req, From<typename Req::Reply> from,
                     detail::ReplySlot<typename Req::Reply>& slot) {
    static_assert(detail::HasCall<Impl, Req>, "no handle_call clause for this request type");
    message_arrived();
    // Learning whether callers may run this request inline (see rt::call):
    // only if its handler returns its reply, within one coarse tick.
    const Process::CallTag tag = call_tag<Req>();
    const Process::CallTag known = inline_call_tag();
    const bool learning = known != tag && known != Process::kNeverInline;
    const std::int64_t started_ms = learning ? coarse_monotonic_ms() : 0;
    in_flight_ = &slot;  // failed with the exit reason if the handler throws
    CallAction<typename Req::Reply> r = impl().handle_call(std::move(req), from);
    in_flight_ = nullptr;
    if (r.reply_) {
      slot.resolve(std::move(*r.reply_));
      if (learning && coarse_monotonic_ms() - started_ms <= detail::coarse_tick().count()) {
        swap_inline_call_tag(known, tag);
      }
    } else if (!from.done()) {
      remember_deferred(from.slot());
    }
    apply(std::move(r.action_));
  }
  template <class M>
  void dispatch_cast(M&& m) {
    message_arrived();
    apply(impl().handle_cast(std::move(m)));
  }
  template <class M>
  void dispatch_info(M&& m) {
    message_arrived();
    if constexpr (detail::HasInfo<Impl, M>) {
      apply(impl().handle_info(std::move(m)));
    } else {
      spdlog::warn("process {} {}: unexpected message {} dropped", name(), self().to_string(),
                   detail::type_name_of<M>());
    }
  }

 private:
  void message_arrived() {
    if (timeout_armed_) {
      timeout_armed_ = false;
      ++timeout_gen_;
      runtime().timers().cancel(idle_timer_);
    }
  }

  void apply(Action&& a) {
    if (a.kind_ == Action::Kind::stop) {
      run_terminate(a.reason_);
      exit_self(std::move(a.reason_));
      return;
    }
    if (a.continue_) set_continue(std::move(a.continue_));
    if (a.timeout_) {
      timeout_armed_ = true;
      idle_timer_ = runtime().timers().start(
          self(), std::make_unique<IdleTimeoutEnvelope>(++timeout_gen_), *a.timeout_);
    }
  }

  void run_terminate(const ExitReason& reason) noexcept {
    if constexpr (requires(Impl & s) { s.terminate(reason); }) {
      try {
        impl().terminate(reason);
      } catch (const detail::ExitUnwind&) {
        handle_signals();  // killed while waiting in terminate: that reason wins
      } catch (const std::exception& ex) {
        spdlog::error("process {} {}: terminate threw: {}", name(), self().to_string(), ex.what());
      } catch (...) {
        spdlog::error("process {} {}: terminate threw", name(), self().to_string());
      }
    }
  }

  void remember_deferred(detail::ReplySlotBase* slot) {
    if (!deferred_) deferred_ = std::make_unique<Deferred>();
    auto& d = *deferred_;
    // Compact now and then so a server deferring many calls does not grow forever.
    if (d.slots.size() >= 2 * d.compacted + 16) {
      std::erase_if(d.slots, [](const auto& s) { return s->resolved(); });
      d.compacted = d.slots.size();
    }
    d.slots.emplace_back(slot);
  }

  void handle_down(Down&& down) override { dispatch_info(std::move(down)); }
  void handle_exit_signal(ExitSignal&& sig) override {
    // A server started from outside any process has an empty parent: signals
    // from outside (exit() called by a non-process) then count as the parent's.
    if (sig.from == parent()) {
      run_terminate(sig.reason);
      exit_self(std::move(sig.reason));
      return;
    }
    dispatch_info(std::move(sig));
  }
  void on_crash(const ExitReason& reason) noexcept override { run_terminate(reason); }
  void on_exit(const ExitReason& reason) noexcept override {
    if (timeout_armed_) runtime().timers().cancel(idle_timer_);
    CallError why{CallError::Code::exited, reason};
    if (in_flight_ != nullptr) in_flight_->fail(why);
    if (deferred_) {
      for (auto& slot : deferred_->slots) slot->fail(why);
      deferred_.reset();
    }
  }

  // Calls answered later (From::reply); most servers never defer, so the
  // list lives apart and an idle process stays a cache line smaller.
  struct Deferred {
    std::vector<boost::intrusive_ptr<detail::ReplySlotBase>> slots;
    std::size_t compacted = 0;
  };
  std::unique_ptr<Deferred> deferred_;
  detail::ReplySlotBase* in_flight_ =
      nullptr;  // the call being handled (kept alive by its envelope)
  TimerRef idle_timer_;
  std::uint32_t timeout_gen_ = 0;
  bool timeout_armed_ = false;
};

// ---- envelopes ------------------------------------------------------------------

template <class Impl, class M>
class CastEnvelope final : public Envelope {
 public:
  explicit CastEnvelope(M m) : m_(std::move(m)) {}
  void deliver(Process& p) override { static_cast<Impl&>(p).dispatch_cast(std::move(m_)); }
  std::string_view type_name() const noexcept override { return detail::type_name_of<M>(); }
  void render(std::string& out) const override { detail::render_message(out, m_); }

 private:
  M m_;
};

template <class Impl, class M>
class InfoEnvelope final : public Envelope {
 public:
  explicit InfoEnvelope(M m) : m_(std::move(m)) {}
  void deliver(Process& p) override { static_cast<Impl&>(p).dispatch_info(std::move(m_)); }
  std::string_view type_name() const noexcept override { return detail::type_name_of<M>(); }
  void render(std::string& out) const override { detail::render_message(out, m_); }

 private:
  M m_;
};

template <class Impl, class Req>
class CallEnvelope final : public Envelope {
 public:
  using R = typename Req::Reply;
  CallEnvelope(Req req, detail::ReplySlotPtr<R> slot)
      : req_(std::move(req)), slot_(std::move(slot)) {}
  void deliver(Process& p) override {
    static_cast<Impl&>(p).dispatch_call(std::move(req_), From<R>(slot_), *slot_);
  }
  void render(std::string& out) const override { detail::render_message(out, req_); }
  void abandon(const ExitReason& why) noexcept override {
    slot_->fail(why.is(ExitReason::Kind::noproc) ? CallError{CallError::Code::noproc, {}}
                                                 : CallError{CallError::Code::exited, why});
  }
  std::string_view type_name() const noexcept override { return detail::type_name_of<Req>(); }

 private:
  Req req_;
  detail::ReplySlotPtr<R> slot_;
};

// ---- client API -------------------------------------------------------------------

/// Starts an Impl constructed from `args`, runs its init, and returns its reference.
template <class Impl, class... Args>
StartResult<Impl> start(Runtime& rt, StartOptions opts, Args&&... args) {
  static_assert(std::is_base_of_v<GenServer<Impl>, Impl>, "Impl must derive from GenServer<Impl>");
  boost::intrusive_ptr<Impl> server(new Impl(std::forward<Args>(args)...));  // owned by refcount
  return GenServer<Impl>::do_start(rt, std::move(opts), std::move(server));
}

/// Sends a cast (fire-and-forget). Reports noproc / overloaded rather than throwing.
template <class Impl, class M>
SendStatus cast(const Ref<Impl>& to, M msg) {
  static_assert(detail::HasCast<Impl, M>, "no handle_cast clause for this message type");
  Process* p = to.pid().get();
  if (p == nullptr) return SendStatus::noproc;
  return p->post(std::make_unique<CastEnvelope<Impl, M>>(std::move(msg)));
}

/// Sends an info message (Erlang's `send`), handled by handle_info.
template <class Impl, class M>
SendStatus send(const Ref<Impl>& to, M msg) {
  Process* p = to.pid().get();
  if (p == nullptr) return SendStatus::noproc;
  return p->post(std::make_unique<InfoEnvelope<Impl, M>>(std::move(msg)));
}

/// Sends `msg` to handle_info after `delay`. Cancel with cancel_timer.
template <class Impl, class M>
TimerRef send_after(const Ref<Impl>& to, M msg, std::chrono::milliseconds delay) {
  Process* p = to.pid().get();
  if (p == nullptr) return {};
  return p->runtime().timers().start(
      to.pid(), std::make_unique<InfoEnvelope<Impl, M>>(std::move(msg)), delay);
}

/// Stops a server in order (OTP's GenServer.stop): terminate(reason) runs after
/// the messages already queued, then the server exits with `reason`. Waits up
/// to `timeout` for the exit; false if it did not exit in time (or was not alive).
template <class Impl>
bool stop(const Ref<Impl>& server, ExitReason reason = ExitReason::normal(),
          std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  Process* p = server.pid().get();
  if (p == nullptr) return false;
  if (p->post(std::make_unique<typename GenServer<Impl>::StopEnvelope>(std::move(reason)), false) !=
      SendStatus::ok) {
    return false;
  }
  return p->await_exit(timeout);
}

/// Cancels a send_after timer; false if it already fired (its message may still be queued).
inline bool cancel_timer(Runtime& rt, TimerRef ref) {
  return rt.timers().cancel(ref);
}

namespace detail {
/// Posts a call and returns its slot, or the error that prevented posting.
template <class Impl, class Req>
Result<ReplySlotPtr<typename Req::Reply>, CallError> post_call(const Ref<Impl>& to, Req&& req) {
  static_assert(HasCall<Impl, Req>, "no handle_call clause for this request type");
  using R = typename Req::Reply;
  Process* p = to.pid().get();
  if (p == nullptr) return Err{CallError{CallError::Code::noproc, {}}};
  if (p == current_process()) return Err{CallError{CallError::Code::calling_self, {}}};
  ReplySlotPtr<R> slot(new ReplySlot<R>());  // owned by refcount
  switch (p->post(std::make_unique<CallEnvelope<Impl, Req>>(std::move(req), slot))) {
    case SendStatus::ok:
      return slot;
    case SendStatus::noproc:
      return Err{CallError{CallError::Code::noproc, {}}};
    case SendStatus::overloaded:
      return Err{CallError{CallError::Code::overloaded, {}}};
  }
  return Err{CallError{CallError::Code::noproc, {}}};
}
}  // namespace detail

/// A call in flight (OTP's gen_server:send_request/wait_response): post many,
/// then wait for each, so one caller keeps several servers busy at once.
template <class R>
class PendingCall {
 public:
  explicit PendingCall(Result<detail::ReplySlotPtr<R>, CallError> posted)
      : posted_(std::move(posted)) {}
  /// The reply, or why there is none; a reply landing after a timeout is dropped.
  CallResult<R> wait(std::chrono::milliseconds timeout = kDefaultCallTimeout) {
    if (!posted_) return Err{posted_.error()};
    return (*posted_)->wait(timeout);
  }

 private:
  Result<detail::ReplySlotPtr<R>, CallError> posted_;
};

/// Posts a call without waiting; collect the reply with PendingCall::wait.
template <class Impl, class Req>
PendingCall<typename Req::Reply> send_request(const Ref<Impl>& to, Req req) {
  return PendingCall<typename Req::Reply>(detail::post_call(to, std::move(req)));
}

/// Calls the server and waits for its reply at most `timeout`. Blocks the calling thread.
template <class Impl, class Req>
CallResult<typename Req::Reply> call(const Ref<Impl>& to, Req req,
                                     std::chrono::milliseconds timeout = kDefaultCallTimeout) {
  // The clock starts before anything can run on this thread.
  const std::int64_t started_ms = coarse_monotonic_ms();
  auto posted = detail::post_call(to, std::move(req));
  if (!posted) return Err{posted.error()};
  Process* p = to.pid().get();
  // Run the callee here only for a request it is known to answer at once by
  // returning its reply (so the deadline and the release at the reply hold).
  const Process::CallTag tag = GenServer<Impl>::template call_tag<Req>();
  Process* inline_callee = timeout >= detail::kInlineMinTimeout && tag != Process::kNeverInline &&
                                   p->inline_call_tag() == tag
                               ? p
                               : nullptr;
  // While we run the callee here, its turn ends once we are answered.
  detail::AwaitingReply awaiting(**posted);
  std::chrono::milliseconds left = timeout;
  // The callee usually waits in our next slot (or in a run queue): run it here.
  if (inline_callee != nullptr && p->runtime().scheduler().try_run_queued(p)) {
    const auto took = std::chrono::milliseconds(coarse_monotonic_ms() - started_ms);
    if (took * 4 > timeout) {  // slower than it was: not inline again until relearned
      p->swap_inline_call_tag(tag, Process::kNoCallTag);
    }
    if (took > std::chrono::milliseconds(0)) left -= took - detail::coarse_tick();
  }
  CallResult<typename Req::Reply> r = (*posted)->wait(left, inline_callee);
  if (!r && r.error().code == CallError::Code::timeout) p->runtime().count_call_timeout();
  return r;
}

}  // namespace rt
