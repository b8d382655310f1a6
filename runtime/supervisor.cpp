#include "runtime/supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace rt {

namespace {
constexpr std::chrono::milliseconds kAfterKill{1000};

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

bool shutdown_child(const Pid& child, const Shutdown& how) {
  return shutdown_children({{child, how}});
}

bool shutdown_children(const std::vector<std::pair<Pid, Shutdown>>& children) {
  bool all_exited = true;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& [pid, how] : children) {
    exit(pid,
         how.kind == Shutdown::Kind::brutal_kill ? ExitReason::kill() : ExitReason::shutdown());
  }
  for (const auto& [pid, how] : children) {
    Process* p = pid.get();
    if (p == nullptr) continue;
    if (how.kind == Shutdown::Kind::timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          start + how.timeout - std::chrono::steady_clock::now());
      if (p->await_exit(std::max(left, std::chrono::milliseconds(0)))) continue;
    } else if (how.kind == Shutdown::Kind::infinity) {
      p->await_exit(Process::kWaitForever);
      continue;
    }
    exit(pid, ExitReason::kill());
    if (!p->await_exit(kAfterKill)) {
      spdlog::error("child {} {} did not exit after kill (stuck in a callback): abandoned",
                    p->name(), pid.to_string());
      all_exited = false;
    }
  }
  return all_exited;
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
  auto r = start_supervised(runtime(), c.spec, self(), c.incarnation);
  if (r) {
    c.pid = *r;
  } else {
    c.pid = {};
    if (r.error().code == StartError::Code::ignored) return Pid();  // kept, not running
  }
  return r;
}

void Supervisor::stop_one(Child& c) {
  if (!c.pid) return;
  unlink(c.pid);  // its exit is ours to wait for, not a restart trigger
  shutdown_child(c.pid, c.spec.shutdown);
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
  const bool restart = c.spec.restart == Restart::permanent ||
                       (c.spec.restart == Restart::transient && !sig.reason.is_normal());
  if (!sig.reason.is_normal()) {
    spdlog::warn("supervisor {}: child {} exited: {}", name(), c.spec.id, sig.reason.to_string());
  }
  if (!restart || runtime().shutting_down()) {
    if (c.spec.restart == Restart::temporary) children_.erase(it);
    return noreply();
  }
  return restart_after_exit(index);
}

Supervisor::Action Supervisor::restart_after_exit(std::size_t index) {
  if (!intensity_.add()) {
    spdlog::error("supervisor {}: reached max restart intensity; shutting down", name());
    stop_range(0);
    return stop(ExitReason::shutdown());
  }
  switch (strategy_) {
    case Strategy::one_for_one:
      break;
    case Strategy::one_for_all:
      stop_range(0);
      index = 0;
      break;
    case Strategy::rest_for_one:
      stop_range(index + 1);
      break;
  }
  if (!restart_from(index)) cast(ref(), TryAgain{children_[index].spec.id});
  return noreply();
}

bool Supervisor::restart_from(std::size_t index) {
  const std::size_t last = strategy_ == Strategy::one_for_one ? index + 1 : children_.size();
  for (std::size_t i = index; i < last; ++i) {
    Child& c = children_[i];
    if (c.pid) continue;
    if (i != index && c.spec.restart == Restart::temporary) continue;
    ++c.incarnation;
    auto r = start_one(c);
    if (!r) {
      spdlog::error("supervisor {}: restarting {} failed: {}", name(), c.spec.id,
                    r.error().to_string());
      return false;
    }
  }
  return true;
}

Supervisor::Action Supervisor::handle_cast(const TryAgain& t) {
  auto index = find(t.id);
  if (!index || children_[*index].pid) return noreply();
  return restart_after_exit(*index);
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
  if (children_[*i].pid)
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
