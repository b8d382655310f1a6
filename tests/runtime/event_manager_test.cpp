#include "runtime/event_manager.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;
using testing_support::Inbox;

struct Ev {
  std::string text;
};

/// Records every event (and its terminate) as "<id>:<text>" in a shared inbox.
class Recorder : public EventHandler<Ev> {
 public:
  struct Count {
    using Reply = int;
  };
  struct Explode {
    using Reply = int;
  };

  Recorder(std::string id, std::shared_ptr<Inbox> inbox)
      : id_(std::move(id)), inbox_(std::move(inbox)) {}

  void handle_event(const Ev& e) override {
    if (e.text == "boom " + id_) throw std::runtime_error(id_ + " exploded");
    ++count_;
    inbox_->push(id_ + ":" + e.text);
  }
  void terminate(const ExitReason& why) override {
    inbox_->push(id_ + " terminate " + why.to_string());
  }

  int handle_call(const Count&) const { return count_; }
  int handle_call(const Explode&) { throw std::runtime_error("call exploded"); }

 private:
  std::string id_;
  std::shared_ptr<Inbox> inbox_;
  int count_ = 0;
};

/// Counts events without recording them (for the concurrency test).
class Counter : public EventHandler<Ev> {
 public:
  explicit Counter(std::shared_ptr<std::atomic<int>> n) : n_(std::move(n)) {}
  void handle_event(const Ev&) override { n_->fetch_add(1, std::memory_order_relaxed); }

 private:
  std::shared_ptr<std::atomic<int>> n_;
};

class EventManagerTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();

  EventManager<Ev> start_manager(EventManager<Ev>::Options opts = {}) {
    auto m = EventManager<Ev>::start(runtime, std::move(opts));
    EXPECT_TRUE(m.ok());
    return *m;
  }
  void add(const EventManager<Ev>& m, const std::string& id) {
    ASSERT_TRUE(m.add_handler(id, std::make_unique<Recorder>(id, inbox)).ok());
  }
};

TEST_F(EventManagerTest, NotifyReachesEveryHandlerInOrder) {
  auto m = start_manager();
  add(m, "a");
  add(m, "b");
  EXPECT_EQ(m.notify(Ev{"1"}), SendStatus::ok);
  EXPECT_EQ(m.notify(Ev{"2"}), SendStatus::ok);
  auto seen = inbox->wait_for(4);
  EXPECT_EQ(seen, (std::vector<std::string>{"a:1", "b:1", "a:2", "b:2"}));
}

TEST_F(EventManagerTest, SyncNotifyReturnsAfterEveryHandlerRan) {
  auto m = start_manager();
  auto n = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE(m.add_handler("c1", std::make_unique<Counter>(n)).ok());
  ASSERT_TRUE(m.add_handler("c2", std::make_unique<Counter>(n)).ok());
  for (int i = 0; i < 10; ++i) m.notify(Ev{"x"});
  ASSERT_TRUE(m.sync_notify(Ev{"last"}).ok());
  EXPECT_EQ(n->load(), 22);  // no waiting: every earlier event and this one were handled
}

TEST_F(EventManagerTest, CrashingHandlerIsRemovedAndReportedWhileTheManagerAndOthersLive) {
  std::mutex m_removed;
  std::vector<std::string> removed;
  EventManager<Ev>::Options opts;
  opts.on_handler_removed = [&](const std::string& id, const ExitReason& why) {
    std::lock_guard g(m_removed);
    removed.push_back(id + " " + why.to_string());
  };
  auto m = start_manager(std::move(opts));
  add(m, "a");
  add(m, "b");
  add(m, "c");
  ASSERT_TRUE(m.sync_notify(Ev{"boom b"}).ok());
  ASSERT_TRUE(m.sync_notify(Ev{"after"}).ok());
  EXPECT_TRUE(m.alive());
  auto ids = m.which_handlers();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(inbox->items(),
            (std::vector<std::string>{"a:boom b", "b terminate {error,\"b exploded\"}", "c:boom b",
                                      "a:after", "c:after"}));
  std::lock_guard g(m_removed);
  EXPECT_EQ(removed, (std::vector<std::string>{"b {error,\"b exploded\"}"}));
}

TEST_F(EventManagerTest, ThrowingRemovalCallbackDoesNotCrashTheManager) {
  EventManager<Ev>::Options opts;
  opts.on_handler_removed = [](const std::string&, const ExitReason&) {
    throw std::runtime_error("callback broke");
  };
  auto m = start_manager(std::move(opts));
  add(m, "a");
  ASSERT_TRUE(m.sync_notify(Ev{"boom a"}).ok());
  EXPECT_TRUE(m.alive());
  EXPECT_TRUE(m.which_handlers()->empty());
}

TEST_F(EventManagerTest, RemoveHandlerRunsTerminateWithNormal) {
  auto m = start_manager();
  add(m, "a");
  ASSERT_TRUE(m.remove_handler("a").ok());
  EXPECT_EQ(inbox->items(), (std::vector<std::string>{"a terminate normal"}));
  auto again = m.remove_handler("a");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, EventError::Code::not_found);
}

TEST_F(EventManagerTest, AddingAnIdTwiceIsAnError) {
  auto m = start_manager();
  add(m, "a");
  auto r = m.add_handler("a", std::make_unique<Recorder>("a", inbox));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EventError::Code::already_added);
  EXPECT_EQ(m.which_handlers()->size(), 1u);
}

TEST_F(EventManagerTest, CallReachesOneHandlerById) {
  auto m = start_manager();
  add(m, "a");
  add(m, "b");
  ASSERT_TRUE(m.sync_notify(Ev{"1"}).ok());
  ASSERT_TRUE(m.remove_handler("b").ok());
  add(m, "b");
  auto a = m.call<Recorder>("a", Recorder::Count{});
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(*a, 1);
  auto b = m.call<Recorder>("b", Recorder::Count{});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, 0);
}

TEST_F(EventManagerTest, CallErrorsAreValues) {
  auto m = start_manager();
  auto n = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE(m.add_handler("counter", std::make_unique<Counter>(n)).ok());
  add(m, "a");
  auto missing = m.call<Recorder>("nobody", Recorder::Count{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, EventError::Code::not_found);
  auto wrong = m.call<Recorder>("counter", Recorder::Count{});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, EventError::Code::wrong_type);
  auto crashed = m.call<Recorder>("a", Recorder::Explode{});
  ASSERT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.error().code, EventError::Code::handler_crashed);
  EXPECT_EQ(crashed.error().detail, "call exploded");
  EXPECT_EQ(*m.which_handlers(), (std::vector<std::string>{"counter"}));
  EXPECT_TRUE(m.alive());
}

TEST_F(EventManagerTest, StopRunsEveryTerminateWithTheReason) {
  auto m = start_manager();
  add(m, "a");
  add(m, "b");
  ASSERT_TRUE(m.stop(ExitReason::shutdown()).ok());
  EXPECT_FALSE(m.alive());
  EXPECT_EQ(inbox->items(),
            (std::vector<std::string>{"a terminate shutdown", "b terminate shutdown"}));
  EXPECT_EQ(m.notify(Ev{"late"}), SendStatus::noproc);
  auto r = m.sync_notify(Ev{"late"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::noproc);
  auto add_late = m.add_handler("x", std::make_unique<Recorder>("x", inbox));
  ASSERT_FALSE(add_late.ok());
  EXPECT_EQ(add_late.error().code, EventError::Code::call_failed);
  EXPECT_EQ(add_late.error().call.code, CallError::Code::noproc);
}

TEST_F(EventManagerTest, NotifyFromManyThreadsReachesEveryHandlerOnce) {
  auto m = start_manager();
  auto n = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE(m.add_handler("c1", std::make_unique<Counter>(n)).ok());
  ASSERT_TRUE(m.add_handler("c2", std::make_unique<Counter>(n)).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) m.notify(Ev{"e"});
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(eventually([&] { return n->load() == 2000; }));
}

}  // namespace
}  // namespace rt::test
