#pragma once
// async_call: `call` for event loops. The request is posted at once; the
// completion handler runs on `executor` with the CallResult (reply, timeout,
// noproc, exited, overloaded) — no thread ever blocks waiting. Works with any
// Asio completion token: callbacks, use_awaitable (coroutines), use_future.
//
//   auto r = co_await rt::async_call(ex, ref, Book::Top{}, 5s, asio::use_awaitable);
//
// Edge cases: a reply after the timeout is dropped. The executor's execution
// context must outlive the Runtime (stop the runtime first): completions are
// posted to it from the runtime's threads.
// Thread-safety: may be called from any thread.

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <utility>

#include "runtime/gen_server.hpp"

namespace rt {

namespace detail {

template <class T, class Handler, class Executor>
class AsioCompletion final : public Completion<T> {
 public:
  AsioCompletion(Handler h, Executor ex, Runtime& rt)
      : handler_(std::move(h)), executor_(std::move(ex)), runtime_(rt) {}

  void set_timer(TimerRef t) { timer_.store(t.id, std::memory_order_release); }

  void complete(CallResult<T> result) override {
    if (!result && result.error().code == CallError::Code::timeout) {
      runtime_.count_call_timeout();
    } else if (std::uint64_t t = timer_.load(std::memory_order_acquire)) {
      runtime_.timers().cancel(TimerRef{t});
    }
    boost::asio::post(executor_, [h = std::move(handler_), r = std::move(result)]() mutable {
      std::move(h)(std::move(r));
    });
  }

 private:
  Handler handler_;
  Executor executor_;
  Runtime& runtime_;
  std::atomic<std::uint64_t> timer_{0};
};

}  // namespace detail

/// Calls `to` without blocking; `token` receives CallResult<Req::Reply> on `executor`.
template <class Impl, class Req, class Executor, class Token>
auto async_call(Executor executor, const Ref<Impl>& to, Req req, std::chrono::milliseconds timeout,
                Token&& token) {
  using R = typename Req::Reply;
  return boost::asio::async_initiate<Token, void(CallResult<R>)>(
      [](auto handler, Executor ex, Ref<Impl> target, Req request, std::chrono::milliseconds t) {
        using H = decltype(handler);
        Process* p = target.pid().get();
        auto fail_now = [&](CallError::Code code) {
          boost::asio::post(ex, [h = std::move(handler), code]() mutable {
            std::move(h)(CallResult<R>(Err{CallError{code, {}}}));
          });
        };
        if (p == nullptr) return fail_now(CallError::Code::noproc);
        Runtime& rt = p->runtime();
        detail::ReplySlotPtr<R> slot(new detail::ReplySlot<R>());  // owned by refcount
        auto completion =
            std::make_unique<detail::AsioCompletion<R, H, Executor>>(std::move(handler), ex, rt);
        auto* raw = completion.get();
        slot->on_complete(std::move(completion));
        switch (p->post(std::make_unique<CallEnvelope<Impl, Req>>(std::move(request), slot))) {
          case SendStatus::ok:
            break;
          case SendStatus::noproc:
            slot->fail(CallError{CallError::Code::noproc, {}});
            return;
          case SendStatus::overloaded:
            slot->fail(CallError{CallError::Code::overloaded, {}});
            return;
        }
        TimerRef timer = rt.timers().start(
            [slot] {
              slot->fail(CallError{CallError::Code::timeout, {}});
            },
            t);
        if (!slot->resolved())
          raw->set_timer(timer);  // else the completion already ran
        else
          rt.timers().cancel(timer);
      },
      token, std::move(executor), to, std::move(req), timeout);
}

}  // namespace rt
