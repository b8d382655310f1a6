#pragma once
// TaskSupervisor: tasks started under a DynamicSupervisor (Elixir's
// Task.Supervisor), so that a task's crash is the supervisor's business and
// never the caller's.
// - async_nolink(fn): a temporary child task, linked to the supervisor, not to
//   the caller; the caller awaits it through the returned Task (await, yield,
//   shutdown). Unlike Elixir, the caller does not monitor it (no Down arrives):
//   a crash reaches the caller as TaskError{exited, reason} from await.
// - start_child(fn, restart): a fire-and-forget supervised task; with
//   transient or permanent restart the supervisor reruns `fn` after a crash.
// - Stopping the supervisor shuts its tasks down (concurrently).
// Thread-safety: all functions may be called from any thread or process.

#include "runtime/dynamic_supervisor.hpp"
#include "runtime/task.hpp"

namespace rt {

class TaskSupervisor {
 public:
  /// Starts the supervisor (linked to the caller when the caller is a process).
  static Result<TaskSupervisor, StartError> start(Runtime& rt, DynamicSupervisorSpec spec = {},
                                                  StartOptions options = {}) {
    if (options.name.empty()) options.name = "task_supervisor";
    auto sup = rt::start<DynamicSupervisor>(rt, std::move(options), spec);
    if (!sup) return Err{sup.error()};
    return TaskSupervisor(*sup);
  }

  /// Runs fn() in a supervised task the caller is not linked to.
  template <class F>
  Result<Task<detail::TaskValue<F>>, SupervisorError> async_nolink(F fn) const {
    using T = detail::TaskValue<F>;
    auto out = std::make_shared<std::optional<Task<T>>>();
    ChildSpec spec;
    spec.id = "task";
    spec.restart = Restart::temporary;
    spec.shutdown = Shutdown::brutal_kill();  // Elixir's default for supervised tasks is 5 s; tasks
                                              // here hold no state
    spec.start = [fn = std::move(fn), out](Runtime& rt,
                                           StartOptions opts) -> Result<Pid, StartError> {
      // Runs in the supervisor: it becomes the task's parent and link.
      out->emplace(task::async(
          rt, fn,
          task::AsyncOptions{
              .name = "task", .link = opts.link, .monitor = false, .parent = opts.parent}));
      return (*out)->pid();
    };
    auto started = rt::start_child(sup_, std::move(spec));
    if (!started) return Err{started.error()};
    return std::move(**out);
  }

  /// Starts fn() as a supervised task nobody awaits; its pid, or why it did not start.
  template <class F>
  Result<Pid, SupervisorError> start_child(F fn, Restart restart = Restart::temporary) const {
    ChildSpec spec;
    spec.id = "task";
    spec.restart = restart;
    spec.start = [fn = std::move(fn)](Runtime& rt, StartOptions opts) -> Result<Pid, StartError> {
      // The handle is dropped, not ignore()d: ignore would unlink the task from
      // its owner, the supervisor, and supervision is the point.
      return task::async(
                 rt, fn,
                 task::AsyncOptions{
                     .name = "task", .link = opts.link, .monitor = false, .parent = opts.parent})
          .pid();
    };
    return rt::start_child(sup_, std::move(spec));
  }

  const Ref<DynamicSupervisor>& supervisor() const noexcept { return sup_; }

 private:
  explicit TaskSupervisor(Ref<DynamicSupervisor> sup) : sup_(std::move(sup)) {}
  Ref<DynamicSupervisor> sup_;
};

}  // namespace rt
