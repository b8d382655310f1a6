#pragma once
// Child specifications and restart intensity, shared by Supervisor and
// DynamicSupervisor (OTP's child_spec() and intensity/period).
// Thread-safety: value types; RestartIntensity is owned by one supervisor.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <tuple>
#include <utility>

#include "runtime/gen_server.hpp"

namespace rt {

/// Timeout for calls to supervisors: OTP uses infinity, since terminate_child
/// may wait out a child's whole shutdown time.
inline constexpr std::chrono::milliseconds kSupervisorCallTimeout = std::chrono::hours(1);

/// When a child is restarted: always, never (it leaves the child list), or
/// only after an abnormal exit (anything but normal, shutdown, {shutdown, _}).
enum class Restart : unsigned char { permanent, temporary, transient };

/// What the child is, for count_children and default shutdown times.
enum class ChildType : unsigned char { worker, supervisor };

/// How a child is stopped: `shutdown` then wait up to `timeout` before `kill`;
/// brutal_kill kills at once; infinity waits as long as it takes. After a
/// kill the child is waited for until it exits (see supervisor.hpp).
/// by_type, a child spec's default, is OTP's: infinity for a supervisor (its
/// own children need their shutdown times), 5000 ms for a worker.
struct Shutdown {
  enum class Kind : unsigned char { timeout, brutal_kill, infinity, by_type };
  Kind kind = Kind::timeout;
  std::chrono::milliseconds timeout{5000};

  static Shutdown after(std::chrono::milliseconds t) { return {Kind::timeout, t}; }
  static Shutdown brutal_kill() { return {Kind::brutal_kill, {}}; }
  static Shutdown infinity() { return {Kind::infinity, {}}; }
  /// `timeout` is the worker default, used where the child's type is unknown.
  static Shutdown by_type() { return {Kind::by_type, std::chrono::milliseconds(5000)}; }

  /// This shutdown for a child of `type`: by_type becomes OTP's default.
  Shutdown resolved(ChildType type) const {
    if (kind != Kind::by_type) return *this;
    return type == ChildType::supervisor ? infinity() : after(timeout);
  }
};

/// Starts a child: receives the options the supervisor fills in (parent, link,
/// name, incarnation) and returns the new process or why it did not start.
using StartFn = std::function<Result<Pid, StartError>(Runtime&, StartOptions)>;

/// One child of a supervisor.
struct ChildSpec {
  std::string id;
  StartFn start;
  Restart restart = Restart::permanent;
  Shutdown shutdown = Shutdown::by_type();  ///< infinity for a supervisor, 5000 ms for a worker
  ChildType type = ChildType::worker;
  /// Options passed to every start (e.g. `register_as` for via naming).
  StartOptions options;
};

/// Starts `spec` as a child of `supervisor` (the calling process): names it by
/// id unless named, links it, and records its incarnation.
inline Result<Pid, StartError> start_supervised(Runtime& rt, const ChildSpec& spec,
                                                const Pid& supervisor, std::uint32_t incarnation) {
  StartOptions opts = spec.options;
  if (opts.name.empty()) opts.name = spec.id;
  opts.parent = supervisor;
  opts.link = true;
  opts.restarts = incarnation;
  return spec.start(rt, std::move(opts));
}

/// A spec that starts `Impl(args...)`; the arguments are copied for restarts.
template <class Impl, class... Args>
ChildSpec child(std::string id, Args... args) {
  ChildSpec spec;
  spec.id = std::move(id);
  spec.start = [args = std::make_tuple(std::move(args)...)](
                   Runtime& rt, StartOptions opts) -> Result<Pid, StartError> {
    auto r = std::apply(
        [&](const auto&... a) { return rt::start<Impl>(rt, std::move(opts), a...); }, args);
    if (!r) return Err{r.error()};
    return r->pid();
  };
  return spec;
}

/// Restart intensity: more than `max_restarts` within `max_seconds` is too
/// many. Keeps at most the last max_restarts timestamps inside the period and
/// drops expired ones from the front, so each restart costs amortised O(1)
/// however many have accumulated (OTP re-filters a list on every one).
class RestartIntensity {
 public:
  using Clock = std::chrono::steady_clock;
  RestartIntensity(std::uint32_t max_restarts, std::chrono::seconds max_seconds)
      : max_(max_restarts), period_(max_seconds) {}

  /// Records a restart now; false if it exceeds the intensity (the supervisor must give up).
  bool add(Clock::time_point now = Clock::now()) {
    if (max_ == 0) return false;
    while (!times_.empty() && now - times_.front() >= period_)
      times_.pop_front();  // amortised O(1)
    if (times_.size() == max_) {
      if (now - times_.front() < period_) return false;
      times_.pop_front();
    }
    times_.push_back(now);
    return true;
  }

 private:
  std::uint32_t max_;
  Clock::duration period_;
  std::deque<Clock::time_point> times_;
};

}  // namespace rt
