// WriteBatcher: every request gets one turn, writers that asked together get
// their turns in one round, and a writer that is gone is skipped.
#include "api/write_batcher.hpp"

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "tests/support/eventually.hpp"

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using api::WriteBatcher;
using testing_support::eventually;

struct CountingWriter final : WriteBatcher::Writer {
  void on_turn() override {
    at = std::chrono::steady_clock::now();
    turns.fetch_add(1);  // publishes `at`
  }
  std::atomic<int> turns{0};
  std::chrono::steady_clock::time_point at;
};

class WriteBatcherTest : public ::testing::Test {
 protected:
  ~WriteBatcherTest() override {
    work_.reset();
    io.stop();
    thread_.join();
  }
  std::shared_ptr<WriteBatcher> make(std::chrono::microseconds interval) {
    return WriteBatcher::create(net::make_strand(io), interval);
  }
  net::io_context io;

 private:
  net::executor_work_guard<net::io_context::executor_type> work_{io.get_executor()};
  std::thread thread_{[this] { io.run(); }};
};

TEST_F(WriteBatcherTest, EveryRequestFromAnyThreadGetsExactlyOneTurn) {
  auto batcher = make(0us);
  std::vector<std::shared_ptr<CountingWriter>> writers;
  for (int i = 0; i < 64; ++i) writers.push_back(std::make_shared<CountingWriter>());
  constexpr int kRounds = 200;
  std::thread a([&] {
    for (int r = 0; r < kRounds; ++r) {
      for (int i = 0; i < 32; ++i) batcher->request(writers[i]);
    }
  });
  std::thread b([&] {
    for (int r = 0; r < kRounds; ++r) {
      for (int i = 32; i < 64; ++i) batcher->request(writers[i]);
    }
  });
  a.join();
  b.join();
  EXPECT_TRUE(eventually([&] {
    for (auto& w : writers) {
      if (w->turns.load() != kRounds) return false;
    }
    return true;
  }));
}

TEST_F(WriteBatcherTest, WritersThatAskTogetherShareOneRoundAfterTheInterval) {
  auto batcher = make(40ms);
  auto a = std::make_shared<CountingWriter>();
  auto b = std::make_shared<CountingWriter>();
  const auto asked = std::chrono::steady_clock::now();
  batcher->request(a);
  batcher->request(b);
  ASSERT_TRUE(eventually([&] { return a->turns.load() == 1 && b->turns.load() == 1; }));
  EXPECT_GE(a->at - asked, 40ms);                    // the frames had the interval to gather
  EXPECT_LT(std::chrono::abs(a->at - b->at), 20ms);  // one round (the next is 40 ms later)

  batcher->request(a);  // a later request opens a new round
  EXPECT_TRUE(eventually([&] { return a->turns.load() == 2; }));
  EXPECT_EQ(b->turns.load(), 1);
}

TEST_F(WriteBatcherTest, AWriterThatIsGoneIsSkipped) {
  auto batcher = make(1ms);
  auto gone = std::make_shared<CountingWriter>();
  auto stays = std::make_shared<CountingWriter>();
  batcher->request(gone);
  batcher->request(stays);
  std::weak_ptr<CountingWriter> watch = gone;
  gone.reset();
  EXPECT_TRUE(watch.expired());  // its turn must not touch it (ASan would say so)
  EXPECT_TRUE(eventually([&] { return stays->turns.load() == 1; }));
}

}  // namespace
