#include "runtime/asio_call.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

#include "tests/runtime/probe_server.hpp"

namespace rt::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class AsioCallTest : public ::testing::Test {
 protected:
  asio::io_context io;  // first: it must outlive the runtime's threads that post to it
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};

  // Runs the io_context until `done` holds (the handlers run on this thread).
  template <class Pred>
  void run_until(Pred done) {
    auto guard = asio::make_work_guard(io);
    while (!done()) io.run_one_for(std::chrono::seconds(10));
  }
};

TEST_F(AsioCallTest, ReplyArrivesOnTheExecutorWithoutBlocking) {
  auto p = *start<Probe>(runtime, {}, Probe::Config{});
  cast(p, Probe::Add{41});
  std::optional<CallResult<int>> got;
  std::thread::id handler_thread;
  async_call(io.get_executor(), p, Probe::AddCall{1}, 1000ms, [&](CallResult<int> r) {
    handler_thread = std::this_thread::get_id();
    got.emplace(std::move(r));
  });
  run_until([&] { return got.has_value(); });
  ASSERT_TRUE(got->ok());
  EXPECT_EQ(**got, 42);
  EXPECT_EQ(handler_thread, std::this_thread::get_id());  // ran on the io_context's thread
}

TEST_F(AsioCallTest, TimeoutIsReportedAndTheLateReplyDropped) {
  auto p = *start<Probe>(runtime, {}, Probe::Config{});
  std::optional<CallResult<int>> got;
  async_call(io.get_executor(), p, Probe::Defer{}, 20ms,
             [&](CallResult<int> r) { got.emplace(std::move(r)); });
  run_until([&] { return got.has_value(); });
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->error().code, CallError::Code::timeout);
  EXPECT_GE(runtime.stats().call_timeouts, 1u);
  cast(p, Probe::AnswerDeferred{9});  // too late: dropped, nothing runs twice
  auto after = call(p, Probe::Get{});
  EXPECT_TRUE(after.ok());
}

TEST_F(AsioCallTest, DeadServerIsNoproc) {
  auto p = *start<Probe>(runtime, {}, Probe::Config{});
  cast(p, Probe::StopWith{ExitReason::normal()});
  ASSERT_TRUE(testing_support::eventually([&] { return !p.alive(); }));
  std::optional<CallResult<int>> got;
  async_call(io.get_executor(), p, Probe::Get{}, 1000ms,
             [&](CallResult<int> r) { got.emplace(std::move(r)); });
  run_until([&] { return got.has_value(); });
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->error().code, CallError::Code::noproc);
}

TEST_F(AsioCallTest, WorksFromACoroutine) {
  auto p = *start<Probe>(runtime, {}, Probe::Config{});
  std::optional<int> total;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        int sum = 0;
        for (int i = 0; i < 100; ++i) {
          auto r = co_await async_call(io.get_executor(), p, Probe::AddCall{1}, 1000ms,
                                       asio::use_awaitable);
          if (r) sum = *r;
        }
        total = sum;
      },
      asio::detached);
  run_until([&] { return total.has_value(); });
  EXPECT_EQ(*total, 100);
}

}  // namespace
}  // namespace rt::test
