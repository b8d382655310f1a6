#include "runtime/dynamic_supervisor.hpp"

#include <spdlog/spdlog.h>

namespace rt {

Result<Pid, StartError> DynamicSupervisor::start_one(Child& c) {
  return start_supervised(runtime(), c.spec, self(), c.incarnation);
}

DynamicSupervisor::CallAction<Result<Pid, SupervisorError>> DynamicSupervisor::handle_call(
    StartChild&& r, From<Result<Pid, SupervisorError>>&) {
  using R = Result<Pid, SupervisorError>;
  if (max_children_ && children_.size() >= *max_children_) {
    return reply(R(Err{SupervisorError{SupervisorError::Code::max_children, {}, {}}}));
  }
  Child c{std::move(r.spec), 0};
  auto started = start_one(c);
  if (!started)
    return reply(R(Err{SupervisorError{SupervisorError::Code::start_failed, {}, started.error()}}));
  Pid pid = *started;
  children_.emplace(pid, std::move(c));
  return reply(R(std::move(pid)));
}

DynamicSupervisor::CallAction<Result<Ok, SupervisorError>> DynamicSupervisor::handle_call(
    const TerminateChild& r, From<Result<Ok, SupervisorError>>&) {
  using R = Result<Ok, SupervisorError>;
  auto it = children_.find(r.pid);
  if (it == children_.end())
    return reply(R(Err{SupervisorError{SupervisorError::Code::not_found, {}, {}}}));
  Shutdown how = it->second.spec.shutdown;
  children_.erase(it);
  unlink(r.pid);
  shutdown_child(r.pid, how);
  return reply(R(Ok{}));
}

DynamicSupervisor::CallAction<std::vector<ChildInfo>> DynamicSupervisor::handle_call(
    const WhichChildren&, From<std::vector<ChildInfo>>&) {
  std::vector<ChildInfo> out;
  out.reserve(children_.size());
  for (const auto& [pid, c] : children_)
    out.push_back(ChildInfo{c.spec.id, pid, c.spec.type, c.spec.restart});
  return reply(std::move(out));
}

DynamicSupervisor::CallAction<ChildCounts> DynamicSupervisor::handle_call(const CountChildren&,
                                                                          From<ChildCounts>&) {
  ChildCounts n;
  for (const auto& [pid, c] : children_) {
    ++n.specs;
    ++n.active;
    (c.spec.type == ChildType::supervisor ? n.supervisors : n.workers)++;
  }
  return reply(n);
}

DynamicSupervisor::Action DynamicSupervisor::handle_info(const ExitSignal& sig) {
  auto it = children_.find(sig.from);
  if (it == children_.end()) return noreply();
  Child c = std::move(it->second);
  children_.erase(it);
  const bool restart = c.spec.restart == Restart::permanent ||
                       (c.spec.restart == Restart::transient && !sig.reason.is_normal());
  if (!restart) return noreply();
  // A failed restart is retried (each attempt counts) until the intensity gives out.
  for (;;) {
    if (!intensity_.add()) {
      spdlog::error("dynamic supervisor {}: reached max restart intensity; shutting down", name());
      return stop(ExitReason::shutdown());
    }
    ++c.incarnation;
    auto started = start_one(c);
    if (started) {
      children_.emplace(*started, std::move(c));
      return noreply();
    }
    spdlog::error("dynamic supervisor {}: restarting {} failed: {}", name(), c.spec.id,
                  started.error().to_string());
  }
}

void DynamicSupervisor::terminate(const ExitReason&) {
  std::vector<std::pair<Pid, Shutdown>> all;
  all.reserve(children_.size());
  for (const auto& [pid, c] : children_) {
    unlink(pid);
    all.emplace_back(pid, c.spec.shutdown);
  }
  children_.clear();
  shutdown_children(all);
}

Result<Pid, SupervisorError> start_child(const Ref<DynamicSupervisor>& sup, ChildSpec spec) {
  auto r = call(sup, DynamicSupervisor::StartChild{std::move(spec)}, kSupervisorCallTimeout);
  if (r) return std::move(*r);
  return Err{SupervisorError{SupervisorError::Code::not_found, {}, {}}};
}

Result<Ok, SupervisorError> terminate_child(const Ref<DynamicSupervisor>& sup, const Pid& child) {
  auto r = call(sup, DynamicSupervisor::TerminateChild{child}, kSupervisorCallTimeout);
  if (r) return std::move(*r);
  return Err{SupervisorError{SupervisorError::Code::not_found, {}, {}}};
}

std::vector<ChildInfo> which_children(const Ref<DynamicSupervisor>& sup) {
  auto r = call(sup, DynamicSupervisor::WhichChildren{}, kSupervisorCallTimeout);
  return r ? std::move(*r) : std::vector<ChildInfo>{};
}

ChildCounts count_children(const Ref<DynamicSupervisor>& sup) {
  auto r = call(sup, DynamicSupervisor::CountChildren{}, kSupervisorCallTimeout);
  return r ? *r : ChildCounts{};
}

}  // namespace rt
