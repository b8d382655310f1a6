#pragma once
// send_request: a call whose reply arrives as a message (OTP's
// gen_server:send_request/4 with the reply matched in handle_info). A process
// that asks many servers at once, or asks one that may be slow, keeps its
// thread: no worker waits and no spare thread is started for it.
//
//   RequestId id = rt::send_request(book, Book::Subscribe{...}, ref());
//   ...
//   Action handle_info(rt::Response<Book::Subscribe>&& r);  // r.id == id
//
// Edge cases, as `call`: every request gets exactly one Response — the reply,
// or `timeout` after `timeout`, `noproc` (not alive), `exited` (died before
// replying), `overloaded` (its bounded mailbox was full). A reply after the
// timeout is dropped. A Response is a system message: a bounded mailbox never
// refuses it. If the requester has exited, the Response is dropped.
// Thread-safety: may be called from any thread; the Response reaches
// `reply_to` in order after anything the server sent it before replying.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

#include "runtime/gen_server.hpp"

namespace rt {

/// Names one request of send_request; unique within a Runtime (0 is none).
struct RequestId {
  std::uint64_t id = 0;
  friend bool operator==(RequestId, RequestId) = default;
  explicit operator bool() const { return id != 0; }
};

/// The answer to a send_request, delivered to the requester's handle_info.
template <class Req>
struct Response {
  RequestId id;
  CallResult<typename Req::Reply> result;
};

namespace detail {

/// A completion that owns its call's timeout timer: cancels it when the reply
/// wins, counts the timeout when the timer wins, then delivers the result.
template <class T>
class TimedCompletion : public Completion<T> {
 public:
  explicit TimedCompletion(Runtime& rt) : runtime_(rt) {}

  void set_timer(TimerRef t) { timer_.store(t.id, std::memory_order_release); }
  void complete(CallResult<T> result) final {
    if (!result && result.error().code == CallError::Code::timeout) {
      runtime_.count_call_timeout();
    } else if (std::uint64_t t = timer_.load(std::memory_order_acquire)) {
      runtime_.timers().cancel(TimerRef{t});
    }
    deliver(std::move(result));
  }

 protected:
  /// Hands the result on; runs once, on the thread that resolved the call.
  virtual void deliver(CallResult<T> result) = 0;

 private:
  Runtime& runtime_;
  std::atomic<std::uint64_t> timer_{0};
};

/// Posts a call whose result goes to `done` (by `timeout` at the latest),
/// never blocking: a post that fails completes at once.
template <class Impl, class Req>
void post_with_completion(Process* p, Runtime& rt, Req req,
                          std::unique_ptr<TimedCompletion<typename Req::Reply>> done,
                          std::chrono::milliseconds timeout) {
  using R = typename Req::Reply;
  ReplySlotPtr<R> slot(new ReplySlot<R>());  // owned by refcount
  auto* raw = done.get();
  slot->on_complete(std::move(done));
  if (p == nullptr) return slot->fail(CallError{CallError::Code::noproc, {}});
  switch (p->post(std::make_unique<CallEnvelope<Impl, Req>>(std::move(req), slot))) {
    case SendStatus::ok:
      break;
    case SendStatus::noproc:
      return slot->fail(CallError{CallError::Code::noproc, {}});
    case SendStatus::overloaded:
      return slot->fail(CallError{CallError::Code::overloaded, {}});
  }
  TimerRef timer = rt.timers().start(
      [slot] {
        slot->fail(CallError{CallError::Code::timeout, {}});
      },
      timeout);
  if (!slot->resolved()) {
    raw->set_timer(timer);  // else the completion already ran
  } else {
    rt.timers().cancel(timer);
  }
}

template <class Caller, class Req>
class ResponseCompletion final : public TimedCompletion<typename Req::Reply> {
 public:
  ResponseCompletion(Ref<Caller> to, RequestId id, Runtime& rt)
      : TimedCompletion<typename Req::Reply>(rt), to_(std::move(to)), id_(id) {}

 private:
  void deliver(CallResult<typename Req::Reply> result) override {
    if (Process* p = to_.pid().get()) {
      p->post(std::make_unique<InfoEnvelope<Caller, Response<Req>>>(
                  Response<Req>{id_, std::move(result)}),
              false);
    }
  }

  Ref<Caller> to_;
  RequestId id_;
};

}  // namespace detail

/// Posts `req` to `to`; its Response<Req> reaches `reply_to`'s handle_info.
template <class Impl, class Req, class Caller>
RequestId send_request(const Ref<Impl>& to, Req req, const Ref<Caller>& reply_to,
                       std::chrono::milliseconds timeout = kDefaultCallTimeout) {
  static_assert(detail::HasCall<Impl, Req>, "no handle_call clause for this request type");
  Process* requester = reply_to.pid().get();
  Process* p = to.pid().get();
  Runtime* rt = p != nullptr           ? &p->runtime()
                : requester != nullptr ? &requester->runtime()
                                       : nullptr;
  if (rt == nullptr) return {};  // neither is a process: nobody to answer, nobody to tell
  const RequestId id{rt->next_id()};
  detail::post_with_completion<Impl>(
      p, *rt, std::move(req),
      std::make_unique<detail::ResponseCompletion<Caller, Req>>(reply_to, id, *rt), timeout);
  return id;
}

}  // namespace rt
