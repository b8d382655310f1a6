#include "runtime/partition_supervisor.hpp"

#include <fmt/format.h>

namespace rt {

namespace {

// How long a new incarnation waits for the previous one's partitions to exit.
constexpr std::chrono::milliseconds kPreviousIncarnationGrace{5000};

// register_as for a process that takes `key` in the routing registry.
template <class Reg>
std::function<std::optional<Pid>(Process&)> register_in(std::shared_ptr<Reg> registry,
                                                        std::size_t key) {
  return [registry = std::move(registry), key](Process& p) -> std::optional<Pid> {
    auto r = registry->register_process(p, key);
    if (r) return std::nullopt;
    return r.error().owner;
  };
}

}  // namespace

std::pair<PartitionSupervisor, ChildSpec> PartitionSupervisor::child_spec(
    std::string id, PartitionSupervisorSpec spec) {
  const std::size_t n = spec.partitions;
  // Shared with every incarnation's via functions, so it outlives every partition.
  auto registry = std::make_shared<Partitions>(
      Partitions::Options{.keys = Partitions::Keys::unique, .partitions = 1});
  ChildSpec child;
  child.id = std::move(id);
  child.type = ChildType::supervisor;
  child.shutdown = Shutdown::infinity();
  child.options.register_as = register_in(registry, kSupervisorKey);
  child.start = [registry, spec = std::move(spec)](Runtime& rt,
                                                   StartOptions opts) -> Result<Pid, StartError> {
    SupervisorSpec sup{Strategy::one_for_one, spec.max_restarts, spec.max_seconds, {}};
    for (std::size_t i = 0; i < spec.partitions; ++i) {
      // After a crash of the whole PartitionSupervisor its old partitions are
      // still exiting (exit signals travel asynchronously): wait for them to
      // let go of their names instead of failing with already_started.
      if (std::optional<Pid> old = registry->whereis(i)) {
        if (Process* p = old->get()) p->await_exit(kPreviousIncarnationGrace);
      }
      ChildSpec c = spec.child(i);
      if (c.id.empty()) c.id = fmt::format("partition {}", i);
      c.options.register_as = register_in(registry, i);
      sup.children.push_back(std::move(c));
    }
    auto started = rt::start<Supervisor>(rt, std::move(opts), std::move(sup));
    if (!started) return Err{started.error()};
    return started->pid();
  };
  return {PartitionSupervisor(std::move(registry), n), std::move(child)};
}

Result<PartitionSupervisor, StartError> PartitionSupervisor::start(Runtime& rt,
                                                                   PartitionSupervisorSpec spec,
                                                                   StartOptions options) {
  if (spec.partitions == 0) spec.partitions = rt.scheduler().workers();
  auto [router, child] = child_spec("partition_supervisor", std::move(spec));
  StartOptions opts = std::move(options);
  opts.register_as = child.options.register_as;
  auto started = child.start(rt, std::move(opts));
  if (!started) return Err{started.error()};
  return std::move(router);
}

Ref<Supervisor> PartitionSupervisor::supervisor() const {
  std::optional<Pid> pid = registry_->whereis(kSupervisorKey);
  if (!pid) return {};
  return Ref<Supervisor>::from(*pid).value_or(Ref<Supervisor>{});
}

}  // namespace rt
