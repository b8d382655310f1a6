#pragma once
// The peers' process tree for the runtime workloads: feed servers registered by
// symbol in a Registry, started through a PartitionSupervisor of
// DynamicSupervisors (partition chosen by the symbol), as in BENCH.md.

#include <string>
#include <string_view>

#include "bench/mdbench/feed_server.hpp"
#include "runtime/dynamic_supervisor.hpp"
#include "runtime/partition_supervisor.hpp"
#include "runtime/registry.hpp"

namespace mdbench {

using Names = rt::Registry<std::string>;

class FeedTree {
 public:
  /// Starts the partitions (one per scheduler worker) with the given restart intensity.
  FeedTree(rt::Runtime& runtime, std::uint32_t max_restarts = 3,
           std::chrono::seconds max_seconds = std::chrono::seconds(5))
      : partitions_(*rt::PartitionSupervisor::start(
            runtime, {.child = [=](std::size_t) {
              rt::ChildSpec s = rt::child<rt::DynamicSupervisor>(
                  "", rt::DynamicSupervisorSpec{.max_restarts = max_restarts,
                                                .max_seconds = max_seconds});
              s.type = rt::ChildType::supervisor;
              s.shutdown = rt::Shutdown::infinity();
              return s;
            }})) {}

  Names& names() { return names_; }
  const rt::PartitionSupervisor& partitions() const { return partitions_; }

  /// The DynamicSupervisor that owns `symbol`'s partition.
  rt::Ref<rt::DynamicSupervisor> supervisor_for(std::string_view symbol) const {
    return *std::move(partitions_.whereis_ref<rt::DynamicSupervisor>(symbol));
  }
  /// Starts `symbol`'s feed server under its partition, registered by symbol.
  rt::Result<rt::Pid, rt::SupervisorError> start_feed(const std::string& symbol) {
    rt::ChildSpec spec = rt::child<FeedServer>(symbol, symbol);
    spec.options.register_as = names_.via(symbol);
    return rt::start_child(supervisor_for(symbol), std::move(spec));
  }

 private:
  Names names_;  // declared first: it must outlive the partitions' children
  rt::PartitionSupervisor partitions_;
};

}  // namespace mdbench
