#include "runtime/partition_supervisor.hpp"

#include <fmt/format.h>

namespace rt {

Result<PartitionSupervisor, StartError> PartitionSupervisor::start(Runtime& rt,
                                                                   PartitionSupervisorSpec spec,
                                                                   StartOptions options) {
  const std::size_t n = spec.partitions ? spec.partitions : rt.scheduler().workers();
  // Shared with the children's via functions, so it outlives every partition.
  auto registry = std::make_shared<Partitions>(
      Partitions::Options{.keys = Partitions::Keys::unique, .partitions = 1});
  SupervisorSpec sup{Strategy::one_for_one, spec.max_restarts, spec.max_seconds, {}};
  for (std::size_t i = 0; i < n; ++i) {
    ChildSpec c = spec.child(i);
    if (c.id.empty()) c.id = fmt::format("partition {}", i);
    c.options.register_as = [registry, i](Process& p) -> std::optional<Pid> {
      auto r = registry->register_process(p, i);
      if (r) return std::nullopt;
      return r.error().owner;
    };
    sup.children.push_back(std::move(c));
  }
  auto started = rt::start<Supervisor>(rt, std::move(options), std::move(sup));
  if (!started) return Err{started.error()};
  return PartitionSupervisor(std::move(registry), *started, n);
}

}  // namespace rt
