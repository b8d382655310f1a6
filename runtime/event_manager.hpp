#pragma once
// EventManager: one process that fans events out to many handlers, as OTP's
// gen_event. marketd uses it for system events (feed stale/live, restarts)
// with logging and metrics handlers.
//
//   struct LogHandler : rt::EventHandler<SystemEvent> {
//     void handle_event(const SystemEvent& e) override { spdlog::info(...); }
//   };
//   auto events = rt::EventManager<SystemEvent>::start(runtime);
//   events->add_handler("log", std::make_unique<LogHandler>());
//   events->notify(SystemEvent{...});                  // async
//   events->sync_notify(SystemEvent{...});             // returns after every handler ran
//   auto n = events->call<MetricsHandler>("metrics", MetricsHandler::Count{});
//
// Semantics and edge cases (gen_event's):
// - Handlers live inside the manager process and run one event at a time, in
//   the order they were added; an event reaches every handler before the next
//   event is handled. A slow handler delays all others (that is gen_event's
//   contract: keep handlers short, or forward to a process).
// - A handler that throws (from handle_event or handle_call) is removed: its
//   terminate runs with {error, what}, an error is logged, and
//   Options::on_handler_removed (if set) is called with its id and the reason.
//   The manager and the other handlers carry on; the event that caused the
//   crash still reaches the remaining handlers.
// - remove_handler runs terminate with `normal`; stopping the manager runs
//   every handler's terminate with the manager's exit reason. A terminate that
//   throws is logged and ignored.
// - call<H>(id, req) runs `H::handle_call(req)` on the handler registered as
//   `id` (handle_call is optional: only handlers that are called need it);
//   errors: not_found (no such id), wrong_type (the handler is not an H),
//   handler_crashed (it threw, and was removed), call_failed (the manager did
//   not answer: see `call`).
// - Handlers and on_handler_removed run in the manager's thread: they must not
//   call the manager synchronously (that returns `calling_self`); notify is fine.
// Thread-safety: an EventManager handle is a value; every member is thread-safe.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/gen_server.hpp"

namespace rt {

/// What a handler implements. Add `Reply handle_call(const Req&)` overloads to be callable.
template <class Event>
class EventHandler {
 public:
  virtual ~EventHandler() = default;
  /// Called for every event. Throwing removes this handler (see header notes).
  virtual void handle_event(const Event& event) = 0;
  /// The handler leaves: `normal` when removed, {error, what} after a crash, or
  /// the manager's exit reason when the manager stops.
  virtual void terminate(const ExitReason& /*why*/) {}
};

/// Why an EventManager operation failed.
struct EventError {
  enum class Code : unsigned char {
    not_found,        ///< no handler with that id
    already_added,    ///< add_handler with an id in use
    wrong_type,       ///< call<H> to a handler that is not an H
    handler_crashed,  ///< the handler threw; it was removed; `detail` has the text
    call_failed,      ///< the manager did not answer; `call` says why
  };
  Code code = Code::not_found;
  std::string detail;
  CallError call;

  std::string to_string() const;
};

template <class T>
using EventResult = Result<T, EventError>;

namespace detail {
template <class Event>
class EventManagerServer;
}

/// A handle to an event manager process for events of type Event.
template <class Event>
class EventManager {
 public:
  using Server = detail::EventManagerServer<Event>;
  using Handler = EventHandler<Event>;

  struct Options {
    StartOptions start;
    /// Called in the manager's thread after a crashing handler was removed.
    std::function<void(const std::string& id, const ExitReason& why)> on_handler_removed;
  };

  EventManager() = default;

  /// Starts a manager with no handlers.
  static Result<EventManager, StartError> start(Runtime& rt, Options opts = {});

  /// Adds `handler` under `id` (ids are unique within a manager).
  EventResult<Ok> add_handler(std::string id, std::unique_ptr<Handler> handler,
                              std::chrono::milliseconds timeout = kDefaultCallTimeout) const;
  /// Removes the handler `id`, running its terminate with `normal`.
  EventResult<Ok> remove_handler(std::string id,
                                 std::chrono::milliseconds timeout = kDefaultCallTimeout) const;
  /// Sends an event to every handler; returns at once.
  SendStatus notify(Event event) const;
  /// Sends an event and returns after every handler has handled it.
  CallResult<Ok> sync_notify(Event event,
                             std::chrono::milliseconds timeout = kDefaultCallTimeout) const;
  /// Calls `H::handle_call(req)` on the handler `id` and returns its reply.
  template <class H, class Req>
  EventResult<typename Req::Reply> call(
      std::string id, Req req, std::chrono::milliseconds timeout = kDefaultCallTimeout) const;
  /// The ids of the installed handlers, in the order they were added.
  CallResult<std::vector<std::string>> which_handlers(
      std::chrono::milliseconds timeout = kDefaultCallTimeout) const;
  /// Stops the manager (every handler's terminate runs) and waits until it has exited.
  CallResult<Ok> stop(ExitReason reason = ExitReason::normal(),
                      std::chrono::milliseconds timeout = kDefaultCallTimeout) const;

  const Pid& pid() const noexcept { return ref_.pid(); }
  const Ref<Server>& ref() const noexcept { return ref_; }
  bool alive() const noexcept { return ref_.alive(); }

 private:
  explicit EventManager(Ref<Server> r) : ref_(std::move(r)) {}
  Ref<Server> ref_;
};

namespace detail {

template <class R>
struct HandlerReply {
  std::optional<R> value;
  std::optional<EventError> error;
};

template <class Event>
class EventManagerServer : public GenServer<EventManagerServer<Event>> {
  using Base = GenServer<EventManagerServer<Event>>;
  using Action = rt::Action;
  using Handler = EventHandler<Event>;
  using Removed = std::function<void(const std::string&, const ExitReason&)>;

 public:
  struct Notify {
    Event event;
  };
  struct SyncNotify {
    Event event;
    using Reply = Ok;
  };
  struct Add {
    std::string id;
    std::unique_ptr<Handler> handler;
    using Reply = std::optional<EventError>;
  };
  struct Remove {
    std::string id;
    using Reply = std::optional<EventError>;
  };
  struct Which {
    using Reply = std::vector<std::string>;
  };
  template <class H, class Req>
  struct HandlerCall {
    std::string id;
    Req req;
    using Reply = HandlerReply<typename Req::Reply>;
  };
  struct Stop {
    ExitReason reason;
    using Reply = Ok;
  };

  explicit EventManagerServer(Removed on_removed) : on_removed_(std::move(on_removed)) {}

  Action handle_cast(Notify&& n) {
    dispatch(n.event);
    return Base::noreply();
  }
  CallAction<Ok> handle_call(SyncNotify&& n, From<Ok>&) {
    dispatch(n.event);
    return Base::reply(Ok{});
  }
  CallAction<std::optional<EventError>> handle_call(Add&& a, From<std::optional<EventError>>&) {
    if (find(a.id) != handlers_.end()) {
      return Base::reply(
          std::optional<EventError>(EventError{EventError::Code::already_added, a.id, {}}));
    }
    handlers_.push_back(Entry{std::move(a.id), std::move(a.handler)});
    return Base::reply(std::optional<EventError>());
  }
  CallAction<std::optional<EventError>> handle_call(Remove&& r, From<std::optional<EventError>>&) {
    auto it = find(r.id);
    if (it == handlers_.end()) {
      return Base::reply(
          std::optional<EventError>(EventError{EventError::Code::not_found, r.id, {}}));
    }
    Entry gone = std::move(*it);
    handlers_.erase(it);
    run_terminate(gone, ExitReason::normal());
    return Base::reply(std::optional<EventError>());
  }
  CallAction<std::vector<std::string>> handle_call(Which&&, From<std::vector<std::string>>&) {
    std::vector<std::string> ids;
    ids.reserve(handlers_.size());
    for (const Entry& e : handlers_) ids.push_back(e.id);
    return Base::reply(std::move(ids));
  }
  template <class H, class Req>
  CallAction<HandlerReply<typename Req::Reply>> handle_call(
      HandlerCall<H, Req>&& c, From<HandlerReply<typename Req::Reply>>&) {
    using Reply = HandlerReply<typename Req::Reply>;
    auto it = find(c.id);
    if (it == handlers_.end()) {
      return Base::reply(Reply{std::nullopt, EventError{EventError::Code::not_found, c.id, {}}});
    }
    H* h = dynamic_cast<H*>(it->handler.get());
    if (h == nullptr) {
      return Base::reply(Reply{std::nullopt, EventError{EventError::Code::wrong_type, c.id, {}}});
    }
    try {
      return Base::reply(Reply{h->handle_call(std::move(c.req)), std::nullopt});
    } catch (const std::exception& ex) {
      remove_crashed(it, ex.what());
      return Base::reply(
          Reply{std::nullopt, EventError{EventError::Code::handler_crashed, ex.what(), {}}});
    } catch (const detail::ExitUnwind&) {
      throw;  // the manager itself is exiting (see Process): not the handler's crash
    } catch (...) {
      remove_crashed(it, "unknown exception");
      return Base::reply(Reply{
          std::nullopt, EventError{EventError::Code::handler_crashed, "unknown exception", {}}});
    }
  }
  // Deferred on purpose: the exit answers the caller (see EventManager::stop).
  CallAction<Ok> handle_call(Stop&& s, From<Ok>&) { return Base::stop(std::move(s.reason)); }

  void terminate(const ExitReason& reason) {
    std::vector<Entry> all = std::move(handlers_);
    handlers_.clear();
    for (Entry& e : all) run_terminate(e, reason);
  }

 private:
  struct Entry {
    std::string id;
    std::unique_ptr<Handler> handler;
  };
  using Iter = typename std::vector<Entry>::iterator;

  Iter find(const std::string& id) {
    return std::find_if(handlers_.begin(), handlers_.end(),
                        [&](const Entry& e) { return e.id == id; });
  }

  void dispatch(const Event& event) {
    // Index-based: a crashing handler is erased in place and the loop carries on.
    for (std::size_t i = 0; i < handlers_.size();) {
      try {
        handlers_[i].handler->handle_event(event);
        ++i;
      } catch (const std::exception& ex) {
        remove_crashed(handlers_.begin() + static_cast<std::ptrdiff_t>(i), ex.what());
      } catch (const detail::ExitUnwind&) {
        throw;  // the manager itself is exiting (see Process): not the handler's crash
      } catch (...) {
        remove_crashed(handlers_.begin() + static_cast<std::ptrdiff_t>(i), "unknown exception");
      }
    }
  }

  void remove_crashed(Iter it, const std::string& what) {
    Entry gone = std::move(*it);
    handlers_.erase(it);
    ExitReason why = ExitReason::error(what);
    spdlog::error("event manager {} {}: handler {} crashed and was removed: {}", this->name(),
                  this->self().to_string(), gone.id, why.to_string());
    run_terminate(gone, why);
    if (on_removed_) {
      try {
        on_removed_(gone.id, why);
      } catch (const std::exception& ex) {
        spdlog::error("event manager {}: on_handler_removed threw: {}", this->name(), ex.what());
      } catch (...) {
        spdlog::error("event manager {}: on_handler_removed threw", this->name());
      }
    }
  }

  void run_terminate(Entry& e, const ExitReason& why) noexcept {
    try {
      e.handler->terminate(why);
    } catch (const std::exception& ex) {
      spdlog::error("event manager {}: handler {} terminate threw: {}", this->name(), e.id,
                    ex.what());
    } catch (...) {
      spdlog::error("event manager {}: handler {} terminate threw", this->name(), e.id);
    }
  }

  std::vector<Entry> handlers_;
  Removed on_removed_;
};

inline EventError call_failed(CallError e) {
  return EventError{EventError::Code::call_failed, e.to_string(), std::move(e)};
}

}  // namespace detail

// ---- implementation ------------------------------------------------------------

template <class Event>
Result<EventManager<Event>, StartError> EventManager<Event>::start(Runtime& rt, Options opts) {
  if (opts.start.name.empty()) opts.start.name = "event_manager";
  auto started = rt::start<Server>(rt, std::move(opts.start), std::move(opts.on_handler_removed));
  if (!started) return Err{started.error()};
  return EventManager(*started);
}

template <class Event>
EventResult<Ok> EventManager<Event>::add_handler(std::string id, std::unique_ptr<Handler> handler,
                                                 std::chrono::milliseconds timeout) const {
  auto r = rt::call(ref_, typename Server::Add{std::move(id), std::move(handler)}, timeout);
  if (!r) return Err{detail::call_failed(r.error())};
  if (*r) return Err{std::move(**r)};
  return Ok{};
}

template <class Event>
EventResult<Ok> EventManager<Event>::remove_handler(std::string id,
                                                    std::chrono::milliseconds timeout) const {
  auto r = rt::call(ref_, typename Server::Remove{std::move(id)}, timeout);
  if (!r) return Err{detail::call_failed(r.error())};
  if (*r) return Err{std::move(**r)};
  return Ok{};
}

template <class Event>
SendStatus EventManager<Event>::notify(Event event) const {
  return rt::cast(ref_, typename Server::Notify{std::move(event)});
}

template <class Event>
CallResult<Ok> EventManager<Event>::sync_notify(Event event,
                                                std::chrono::milliseconds timeout) const {
  return rt::call(ref_, typename Server::SyncNotify{std::move(event)}, timeout);
}

template <class Event>
template <class H, class Req>
EventResult<typename Req::Reply> EventManager<Event>::call(
    std::string id, Req req, std::chrono::milliseconds timeout) const {
  static_assert(std::is_base_of_v<Handler, H>, "call<H>: H must be an EventHandler<Event>");
  auto r = rt::call(
      ref_, typename Server::template HandlerCall<H, Req>{std::move(id), std::move(req)}, timeout);
  if (!r) return Err{detail::call_failed(r.error())};
  if (r->error) return Err{std::move(*r->error)};
  return std::move(*r->value);
}

template <class Event>
CallResult<std::vector<std::string>> EventManager<Event>::which_handlers(
    std::chrono::milliseconds timeout) const {
  return rt::call(ref_, typename Server::Which{}, timeout);
}

template <class Event>
CallResult<Ok> EventManager<Event>::stop(ExitReason reason,
                                         std::chrono::milliseconds timeout) const {
  // Answered by the exit itself: `exited: reason` arrives once the manager is gone.
  CallResult<Ok> r = rt::call(ref_, typename Server::Stop{reason}, timeout);
  if (r) return r;
  if (r.error().code == CallError::Code::exited && r.error().reason == reason) return Ok{};
  return r;
}

}  // namespace rt
