#pragma once
// Agent: a process that holds one piece of state, as Elixir's Agent. Clients
// read and change the state by sending it functions, which the agent runs one
// at a time in its own thread, so the state needs no lock:
//
//   auto counter = rt::Agent<int>::start(runtime, [] { return 0; });
//   counter->update([](int& n) { ++n; });                       // in place
//   counter->update([](const int& n) { return n + 1; });        // Elixir style
//   rt::CallResult<int> n = counter->get([](const int& n) { return n; });
//   auto old = counter->get_and_update([](const int& n) { return std::pair{n, 0}; });
//   counter->cast([](int& n) { n *= 2; });                      // async update
//   counter->stop();
//
// Semantics and edge cases:
// - The initial-state function runs during start, synchronously, in the
//   agent's process context (GenServer init); if it throws, start returns
//   StartError{init_failed} with the exception's text and no agent exists.
// - get/update/get_and_update are calls: they block the calling thread up to
//   the timeout (default 5 s) and report timeout, noproc, exited or overloaded
//   as a CallError value. A function that was already queued when the caller
//   timed out still runs; its reply is dropped.
// - A function that throws crashes the agent (OTP: the agent exits with the
//   error): the caller gets CallError{exited, {error, what}}, links and
//   monitors see the same reason. cast functions crash it the same way.
// - update accepts `State(const State&)` (the new state, as Elixir) or
//   `void(State&)` (changed in place, no copy). get_and_update accepts
//   `std::pair<R, State>(const State&)` (Elixir's {get, new_state}) or
//   `R(State&)` (changed in place, returns the value to get).
// - stop waits until the agent has exited (terminate ran, state destroyed);
//   stopping a dead agent reports noproc.
// - Functions run in the agent's thread: they must not call the agent itself
//   (that is `calling_self`).
// Thread-safety: an Agent handle is a value; every member is thread-safe.

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "runtime/gen_server.hpp"

namespace rt {

namespace detail {
template <class State>
class AgentServer;

template <class F, class State>
concept InPlaceUpdate =
    std::is_invocable_v<F&, State&> && std::is_void_v<std::invoke_result_t<F&, State&>>;

/// update's two forms: `void(State&)` or `State(const State&)`.
template <class F, class State>
concept UpdateFn = InPlaceUpdate<F, State> ||
    (std::is_invocable_v<F&, const State&>&&
         std::is_convertible_v<std::invoke_result_t<F&, const State&>, State>);

template <class T, class State>
struct IsGetAndUpdatePair : std::false_type {};
template <class R, class State>
struct IsGetAndUpdatePair<std::pair<R, State>, State> : std::true_type {};

/// get_and_update's Elixir form: `std::pair<R, State>(const State&)`.
template <class F, class State>
concept PairGetAndUpdate = std::is_invocable_v<F&, const State&> &&
    IsGetAndUpdatePair<std::invoke_result_t<F&, const State&>, State>::value;
}  // namespace detail

/// A handle to an agent process holding a State.
template <class State>
class Agent {
 public:
  using Server = detail::AgentServer<State>;

  Agent() = default;

  /// Starts an agent whose state is `init()`. Link it to the caller with opts.link.
  template <class Init>
  requires std::is_convertible_v<std::invoke_result_t<Init&>, State>
  static Result<Agent, StartError> start(Runtime& rt, Init init, StartOptions opts = {});

  /// Runs `fn(const State&)` in the agent and returns its result.
  template <class F>
  CallResult<std::invoke_result_t<F&, const State&>> get(
      F fn, std::chrono::milliseconds timeout = kDefaultCallTimeout) const;

  /// Replaces the state by `fn(state)`, or changes it in place with `fn(State&)`.
  template <class F>
  CallResult<Ok> update(F fn, std::chrono::milliseconds timeout = kDefaultCallTimeout) const;

  /// Updates the state and returns a value computed by the same function (see header notes).
  template <class F>
  auto get_and_update(F fn, std::chrono::milliseconds timeout = kDefaultCallTimeout) const;

  /// Updates asynchronously (fire-and-forget), as update's two forms.
  template <class F>
  SendStatus cast(F fn) const;

  /// Stops the agent with `reason` and waits until it has exited.
  CallResult<Ok> stop(ExitReason reason = ExitReason::normal(),
                      std::chrono::milliseconds timeout = kDefaultCallTimeout) const;

  const Pid& pid() const noexcept { return ref_.pid(); }
  const Ref<Server>& ref() const noexcept { return ref_; }
  bool alive() const noexcept { return ref_.alive(); }

 private:
  explicit Agent(Ref<Server> r) : ref_(std::move(r)) {}
  Ref<Server> ref_;
};

namespace detail {

template <class State>
class AgentServer : public GenServer<AgentServer<State>> {
  using Base = GenServer<AgentServer<State>>;

 public:
  template <class R, class F>
  struct Get {
    F fn;
    using Reply = R;
  };
  template <class F>
  struct Update {
    F fn;
    using Reply = Ok;
  };
  template <class R, class F>
  struct GetAndUpdate {
    F fn;
    using Reply = R;
  };
  template <class F>
  struct CastUpdate {
    F fn;
  };
  struct Stop {
    ExitReason reason;
    using Reply = Ok;
  };

  /// `init` is only used during start (it may refer to the starter's stack).
  explicit AgentServer(std::function<State()> init) : init_(std::move(init)) {}

  typename Base::Action init() {
    state_.emplace(init_());
    init_ = nullptr;
    return Base::ok();
  }

  template <class R, class F>
  CallAction<R> handle_call(Get<R, F>&& g, From<R>&) {
    return Base::reply(R(g.fn(std::as_const(*state_))));
  }
  template <class F>
  CallAction<Ok> handle_call(Update<F>&& u, From<Ok>&) {
    apply_update(u.fn);
    return Base::reply(Ok{});
  }
  template <class R, class F>
  CallAction<R> handle_call(GetAndUpdate<R, F>&& g, From<R>&) {
    if constexpr (PairGetAndUpdate<F, State>) {
      auto [value, next] = g.fn(std::as_const(*state_));
      *state_ = std::move(next);
      return Base::reply(R(std::move(value)));
    } else {
      return Base::reply(R(g.fn(*state_)));
    }
  }
  // Deferred on purpose: the caller is answered by the exit itself (see Agent::stop).
  CallAction<Ok> handle_call(Stop&& s, From<Ok>&) { return Base::stop(std::move(s.reason)); }

  template <class F>
  typename Base::Action handle_cast(CastUpdate<F>&& c) {
    apply_update(c.fn);
    return Base::noreply();
  }

 private:
  template <class F>
  void apply_update(F& fn) {
    if constexpr (InPlaceUpdate<F, State>) {
      fn(*state_);
    } else {
      *state_ = fn(std::as_const(*state_));
    }
  }

  std::function<State()> init_;
  std::optional<State> state_;
};

}  // namespace detail

// ---- implementation ------------------------------------------------------------

template <class State>
template <class Init>
requires std::is_convertible_v<std::invoke_result_t<Init&>, State> Result<Agent<State>, StartError>
Agent<State>::start(Runtime& rt, Init init, StartOptions opts) {
  if (opts.name.empty()) opts.name = "agent";
  // init runs synchronously inside start, so a reference to the caller's function is enough.
  auto started = rt::start<Server>(rt, std::move(opts),
                                   std::function<State()>([&init]() -> State { return init(); }));
  if (!started) return Err{started.error()};
  return Agent(*started);
}

template <class State>
template <class F>
CallResult<std::invoke_result_t<F&, const State&>> Agent<State>::get(
    F fn, std::chrono::milliseconds timeout) const {
  using R = std::invoke_result_t<F&, const State&>;
  static_assert(!std::is_void_v<R>, "Agent::get needs a function that returns a value");
  return rt::call(ref_, typename Server::template Get<R, F>{std::move(fn)}, timeout);
}

template <class State>
template <class F>
CallResult<Ok> Agent<State>::update(F fn, std::chrono::milliseconds timeout) const {
  static_assert(detail::UpdateFn<F, State>, "update needs State(const State&) or void(State&)");
  return rt::call(ref_, typename Server::template Update<F>{std::move(fn)}, timeout);
}

template <class State>
template <class F>
auto Agent<State>::get_and_update(F fn, std::chrono::milliseconds timeout) const {
  if constexpr (detail::PairGetAndUpdate<F, State>) {
    using R = typename std::invoke_result_t<F&, const State&>::first_type;
    return rt::call(ref_, typename Server::template GetAndUpdate<R, F>{std::move(fn)}, timeout);
  } else {
    using R = std::invoke_result_t<F&, State&>;
    static_assert(!std::is_void_v<R>, "get_and_update needs a function that returns a value");
    return rt::call(ref_, typename Server::template GetAndUpdate<R, F>{std::move(fn)}, timeout);
  }
}

template <class State>
template <class F>
SendStatus Agent<State>::cast(F fn) const {
  static_assert(detail::UpdateFn<F, State>, "cast needs State(const State&) or void(State&)");
  return rt::cast(ref_, typename Server::template CastUpdate<F>{std::move(fn)});
}

template <class State>
CallResult<Ok> Agent<State>::stop(ExitReason reason, std::chrono::milliseconds timeout) const {
  // The server answers a Stop by exiting; the exit fails the deferred call with
  // `exited: reason` only after the process is no longer alive — that is our "done".
  CallResult<Ok> r = rt::call(ref_, typename Server::Stop{reason}, timeout);
  if (r) return r;
  if (r.error().code == CallError::Code::exited && r.error().reason == reason) return Ok{};
  return r;
}

}  // namespace rt
