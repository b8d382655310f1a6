// The OTP promises an Erlang engineer relies on, each pinned where the runtime
// once broke it (docs/architecture.md, "OTP semantics", lists them all):
// call deadlines, callers released at the reply, no callback wedging a
// registry lock, `kill` reaching a blocked process at once, signal/message
// order from one sender, null pids, and crash logs that say what crashed.

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include "runtime/gen_server.hpp"
#include "runtime/registry.hpp"
#include "runtime/task.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing_support::eventually;
using testing_support::Inbox;

/// A server whose callbacks are closures the test hands it, so each scenario
/// reads top to bottom in its test.
class Actor : public GenServer<Actor> {
 public:
  /// Runs `fn` in handle_call and replies Ok.
  struct Run {
    std::function<void(Actor&)> fn;
    using Reply = Ok;
  };
  /// Runs `fn` in handle_call; `fn` replies through From (or not at all).
  struct RunWithFrom {
    std::function<void(Actor&, From<int>&)> fn;
    using Reply = int;
  };
  /// Replies `1`, then runs `after` as a continue.
  struct ReplyThen {
    std::function<void()> after;
    using Reply = int;
  };
  struct After {
    std::function<void()> fn;
  };
  struct Ping {
    using Reply = int;
  };
  struct Sleep {
    std::chrono::milliseconds d;
    using Reply = int;
  };
  /// A cast that runs `fn`.
  struct Do {
    std::function<void(Actor&)> fn;
  };
  /// Replies 7, then stops normally.
  struct StopWithReply {
    using Reply = int;
  };
  /// A cast whose handler throws; printable, so a crash log can render it.
  struct Explode {
    std::string detail;
  };

  explicit Actor(std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>(), bool trap = false)
      : inbox_(std::move(inbox)), trap_(trap) {}
  Action init() {
    trap_exit(trap_);
    return ok();
  }

  CallAction<Ok> handle_call(const Run& r, From<Ok>&) {
    r.fn(*this);
    return reply(Ok{});
  }
  CallAction<int> handle_call(const RunWithFrom& r, From<int>& from) {
    r.fn(*this, from);
    return noreply();
  }
  CallAction<int> handle_call(const ReplyThen& r, From<int>&) {
    return reply(1).then(continue_with(After{r.after}));
  }
  CallAction<int> handle_call(const Ping&, From<int>&) { return reply(1); }
  CallAction<int> handle_call(const Sleep& s, From<int>&) {
    std::this_thread::sleep_for(s.d);
    return reply(1);
  }
  CallAction<int> handle_call(const StopWithReply&, From<int>&) {
    return stop(ExitReason::normal(), 7);
  }
  Action handle_cast(const Do& d) {
    d.fn(*this);
    return noreply();
  }
  Action handle_cast(const Explode&) { throw std::runtime_error("exploded"); }
  Action handle_continue(const After& a) {
    a.fn();
    return noreply();
  }
  Action handle_info(const ExitSignal& e) {
    inbox_->push("EXIT " + e.reason.to_string());
    return noreply();
  }
  Action handle_info(const Down& d) {
    inbox_->push("DOWN " + d.reason.to_string());
    return noreply();
  }
  Action handle_cast(const std::string& note) {
    inbox_->push(note);
    return noreply();
  }

  Inbox& inbox() { return *inbox_; }

 private:
  std::shared_ptr<Inbox> inbox_;
  bool trap_;
};

std::int64_t ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

/// Runs `fn` on a thread of its own and fails (aborting the whole binary, so
/// a deadlock cannot hang CI) if it has not returned within `limit`.
void within(std::chrono::seconds limit, const std::function<void()>& fn, const char* what) {
  auto done = std::async(std::launch::async, fn);
  if (done.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "DEADLOCK: %s did not finish within %llds\n", what,
                 static_cast<long long>(limit.count()));
    std::abort();
  }
  done.get();
}

class OtpSemanticsTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};

  Ref<Actor> spawn(std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>(), bool trap = false,
                   StartOptions opts = {}) {
    auto r = start<Actor>(runtime, std::move(opts), std::move(inbox), trap);
    EXPECT_TRUE(r.ok());
    return *r;
  }
  /// Warms `server` up with calls from `client` (a server is run inline on its
  /// callers' threads only once it has answered calls quickly).
  void warm(const Ref<Actor>& client, const Ref<Actor>& server) {
    auto r = call(client, Actor::Run{[server](Actor&) {
                    for (int i = 0; i < 50; ++i) ASSERT_TRUE(call(server, Actor::Ping{}).ok());
                  }});
    ASSERT_TRUE(r.ok());
  }
};

// ---- 1. a call's timeout is a promise --------------------------------------------------

TEST_F(OtpSemanticsTest, ACallFromAProcessTimesOutOnTimeWhateverTheCalleeDoes) {
  auto client = spawn();
  auto server = spawn();
  warm(client, server);
  std::int64_t elapsed = -1;
  CallError::Code code{};
  ASSERT_TRUE(call(client, Actor::Run{[&](Actor&) {
                     const auto t0 = Clock::now();
                     auto r = call(server, Actor::Sleep{1000ms}, 100ms);
                     elapsed = ms_since(t0);
                     code = r ? CallError::Code::noproc : r.error().code;
                   }},
                   5s)
                  .ok());
  EXPECT_EQ(code, CallError::Code::timeout);
  EXPECT_GE(elapsed, 100);
  EXPECT_LT(elapsed, 600) << "the callee's 1 s handler held the caller";
}

TEST_F(OtpSemanticsTest, ACallFromAThreadTimesOutOnTime) {
  auto server = spawn();
  const auto t0 = Clock::now();
  auto r = call(server, Actor::Sleep{1000ms}, 100ms);
  const auto elapsed = ms_since(t0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, CallError::Code::timeout);
  EXPECT_LT(elapsed, 600);
}

TEST_F(OtpSemanticsTest, TaskAwaitFromAProcessTimesOutOnTime) {
  auto client = spawn();
  std::int64_t elapsed = -1;
  bool timed_out = false;
  ASSERT_TRUE(call(client, Actor::Run{[&](Actor&) {
                     auto t = task::async(runtime, [] {
                       std::this_thread::sleep_for(1000ms);
                       return 1;
                     });
                     const auto t0 = Clock::now();
                     auto r = task::await(t, 100ms);
                     elapsed = ms_since(t0);
                     timed_out = !r && r.error().code == TaskError::Code::timeout;
                     task::shutdown(t, 10ms);
                   }},
                   5s)
                  .ok());
  EXPECT_TRUE(timed_out);
  EXPECT_LT(elapsed, 600) << "the task body ran on the awaiting thread";
}

TEST_F(OtpSemanticsTest, TheDefaultCallTimeoutIsFiveSeconds) {
  EXPECT_EQ(kDefaultCallTimeout, 5000ms);
}

// ---- 2. once replied, the caller is free ------------------------------------------------

TEST_F(OtpSemanticsTest, AHandlerThatRepliesThenCallsBackItsCallerDoesNotDeadlock) {
  auto client = spawn();
  auto server = spawn();
  warm(client, server);
  for (int round = 0; round < 3; ++round) {
    std::atomic<int> callback = -1;
    std::int64_t elapsed = -1;
    ASSERT_TRUE(call(client, Actor::Run{[&](Actor& me) {
                       const auto t0 = Clock::now();
                       auto r = call(server,
                                     Actor::RunWithFrom{[&, c = me.ref()](Actor&, From<int>& from) {
                                       from.reply(5);
                                       auto back = call(c, Actor::Ping{}, 2s);
                                       callback = back ? *back : 0;
                                     }});
                       elapsed = ms_since(t0);
                       EXPECT_TRUE(r.ok() && *r == 5);
                     }},
                     10s)
                    .ok());
    EXPECT_LT(elapsed, 1000) << "round " << round << ": the caller was held past the reply";
    EXPECT_TRUE(eventually([&] { return callback.load() != -1; }));
    EXPECT_EQ(callback.load(), 1) << "round " << round << ": the call back timed out";
  }
}

TEST_F(OtpSemanticsTest, ReplyThenContinueReleasesTheCallerAtTheReply) {
  auto client = spawn();
  auto server = spawn();
  warm(client, server);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> continued = false;
  std::int64_t elapsed = -1;
  ASSERT_TRUE(call(client, Actor::Run{[&](Actor&) {
                     const auto t0 = Clock::now();
                     auto r = call(server, Actor::ReplyThen{[&, released] {
                                     // Holds until the caller has come back.
                                     released.wait_for(2s);
                                     continued = true;
                                   }});
                     elapsed = ms_since(t0);
                     EXPECT_TRUE(r.ok());
                     release.set_value();
                   }},
                   10s)
                  .ok());
  EXPECT_LT(elapsed, 1000) << "the continue ran before the caller got its reply";
  EXPECT_TRUE(eventually([&] { return continued.load(); }));
}

// ---- 3. no callback can wedge a lock ----------------------------------------------------

TEST_F(OtpSemanticsTest, ACallInsideDispatchToAServerThatExitsLeavesTheRegistryUsable) {
  Registry<std::string> reg({.keys = Registry<std::string>::Keys::unique, .partitions = 1});
  auto client = spawn();
  auto server = spawn(std::make_shared<Inbox>(), false, StartOptions{.register_as = reg.via("k")});
  warm(client, server);
  within(
      20s,
      [&] {
        auto r = call(client, Actor::Run{[&](Actor&) {
                        reg.dispatch(std::string("k"), [&](const auto& e) {
                          auto ref = Ref<Actor>::from(e.pid);
                          ASSERT_TRUE(ref);
                          auto stopped = call(*ref, Actor::StopWithReply{}, 2s);
                          EXPECT_TRUE(stopped.ok() && *stopped == 7);
                        });
                      }},
                      10s);
        EXPECT_TRUE(r.ok());
      },
      "a call inside Registry::dispatch");
  within(
      10s,
      [&] {
        EXPECT_TRUE(eventually([&] { return !reg.whereis(std::string("k")).has_value(); }));
        EXPECT_FALSE(reg.whereis(std::string("other")).has_value());
      },
      "a lookup after it");
}

TEST_F(OtpSemanticsTest, ACallInsideSelectToAServerThatRegistersLeavesTheRegistryUsable) {
  Registry<std::string> reg({.keys = Registry<std::string>::Keys::unique, .partitions = 1});
  auto client = spawn();
  auto server = spawn(std::make_shared<Inbox>(), false, StartOptions{.register_as = reg.via("k")});
  warm(client, server);
  within(
      20s,
      [&] {
        auto r =
            call(client, Actor::Run{[&](Actor&) {
                   auto all = reg.select([&](const std::string&, const auto& e) {
                     auto registered = call(
                         *Ref<Actor>::from(e.pid),
                         Actor::Run{[&](Actor&) { EXPECT_TRUE(reg.register_key("k2").ok()); }}, 2s);
                     EXPECT_TRUE(registered.ok());
                     return true;
                   });
                   EXPECT_EQ(all.size(), 1u);
                 }},
                 10s);
        EXPECT_TRUE(r.ok());
      },
      "a call inside Registry::select");
  within(
      10s, [&] { EXPECT_TRUE(reg.whereis(std::string("k2")).has_value()); }, "a lookup after it");
}

// ---- 7. kill is immediate -------------------------------------------------------------

TEST_F(OtpSemanticsTest, KillReachesAProcessBlockedInACallAtOnce) {
  auto client = spawn();
  auto server = spawn();
  std::atomic<bool> calling = false;
  cast(client, Actor::Do{[&, server](Actor&) {
         calling = true;
         (void)call(server, Actor::Sleep{1500ms}, 10s);
       }});
  ASSERT_TRUE(eventually([&] { return calling.load(); }));
  const auto t0 = Clock::now();
  exit(client.pid(), ExitReason::kill());
  EXPECT_TRUE(client.pid().get()->await_exit(1000ms));
  EXPECT_LT(ms_since(t0), 500);
  EXPECT_EQ(client.pid().get()->exit_reason(), ExitReason::killed());
}

TEST_F(OtpSemanticsTest, AnUntrappedExitSignalReachesAProcessBlockedInAnAwaitAtOnce) {
  auto client = spawn();
  std::atomic<bool> waiting = false;
  cast(client, Actor::Do{[&](Actor&) {
         auto t = task::async(runtime,
                              [] {
                                std::this_thread::sleep_for(1500ms);
                                return 1;
                              },
                              {.link = false});
         waiting = true;
         (void)task::await(t, 10s);
       }});
  ASSERT_TRUE(eventually([&] { return waiting.load(); }));
  const auto t0 = Clock::now();
  exit(client.pid(), ExitReason::shutdown("go"));
  EXPECT_TRUE(client.pid().get()->await_exit(1000ms));
  EXPECT_LT(ms_since(t0), 500);
  EXPECT_EQ(client.pid().get()->exit_reason(), ExitReason::shutdown("go"));
}

// ---- 8. signals and messages from one sender stay in order ------------------------------

TEST_F(OtpSemanticsTest, AnExitSignalThenACastReachATrappingProcessInThatOrder) {
  for (int round = 0; round < 200; ++round) {
    auto inbox = std::make_shared<Inbox>();
    auto b = spawn(inbox, /*trap=*/true);
    auto a = spawn();
    cast(a, Actor::Do{[b](Actor&) {
           exit(b.pid(), ExitReason::shutdown("first"));
           cast(b, std::string("second"));
         }});
    auto seen = inbox->wait_for(2, 5s);
    ASSERT_EQ(seen.size(), 2u);
    ASSERT_EQ(seen[0], "EXIT {shutdown,first}") << "round " << round;
    ASSERT_EQ(seen[1], "second") << "round " << round;
  }
}

// ---- 9. null pids --------------------------------------------------------------------

TEST_F(OtpSemanticsTest, MonitoringOrLinkingANullPidIsNoprocNeverACrash) {
  auto inbox = std::make_shared<Inbox>();
  auto p = spawn(inbox);
  ASSERT_TRUE(call(p, Actor::Run{[](Actor& me) {
                     me.monitor(Pid{});
                     me.link(Pid{});
                     me.unlink(Pid{});
                   }})
                  .ok());
  EXPECT_EQ(inbox->wait_for(1, 5s), std::vector<std::string>{"DOWN noproc"});
  // Monitor a null pid and exit in the same callback, before its Down is handled.
  auto q = spawn();
  cast(q, Actor::Do{[](Actor& me) {
         me.monitor(Pid{});
         exit(me.self(), ExitReason::kill());
       }});
  EXPECT_TRUE(q.pid().get()->await_exit(5000ms));
  exit(Pid{}, ExitReason::kill());
  EXPECT_FALSE(Ref<Actor>::from(Pid{}).has_value());
  EXPECT_EQ(call(Ref<Actor>{}, Actor::Ping{}).error().code, CallError::Code::noproc);
  EXPECT_EQ(cast(Ref<Actor>{}, std::string("x")), SendStatus::noproc);
  EXPECT_FALSE(Pid{}.alive());
}

// ---- 12. a crash log says what crashed ---------------------------------------------------

}  // namespace
}  // namespace rt::test

template <>
struct fmt::formatter<rt::test::Actor::Explode> : fmt::formatter<std::string_view> {
  auto format(const rt::test::Actor::Explode& e, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "Explode{{detail={}}}", e.detail);
  }
};

namespace rt::test {
namespace {

TEST_F(OtpSemanticsTest, ACrashLogNamesTheProcessItsKeysTheMessageAndItsBoundedRendering) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  Registry<std::string> reg;
  auto p = spawn(std::make_shared<Inbox>(), false,
                 StartOptions{.name = "feed BTC-USD", .register_as = reg.via("BTC-USD")});
  cast(p, Actor::Explode{std::string(5000, 'x')});
  EXPECT_TRUE(p.pid().get()->await_exit(5000ms));
  spdlog::set_default_logger(previous);
  const std::string line = log.str();
  EXPECT_NE(line.find("feed BTC-USD"), std::string::npos) << line;
  EXPECT_NE(line.find("\"BTC-USD\""), std::string::npos) << line;
  EXPECT_NE(line.find("Actor::Explode"), std::string::npos) << line;
  EXPECT_NE(line.find("Explode{detail=xxxx"), std::string::npos) << line;
  EXPECT_NE(line.find(R"(: {error,"exploded"})"), std::string::npos) << line;
  EXPECT_LT(line.size(), 2000u) << "the rendering is bounded";
}

}  // namespace
}  // namespace rt::test
