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

#include "runtime/request.hpp"

namespace rt {

namespace detail {

template <class T, class Handler, class Executor>
class AsioCompletion final : public TimedCompletion<T> {
 public:
  AsioCompletion(Handler h, Executor ex, Runtime& rt)
      : TimedCompletion<T>(rt), handler_(std::move(h)), executor_(std::move(ex)) {}

 private:
  void deliver(CallResult<T> result) override {
    boost::asio::post(executor_, [h = std::move(handler_), r = std::move(result)]() mutable {
      std::move(h)(std::move(r));
    });
  }

  Handler handler_;
  Executor executor_;
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
        if (p == nullptr) {
          boost::asio::post(ex, [h = std::move(handler)]() mutable {
            std::move(h)(CallResult<R>(Err{CallError{CallError::Code::noproc, {}}}));
          });
          return;
        }
        Runtime& rt = p->runtime();
        detail::post_with_completion<Impl>(
            p, rt, std::move(request),
            std::make_unique<detail::AsioCompletion<R, H, Executor>>(std::move(handler), ex, rt),
            t);
      },
      token, std::move(executor), to, std::move(req), timeout);
}

}  // namespace rt
