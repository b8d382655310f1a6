#pragma once
// The peers' PriceFeedHandler, as the runtime workloads use it (see
// shared/peers/elixir/README.md, "Peer.PriceFeedHandler"): price updates by
// cast, tick_count / get_state / subscribe by call, monitored subscribers, a
// 1 s heartbeat timer with 5 s staleness. The product's handler lives in
// services/; this one stays minimal so the numbers measure the runtime.

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "runtime/gen_server.hpp"

namespace mdbench {

/// A tick as subscribers receive it.
struct Tick {
  std::int64_t price;
  std::int64_t volume;
  std::uint64_t seq;
};

class BenchSubscriber;

class FeedServer : public rt::GenServer<FeedServer> {
 public:
  struct PriceUpdate {
    std::int64_t price;
    std::int64_t volume;
  };
  struct TickCount {
    using Reply = std::uint64_t;
  };
  struct State {
    std::int64_t price;
    std::int64_t volume;
    std::uint64_t tick_count;
    bool stale;
    std::size_t subscribers;
  };
  struct GetState {
    using Reply = State;
  };
  struct Subscribe {
    rt::Ref<BenchSubscriber> who;
    using Reply = rt::Ok;
  };
  struct Boom {};  // W6: crashes the server
  struct Heartbeat {};

  explicit FeedServer(std::string symbol) : symbol_(std::move(symbol)) {}

  Action init();
  Action handle_cast(const PriceUpdate& u);
  Action handle_cast(const Boom&);
  CallAction<std::uint64_t> handle_call(const TickCount&, rt::From<std::uint64_t>&) {
    return reply(tick_count_);
  }
  CallAction<State> handle_call(const GetState&, rt::From<State>&) {
    return reply(State{price_, volume_, tick_count_, stale_, subscribers_.size()});
  }
  CallAction<rt::Ok> handle_call(const Subscribe& s, rt::From<rt::Ok>&);
  Action handle_info(const rt::Down& d);
  Action handle_info(const Heartbeat&);

 private:
  std::string symbol_;
  std::int64_t price_ = 0;
  std::int64_t volume_ = 0;
  std::uint64_t tick_count_ = 0;
  std::int64_t last_update_ms_ = 0;
  bool stale_ = false;
  std::unordered_map<rt::Pid, std::pair<rt::Ref<BenchSubscriber>, rt::MonitorRef>> subscribers_;
};

/// A subscriber that checks tick order and reports when it has seen `expect` ticks.
class BenchSubscriber : public rt::GenServer<BenchSubscriber> {
 public:
  struct Done {
    virtual ~Done() = default;
    virtual void finished(bool in_order) = 0;
  };
  BenchSubscriber(std::uint64_t expect, Done& done) : expect_(expect), done_(done) {}
  Action handle_info(const Tick& t) {
    if (t.seq != next_) in_order_ = false;
    next_ = t.seq + 1;
    if (++seen_ == expect_) {
      done_.finished(in_order_);
      return stop(rt::ExitReason::normal());
    }
    return noreply();
  }

 private:
  std::uint64_t expect_;
  Done& done_;
  std::uint64_t seen_ = 0;
  std::uint64_t next_ = 1;
  bool in_order_ = true;
};

}  // namespace mdbench
