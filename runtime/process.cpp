#include "runtime/process.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "runtime/call.hpp"
#include "runtime/detail/futex.hpp"
#include "runtime/runtime.hpp"

namespace rt {

namespace {
thread_local Process* tl_current = nullptr;
// Messages this thread has posted during the running turn (see run_slice).
thread_local std::uint32_t tl_sends = 0;
}  // namespace

// ---- system messages --------------------------------------------------------

class DownEnvelope final : public Envelope {
 public:
  explicit DownEnvelope(Down d) : down_(std::move(d)) {}
  void deliver(Process& target) override { target.on_down_envelope(std::move(down_)); }
  std::string_view type_name() const noexcept override { return "Down"; }

 private:
  Down down_;
};

// A signal queued as a message because its target traps exits. If the target
// stopped trapping before it got here, the signal acts as a signal again.
class ExitSignalEnvelope final : public Envelope {
 public:
  explicit ExitSignalEnvelope(ExitSignal s) : sig_(std::move(s)) {}
  void deliver(Process& target) override {
    switch (target.effect_of(sig_.from, sig_.reason, /*linked=*/false)) {
      case Process::SignalEffect::message:
        target.handle_exit_signal(std::move(sig_));
        break;
      case Process::SignalEffect::killed:
      case Process::SignalEffect::exits:
        target.exit_self(std::move(sig_.reason));
        break;
      case Process::SignalEffect::ignored:
        break;
    }
  }
  std::string_view type_name() const noexcept override { return "ExitSignal"; }

 private:
  ExitSignal sig_;
};

// ---- identity ---------------------------------------------------------------

void intrusive_ptr_add_ref(Process* p) noexcept {
  p->refs_.fetch_add(1, std::memory_order_relaxed);
}

void intrusive_ptr_release(Process* p) noexcept {
  if (p->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p;
}

std::uint64_t Pid::id() const noexcept {
  return p_ ? p_->id() : 0;
}
bool Pid::alive() const noexcept {
  return p_ && p_->alive();
}
std::string Pid::to_string() const {
  return "<0." + std::to_string(id()) + ".0>";
}

Process::CallTag Process::next_call_tag() noexcept {
  static std::atomic<unsigned> next{kNoCallTag + 1};
  const unsigned t = next.fetch_add(1, std::memory_order_relaxed);
  return t < kNeverInline ? static_cast<CallTag>(t) : kNeverInline;
}

Process* current_process() noexcept {
  return tl_current;
}

void yield() noexcept {
  if (tl_current != nullptr) tl_current->request_yield();
}

Pid self() noexcept {
  return tl_current ? tl_current->self() : Pid();
}

void exit(const Pid& pid, ExitReason reason) {
  if (Process* p = pid.get()) p->exit_signal(self(), std::move(reason));
}

detail::SpinningCaller::SpinningCaller(Process* p) noexcept : p_(p) {
  if (p_ != nullptr) p_->spinning_callers_.fetch_add(1, std::memory_order_relaxed);
}
detail::SpinningCaller::~SpinningCaller() {
  if (p_ != nullptr) p_->spinning_callers_.fetch_sub(1, std::memory_order_relaxed);
}

detail::CurrentProcessScope::CurrentProcessScope(Process* p) noexcept : saved_(tl_current) {
  tl_current = p;
}
detail::CurrentProcessScope::~CurrentProcessScope() {
  tl_current = saved_;
}

// ---- lifecycle --------------------------------------------------------------

void Process::attach(Runtime& rt, ProcessOptions options, Pid parent, const void* type_tag) {
  runtime_ = &rt;
  type_tag_ = type_tag;
  restarts_ = options.restarts;
  capacity_ = options.mailbox_capacity;
  name_ = std::move(options.name);
  parent_ = std::move(parent);
  alive_.store(true, std::memory_order_release);
  rt.add(*this);  // numbers it (id_) and enters it in the table
}

Process::~Process() {
  drain_dead_mailbox();
}

ExitReason Process::exit_reason() const {
  std::lock_guard g(lock_);
  return exit_reason_;
}

ProcessInfo Process::info() const {
  return ProcessInfo{self(),
                     name_,
                     depth_.load(std::memory_order_relaxed),
                     depth_high_water_.load(std::memory_order_relaxed),
                     handled_.load(std::memory_order_relaxed),
                     restarts_,
                     trapping_exits()};
}

SendStatus Process::post(std::unique_ptr<Envelope> env, bool bounded) {
  if (!alive_.load(std::memory_order_acquire)) {
    env->abandon(ExitReason::noproc());
    return SendStatus::noproc;
  }
  std::int64_t depth = depth_.fetch_add(1, std::memory_order_seq_cst) + 1;
  if (bounded && capacity_ != 0 && depth > static_cast<std::int64_t>(capacity_)) {
    depth_.fetch_sub(1, std::memory_order_relaxed);
    return SendStatus::overloaded;  // env is destroyed unsent; a call reports `overloaded`
  }
  if (depth > depth_high_water_.load(std::memory_order_relaxed)) {
    depth_high_water_.store(depth, std::memory_order_relaxed);
  }
  mailbox_.push(env.release());
  ++tl_sends;
  // Dekker pair with the scheduler's release (store false, then load depth_):
  // if we read a stale `true`, that load sees our depth_ increment and reruns us.
  if (!scheduled_.load(std::memory_order_seq_cst) &&
      !scheduled_.exchange(true, std::memory_order_acq_rel)) {
    runtime_->scheduler().schedule(this);
  }
  return SendStatus::ok;
}

void Process::exit_signal(const Pid& from, ExitReason reason, bool linked) {
  // A trapped signal is a message: it joins the mailbox now, behind what its
  // sender sent before it and ahead of what it sends next (OTP's signal order).
  // `kill` is never trapped and takes the side path, ahead of any backlog.
  const bool as_message = effect_of(from, reason, linked) == SignalEffect::message;
  {
    std::lock_guard g(lock_);
    if (!alive_.load(std::memory_order_relaxed)) return;
    if (linked) links_.erase(from);
    if (!as_message) relations().signals.push_back(Signal{from, std::move(reason), linked});
  }
  if (as_message) {
    post(std::make_unique<ExitSignalEnvelope>(ExitSignal{from, std::move(reason)}), false);
    return;
  }
  signals_pending_.store(true, std::memory_order_release);
  if (!scheduled_.exchange(true, std::memory_order_acq_rel)) runtime_->scheduler().schedule(this);
}

Process::Relations& Process::relations() {
  if (!relations_) relations_ = std::make_unique<Relations>();
  return *relations_;
}

// ---- the run loop -----------------------------------------------------------

Process::SignalEffect Process::effect_of(const Pid& from, const ExitReason& reason,
                                         bool linked) const noexcept {
  if (reason.is(ExitReason::Kind::kill) && !linked) return SignalEffect::killed;
  if (trapping_exits()) return SignalEffect::message;
  if (reason.is(ExitReason::Kind::normal)) {
    return from == self() ? SignalEffect::exits : SignalEffect::ignored;  // exit(self(), normal)
  }
  return SignalEffect::exits;
}

bool Process::fatal_signal_pending() const noexcept {
  if (!signals_pending_.load(std::memory_order_acquire)) return false;
  std::lock_guard g(lock_);
  if (!relations_) return false;
  for (const Signal& sig : relations_->signals) {
    const SignalEffect e = effect_of(sig.from, sig.reason, sig.linked);
    if (e == SignalEffect::killed || e == SignalEffect::exits) return true;
  }
  return false;
}

bool Process::has_pending_messages() const noexcept {
  // Only atomics: called after the process was released, when another worker
  // may already be consuming. Producers count a message before pushing it.
  return signals_pending_.load(std::memory_order_seq_cst) ||
         depth_.load(std::memory_order_seq_cst) > 0;
}

bool Process::must_continue() const noexcept {
  return continue_ != nullptr && alive_.load(std::memory_order_relaxed);
}

unsigned Process::run_slice(unsigned budget, std::uint32_t send_budget) {
  unsigned handled = 0;
  std::int64_t popped = 0;
  const std::uint32_t outer_sends = std::exchange(tl_sends, 0);  // a turn nested in a call
  // Run inline for a caller (a call below on this thread's stack)? Read once a turn.
  const detail::ReplySlotBase* const awaited = detail::awaited_reply();
  while (handled < budget && tl_sends < send_budget) {
    if (signals_pending_.load(std::memory_order_acquire)) handle_signals();
    if (!alive_.load(std::memory_order_relaxed)) {
      drain_dead_mailbox();
      break;
    }
    if (continue_) {
      std::unique_ptr<Envelope> cont = std::move(continue_);
      deliver(*cont);
      ++handled;
      if (yield_requested_) break;
      continue;
    }
    auto* node = mailbox_.pop();
    if (node == nullptr) break;
    ++popped;
    std::unique_ptr<Envelope> env(static_cast<Envelope*>(node));
    deliver(*env);
    ++handled;
    if (yield_requested_) break;  // the scheduler queues it behind the others
    // Run inline for a caller now answered: the caller is free at the reply
    // (OTP's promise), so the rest of the turn (a continue, other messages)
    // goes back to a run queue rather than hold the caller's thread.
    if (awaited != nullptr && awaited->ready()) break;
  }
  tl_sends += outer_sends;
  if (popped != 0) depth_.fetch_sub(popped, std::memory_order_acq_rel);
  handled_.store(handled_.load(std::memory_order_relaxed) + handled, std::memory_order_relaxed);
  return handled;
}

void Process::deliver(Envelope& env) {
  try {
    env.deliver(*this);
  } catch (const detail::ExitUnwind&) {
    // A blocking wait saw a fatal exit signal: it takes effect now.
    handle_signals();
  } catch (const std::exception& ex) {
    crash(ExitReason::error(ex.what()), env);
  } catch (...) {
    crash(ExitReason::error("unknown exception"), env);
  }
}

void Process::crash(ExitReason reason, const Envelope& env) noexcept {
  // What an operator needs to find the culprit: the process's name and the
  // keys it is registered under, the message's type and (bounded) contents.
  constexpr std::size_t kRenderLimit = 256;
  try {
    std::string keys;
    for (const ExitHook* h = hooks_; h != nullptr; h = h->next_hook_) h->describe(keys);
    std::string contents;
    env.render(contents);
    if (contents.size() > kRenderLimit) {
      contents.resize(kRenderLimit);
      contents += "…";
    }
    spdlog::error("process {} {}{}{} crashed handling {}{}{}: {}", name_, self().to_string(),
                  keys.empty() ? "" : " registered as ", keys, env.type_name(),
                  contents.empty() ? "" : " ", contents, reason.to_string());
  } catch (...) {  // logging must not keep a crashing process alive
  }
  crashed_ = true;
  on_crash(reason);
  exit_self(std::move(reason));
}

void Process::handle_signals() {
  std::vector<Signal> signals;
  {
    std::lock_guard g(lock_);
    signals_pending_.store(false, std::memory_order_relaxed);
    if (relations_) signals.swap(relations_->signals);
  }
  for (Signal& sig : signals) {
    if (!alive_.load(std::memory_order_relaxed)) return;
    switch (effect_of(sig.from, sig.reason, sig.linked)) {
      case SignalEffect::killed:
        exit_self(ExitReason::killed());
        break;
      case SignalEffect::message:
        post(std::make_unique<ExitSignalEnvelope>(ExitSignal{sig.from, std::move(sig.reason)}),
             false);
        break;
      case SignalEffect::exits:
        exit_self(std::move(sig.reason));
        break;
      case SignalEffect::ignored:
        break;
    }
  }
}

void Process::exit_self(ExitReason reason) {
  if (!alive_.load(std::memory_order_relaxed)) return;
  Pid me = self();  // keeps this object alive until we are done
  ExitReason visible = reason.is(ExitReason::Kind::kill) ? ExitReason::killed() : std::move(reason);
  std::unique_ptr<Relations> rel;
  detail::LinkSet links;
  {
    std::lock_guard g(lock_);
    exit_reason_ = visible;
    alive_.store(false, std::memory_order_release);
    rel = std::move(relations_);
    links = std::move(links_);
  }
  on_exit(visible);  // after alive_ flips: a failed caller never sees us alive
  for (ExitHook* h = std::exchange(hooks_, nullptr); h != nullptr;) {
    ExitHook* next = std::exchange(h->next_hook_, nullptr);
    h->on_process_exit(*this);
    h = next;
  }
  runtime_->remove(*this, crashed_);
  links.for_each([&](const Pid& l) { l.get()->exit_signal(me, visible, /*linked=*/true); });
  if (rel) {
    for (MonitorEntry& m : rel->watchers) {
      m.other.get()->post(std::make_unique<DownEnvelope>(Down{m.ref, me, visible}), false);
    }
  }
  for (MonitorEntry& m : monitoring_) {
    if (Process* o = m.other.get()) o->remove_watcher(m.ref);  // a null pid's Down was noproc
  }
  monitoring_.clear();
  continue_.reset();
  parent_ = Pid();  // a parent holding our Pid in its state would otherwise form a cycle
  drain_dead_mailbox();
  exited_.store(1, std::memory_order_release);
  detail::futex_wake(exited_, -1);
}

bool Process::await_exit(std::chrono::milliseconds timeout) {
  if (exited_.load(std::memory_order_acquire) != 0) return true;
  // A process queued with an exit signal it does not trap exits as soon as it
  // runs, without user code: run it here rather than block for a spare. One
  // that traps exits runs terminate, which may take any time, and the
  // waiter's timeout must still hold: it is left to another thread.
  auto exits_at_once = [](const Process& p) {
    return !p.trapping_exits() && p.signals_pending_.load(std::memory_order_acquire);
  };
  if (Scheduler* sched = Scheduler::current(); sched != nullptr &&
                                               sched->try_run_queued(this, exits_at_once) &&
                                               exited_.load(std::memory_order_acquire) != 0) {
    return true;
  }
  const bool forever = timeout >= kWaitForever;
  const auto deadline = forever ? std::chrono::steady_clock::time_point::max()
                                : std::chrono::steady_clock::now() + timeout;
  // A waiting process must die at once on a fatal signal: it sleeps in short
  // slices and looks (kill reaches it within one slice).
  const Process* waiter = current_process();
  Scheduler::BlockingScope blocking(Scheduler::current());
  while (exited_.load(std::memory_order_acquire) == 0) {
    if (waiter != nullptr && waiter->fatal_signal_pending()) throw detail::ExitUnwind{};
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    auto left = forever ? std::chrono::nanoseconds(-1)
                        : std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
    if (waiter != nullptr && (forever || left > detail::kSignalPollSlice)) {
      left = detail::kSignalPollSlice;
    }
    detail::futex_wait(exited_, 0, left);
  }
  return true;
}

void Process::drain_dead_mailbox() noexcept {
  const ExitReason why =
      alive_.load(std::memory_order_relaxed) ? ExitReason::noproc() : exit_reason_;
  std::int64_t popped = 0;
  while (auto* node = mailbox_.pop()) {
    std::unique_ptr<Envelope> env(static_cast<Envelope*>(node));
    env->abandon(why);
    ++popped;
  }
  if (popped != 0) depth_.fetch_sub(popped, std::memory_order_relaxed);
}

// ---- links and monitors -------------------------------------------------------

void Process::link(const Pid& other) {
  Process* o = other.get();
  if (o == nullptr || o == this) return;
  Process* first = id_ < o->id_ ? this : o;
  Process* second = first == this ? o : this;
  bool dead = false;
  {
    std::lock_guard g1(first->lock_);
    std::lock_guard g2(second->lock_);
    dead = !o->alive_.load(std::memory_order_relaxed);
    if (!dead) {
      if (links_.insert(other)) o->links_.insert(self());
    }
  }
  if (dead) exit_signal(other, ExitReason::noproc(), /*linked=*/true);
}

void Process::unlink(const Pid& other) {
  Process* o = other.get();
  if (o == nullptr || o == this) return;
  Process* first = id_ < o->id_ ? this : o;
  Process* second = first == this ? o : this;
  std::lock_guard g1(first->lock_);
  std::lock_guard g2(second->lock_);
  links_.erase(other);
  o->links_.erase(self());
}

void Process::remove_link(Process& other) noexcept {
  std::lock_guard g(lock_);
  links_.erase(other.self());
}

MonitorRef Process::monitor(const Pid& target) {
  MonitorRef ref{runtime_->next_id()};
  bool dead = true;
  if (Process* t = target.get()) {
    std::lock_guard g(t->lock_);
    dead = !t->alive_.load(std::memory_order_relaxed);
    if (!dead) t->relations().watchers.push_back(MonitorEntry{ref, self()});
  }
  monitoring_.push_back(MonitorEntry{ref, target});
  if (dead) post(std::make_unique<DownEnvelope>(Down{ref, target, ExitReason::noproc()}), false);
  return ref;
}

bool Process::demonitor(MonitorRef ref) {
  auto it = std::find_if(monitoring_.begin(), monitoring_.end(),
                         [&](const MonitorEntry& m) { return m.ref == ref; });
  if (it == monitoring_.end()) return false;
  Pid target = std::move(it->other);
  monitoring_.erase(it);  // a queued Down for it is now ignored
  if (Process* t = target.get()) t->remove_watcher(ref);
  return true;
}

void Process::remove_watcher(MonitorRef ref) noexcept {
  std::lock_guard g(lock_);
  if (!relations_) return;
  std::erase_if(relations_->watchers, [&](const MonitorEntry& m) { return m.ref == ref; });
}

void Process::on_down_envelope(Down&& down) {
  auto it = std::find_if(monitoring_.begin(), monitoring_.end(),
                         [&](const MonitorEntry& m) { return m.ref == down.ref; });
  if (it == monitoring_.end()) return;  // demonitored: flushed
  monitoring_.erase(it);
  handle_down(std::move(down));
}

void Process::add_exit_hook(ExitHook& hook) noexcept {
  hook.next_hook_ = hooks_;
  hooks_ = &hook;
}

bool Process::remove_exit_hook(ExitHook& hook) noexcept {
  for (ExitHook** h = &hooks_; *h != nullptr; h = &(*h)->next_hook_) {
    if (*h == &hook) {
      *h = hook.next_hook_;
      hook.next_hook_ = nullptr;
      return true;
    }
  }
  return false;
}

}  // namespace rt
