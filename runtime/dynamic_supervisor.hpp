#pragma once
// DynamicSupervisor: starts empty; children are added at run time with
// start_child and restarted one_for_one (OTP/Elixir's DynamicSupervisor).
// - `max_children`: a start beyond it returns max_children, not a crash.
// - Children have no order; on shutdown they are all told at once and waited
//   for concurrently, each up to its own shutdown time.
// - Restart types and intensity as in supervisor.hpp (O(1) per restart).
// Thread-safety: the client functions are calls, usable from any thread or process.

#include <optional>
#include <unordered_map>
#include <vector>

#include "runtime/supervisor.hpp"

namespace rt {

struct DynamicSupervisorSpec {
  std::uint32_t max_restarts = 3;
  std::chrono::seconds max_seconds{5};
  std::optional<std::size_t> max_children;  ///< unlimited when empty
};

class DynamicSupervisor : public GenServer<DynamicSupervisor> {
 public:
  explicit DynamicSupervisor(DynamicSupervisorSpec spec)
      : intensity_(spec.max_restarts, spec.max_seconds), max_children_(spec.max_children) {}

  struct StartChild {
    ChildSpec spec;
    using Reply = Result<Pid, SupervisorError>;
  };
  struct TerminateChild {
    Pid pid;
    using Reply = Result<Ok, SupervisorError>;
  };
  struct WhichChildren {
    using Reply = std::vector<ChildInfo>;
  };
  struct CountChildren {
    using Reply = ChildCounts;
  };

  Action init() {
    trap_exit(true);
    return ok();
  }
  CallAction<Result<Pid, SupervisorError>> handle_call(StartChild&& r,
                                                       From<Result<Pid, SupervisorError>>&);
  CallAction<Result<Ok, SupervisorError>> handle_call(const TerminateChild& r,
                                                      From<Result<Ok, SupervisorError>>&);
  CallAction<std::vector<ChildInfo>> handle_call(const WhichChildren&,
                                                 From<std::vector<ChildInfo>>&);
  CallAction<ChildCounts> handle_call(const CountChildren&, From<ChildCounts>&);
  Action handle_info(const ExitSignal& sig);
  void terminate(const ExitReason& reason);

 private:
  struct Child {
    ChildSpec spec;
    std::uint32_t incarnation = 0;
  };
  Result<Pid, StartError> start_one(Child& c);

  RestartIntensity intensity_;
  std::optional<std::size_t> max_children_;
  std::unordered_map<Pid, Child> children_;
};

// ---- client API ----------------------------------------------------------------
Result<Pid, SupervisorError> start_child(const Ref<DynamicSupervisor>& sup, ChildSpec spec);
Result<Ok, SupervisorError> terminate_child(const Ref<DynamicSupervisor>& sup, const Pid& child);
std::vector<ChildInfo> which_children(const Ref<DynamicSupervisor>& sup);
ChildCounts count_children(const Ref<DynamicSupervisor>& sup);

}  // namespace rt
