#include "runtime/request.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/runtime/probe_server.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using testing_support::Inbox;

// Asks a Probe on request and writes down each Response as "<id> <value>" or
// "<id> error <code>".
class Requester : public GenServer<Requester> {
 public:
  template <class Req>
  struct Ask {
    Ref<Probe> to;
    Req req;
    std::chrono::milliseconds timeout = 5000ms;
    using Reply = std::uint64_t;
  };
  struct Ping {
    using Reply = Ok;
  };

  explicit Requester(std::shared_ptr<Inbox> inbox) : inbox_(std::move(inbox)) {}

  template <class Req>
  CallAction<std::uint64_t> handle_call(const Ask<Req>& a, From<std::uint64_t>&) {
    return reply(send_request(a.to, a.req, ref(), a.timeout).id);
  }
  CallAction<Ok> handle_call(const Ping&, From<Ok>&) { return reply(Ok{}); }
  Action handle_info(Response<Probe::Get>&& r) { return note(r); }
  Action handle_info(Response<Probe::Defer>&& r) { return note(r); }

 private:
  template <class R>
  Action note(const R& r) {
    std::string line = std::to_string(r.id.id) + ' ';
    line += r.result ? std::to_string(*r.result)
                     : "error " + std::to_string(static_cast<int>(r.result.error().code));
    inbox_->push(std::move(line));
    return noreply();
  }

  std::shared_ptr<Inbox> inbox_;
};

std::string error_line(std::uint64_t id, CallError::Code code) {
  return std::to_string(id) + " error " + std::to_string(static_cast<int>(code));
}

class RequestTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();
  Ref<Requester> requester = *start<Requester>(runtime, {}, inbox);
  Ref<Probe> probe = *start<Probe>(runtime, {}, Probe::Config{});
};

TEST_F(RequestTest, TheReplyArrivesAsAMessageWithItsId) {
  cast(probe, Probe::Add{42});
  auto id = call(requester, Requester::Ask<Probe::Get>{probe, {}});
  ASSERT_TRUE(id.ok());
  EXPECT_NE(*id, 0u);
  EXPECT_EQ(inbox->wait_for(1), std::vector<std::string>{std::to_string(*id) + " 42"});
}

TEST_F(RequestTest, TheRequesterKeepsServingWhileTheServerHasNotAnswered) {
  auto id = call(requester, Requester::Ask<Probe::Defer>{probe, {}});
  ASSERT_TRUE(id.ok());
  // A blocking call would hold the requester until the answer: it answers now.
  EXPECT_TRUE(call(requester, Requester::Ping{}, 1000ms).ok());
  EXPECT_EQ(inbox->size(), 0u);
  cast(probe, Probe::AnswerDeferred{7});
  EXPECT_EQ(inbox->wait_for(1), std::vector<std::string>{std::to_string(*id) + " 7"});
}

TEST_F(RequestTest, NoAnswerInTimeIsATimeoutAndTheLateReplyIsDropped) {
  auto id = call(requester, Requester::Ask<Probe::Defer>{probe, {}, 20ms});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(inbox->wait_for(1),
            std::vector<std::string>{error_line(*id, CallError::Code::timeout)});
  cast(probe, Probe::AnswerDeferred{9});
  ASSERT_TRUE(call(probe, Probe::Get{}).ok());  // the late answer has been given
  ASSERT_TRUE(call(requester, Requester::Ping{}).ok());
  EXPECT_EQ(inbox->size(), 1u);
  EXPECT_GE(runtime.stats().call_timeouts, 1u);
}

TEST_F(RequestTest, ADeadServerIsNoprocAndOneDyingBeforeItAnswersIsExited) {
  auto id = call(requester, Requester::Ask<Probe::Defer>{probe, {}});
  ASSERT_TRUE(id.ok());
  cast(probe, Probe::StopWith{ExitReason::shutdown("gone")});
  EXPECT_EQ(inbox->wait_for(1), std::vector<std::string>{error_line(*id, CallError::Code::exited)});
  ASSERT_TRUE(testing_support::eventually([&] { return !probe.alive(); }));
  auto later = call(requester, Requester::Ask<Probe::Get>{probe, {}});
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(inbox->wait_for(2).back(), error_line(*later, CallError::Code::noproc));
}

// The reason send_request exists: a thousand processes each waiting on a
// server that answers late keep no thread. With blocking calls, each would
// hold a worker or a spare thread until answered.
TEST_F(RequestTest, AThousandWaitingRequestersHoldNoThread) {
  constexpr int kRequesters = 1000;
  std::vector<Ref<Requester>> requesters;
  for (int i = 0; i < kRequesters; ++i) {
    requesters.push_back(*start<Requester>(runtime, {}, inbox));
  }
  std::vector<std::uint64_t> ids;
  for (auto& r : requesters) {
    auto id = call(r, Requester::Ask<Probe::Defer>{probe, {}});
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  EXPECT_EQ(runtime.scheduler().threads(), runtime.scheduler().workers());
  // Probe keeps the last deferred caller only: it answers that one; the
  // others end by their timeout — every request gets exactly one Response.
  cast(probe, Probe::AnswerDeferred{1});
  EXPECT_EQ(inbox->wait_for(1).size(), 1u);
  EXPECT_EQ(inbox->items().front(), std::to_string(ids.back()) + " 1");
}

}  // namespace
}  // namespace rt::test
