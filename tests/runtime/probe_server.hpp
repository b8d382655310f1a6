#pragma once
// A crash-dummy GenServer for runtime tests: every message kind the runtime
// must handle, each reporting what it saw to a shared Inbox.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "runtime/gen_server.hpp"
#include "tests/support/eventually.hpp"

namespace rt::test {

class Probe : public GenServer<Probe> {
 public:
  struct Config {
    std::shared_ptr<testing_support::Inbox> inbox = std::make_shared<testing_support::Inbox>();
    bool fail_init = false;     // init throws
    bool stop_in_init = false;  // init returns stop
    bool ignore_in_init = false;
    std::optional<std::chrono::milliseconds> idle_timeout;
    bool continue_in_init = false;
    bool trap_exit = false;
    std::chrono::milliseconds terminate_sleep{0};
    std::string
        label;  // when set, init and terminate report "init <label>" / "terminate <label> ..."
  };

  struct Get {
    using Reply = int;
  };
  struct Add {
    int n;
  };
  struct AddCall {
    int n;
    using Reply = int;
  };
  struct Crash {};
  struct CrashInCall {
    using Reply = int;
  };
  struct StopWith {
    ExitReason reason;
  };
  struct StopWithReply {
    using Reply = int;
  };
  struct Sleep {
    std::chrono::milliseconds d;
    using Reply = Ok;
  };
  struct Defer {
    using Reply = int;
  };
  struct AnswerDeferred {
    int v;
  };
  struct ContinueThenGet {
    using Reply = int;
  };
  struct Later {
    int v;
  };
  struct LinkTo {
    Pid other;
    using Reply = Ok;
  };
  struct UnlinkFrom {
    Pid other;
    using Reply = Ok;
  };
  struct MonitorIt {
    Pid other;
    using Reply = std::uint64_t;
  };
  struct Demonitor {
    std::uint64_t ref;
    using Reply = bool;
  };
  struct Note {
    std::string text;
  };
  struct Step {
    int v;
  };
  struct Nap {
    std::chrono::milliseconds d;
  };  // cast: reports "napping", then sleeps

  explicit Probe(Config c) : cfg_(std::move(c)) {}

  Action init() {
    trap_exit(cfg_.trap_exit);
    if (!cfg_.label.empty()) cfg_.inbox->push("init " + cfg_.label);
    if (cfg_.fail_init) throw std::runtime_error("init exploded");
    if (cfg_.stop_in_init) return stop(ExitReason::shutdown("no config"));
    if (cfg_.ignore_in_init) return ignore();
    if (cfg_.continue_in_init) return continue_with(Step{100});
    if (cfg_.idle_timeout) return ok().with_timeout(*cfg_.idle_timeout);
    return ok();
  }

  CallAction<int> handle_call(const Get&, From<int>&) { return reply(value_); }
  CallAction<int> handle_call(const AddCall& a, From<int>&) { return reply(value_ += a.n); }
  CallAction<int> handle_call(const CrashInCall&, From<int>&) {
    throw std::runtime_error("crash in call");
  }
  CallAction<int> handle_call(const StopWithReply&, From<int>&) {
    return stop(ExitReason::normal(), 7);
  }
  CallAction<Ok> handle_call(const Sleep& s, From<Ok>&) {
    std::this_thread::sleep_for(s.d);
    return reply(Ok{});
  }
  CallAction<int> handle_call(const Defer&, From<int>& from) {
    deferred_ = from;
    return noreply();
  }
  CallAction<int> handle_call(const ContinueThenGet&, From<int>&) {
    return reply(value_).then(continue_with(Step{1}));
  }
  CallAction<Ok> handle_call(const LinkTo& l, From<Ok>&) {
    link(l.other);
    return reply(Ok{});
  }
  CallAction<Ok> handle_call(const UnlinkFrom& u, From<Ok>&) {
    unlink(u.other);
    return reply(Ok{});
  }
  CallAction<std::uint64_t> handle_call(const MonitorIt& m, From<std::uint64_t>&) {
    return reply(monitor(m.other).id);
  }
  CallAction<bool> handle_call(const Demonitor& d, From<bool>&) {
    return reply(demonitor(MonitorRef{d.ref}));
  }

  Action handle_cast(const Add& a) {
    value_ += a.n;
    return noreply();
  }
  Action handle_cast(const Crash&) { throw std::runtime_error("boom"); }
  Action handle_cast(const StopWith& s) { return stop(s.reason); }
  Action handle_cast(const AnswerDeferred& a) {
    deferred_.reply(a.v);
    return noreply();
  }
  Action handle_cast(const Nap& n) {
    cfg_.inbox->push("napping");
    std::this_thread::sleep_for(n.d);
    return noreply();
  }
  Action handle_cast(const Note& n) {
    cfg_.inbox->push(n.text);
    return noreply();
  }

  Action handle_continue(const Step& s) {
    value_ += s.v;
    cfg_.inbox->push("continue " + std::to_string(s.v));
    return noreply();
  }

  Action handle_info(const Later& l) {
    cfg_.inbox->push("later " + std::to_string(l.v));
    return noreply();
  }
  Action handle_info(const Down& d) {
    cfg_.inbox->push("down " + std::to_string(d.ref.id) + " " + d.reason.to_string());
    return noreply();
  }
  Action handle_info(const ExitSignal& e) {
    cfg_.inbox->push("exit " + e.reason.to_string());
    return noreply();
  }
  Action handle_info(const Timeout&) {
    cfg_.inbox->push("timeout");
    return noreply();
  }

  void terminate(const ExitReason& reason) {
    if (cfg_.terminate_sleep.count() > 0) std::this_thread::sleep_for(cfg_.terminate_sleep);
    cfg_.inbox->push(cfg_.label.empty() ? "terminate " + reason.to_string()
                                        : "terminate " + cfg_.label + " " + reason.to_string());
  }

 private:
  Config cfg_;
  int value_ = 0;
  From<int> deferred_;
};

}  // namespace rt::test
