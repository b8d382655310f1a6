#pragma once
// Supervisor: OTP's supervisor behaviour. Starts its children in order, links
// to them, traps exits, restarts them by strategy, and stops them in reverse
// order. Use rt::start<Supervisor>(runtime, options, SupervisorSpec{...}).
//
// Semantics, as OTP's supervisor.erl:
// - Strategies: one_for_one restarts the child that exited; one_for_all stops
//   all others (reverse order) and restarts all (in order); rest_for_one does
//   that for the failed child and the children started after it.
// - Restart types: permanent always restarts, temporary never (and leaves the
//   child list), transient only after an abnormal exit (normal, shutdown and
//   {shutdown, _} are normal). A one_for_all or rest_for_one restart stops
//   its whole set: the temporary children in it leave the list, and every
//   other child in it (transient too, whatever its state) is started again.
// - Intensity: more than max_restarts restarts within max_seconds stops every
//   child and exits the supervisor with `shutdown`, so its own supervisor
//   decides (failures escalate up the tree). A child whose restart fails (its
//   start returns an error or throws) is marked restarting and retried by a
//   message to ourselves, under its own id and by the strategy (one_for_all
//   restarts the whole set again), each attempt counting against the intensity.
// - Shutdown: a child is unlinked, sent `shutdown`, waited for up to its
//   shutdown time (default: infinity for a supervisor, 5000 ms for a worker),
//   then killed and waited for until it exits, as OTP waits for the exit a
//   kill guarantees. Here a kill cannot preempt a callback that is running
//   (C++ threads cannot be killed): it takes effect when the callback returns.
//   Until then the supervisor logs a warning and keeps waiting; it never
//   starts a new incarnation, nor exits, while the old one may still run, so
//   two incarnations of one child id never run at once. The price: a callback
//   that never returns holds up its supervisor.
// - A child whose start fails during the supervisor's init stops the children
//   already started (reverse order); the starter gets init_failed with
//   {shutdown, failed_to_start_child ...}. A child whose init returns ignore is
//   kept in the list without a pid.
// Thread-safety: the client functions below are calls and may be used from any
// thread or process (not from the supervisor's own children's init).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "runtime/child_spec.hpp"
#include "runtime/gen_server.hpp"

namespace rt {

enum class Strategy : unsigned char { one_for_one, one_for_all, rest_for_one };

/// A supervisor's configuration: strategy, intensity and children (in start order).
struct SupervisorSpec {
  Strategy strategy = Strategy::one_for_one;
  std::uint32_t max_restarts = 3;
  std::chrono::seconds max_seconds{5};
  std::vector<ChildSpec> children;
};

/// One row of which_children.
struct ChildInfo {
  std::string id;
  Pid pid;  ///< empty when not running (terminated, ignored, restarting)
  ChildType type;
  Restart restart;
};

/// count_children's answer.
struct ChildCounts {
  std::size_t specs = 0;
  std::size_t active = 0;
  std::size_t supervisors = 0;
  std::size_t workers = 0;
};

/// Why a supervisor operation failed.
struct SupervisorError {
  enum class Code : unsigned char {
    not_found,
    running,
    already_present,
    already_started,
    start_failed,
    max_children
  };
  Code code;
  Pid pid;           ///< already_started: the running child
  StartError cause;  ///< start_failed: why
  std::string to_string() const;
};

class Supervisor : public GenServer<Supervisor> {
 public:
  explicit Supervisor(SupervisorSpec spec);

  // Requests (use the client functions below).
  struct WhichChildren {
    using Reply = std::vector<ChildInfo>;
  };
  struct CountChildren {
    using Reply = ChildCounts;
  };
  struct StartChild {
    ChildSpec spec;
    using Reply = Result<Pid, SupervisorError>;
  };
  struct TerminateChild {
    std::string id;
    using Reply = Result<Ok, SupervisorError>;
  };
  struct RestartChild {
    std::string id;
    using Reply = Result<Pid, SupervisorError>;
  };
  struct DeleteChild {
    std::string id;
    using Reply = Result<Ok, SupervisorError>;
  };
  struct TryAgain {
    std::string id;
  };

  Action init();
  CallAction<std::vector<ChildInfo>> handle_call(const WhichChildren&,
                                                 From<std::vector<ChildInfo>>&);
  CallAction<ChildCounts> handle_call(const CountChildren&, From<ChildCounts>&);
  CallAction<Result<Pid, SupervisorError>> handle_call(StartChild&& r,
                                                       From<Result<Pid, SupervisorError>>&);
  CallAction<Result<Ok, SupervisorError>> handle_call(const TerminateChild& r,
                                                      From<Result<Ok, SupervisorError>>&);
  CallAction<Result<Pid, SupervisorError>> handle_call(const RestartChild& r,
                                                       From<Result<Pid, SupervisorError>>&);
  CallAction<Result<Ok, SupervisorError>> handle_call(const DeleteChild& r,
                                                      From<Result<Ok, SupervisorError>>&);
  Action handle_cast(const TryAgain& t);
  Action handle_info(const ExitSignal& sig);
  void terminate(const ExitReason& reason);

 private:
  struct Child {
    ChildSpec spec;
    Pid pid;
    std::uint32_t incarnation = 0;
    bool restarting = false;  // its restart failed; a TryAgain is on its way
  };
  Result<Pid, StartError> start_one(Child& c);
  void stop_one(Child& c);
  void stop_range(std::size_t from);  // children [from, end) in reverse order
  // OTP's restart/2: counts against the intensity, restarts by strategy.
  Action restart(std::size_t index);
  // Stops children [from, end) (later first), drops the temporary ones and
  // starts the others in order; the index of one that failed to start.
  std::optional<std::size_t> restart_set(std::size_t from);
  bool start_again(Child& c);  // a new incarnation; false (logged) if it failed
  std::optional<std::size_t> find(const std::string& id) const;

  Strategy strategy_;
  RestartIntensity intensity_;
  std::vector<Child> children_;
};

/// Stops `child` as a supervisor does: shutdown, wait, kill, then wait for the
/// exit however long it takes (warning while it is stuck in a callback).
/// Returns once it has exited. Used by every supervisor type.
void shutdown_child(const Pid& child, const Shutdown& how);
/// Stops many children at once: every `shutdown` goes out first, then each is
/// waited for up to its own time (from the common start) and killed if late.
/// Returns once all have exited. An unresolved by_type counts as a worker's.
void shutdown_children(const std::vector<std::pair<Pid, Shutdown>>& children);

// ---- client API ----------------------------------------------------------------
std::vector<ChildInfo> which_children(const Ref<Supervisor>& sup);
ChildCounts count_children(const Ref<Supervisor>& sup);
Result<Pid, SupervisorError> start_child(const Ref<Supervisor>& sup, ChildSpec spec);
Result<Ok, SupervisorError> terminate_child(const Ref<Supervisor>& sup, const std::string& id);
Result<Pid, SupervisorError> restart_child(const Ref<Supervisor>& sup, const std::string& id);
Result<Ok, SupervisorError> delete_child(const Ref<Supervisor>& sup, const std::string& id);

}  // namespace rt
