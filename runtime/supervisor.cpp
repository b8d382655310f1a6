#include "runtime/supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace rt {

namespace {
// A child still running this long after its kill is stuck in a callback: we
// say so, and again every kStuckReportEvery while we keep waiting.
constexpr std::chrono::milliseconds kStuckFirstReport{1000};
constexpr std::chrono::milliseconds kStuckReportEvery{10000};

template <class R>
R unwrap(CallResult<R> r, R on_error) {
  return r ? std::move(*r) : on_error;
}
}  // namespace

std::string SupervisorError::to_string() const {
  switch (code) {
    case Code::not_found:
      return "not_found";
    case Code::running:
      return "running";
    case Code::already_present:
      return "already_present";
    case Code::already_started:
      return fmt::format("already_started {}", pid.to_string());
    case Code::start_failed:
      return fmt::format("start_failed {}", cause.to_string());
    case Code::max_children:
      return "max_children";
  }
  return "unknown";
}

void shutdown_child(const Pid& child, const Shutdown& how) {
  shutdown_children({{child, how}});
}

void shutdown_children(const std::vector<std::pair<Pid, Shutdown>>& children) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& [pid, how] : children) {
    exit(pid,
         how.kind == Shutdown::Kind::brutal_kill ? ExitReason::kill() : ExitReason::shutdown());
  }
  for (const auto& [pid, how] : children) {
    Process* p = pid.get();
    if (p == nullptr) continue;
    if (how.kind == Shutdown::Kind::infinity) {
      p->await_exit(Process::kWaitForever);
      continue;
    }
    if (how.kind != Shutdown::Kind::brutal_kill) {  // timeout (by_type unresolved: a worker's)
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          start + how.timeout - std::chrono::steady_clock::now());
      if (p->await_exit(std::max(left, std::chrono::milliseconds(0)))) continue;
      exit(pid, ExitReason::kill());
    }
    // OTP waits for the exit a kill guarantees. Here a kill takes effect only
    // when the child's running callback returns, so we wait for that: moving
    // on would let a restart run a second incarnation beside this one.
    auto waited = std::chrono::milliseconds(0);
    for (auto step = kStuckFirstReport; !p->await_exit(step); step = kStuckReportEvery) {
      waited += step;
      spdlog::warn(
          "child {} {} still running {} ms after kill (stuck in a callback, which a kill "
          "cannot preempt): waiting for its exit",
          p->name(), pid.to_string(), waited.count());
    }
  }
}

Supervisor::Supervisor(SupervisorSpec spec)
    : strategy_(spec.strategy), intensity_(spec.max_restarts, spec.max_seconds) {
  children_.reserve(spec.children.size());
  for (ChildSpec& c : spec.children) children_.push_back(Child{std::move(c), {}, 0});
}

Supervisor::Action Supervisor::init() {
  trap_exit(true);
  for (std::size_t i = 0; i < children_.size(); ++i) {
    auto r = start_one(children_[i]);
    if (!r) {
      stop_range(0);
      return stop(ExitReason::shutdown(
          fmt::format("failed_to_start_child {} {}", children_[i].spec.id, r.error().to_string())));
    }
  }
  return ok();
}

Result<Pid, StartError> Supervisor::start_one(Child& c) {
  auto r = [&]() -> Result<Pid, StartError> {
    // A start function that throws has failed, as one returning an error (OTP
    // catches it too). Only std::exception: anything else is not ours to stop.
    try {
      return start_supervised(runtime(), c.spec, self(), c.incarnation);
    } catch (const std::exception& ex) {
      return Err{StartError{StartError::Code::init_failed, ExitReason::error(ex.what()), {}}};
    }
  }();
  if (r || r.error().code == StartError::Code::ignored) c.restarting = false;
  if (r) {
    c.pid = *r;
  } else {
    c.pid = {};
    if (r.error().code == StartError::Code::ignored) return Pid();  // kept, not running
  }
  return r;
}

void Supervisor::stop_one(Child& c) {
  c.restarting = false;  // stopped on purpose: a pending retry no longer applies
  if (!c.pid) return;
  unlink(c.pid);  // its exit is ours to wait for, not a restart trigger
  shutdown_child(c.pid, c.spec.shutdown.resolved(c.spec.type));
  c.pid = {};
}

void Supervisor::stop_range(std::size_t from) {
  for (std::size_t i = children_.size(); i-- > from;) stop_one(children_[i]);
}

std::optional<std::size_t> Supervisor::find(const std::string& id) const {
  for (std::size_t i = 0; i < children_.size(); ++i) {
    if (children_[i].spec.id == id) return i;
  }
  return std::nullopt;
}

Supervisor::Action Supervisor::handle_info(const ExitSignal& sig) {
  auto it = std::find_if(children_.begin(), children_.end(),
                         [&](const Child& c) { return c.pid && c.pid == sig.from; });
  if (it == children_.end()) return noreply();  // a child we already stopped, or a stranger
  std::size_t index = static_cast<std::size_t>(it - children_.begin());
  Child& c = *it;
  c.pid = {};
  const bool wanted = c.spec.restart == Restart::permanent ||
                      (c.spec.restart == Restart::transient && !sig.reason.is_normal());
  if (!sig.reason.is_normal()) {
    spdlog::warn("supervisor {}: child {} exited: {}", name(), c.spec.id, sig.reason.to_string());
  }
  if (!wanted || runtime().shutting_down()) {
    if (c.spec.restart == Restart::temporary) children_.erase(it);
    return noreply();
  }
  return restart(index);
}

Supervisor::Action Supervisor::restart(std::size_t index) {
  if (!intensity_.add()) {
    spdlog::error("supervisor {}: reached max restart intensity; shutting down", name());
    stop_range(0);
    return stop(ExitReason::shutdown());
  }
  std::optional<std::size_t> failed;
  switch (strategy_) {
    case Strategy::one_for_one:
      if (!start_again(children_[index])) failed = index;
      break;
    case Strategy::one_for_all:
      failed = restart_set(0);
      break;
    case Strategy::rest_for_one:
      failed = restart_set(index);
      break;
  }
  if (failed) {
    // Retried as a message to ourselves (OTP's try_again_restart), so calls
    // such as a shutdown get in between; the retry counts as a restart.
    Child& c = children_[*failed];
    c.restarting = true;
    cast(ref(), TryAgain{c.spec.id});
  }
  return noreply();
}

std::optional<std::size_t> Supervisor::restart_set(std::size_t from) {
  for (std::size_t i = children_.size(); i-- > from;) {
    stop_one(children_[i]);
    // A temporary child is never restarted: stopping it ends it (OTP's terminate_children).
    if (children_[i].spec.restart == Restart::temporary)
      children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  for (std::size_t i = from; i < children_.size(); ++i) {
    if (!start_again(children_[i])) return i;  // the rest wait for the retry
  }
  return std::nullopt;
}

bool Supervisor::start_again(Child& c) {
  ++c.incarnation;
  auto r = start_one(c);
  if (!r) {
    spdlog::error("supervisor {}: restarting {} failed: {}", name(), c.spec.id,
                  r.error().to_string());
  }
  return r.ok();
}

Supervisor::Action Supervisor::handle_cast(const TryAgain& t) {
  // Only a child still waiting for its restart (OTP: pid = restarting): a call
  // may have restarted or stopped it, or a later restart set covered it.
  auto index = find(t.id);
  if (!index || !children_[*index].restarting || runtime().shutting_down()) return noreply();
  return restart(*index);
}

void Supervisor::terminate(const ExitReason&) {
  stop_range(0);
}

Supervisor::CallAction<std::vector<ChildInfo>> Supervisor::handle_call(
    const WhichChildren&, From<std::vector<ChildInfo>>&) {
  std::vector<ChildInfo> out;
  out.reserve(children_.size());
  for (const Child& c : children_)
    out.push_back(ChildInfo{c.spec.id, c.pid, c.spec.type, c.spec.restart});
  return reply(std::move(out));
}

Supervisor::CallAction<ChildCounts> Supervisor::handle_call(const CountChildren&,
                                                            From<ChildCounts>&) {
  ChildCounts n;
  for (const Child& c : children_) {
    ++n.specs;
    if (c.pid) ++n.active;
    (c.spec.type == ChildType::supervisor ? n.supervisors : n.workers)++;
  }
  return reply(n);
}

Supervisor::CallAction<Result<Pid, SupervisorError>> Supervisor::handle_call(
    StartChild&& r, From<Result<Pid, SupervisorError>>&) {
  using R = Result<Pid, SupervisorError>;
  if (auto i = find(r.spec.id)) {
    const Child& c = children_[*i];
    return reply(R(Err{c.pid ? SupervisorError{SupervisorError::Code::already_started, c.pid, {}}
                             : SupervisorError{SupervisorError::Code::already_present, {}, {}}}));
  }
  children_.push_back(Child{std::move(r.spec), {}, 0});
  auto started = start_one(children_.back());
  if (!started) {
    StartError cause = started.error();
    children_.pop_back();
    return reply(
        R(Err{SupervisorError{SupervisorError::Code::start_failed, {}, std::move(cause)}}));
  }
  return reply(R(*started));
}

Supervisor::CallAction<Result<Ok, SupervisorError>> Supervisor::handle_call(
    const TerminateChild& r, From<Result<Ok, SupervisorError>>&) {
  using R = Result<Ok, SupervisorError>;
  auto i = find(r.id);
  if (!i) return reply(R(Err{SupervisorError{SupervisorError::Code::not_found, {}, {}}}));
  stop_one(children_[*i]);
  if (children_[*i].spec.restart == Restart::temporary)
    children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(*i));
  return reply(R(Ok{}));
}

Supervisor::CallAction<Result<Pid, SupervisorError>> Supervisor::handle_call(
    const RestartChild& r, From<Result<Pid, SupervisorError>>&) {
  using R = Result<Pid, SupervisorError>;
  auto i = find(r.id);
  if (!i) return reply(R(Err{SupervisorError{SupervisorError::Code::not_found, {}, {}}}));
  Child& c = children_[*i];
  if (c.pid) return reply(R(Err{SupervisorError{SupervisorError::Code::running, c.pid, {}}}));
  ++c.incarnation;
  auto started = start_one(c);
  if (!started)
    return reply(R(Err{SupervisorError{SupervisorError::Code::start_failed, {}, started.error()}}));
  return reply(R(*started));
}

Supervisor::CallAction<Result<Ok, SupervisorError>> Supervisor::handle_call(
    const DeleteChild& r, From<Result<Ok, SupervisorError>>&) {
  using R = Result<Ok, SupervisorError>;
  auto i = find(r.id);
  if (!i) return reply(R(Err{SupervisorError{SupervisorError::Code::not_found, {}, {}}}));
  // A child waiting for its restart counts as running, as in OTP.
  if (children_[*i].pid || children_[*i].restarting)
    return reply(R(Err{SupervisorError{SupervisorError::Code::running, children_[*i].pid, {}}}));
  children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(*i));
  return reply(R(Ok{}));
}

// ---- client API ------------------------------------------------------------------

std::vector<ChildInfo> which_children(const Ref<Supervisor>& sup) {
  return unwrap(call(sup, Supervisor::WhichChildren{}, kSupervisorCallTimeout), {});
}

ChildCounts count_children(const Ref<Supervisor>& sup) {
  return unwrap(call(sup, Supervisor::CountChildren{}, kSupervisorCallTimeout), {});
}

namespace {
template <class R, class Req>
R supervisor_call(const Ref<Supervisor>& sup, Req req) {
  auto r = call(sup, std::move(req), kSupervisorCallTimeout);
  if (r) return std::move(*r);
  return R(Err{SupervisorError{SupervisorError::Code::not_found,
                               {},
                               StartError{StartError::Code::init_failed, r.error().reason, {}}}});
}
}  // namespace

Result<Pid, SupervisorError> start_child(const Ref<Supervisor>& sup, ChildSpec spec) {
  return supervisor_call<Result<Pid, SupervisorError>>(sup,
                                                       Supervisor::StartChild{std::move(spec)});
}
Result<Ok, SupervisorError> terminate_child(const Ref<Supervisor>& sup, const std::string& id) {
  return supervisor_call<Result<Ok, SupervisorError>>(sup, Supervisor::TerminateChild{id});
}
Result<Pid, SupervisorError> restart_child(const Ref<Supervisor>& sup, const std::string& id) {
  return supervisor_call<Result<Pid, SupervisorError>>(sup, Supervisor::RestartChild{id});
}
Result<Ok, SupervisorError> delete_child(const Ref<Supervisor>& sup, const std::string& id) {
  return supervisor_call<Result<Ok, SupervisorError>>(sup, Supervisor::DeleteChild{id});
}

}  // namespace rt
