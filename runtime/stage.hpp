#pragma once
// Stage: demand-driven producer / producer_consumer / consumer processes, as
// Elixir's GenStage. Consumers ask for events; producers emit only what was
// asked, so a fast producer can never flood a slow consumer. marketd's replay
// and ingest pipelines (reader -> parser -> router) run on it:
//
//   struct Reader : rt::stage::Producer<Line> {
//     std::vector<Line> handle_demand(std::size_t n) { return read_up_to(n); }
//   };
//   struct Parser : rt::stage::ProducerConsumer<Line, Event> {
//     std::vector<Event> handle_events(std::vector<Line>&& lines) { return parse(lines); }
//   };
//   struct Router : rt::stage::Consumer<Event> {
//     void handle_events(std::vector<Event>&& events) { route(events); }
//   };
//   auto reader = rt::stage::start<Reader>(runtime);
//   auto parser = rt::stage::start<Parser>(runtime);
//   auto router = rt::stage::start<Router>(runtime);
//   rt::stage::subscribe(*router, *parser, {.max_demand = 500});
//   rt::stage::subscribe(*parser, *reader, {.max_demand = 1000});
//
// Callbacks (members of the user's class; the stage process owns the object):
//   Producer<Out>            std::vector<Out> handle_demand(std::size_t n)      required
//   ProducerConsumer<In,Out> std::vector<Out> handle_events(std::vector<In>&&)  required
//   Consumer<In>             void handle_events(std::vector<In>&&)              required
//   all, optional            void init(); void terminate(const ExitReason&);
//                            void handle_cast(M); void handle_info(M);
//                            Req::Reply handle_call(Req)  (rt::cast/send/call on the StageRef)
//   helpers from the bases   send_events(v) and finish() (producing stages),
//                            subscribe(producer, opts) (consuming stages), stop(reason), self()
//
// Semantics and edge cases (GenStage's, differences marked):
// - Demand: a subscription asks max_demand at first. Events arrive in batches
//   of at most max_demand - min_demand; after each batch is handled, when the
//   events still owed fall to min_demand or below, the consumer asks enough to
//   be owed max_demand again. So events asked-for but not yet handled never
//   exceed max_demand. min_demand defaults to 3/4 of max_demand; a min_demand
//   >= max_demand is taken as max_demand - 1, a max_demand of 0 as 1.
// - A producer never sends a consumer more events than that consumer's
//   outstanding demand. handle_demand(n) gets only the *new* demand; it may
//   return fewer than n and emit the rest later with send_events (it then owes
//   them), or more (the excess is buffered).
// - Events emitted without demand wait in the producer's buffer (at most
//   StageOptions::buffer_size, default 10,000; beyond it the oldest are dropped
//   with a warning, GenStage's buffer_keep: :last).
// - Dispatch (DemandDispatcher): buffered events go to the consumer with the
//   most outstanding demand, as much as it asked for; every event goes to
//   exactly one consumer.
// - A producer_consumer handles input only while its consumers have demand;
//   its input then waits (bounded by its own max_demand), and its upstream ask
//   is sent only after the batch was handled: back-pressure crosses the stage.
// - Cancellation: producer and consumer monitor each other. A consumer that
//   exits is dropped by the producer with its demand; events in flight to it
//   are lost. A producer that exits ends the subscription; the consumer then
//   acts on SubscribeOptions::cancel —
//     permanent (default): exits with the producer's reason if abnormal; if
//       normal, unlike GenStage, it *finishes* once its last subscription has
//       ended (a producer_consumer first hands every queued event downstream),
//       so a finite pipeline drains and every stage exits `normal` in order;
//     transient: exits only if the reason is abnormal; temporary: never exits.
//   Subscribing to a dead producer is an abnormal end (`noproc`).
// - finish() (producing stages): no more events; the stage exits `normal` once
//   its buffer has been dispatched. Events are never lost at a normal end:
//   they are sent before the exit, and a consumer's mailbox keeps them in order
//   ahead of the Down.
// - A callback that throws crashes the stage (OTP semantics: links and
//   monitors see {error, what}; its consumers/producers react as above).
// Thread-safety: start/subscribe/cast/send/call are thread-safe; the helpers of
// the base classes may only be called from the stage's own callbacks.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/gen_server.hpp"

namespace rt::stage {

/// Identifies one producer -> consumer subscription.
using SubscriptionId = std::uint64_t;

/// What a consumer does when its producer exits (see header notes).
enum class Cancel : unsigned char { permanent, transient, temporary };

/// Options of one subscription.
struct SubscribeOptions {
  std::size_t max_demand = 1000;          ///< events asked for at most
  std::optional<std::size_t> min_demand;  ///< ask again at or below this; default 3/4 of max
  Cancel cancel = Cancel::permanent;
};

/// Options of a stage process.
struct StageOptions {
  StartOptions start;               ///< name, link, ... (as any GenServer)
  std::size_t buffer_size = 10000;  ///< producer's buffer for events emitted without demand
};

namespace detail {

template <class Impl>
class StageServer;

/// Stands in for the missing side of a producer (no input) or a consumer (no output).
struct NoEvents {};

template <class E>
struct EventsMsg {
  SubscriptionId sub;
  std::vector<E> events;
};
struct AskMsg {
  SubscriptionId sub;
  std::size_t n;
};
template <class E>
class StageSink;
template <class E>
struct SubscribeMsg {
  SubscriptionId sub;
  Pid consumer;
  StageSink<E>* sink;
};

/// The consuming side of a stage, as its producers see it.
template <class E>
class StageSink {
 public:
  virtual void stage_events(EventsMsg<E>&& m) = 0;  ///< runs in the sink's process

 protected:
  ~StageSink() = default;
};

/// The producing side of a stage, as its consumers see it.
template <class E>
class StageSource {
 public:
  virtual void stage_subscribe(SubscribeMsg<E>&& m) = 0;  ///< runs in the source's process
  virtual void stage_ask(AskMsg&& m) = 0;                 ///< runs in the source's process

 protected:
  ~StageSource() = default;
};

/// What the user's base classes call back into (the stage process).
template <class In, class Out>
class StageContext {
 public:
  virtual void emit(std::vector<Out>&& events) = 0;
  virtual void finish_stage() = 0;
  virtual void request_stop(ExitReason reason) = 0;
  virtual SubscriptionId subscribe_upstream(Pid producer, StageSource<In>* source,
                                            SubscribeOptions opts) = 0;
  virtual Pid stage_self() const = 0;

 protected:
  ~StageContext() = default;
};

/// A protocol message: runs `fn` on delivery, in the target's process.
template <class F>
class StageEnvelope final : public Envelope {
 public:
  StageEnvelope(F fn, std::string_view what) : fn_(std::move(fn)), what_(what) {}
  void deliver(Process&) override { fn_(); }
  std::string_view type_name() const noexcept override { return what_; }

 private:
  F fn_;
  std::string_view what_;
};

template <class F>
void post_protocol(const Pid& to, std::string_view what, F fn) {
  if (Process* p = to.get()) {
    // Unbounded on purpose: demand already bounds these, and a refused Events
    // message would lose events.
    p->post(std::make_unique<StageEnvelope<F>>(std::move(fn), what), /*bounded=*/false);
  }
}

/// The members every user base shares.
template <class In, class Out>
class StageBase {
 protected:
  /// Stops the stage with `reason` once the running callback returns.
  void stop(ExitReason reason) { ctx_->request_stop(std::move(reason)); }
  /// The stage's own process.
  Pid self() const { return ctx_->stage_self(); }

  StageContext<In, Out>* ctx_ = nullptr;

 private:
  template <class>
  friend class StageServer;
};

}  // namespace detail

template <class Impl>
using StageRef = Ref<detail::StageServer<Impl>>;

/// Base of a producer of Event: implement `std::vector<Event> handle_demand(std::size_t n)`.
template <class Event>
class Producer : public detail::StageBase<detail::NoEvents, Event> {
 public:
  using Out = Event;

 protected:
  /// Emits events now (to consumers with demand, the rest buffered).
  void send_events(std::vector<Event> events) { this->ctx_->emit(std::move(events)); }
  /// No more events: exit `normal` once the buffer has been dispatched.
  void finish() { this->ctx_->finish_stage(); }
};

/// Base of a consumer of Event: implement `void handle_events(std::vector<Event>&&)`.
template <class Event>
class Consumer : public detail::StageBase<Event, detail::NoEvents> {
 public:
  using In = Event;

 protected:
  /// Subscribes this stage to `producer` (from its own callbacks, e.g. init).
  template <class P>
  SubscriptionId subscribe(const StageRef<P>& producer, SubscribeOptions opts = {});
};

/// Base of a producer_consumer: implement `std::vector<Out> handle_events(std::vector<In>&&)`.
template <class InEvent, class OutEvent>
class ProducerConsumer : public detail::StageBase<InEvent, OutEvent> {
 public:
  using In = InEvent;
  using Out = OutEvent;

 protected:
  void send_events(std::vector<OutEvent> events) { this->ctx_->emit(std::move(events)); }
  void finish() { this->ctx_->finish_stage(); }
  template <class P>
  SubscriptionId subscribe(const StageRef<P>& producer, SubscribeOptions opts = {});
};

namespace detail {

template <class Impl, class = void>
struct InOf {
  using type = NoEvents;
};
template <class Impl>
struct InOf<Impl, std::void_t<typename Impl::In>> {
  using type = typename Impl::In;
};
template <class Impl, class = void>
struct OutOf {
  using type = NoEvents;
};
template <class Impl>
struct OutOf<Impl, std::void_t<typename Impl::Out>> {
  using type = typename Impl::Out;
};

/// The stage process: owns the user's object and runs the demand protocol.
template <class Impl>
class StageServer final
    : public GenServer<StageServer<Impl>>,
      public StageSink<typename InOf<Impl>::type>,
      public StageSource<typename OutOf<Impl>::type>,
      public StageContext<typename InOf<Impl>::type, typename OutOf<Impl>::type> {
  using Base = GenServer<StageServer<Impl>>;
  using Action = rt::Action;

 public:
  using In = typename InOf<Impl>::type;
  using Out = typename OutOf<Impl>::type;
  static constexpr bool kConsumes = !std::is_same_v<In, NoEvents>;
  static constexpr bool kProduces = !std::is_same_v<Out, NoEvents>;
  static_assert(kConsumes || kProduces, "derive from Producer, ProducerConsumer or Consumer");

  /// Asks this (consuming) stage to subscribe to a producer (stage::subscribe).
  struct SubscribeTo {
    Pid producer;
    StageSource<In>* source;
    SubscribeOptions opts;
    using Reply = SubscriptionId;
  };

  template <class... Args>
  explicit StageServer(std::size_t buffer_size, Args&&... args)
      : impl_(std::forward<Args>(args)...), buffer_size_(std::max<std::size_t>(buffer_size, 1)) {
    impl_.ctx_ = this;
  }

  Action init() {
    this->add_exit_hook(release_peers_);
    if constexpr (requires(Impl & i) { i.init(); }) impl_.init();
    return next();
  }
  void terminate(const ExitReason& reason) {
    if constexpr (requires(Impl & i) { i.terminate(reason); }) impl_.terminate(reason);
  }

  // ---- protocol messages ---------------------------------------------------------

  Action handle_info(SubscribeMsg<Out>&& m) {
    MonitorRef mon = this->monitor(m.consumer);
    consumers_.push_back(Downstream{m.sub, std::move(m.consumer), m.sink, mon, 0});
    return next();
  }
  Action handle_info(AskMsg&& m) {
    auto it = std::find_if(consumers_.begin(), consumers_.end(),
                           [&](const Downstream& d) { return d.id == m.sub; });
    if (it == consumers_.end()) return next();  // cancelled meanwhile
    it->demand += m.n;
    dispatch();
    if constexpr (kConsumes) {
      pump();
    } else {
      ask_impl();
    }
    return next();
  }
  Action handle_info(EventsMsg<In>&& m) {
    auto it = std::find_if(producers_.begin(), producers_.end(),
                           [&](const Upstream& u) { return u.id == m.sub; });
    if (it == producers_.end()) return next();  // cancelled: drop
    std::vector<Batch> batches = split(*it, std::move(m.events));
    if constexpr (kProduces) {
      for (Batch& b : batches) input_.push_back(std::move(b));
      pump();
    } else {
      for (Batch& b : batches) {
        if (stop_) break;
        impl_.handle_events(std::move(b.events));
        if (b.ask > 0) send_ask(b.sub, b.ask);
      }
    }
    return next();
  }
  Action handle_info(Down&& d) {
    auto down = std::find_if(consumers_.begin(), consumers_.end(),
                             [&](const Downstream& c) { return c.monitor == d.ref; });
    if (down != consumers_.end()) {
      consumers_.erase(down);
      return next();
    }
    auto up = std::find_if(producers_.begin(), producers_.end(),
                           [&](const Upstream& u) { return u.monitor == d.ref; });
    if (up != producers_.end()) {
      Cancel policy = up->cancel;
      producers_.erase(up);
      const bool abnormal = !d.reason.is_normal();
      if (abnormal && policy != Cancel::temporary) {
        stop_ = d.reason;
      } else if (!abnormal && policy == Cancel::permanent && producers_.empty()) {
        finishing_ = true;
      }
      return next();
    }
    if constexpr (requires(Impl & i) { i.handle_info(std::move(d)); })
      impl_.handle_info(std::move(d));
    return next();
  }
  CallAction<SubscriptionId> handle_call(SubscribeTo&& s, From<SubscriptionId>&) {
    return Base::reply(subscribe_upstream(std::move(s.producer), s.source, s.opts));
  }

  // ---- the user's own messages ---------------------------------------------------

  template <class M>
  requires requires(Impl& i, M&& m) { i.handle_cast(std::move(m)); }
  Action handle_cast(M&& m) {
    impl_.handle_cast(std::move(m));
    return next();
  }
  template <class M>
  requires requires(Impl& i, M&& m) { i.handle_info(std::move(m)); }
  Action handle_info(M&& m) {
    impl_.handle_info(std::move(m));
    return next();
  }
  template <class Req>
  requires requires(Impl& i, Req&& r) { i.handle_call(std::move(r)); }
  CallAction<typename Req::Reply> handle_call(Req&& r, From<typename Req::Reply>&) {
    typename Req::Reply out = impl_.handle_call(std::move(r));
    return CallAction<typename Req::Reply>(std::move(out), next());
  }

  // ---- StageSink / StageSource: protocol entry points ----------------------------

  void stage_events(EventsMsg<In>&& m) override { this->dispatch_info(std::move(m)); }
  void stage_subscribe(SubscribeMsg<Out>&& m) override { this->dispatch_info(std::move(m)); }
  void stage_ask(AskMsg&& m) override { this->dispatch_info(std::move(m)); }

  // ---- StageContext: what the user's object calls ---------------------------------

  void emit(std::vector<Out>&& events) override {
    if constexpr (kProduces) {
      requested_ -= std::min(requested_, events.size());
      for (Out& e : events) buffer_.push_back(std::move(e));
      dispatch();
      if constexpr (!kConsumes) {
        if (buffer_.size() > buffer_size_) {
          const std::size_t drop = buffer_.size() - buffer_size_;
          buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(drop));
          spdlog::warn("stage {} {}: buffer full, dropped {} oldest events", this->name(),
                       this->self().to_string(), drop);
        }
      }
    }
  }
  void finish_stage() override { finishing_ = true; }
  void request_stop(ExitReason reason) override { stop_ = std::move(reason); }
  Pid stage_self() const override { return this->self(); }

  SubscriptionId subscribe_upstream(Pid producer, StageSource<In>* source,
                                    SubscribeOptions opts) override {
    // Reached only for consuming stages: the public API offers no other way in.
    const std::size_t max = std::max<std::size_t>(opts.max_demand, 1);
    std::size_t min = opts.min_demand.value_or(max * 3 / 4);
    if (min >= max) min = max - 1;
    const SubscriptionId id = this->runtime().next_id();
    MonitorRef mon = this->monitor(producer);  // a dead producer: Down{noproc} at once
    producers_.push_back(Upstream{id, producer, source, mon, max, min, max, opts.cancel});
    StageSink<In>* sink = this;
    post_protocol(producer, "stage.subscribe",
                  [source, m = SubscribeMsg<In>{id, this->self(), sink}]() mutable {
                    source->stage_subscribe(std::move(m));
                  });
    post_protocol(producer, "stage.ask",
                  [source, m = AskMsg{id, max}]() mutable { source->stage_ask(std::move(m)); });
    return id;
  }

 private:
  struct Downstream {
    SubscriptionId id;
    Pid pid;
    StageSink<Out>* sink;
    MonitorRef monitor;
    std::size_t demand;  // events it asked for and has not been sent
  };
  struct Upstream {
    SubscriptionId id;
    Pid pid;
    StageSource<In>* source;
    MonitorRef monitor;
    std::size_t max;
    std::size_t min;
    std::size_t demand;  // owed + received-but-unhandled (GenStage's counter)
    Cancel cancel;
  };
  struct Batch {
    SubscriptionId sub;
    std::vector<In> events;
    std::size_t ask;  // to send upstream once the batch is handled
  };

  /// What to do after any message: stop if asked or finished, else carry on.
  Action next() {
    if (stop_) return Base::stop(std::move(*std::exchange(stop_, std::nullopt)));
    if (finishing_ && input_.empty() && buffer_.empty()) return Base::stop(ExitReason::normal());
    return Base::noreply();
  }

  std::size_t total_demand() const {
    std::size_t total = 0;
    for (const Downstream& d : consumers_) total += d.demand;
    return total;
  }

  /// Sends buffered events to the consumers with the most demand.
  void dispatch() {
    if constexpr (kProduces) {
      while (!buffer_.empty()) {
        auto best = std::max_element(
            consumers_.begin(), consumers_.end(),
            [](const Downstream& a, const Downstream& b) { return a.demand < b.demand; });
        if (best == consumers_.end() || best->demand == 0) return;
        const std::size_t n = std::min(best->demand, buffer_.size());
        const auto end = buffer_.begin() + static_cast<std::ptrdiff_t>(n);
        std::vector<Out> batch(std::make_move_iterator(buffer_.begin()),
                               std::make_move_iterator(end));
        buffer_.erase(buffer_.begin(), end);
        best->demand -= n;
        post_protocol(
            best->pid, "stage.events",
            [sink = best->sink, m = EventsMsg<Out>{best->id, std::move(batch)}]() mutable {
              sink->stage_events(std::move(m));
            });
      }
    }
  }

  /// A producer asks its user object for the demand it has not been told about yet.
  void ask_impl() {
    if constexpr (kProduces && !kConsumes) {
      if (finishing_ || stop_) return;
      const std::size_t total = total_demand();
      if (total <= requested_) return;
      const std::size_t need = total - requested_;
      requested_ += need;
      emit(impl_.handle_demand(need));
    }
  }

  /// A producer_consumer handles queued input while its consumers have demand.
  void pump() {
    if constexpr (kConsumes && kProduces) {
      while (!input_.empty() && !stop_ && total_demand() > buffer_.size()) {
        Batch b = std::move(input_.front());
        input_.pop_front();
        emit(impl_.handle_events(std::move(b.events)));
        if (b.ask > 0) send_ask(b.sub, b.ask);
      }
    }
  }

  void send_ask(SubscriptionId sub, std::size_t n) {
    auto it = std::find_if(producers_.begin(), producers_.end(),
                           [&](const Upstream& u) { return u.id == sub; });
    if (it == producers_.end()) return;  // the producer is gone
    post_protocol(it->pid, "stage.ask", [source = it->source, m = AskMsg{sub, n}]() mutable {
      source->stage_ask(std::move(m));
    });
  }

  /// GenStage's split_batches: batches of at most max - min, each with the ask to send after it.
  std::vector<Batch> split(Upstream& u, std::vector<In>&& events) {
    std::vector<Batch> out;
    if (events.size() > u.demand) {
      spdlog::error("stage {} {}: received {} events in excess of demand", this->name(),
                    this->self().to_string(), events.size() - u.demand);
    }
    const std::size_t chunk = u.max - u.min;
    if (events.size() <= chunk) {  // the common case: no copy
      out.push_back(Batch{u.id, std::move(events), 0});
    } else {
      for (std::size_t i = 0; i < events.size(); i += chunk) {
        const std::size_t n = std::min(chunk, events.size() - i);
        const auto first = events.begin() + static_cast<std::ptrdiff_t>(i);
        out.push_back(
            Batch{u.id,
                  std::vector<In>(std::make_move_iterator(first),
                                  std::make_move_iterator(first + static_cast<std::ptrdiff_t>(n))),
                  0});
      }
    }
    for (Batch& b : out) {
      const std::size_t size = b.events.size();
      u.demand -= std::min(u.demand, size);
      if (u.demand <= u.min) {
        b.ask = u.max - u.demand;
        u.demand = u.max;
      }
    }
    return out;
  }

  /// Drops the peers' Pids at exit: two dead stages holding each other's Pid
  /// would otherwise keep each other's memory forever (Pids are counted).
  struct ReleasePeers final : ExitHook {
    explicit ReleasePeers(StageServer& s) : server(s) {}
    void on_process_exit(Process&) noexcept override {
      server.consumers_.clear();
      server.producers_.clear();
      server.input_.clear();
      server.buffer_.clear();
    }
    StageServer& server;
  };

  Impl impl_;
  ReleasePeers release_peers_{*this};
  std::size_t buffer_size_;
  std::vector<Downstream> consumers_;
  std::vector<Upstream> producers_;
  std::deque<Out> buffer_;     // emitted, not yet dispatched
  std::deque<Batch> input_;    // producer_consumer: received, not yet handled
  std::size_t requested_ = 0;  // producer: demand passed to handle_demand, not yet emitted
  bool finishing_ = false;
  std::optional<ExitReason> stop_;
};

}  // namespace detail

// ---- client API ---------------------------------------------------------------------

/// Starts a stage running an Impl constructed from `args`.
template <class Impl, class... Args>
StartResult<detail::StageServer<Impl>> start(Runtime& rt, StageOptions opts = {}, Args&&... args) {
  if (opts.start.name.empty()) opts.start.name = "stage";
  return rt::start<detail::StageServer<Impl>>(rt, std::move(opts.start), opts.buffer_size,
                                              std::forward<Args>(args)...);
}

/// Subscribes `consumer` to `producer`; returns once the consumer has sent its first ask.
template <class C, class P>
CallResult<SubscriptionId> subscribe(const StageRef<C>& consumer, const StageRef<P>& producer,
                                     SubscribeOptions opts = {},
                                     std::chrono::milliseconds timeout = kDefaultCallTimeout) {
  using Server = detail::StageServer<C>;
  static_assert(Server::kConsumes, "the consumer must be a Consumer or ProducerConsumer");
  static_assert(std::is_same_v<typename Server::In, typename detail::StageServer<P>::Out>,
                "the producer's events must be the consumer's input");
  detail::StageSource<typename Server::In>* source =
      static_cast<detail::StageServer<P>*>(producer.pid().get());
  return rt::call(consumer, typename Server::SubscribeTo{producer.pid(), source, opts}, timeout);
}

template <class Event>
template <class P>
SubscriptionId Consumer<Event>::subscribe(const StageRef<P>& producer, SubscribeOptions opts) {
  return this->ctx_->subscribe_upstream(
      producer.pid(), static_cast<detail::StageServer<P>*>(producer.pid().get()), opts);
}

template <class InEvent, class OutEvent>
template <class P>
SubscriptionId ProducerConsumer<InEvent, OutEvent>::subscribe(const StageRef<P>& producer,
                                                              SubscribeOptions opts) {
  return this->ctx_->subscribe_upstream(
      producer.pid(), static_cast<detail::StageServer<P>*>(producer.pid().get()), opts);
}

}  // namespace rt::stage
