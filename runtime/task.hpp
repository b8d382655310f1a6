#pragma once
// Task: run one function in its own process and collect its result, as
// Elixir's Task.
//
//   rt::Task<int> t = rt::task::async(runtime, [] { return expensive(); });
//   rt::TaskResult<int> r = rt::task::await(t, 2s);      // value, or TaskError
//
//   auto depths = rt::task::async_stream(runtime, symbols,
//       [&](const Symbol& s) { return depth_of(s); }, /*max_concurrency=*/8);
//
// Semantics (OTP's, with the C++ differences marked "unlike Elixir"):
// - async starts a process that runs `fn` once and exits `normal`. Called from
//   a process, the task is linked to it and monitored by it: a task that throws
//   exits with {error, what} and, through the link, takes the caller down too
//   unless the caller traps exits. Called from a plain thread, the task is
//   neither linked nor monitored. AsyncOptions{.link = false} gives a
//   monitored-only task (the building block of TaskSupervisor's async_nolink).
// - await(task, timeout) blocks the calling thread (a worker lends its slot to a
//   spare thread; the body never runs on it) and returns by its deadline the value,
//   TaskError{exited, reason} if the task died (crashed, was killed or shut down) before producing
//   it, or TaskError{timeout}. Unlike Elixir, a timeout does not exit the caller and leaves the
//   task running: the caller may await or yield again, shutdown, or ignore it.
// - yield(task, timeout) returns nullopt on timeout (the task keeps running)
//   and the result otherwise.
// - await, a successful yield, shutdown and ignore consume the result: the
//   handle becomes empty (valid() == false). Awaiting an empty handle returns
//   TaskError{exited, noproc}. Called by the owner (the process that called
//   async), they also remove the monitor, discarding a queued Down; the Down is
//   only seen by an owner that never collects the task.
// - A task body cannot be preempted (C++): shutdown sends `shutdown`, waits up
//   to its timeout for the task to finish, then sends `kill`; a body that is
//   still running keeps running until it returns, but its result is dropped and
//   the process exits as soon as the body returns.
// - A task whose body already returned when it is killed still delivers its
//   value (the result is published before the process exits).
// - An owner that keeps a Task in its state should drop it once collected or
//   when the task's Down arrives: the task's process holds its owner's Pid (as
//   its parent), so an owner holding the task's Pid forever forms a cycle of
//   counted references and neither process's memory is ever freed.
// - The result is read by one thread at a time: one awaiter per task.
// Thread-safety: async/async_stream from any thread; a Task handle is owned by
// one thread (move it to hand it over); await/yield/shutdown/ignore on
// different tasks may run concurrently.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/call.hpp"
#include "runtime/gen_server.hpp"

namespace rt {

/// Why a task produced no value.
struct TaskError {
  enum class Code : unsigned char {
    timeout,  ///< not finished within the timeout (the task is still running)
    exited,   ///< the task exited before producing a value; `reason` says why
  };
  Code code = Code::timeout;
  ExitReason reason;

  std::string to_string() const;
  friend bool operator==(const TaskError& a, const TaskError& b) {
    return a.code == b.code && a.reason == b.reason;
  }
};

template <class T>
using TaskResult = Result<T, TaskError>;

namespace detail {

/// The value type of a task running `F`: its result, or Ok for a void function.
template <class F>
using TaskValue =
    std::conditional_t<std::is_void_v<std::invoke_result_t<F&>>, Ok, std::invoke_result_t<F&>>;

/// One-shot result of a task: resolved once (value or exit), waited on any number of times.
template <class T>
class TaskSlot final : public ReplySlotBase {
 public:
  /// Publishes the value; false if the slot already holds a result.
  bool resolve(T value) { return settle(TaskResult<T>(std::move(value))); }
  /// Publishes the exit reason (no-op once resolved).
  void fail_exit(const ExitReason& why) noexcept {
    try {
      settle(TaskResult<T>(Err{TaskError{TaskError::Code::exited, why}}));
    } catch (...) {  // a notifier that throws must not escape a dying process
    }
  }
  void fail(CallError err) noexcept override { fail_exit(err.reason); }

  /// Waits until resolved or `deadline`; true if resolved. Never claims the slot.
  bool wait_until(std::chrono::steady_clock::time_point deadline) { return wait_ready(deadline); }
  bool ready() const noexcept { return state_.load(std::memory_order_acquire) == kReady; }
  /// The result; precondition: ready(). Moves it out.
  TaskResult<T> take() { return std::move(*result_); }
  /// Runs once, on the resolving thread, after the result is published. Set before the task runs.
  void on_settle(std::function<void()> fn) { notify_ = std::move(fn); }

 private:
  bool settle(TaskResult<T> r) {
    if (!claim()) return false;
    result_.emplace(std::move(r));
    publish();
    if (notify_) notify_();
    return true;
  }

  std::optional<TaskResult<T>> result_;
  std::function<void()> notify_;
};

template <class T>
using TaskSlotPtr = boost::intrusive_ptr<TaskSlot<T>>;

/// The task's process: runs the body on its first message, publishes the result, exits.
template <class T, class F>
class TaskServer : public GenServer<TaskServer<T, F>> {
  using Base = GenServer<TaskServer<T, F>>;

 public:
  struct Run {};

  TaskServer(F fn, TaskSlotPtr<T> slot) : fn_(std::move(fn)), exit_hook_(slot), slot_(slot) {}

  typename Base::Action init() {
    this->add_exit_hook(exit_hook_);  // any exit (crash, kill, shutdown) publishes its reason
    return Base::ok();
  }
  // The body runs from a message, not init: init runs in the starter's thread,
  // and the starter links and monitors the task before sending Run.
  typename Base::Action handle_cast(Run) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      fn_();
      slot_->resolve(Ok{});
    } else {
      slot_->resolve(fn_());
    }
    return Base::stop(ExitReason::normal());
  }

 private:
  struct ExitHookImpl final : ExitHook {
    explicit ExitHookImpl(TaskSlotPtr<T> s) : slot(std::move(s)) {}
    void on_process_exit(Process& p) noexcept override { slot->fail_exit(p.exit_reason()); }
    TaskSlotPtr<T> slot;
  };

  F fn_;
  ExitHookImpl exit_hook_;
  TaskSlotPtr<T> slot_;
};

}  // namespace detail

/// A handle to a running (or finished) task producing a T.
template <class T>
class Task {
 public:
  Task() = default;
  Task(Task&&) noexcept = default;
  Task& operator=(Task&&) noexcept = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  /// The task's process.
  const Pid& pid() const noexcept { return pid_; }
  /// The monitor the owner holds on the task (empty if started outside a process).
  MonitorRef monitor_ref() const noexcept { return monitor_; }
  /// Id of the process that started the task (0 if started outside a process).
  std::uint64_t owner_id() const noexcept { return owner_id_; }
  /// False for a default-constructed handle or once the result was consumed.
  bool valid() const noexcept { return static_cast<bool>(slot_); }
  /// True once the result (value or exit reason) is available.
  bool finished() const noexcept { return slot_ && slot_->ready(); }

  // For the task:: functions and TaskSupervisor.
  Task(Pid pid, MonitorRef monitor, std::uint64_t owner_id, detail::TaskSlotPtr<T> slot)
      : pid_(std::move(pid)), monitor_(monitor), owner_id_(owner_id), slot_(std::move(slot)) {}
  /// True when called from the process that started the task.
  bool called_by_owner() const noexcept {
    const Process* me = current_process();
    return owner_id_ != 0 && me != nullptr && me->id() == owner_id_;
  }
  detail::TaskSlot<T>* slot() const noexcept { return slot_.get(); }
  /// Consumes the result (precondition: finished()) and forgets the monitor.
  TaskResult<T> take() {
    TaskResult<T> r = slot_->take();
    release();
    return r;
  }
  /// Drops the handle's interest in the task: demonitors when called by the owner.
  void release() {
    if (monitor_ && called_by_owner()) current_process()->demonitor(monitor_);
    monitor_ = {};
    slot_.reset();
  }

 private:
  Pid pid_;
  MonitorRef monitor_;
  // An id, not a Pid: a task handle kept in its owner's state would otherwise
  // make the owner reference itself, and its memory would never be freed.
  std::uint64_t owner_id_ = 0;
  detail::TaskSlotPtr<T> slot_;
};

namespace task {

/// How async starts a task.
struct AsyncOptions {
  std::string name = "task";  ///< process name, for logs
  bool link = true;           ///< link to the calling process (ignored outside a process)
  bool monitor = true;        ///< monitored by the calling process (ignored outside a process)
  Pid parent;                 ///< defaults to the caller (TaskSupervisor passes itself)
};

/// Starts a process that runs `fn()` once; linked to and monitored by the calling process.
template <class F>
Task<detail::TaskValue<F>> async(Runtime& rt, F fn, AsyncOptions opts = {}) {
  using T = detail::TaskValue<F>;
  using Server = detail::TaskServer<T, F>;
  detail::TaskSlotPtr<T> slot(new detail::TaskSlot<T>());  // owned by refcount
  Process* caller = current_process();
  StartOptions so;
  so.name = std::move(opts.name);
  so.link = opts.link && caller != nullptr;
  so.parent = std::move(opts.parent);
  auto started = start<Server>(rt, std::move(so), std::move(fn), slot);  // init cannot fail
  MonitorRef mon;
  if (caller != nullptr && opts.monitor) mon = caller->monitor(started->pid());
  cast(*started, typename Server::Run{});
  return Task<T>(started->pid(), mon, caller != nullptr ? caller->id() : 0, std::move(slot));
}

/// Waits up to `timeout` for the task's result; on timeout the task keeps running.
template <class T>
TaskResult<T> await(Task<T>& task, std::chrono::milliseconds timeout = kDefaultCallTimeout) {
  if (!task.valid()) return Err{TaskError{TaskError::Code::exited, ExitReason::noproc()}};
  // The body never runs on the awaiting thread: it may take any time, and the
  // timeout is a promise (a blocked worker lends its slot to a spare instead).
  if (!task.slot()->wait_until(std::chrono::steady_clock::now() + timeout)) {
    return Err{TaskError{TaskError::Code::timeout, {}}};
  }
  return task.take();
}

/// Waits up to `timeout`; nullopt if the task has not finished (it keeps running).
template <class T>
std::optional<TaskResult<T>> yield(Task<T>& task,
                                   std::chrono::milliseconds timeout = kDefaultCallTimeout) {
  TaskResult<T> r = await(task, timeout);
  if (!r && r.error().code == TaskError::Code::timeout) return std::nullopt;
  return r;
}

/// Awaits every task with one shared deadline; unfinished ones report `timeout` and keep running.
template <class T>
std::vector<TaskResult<T>> await_many(std::vector<Task<T>>& tasks,
                                      std::chrono::milliseconds timeout = kDefaultCallTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<TaskResult<T>> out;
  out.reserve(tasks.size());
  for (Task<T>& t : tasks) {
    auto left = std::max(std::chrono::steady_clock::duration::zero(),
                         deadline - std::chrono::steady_clock::now());
    out.push_back(await(t, std::chrono::ceil<std::chrono::milliseconds>(left)));
  }
  return out;
}

/// Yields every task with one shared deadline: nullopt for those still running.
template <class T>
std::vector<std::optional<TaskResult<T>>> yield_many(
    std::vector<Task<T>>& tasks, std::chrono::milliseconds timeout = kDefaultCallTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::optional<TaskResult<T>>> out;
  out.reserve(tasks.size());
  for (Task<T>& t : tasks) {
    auto left = std::max(std::chrono::steady_clock::duration::zero(),
                         deadline - std::chrono::steady_clock::now());
    out.push_back(yield(t, std::chrono::ceil<std::chrono::milliseconds>(left)));
  }
  return out;
}

/// Unlinks, sends `shutdown`, waits up to `timeout`, then kills. Returns the
/// result if the task finished (or crashed on its own) first, nullopt if it was shut down.
template <class T>
std::optional<TaskResult<T>> shutdown(Task<T>& task,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  if (!task.valid()) return std::nullopt;
  if (task.called_by_owner()) current_process()->unlink(task.pid());
  exit(task.pid(), ExitReason::shutdown());
  if (!task.slot()->wait_until(std::chrono::steady_clock::now() + timeout)) {
    exit(task.pid(), ExitReason::kill());
    task.release();
    return std::nullopt;
  }
  TaskResult<T> r = task.take();
  if (!r && (r.error().reason.is(ExitReason::Kind::shutdown) ||
             r.error().reason.is(ExitReason::Kind::killed))) {
    return std::nullopt;
  }
  return r;
}

/// Lets the task run on its own: unlinks and demonitors (owner only). Returns
/// the result if it had already finished.
template <class T>
std::optional<TaskResult<T>> ignore(Task<T>& task) {
  if (!task.valid()) return std::nullopt;
  if (task.called_by_owner()) current_process()->unlink(task.pid());
  if (task.finished()) return task.take();
  task.release();
  return std::nullopt;
}

/// async_stream's options.
struct StreamOptions {
  std::size_t max_concurrency = 0;  ///< tasks alive at once; 0 = the scheduler's worker count
  /// Per element: a task running longer is killed and reports `timeout` (Elixir's on_timeout:
  /// :kill_task).
  std::chrono::milliseconds timeout = kDefaultCallTimeout;
  std::string name = "stream_task";
};

/// Runs `fn(input)` for each input in its own task, at most max_concurrency at a
/// time, and returns the results in input order (eager, unlike Elixir's lazy stream).
/// Tasks are linked to the calling process as async's are.
template <class Inputs, class F>
auto async_stream(Runtime& rt, const Inputs& inputs, F fn, StreamOptions opts = {}) {
  using In = typename Inputs::value_type;
  using Body = std::function<std::invoke_result_t<F&, const In&>()>;
  using T = detail::TaskValue<Body>;
  const std::size_t n = std::size(inputs);
  const std::size_t limit = std::max<std::size_t>(
      1, opts.max_concurrency != 0 ? opts.max_concurrency : rt.scheduler().workers());
  struct Finished {  // indices of tasks whose results are in, for the waiting loop
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::size_t> done;
  };
  auto finished = std::make_shared<Finished>();
  // Shared, not referenced: a killed (timed-out) body may still be running after we return.
  auto shared_fn = std::make_shared<F>(std::move(fn));
  std::vector<Task<T>> tasks(n);
  std::vector<std::chrono::steady_clock::time_point> deadlines(n);
  std::vector<std::optional<TaskResult<T>>> results(n);
  std::size_t next = 0, running = 0, collected = 0;
  auto it = std::begin(inputs);

  auto launch = [&] {
    const std::size_t i = next++;
    const In& input = *it++;
    detail::TaskSlotPtr<T> slot(new detail::TaskSlot<T>());  // owned by refcount
    slot->on_settle([finished, i] {
      {
        std::lock_guard g(finished->m);
        finished->done.push_back(i);
      }
      finished->cv.notify_one();
    });
    using Server = detail::TaskServer<T, Body>;
    Process* caller = current_process();
    StartOptions so;
    so.name = opts.name;
    so.link = caller != nullptr;
    auto started = start<Server>(rt, std::move(so),
                                 Body([shared_fn, input]() { return (*shared_fn)(input); }), slot);
    MonitorRef mon;
    if (caller != nullptr) mon = caller->monitor(started->pid());
    deadlines[i] = std::chrono::steady_clock::now() + opts.timeout;
    tasks[i] = Task<T>(started->pid(), mon, caller != nullptr ? caller->id() : 0, slot);
    ++running;
    cast(*started, typename Server::Run{});
  };

  while (collected < n) {
    while (running < limit && next < n) launch();
    std::vector<std::size_t> done;
    {
      // The earliest deadline among running tasks bounds the wait.
      auto earliest = std::chrono::steady_clock::time_point::max();
      for (std::size_t i = 0; i < next; ++i) {
        if (!results[i] && tasks[i].valid()) earliest = std::min(earliest, deadlines[i]);
      }
      std::unique_lock g(finished->m);
      Scheduler::BlockingScope blocking(Scheduler::current());
      auto some_done = [&] { return !finished->done.empty(); };
      if (earliest == std::chrono::steady_clock::time_point::max()) {
        finished->cv.wait(g, some_done);
      } else {
        finished->cv.wait_until(g, earliest, some_done);
      }
      done.swap(finished->done);
    }
    for (std::size_t i : done) {
      if (results[i]) continue;  // already reported as a timeout
      results[i] = tasks[i].take();
      --running;
      ++collected;
    }
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < next; ++i) {
      if (results[i] || !tasks[i].valid() || deadlines[i] > now) continue;
      if (tasks[i].finished()) continue;  // collected on the next turn
      Process* me = current_process();
      if (me != nullptr) me->unlink(tasks[i].pid());
      exit(tasks[i].pid(), ExitReason::kill());
      tasks[i].release();
      results[i] = TaskResult<T>(Err{TaskError{TaskError::Code::timeout, {}}});
      --running;
      ++collected;
    }
  }
  std::vector<TaskResult<T>> out;
  out.reserve(n);
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

/// async_stream with a concurrency bound and the default options otherwise.
template <class Inputs, class F>
auto async_stream(Runtime& rt, const Inputs& inputs, F fn, std::size_t max_concurrency) {
  StreamOptions opts;
  opts.max_concurrency = max_concurrency;
  return async_stream(rt, inputs, std::move(fn), std::move(opts));
}

}  // namespace task
}  // namespace rt
