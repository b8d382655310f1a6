#pragma once
// DynamicSupervisor: starts empty; children are added at run time with
// start_child and restarted one_for_one (OTP/Elixir's DynamicSupervisor).
// - `max_children`: a start beyond it returns max_children, not a crash.
// - Children have no order; on shutdown they are all told at once and waited
//   for concurrently, each up to its own shutdown time.
// - Restart types and intensity as in supervisor.hpp (O(1) per restart).
// - Memory: a child costs one compact record (id, start function, via
//   registration, incarnation) plus a reference to a "shape" -- restart,
//   shutdown, type and start options -- shared by the children started from
//   alike specs, which is all of them in the usual one-template case.
// Thread-safety: the client functions are calls, usable from any thread or process.

#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <memory>
#include <optional>
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
  /// The part of a ChildSpec that children started from alike specs share.
  /// Owned by this supervisor's thread only, hence a plain reference count.
  struct Shape {
    Restart restart;
    Shutdown shutdown;
    ChildType type;
    StartOptions options;  ///< without register_as (per child); parent/link/restarts are ours
    mutable std::uint32_t uses = 0;
    bool same_as(const ChildSpec& spec) const;
    friend void intrusive_ptr_add_ref(const Shape* s) noexcept { ++s->uses; }
    friend void intrusive_ptr_release(const Shape* s) noexcept {
      if (--s->uses == 0) delete s;
    }
  };
  using ShapeRef = boost::intrusive_ptr<const Shape>;
  /// One child: 112 bytes (one allocation), plus its 16-byte slot in children_.
  struct Child {
    std::string id;
    StartFn start;
    std::function<std::optional<Pid>(Process&)> register_as;
    ShapeRef shape;
    std::uint32_t incarnation = 0;
  };
  std::unique_ptr<Child> make_child(ChildSpec&& spec);
  Result<Pid, StartError> start_one(Child& c);

  RestartIntensity intensity_;
  std::optional<std::size_t> max_children_;
  // Open addressing: inserting, erasing and growing touch 16-byte slots, never
  // the children's records (std::unordered_map walked and relinked nodes: a
  // cache miss per child on every rehash).
  boost::unordered_flat_map<Pid, std::unique_ptr<Child>, std::hash<Pid>> children_;
  ShapeRef last_shape_;  // the shape of the last child added, tried first for the next
};

// ---- client API ----------------------------------------------------------------
Result<Pid, SupervisorError> start_child(const Ref<DynamicSupervisor>& sup, ChildSpec spec);
Result<Ok, SupervisorError> terminate_child(const Ref<DynamicSupervisor>& sup, const Pid& child);
std::vector<ChildInfo> which_children(const Ref<DynamicSupervisor>& sup);
ChildCounts count_children(const Ref<DynamicSupervisor>& sup);

}  // namespace rt
