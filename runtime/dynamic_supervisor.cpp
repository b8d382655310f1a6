#include "runtime/dynamic_supervisor.hpp"

#include <spdlog/spdlog.h>

namespace rt {

static_assert(sizeof(StartOptions) == 96,
              "StartOptions changed: update DynamicSupervisor::Shape::same_as and start_one");

bool DynamicSupervisor::Shape::same_as(const ChildSpec& spec) const {
  const StartOptions& o = spec.options;
  const Shutdown resolved = spec.shutdown.resolved(spec.type);
  return restart == spec.restart && shutdown.kind == resolved.kind &&
         shutdown.timeout == resolved.timeout && type == spec.type && options.name == o.name &&
         options.mailbox_capacity == o.mailbox_capacity && options.trap_exit == o.trap_exit;
}

std::unique_ptr<DynamicSupervisor::Child> DynamicSupervisor::make_child(ChildSpec&& spec) {
  if (!last_shape_ || !last_shape_->same_as(spec)) {
    // Resolved once here: a supervisor child waits forever, a worker 5 s (OTP).
    auto* shape = new Shape{spec.restart, spec.shutdown.resolved(spec.type), spec.type, {}};
    shape->options.name = std::move(spec.options.name);
    shape->options.mailbox_capacity = spec.options.mailbox_capacity;
    shape->options.trap_exit = spec.options.trap_exit;
    last_shape_ = ShapeRef(shape);
  }
  return std::make_unique<Child>(Child{std::move(spec.id), std::move(spec.start),
                                       std::move(spec.options.register_as), last_shape_, 0});
}

Result<Pid, StartError> DynamicSupervisor::start_one(Child& c) {
  // As start_supervised, from the compact record.
  const StartOptions& shared = c.shape->options;
  StartOptions opts;
  opts.name = shared.name.empty() ? c.id : shared.name;
  opts.mailbox_capacity = shared.mailbox_capacity;
  opts.trap_exit = shared.trap_exit;
  opts.parent = self();
  opts.link = true;
  opts.restarts = c.incarnation;
  if (c.register_as) {
    // A reference to the child's own function (it outlives the start): no copy, no allocation.
    opts.register_as = [&fn = c.register_as](Process& p) { return fn(p); };
  }
  return c.start(runtime(), std::move(opts));
}

DynamicSupervisor::CallAction<Result<Pid, SupervisorError>> DynamicSupervisor::handle_call(
    StartChild&& r, From<Result<Pid, SupervisorError>>&) {
  using R = Result<Pid, SupervisorError>;
  if (max_children_ && children_.size() >= *max_children_) {
    return reply(R(Err{SupervisorError{SupervisorError::Code::max_children, {}, {}}}));
  }
  std::unique_ptr<Child> c = make_child(std::move(r.spec));
  auto started = start_one(*c);
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
  Shutdown how = it->second->shape->shutdown;
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
    out.push_back(ChildInfo{c->id, pid, c->shape->type, c->shape->restart});
  return reply(std::move(out));
}

DynamicSupervisor::CallAction<ChildCounts> DynamicSupervisor::handle_call(const CountChildren&,
                                                                          From<ChildCounts>&) {
  ChildCounts n;
  for (const auto& [pid, c] : children_) {
    ++n.specs;
    ++n.active;
    (c->shape->type == ChildType::supervisor ? n.supervisors : n.workers)++;
  }
  return reply(n);
}

DynamicSupervisor::Action DynamicSupervisor::handle_info(const ExitSignal& sig) {
  auto it = children_.find(sig.from);
  if (it == children_.end()) return noreply();
  std::unique_ptr<Child> c = std::move(it->second);
  children_.erase(it);
  const Restart type = c->shape->restart;
  const bool restart =
      type == Restart::permanent || (type == Restart::transient && !sig.reason.is_normal());
  if (!restart || runtime().shutting_down()) return noreply();
  // A failed restart is retried (each attempt counts) until the intensity gives out.
  for (;;) {
    if (!intensity_.add()) {
      spdlog::error("dynamic supervisor {}: reached max restart intensity; shutting down", name());
      return stop(ExitReason::shutdown());
    }
    ++c->incarnation;
    auto started = start_one(*c);
    if (started) {
      children_.emplace(*started, std::move(c));
      return noreply();
    }
    spdlog::error("dynamic supervisor {}: restarting {} failed: {}", name(), c->id,
                  started.error().to_string());
  }
}

void DynamicSupervisor::terminate(const ExitReason&) {
  std::vector<std::pair<Pid, Shutdown>> all;
  all.reserve(children_.size());
  for (const auto& [pid, c] : children_) {
    unlink(pid);
    all.emplace_back(pid, c->shape->shutdown);
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
