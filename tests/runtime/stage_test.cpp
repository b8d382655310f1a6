#include "runtime/stage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;

/// What the test stages report; shared between the test and the stage processes.
struct Tally {
  std::atomic<long> produced{0};
  std::atomic<long> consumed{0};
  std::atomic<long> worst_in_flight{0};  // high-water of produced - consumed seen at deliveries
  std::atomic<long> largest_demand{0};
  std::mutex m;
  std::vector<std::size_t> demands;         // every handle_demand(n), in order
  std::vector<std::vector<long>> received;  // per consumer
};

void raise_to(std::atomic<long>& hw, long v) {
  long cur = hw.load();
  while (v > cur && !hw.compare_exchange_weak(cur, v)) {
  }
}

/// Counts up from 0 forever (or to `limit`, then finishes). Could produce unboundedly:
/// only demand holds it back.
class Counter : public stage::Producer<long> {
 public:
  struct Crash {};
  struct Stats {
    using Reply = long;
  };

  Counter(std::shared_ptr<Tally> t, long limit = -1) : t_(std::move(t)), limit_(limit) {}

  std::vector<long> handle_demand(std::size_t n) {
    {
      std::lock_guard g(t_->m);
      t_->demands.push_back(n);
    }
    raise_to(t_->largest_demand, static_cast<long>(n));
    std::vector<long> out;
    for (std::size_t i = 0; i < n && (limit_ < 0 || next_ < limit_); ++i) out.push_back(next_++);
    t_->produced.fetch_add(static_cast<long>(out.size()));
    if (limit_ >= 0 && next_ == limit_) finish();
    return out;
  }
  void handle_cast(Crash) { throw std::runtime_error("producer down"); }
  long handle_call(Stats) { return next_; }

 private:
  std::shared_ptr<Tally> t_;
  long limit_;
  long next_ = 0;
};

/// Produces nothing until Go: remembers the demand it owes, then emits it all at once
/// (the "buffer and emit later" path). Finishes after `limit` events.
class Gated : public stage::Producer<long> {
 public:
  struct Go {};
  struct Push {
    std::vector<long> events;
  };
  explicit Gated(long limit) : limit_(limit) {}

  std::vector<long> handle_demand(std::size_t n) {
    owed_ += n;
    if (open_) return take();
    return {};
  }
  void handle_cast(Go) {
    open_ = true;
    send_events(take());
  }
  void handle_cast(Push p) { send_events(std::move(p.events)); }

 private:
  std::vector<long> take() {
    std::vector<long> out;
    for (; owed_ > 0 && next_ < limit_; --owed_) out.push_back(next_++);
    if (next_ == limit_) finish();
    return out;
  }
  long limit_;
  long next_ = 0;
  std::size_t owed_ = 0;
  bool open_ = false;
};

/// Doubles every event.
class Doubler : public stage::ProducerConsumer<long, long> {
 public:
  std::vector<long> handle_events(std::vector<long>&& in) {
    for (long& x : in) x *= 2;
    return std::move(in);
  }
};

/// Records what it receives; optionally slow; checks the in-flight bound at every delivery.
class Sink : public stage::Consumer<long> {
 public:
  struct Config {
    std::shared_ptr<Tally> tally;
    std::size_t slot = 0;                // index into tally->received
    long in_flight_limit = 0;            // 0: no check
    std::chrono::microseconds delay{0};  // per batch: a deliberately slow consumer
    bool record = true;
  };
  struct Quit {};

  explicit Sink(Config c) : c_(std::move(c)) {}

  void handle_events(std::vector<long>&& events) {
    Tally& t = *c_.tally;
    raise_to(t.worst_in_flight, t.produced.load() - t.consumed.load());
    if (c_.delay.count() > 0) std::this_thread::sleep_for(c_.delay);
    if (c_.record) {
      std::lock_guard g(t.m);
      auto& mine = t.received[c_.slot];
      mine.insert(mine.end(), events.begin(), events.end());
    }
    t.consumed.fetch_add(static_cast<long>(events.size()));
  }
  void handle_cast(Quit) { stop(ExitReason::normal()); }

 private:
  Config c_;
};

/// A consumer that subscribes itself from init and checks order.
class OrderedSink : public stage::Consumer<long> {
 public:
  OrderedSink(stage::StageRef<Doubler> upstream, std::shared_ptr<Tally> t)
      : upstream_(std::move(upstream)), t_(std::move(t)) {}
  void init() { subscribe(upstream_, {.max_demand = 500, .min_demand = 250}); }
  void handle_events(std::vector<long>&& events) {
    for (long x : events) {
      if (x != expect_) ++out_of_order_;
      expect_ = x + 2;
    }
    t_->consumed.fetch_add(static_cast<long>(events.size()));
  }
  void terminate(const ExitReason&) { t_->worst_in_flight.store(out_of_order_); }

 private:
  stage::StageRef<Doubler> upstream_;
  std::shared_ptr<Tally> t_;
  long expect_ = 0;
  long out_of_order_ = 0;
};

class StageTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  std::shared_ptr<Tally> tally = std::make_shared<Tally>();

  template <class Impl, class... Args>
  stage::StageRef<Impl> start_stage(Args&&... args) {
    auto r = stage::start<Impl>(runtime, {}, std::forward<Args>(args)...);
    EXPECT_TRUE(r.ok());
    return *r;
  }
  stage::StageRef<Sink> start_sink(Sink::Config cfg) {
    cfg.tally = tally;
    {
      std::lock_guard g(tally->m);
      if (tally->received.size() <= cfg.slot) tally->received.resize(cfg.slot + 1);
    }
    return start_stage<Sink>(std::move(cfg));
  }
};

TEST_F(StageTest, ProducerNeverHasMoreThanTheOutstandingDemandInFlight) {
  auto producer = start_stage<Counter>(tally);
  auto consumer = start_sink({.delay = 200us, .record = false});
  ASSERT_TRUE(stage::subscribe(consumer, producer, {.max_demand = 50, .min_demand = 25}).ok());
  ASSERT_TRUE(eventually([&] { return tally->consumed.load() >= 2000; }, 60s));
  EXPECT_LE(tally->worst_in_flight.load(), 50);
  EXPECT_LE(tally->largest_demand.load(), 50);
  EXPECT_LE(tally->produced.load() - tally->consumed.load(), 50);
  EXPECT_TRUE(producer.alive());
}

TEST_F(StageTest, BackPressureCrossesAProducerConsumer) {
  auto producer = start_stage<Counter>(tally);
  auto middle = start_stage<Doubler>();
  auto consumer = start_sink({.delay = 200us, .record = false});
  ASSERT_TRUE(stage::subscribe(consumer, middle, {.max_demand = 20, .min_demand = 10}).ok());
  ASSERT_TRUE(stage::subscribe(middle, producer, {.max_demand = 40, .min_demand = 20}).ok());
  ASSERT_TRUE(eventually([&] { return tally->consumed.load() >= 1000; }, 60s));
  // Owed to or held by the middle stage (40), its one-batch overshoot (20), owed to the sink (20).
  EXPECT_LE(tally->worst_in_flight.load(), 40 + 20 + 20);
}

TEST_F(StageTest, ConsumerAsksMaxThenTopsUpWhenDemandFallsToMin) {
  auto producer = start_stage<Counter>(tally);
  auto consumer = start_sink({.record = false});
  ASSERT_TRUE(stage::subscribe(consumer, producer, {.max_demand = 10, .min_demand = 5}).ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard g(tally->m);
    return tally->demands.size() >= 6;
  }));
  std::lock_guard g(tally->m);
  EXPECT_EQ(std::vector<std::size_t>(tally->demands.begin(), tally->demands.begin() + 6),
            (std::vector<std::size_t>{10, 5, 5, 5, 5, 5}));
}

TEST_F(StageTest, ConsumersShareAProducersEventsWithNoneLostOrDuplicated) {
  constexpr long kEvents = 20000;
  auto producer = start_stage<Gated>(kEvents);
  std::vector<stage::StageRef<Sink>> sinks;
  for (std::size_t i = 0; i < 3; ++i) sinks.push_back(start_sink({.slot = i}));
  ASSERT_TRUE(stage::subscribe(sinks[0], producer, {.max_demand = 100}).ok());
  ASSERT_TRUE(stage::subscribe(sinks[1], producer, {.max_demand = 300}).ok());
  ASSERT_TRUE(stage::subscribe(sinks[2], producer, {.max_demand = 50, .min_demand = 0}).ok());
  cast(producer, Gated::Go{});
  for (auto& s : sinks) ASSERT_TRUE(s.pid().get()->await_exit(60s));  // finished: producer done
  std::lock_guard g(tally->m);
  std::vector<long> all;
  for (const auto& mine : tally->received) {
    EXPECT_FALSE(mine.empty());
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<long> expected(kEvents);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
  for (auto& s : sinks) EXPECT_EQ(s.pid().get()->exit_reason(), ExitReason::normal());
}

TEST_F(StageTest, ThreeStagePipelineDeliversEveryEventInOrder) {
  constexpr long kEvents = 100000;
  auto reader = start_stage<Counter>(tally, kEvents);
  auto parser = start_stage<Doubler>();
  auto router = start_stage<OrderedSink>(parser, tally);  // subscribes itself in init
  ASSERT_TRUE(stage::subscribe(parser, reader, {.max_demand = 1000}).ok());
  ASSERT_TRUE(router.pid().get()->await_exit(120s));
  EXPECT_EQ(tally->consumed.load(), kEvents);
  EXPECT_EQ(tally->worst_in_flight.load(), 0);  // out-of-order count, reported at terminate
  EXPECT_EQ(router.pid().get()->exit_reason(), ExitReason::normal());
  EXPECT_TRUE(parser.pid().get()->await_exit(10s));
  EXPECT_EQ(parser.pid().get()->exit_reason(), ExitReason::normal());
  EXPECT_FALSE(reader.alive());
}

TEST_F(StageTest, EventsEmittedWithoutDemandAreBufferedThenDelivered) {
  auto producer = start_stage<Gated>(1000);
  cast(producer, Gated::Push{{7, 8, 9}});
  auto consumer = start_sink({});
  ASSERT_TRUE(stage::subscribe(consumer, producer, {.max_demand = 2, .min_demand = 0}).ok());
  ASSERT_TRUE(eventually([&] { return tally->consumed.load() == 3; }));
  std::lock_guard g(tally->m);
  EXPECT_EQ(tally->received[0], (std::vector<long>{7, 8, 9}));
}

TEST_F(StageTest, FullBufferDropsTheOldestEvents) {
  auto r = stage::start<Gated>(runtime, {.buffer_size = 3}, 1000L);
  ASSERT_TRUE(r.ok());
  cast(*r, Gated::Push{{1, 2, 3, 4, 5}});
  auto consumer = start_sink({});
  ASSERT_TRUE(stage::subscribe(consumer, *r).ok());
  ASSERT_TRUE(eventually([&] { return tally->consumed.load() == 3; }));
  std::lock_guard g(tally->m);
  EXPECT_EQ(tally->received[0], (std::vector<long>{3, 4, 5}));
}

TEST_F(StageTest, PermanentConsumerExitsWithItsCrashedProducersReason) {
  auto producer = start_stage<Counter>(tally);
  auto consumer = start_sink({.record = false});
  ASSERT_TRUE(stage::subscribe(consumer, producer, {.max_demand = 10}).ok());
  cast(producer, Counter::Crash{});
  ASSERT_TRUE(consumer.pid().get()->await_exit(10s));
  EXPECT_EQ(consumer.pid().get()->exit_reason(), ExitReason::error("producer down"));
}

TEST_F(StageTest, TemporaryConsumerOutlivesItsProducer) {
  auto producer = start_stage<Counter>(tally);
  auto consumer = start_sink({.record = false});
  ASSERT_TRUE(
      stage::subscribe(consumer, producer, {.max_demand = 10, .cancel = stage::Cancel::temporary})
          .ok());
  cast(producer, Counter::Crash{});
  ASSERT_TRUE(producer.pid().get()->await_exit(10s));
  // Each subscribe is handled after the Downs queued before it: the crash's, then the
  // noproc of subscribing to the dead producer again.
  const stage::SubscribeOptions temporary{.cancel = stage::Cancel::temporary};
  ASSERT_TRUE(stage::subscribe(consumer, producer, temporary).ok());
  ASSERT_TRUE(stage::subscribe(consumer, producer, temporary).ok());
  EXPECT_TRUE(consumer.alive());
}

TEST_F(StageTest, TransientConsumerOutlivesANormalEndButNotACrash) {
  auto finite = start_stage<Counter>(tally, 10L);
  auto consumer = start_sink({.record = false});
  ASSERT_TRUE(
      stage::subscribe(consumer, finite, {.max_demand = 5, .cancel = stage::Cancel::transient})
          .ok());
  ASSERT_TRUE(finite.pid().get()->await_exit(10s));
  auto crashing = start_stage<Counter>(tally);
  ASSERT_TRUE(stage::subscribe(consumer, crashing, {.cancel = stage::Cancel::transient}).ok());
  EXPECT_TRUE(consumer.alive());  // the normal end was handled before this subscribe
  cast(crashing, Counter::Crash{});
  ASSERT_TRUE(consumer.pid().get()->await_exit(10s));
  EXPECT_EQ(consumer.pid().get()->exit_reason(), ExitReason::error("producer down"));
}

TEST_F(StageTest, SubscribingToADeadProducerEndsThePermanentConsumer) {
  auto producer = start_stage<Counter>(tally);
  cast(producer, Counter::Crash{});
  ASSERT_TRUE(producer.pid().get()->await_exit(10s));
  auto consumer = start_sink({.record = false});
  ASSERT_TRUE(stage::subscribe(consumer, producer).ok());
  ASSERT_TRUE(consumer.pid().get()->await_exit(10s));
  EXPECT_EQ(consumer.pid().get()->exit_reason(), ExitReason::noproc());
}

TEST_F(StageTest, ProducerDropsAConsumerThatExitsAndServesTheRest) {
  auto producer = start_stage<Counter>(tally);
  auto quitter = start_sink({.slot = 0});
  auto stayer = start_sink({.slot = 1});
  ASSERT_TRUE(stage::subscribe(quitter, producer, {.max_demand = 10}).ok());
  ASSERT_TRUE(stage::subscribe(stayer, producer, {.max_demand = 10}).ok());
  cast(quitter, Sink::Quit{});
  ASSERT_TRUE(quitter.pid().get()->await_exit(10s));
  auto seen_by_stayer = [&] {
    std::lock_guard g(tally->m);
    return tally->received[1].size();
  };
  const std::size_t before = seen_by_stayer();
  ASSERT_TRUE(eventually([&] { return seen_by_stayer() > before + 1000; }, 60s));
  EXPECT_TRUE(producer.alive());
}

TEST_F(StageTest, UserCallsAndCastsReachTheStagesObject) {
  auto producer = start_stage<Counter>(tally);
  auto n = call(producer, Counter::Stats{});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  auto consumer = start_sink({.record = false});
  ASSERT_TRUE(stage::subscribe(consumer, producer, {.max_demand = 10}).ok());
  ASSERT_TRUE(eventually([&] { return *call(producer, Counter::Stats{}) >= 100; }));
}

}  // namespace
}  // namespace rt::test
