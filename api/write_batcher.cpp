#include "api/write_batcher.hpp"

#include <boost/asio/post.hpp>

#include <utility>

namespace api {

namespace net = boost::asio;

std::shared_ptr<WriteBatcher> WriteBatcher::create(net::any_io_executor executor,
                                                   std::chrono::microseconds interval) {
  return std::make_shared<WriteBatcher>(Key{}, std::move(executor), interval);
}

WriteBatcher::WriteBatcher(Key, net::any_io_executor executor, std::chrono::microseconds interval)
    : executor_(executor), timer_(executor), interval_(interval) {}

void WriteBatcher::request(std::weak_ptr<Writer> writer) {
  bool arm = false;
  {
    std::lock_guard g(m_);
    waiting_.push_back(std::move(writer));
    arm = !std::exchange(armed_, true);
  }
  if (arm) net::post(executor_, [self = shared_from_this()] { self->arm(); });
}

void WriteBatcher::arm() {
  if (interval_.count() == 0) return run();
  timer_.expires_after(interval_);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->run(); });
}

void WriteBatcher::run() {
  {
    std::lock_guard g(m_);
    turn_.swap(waiting_);
    armed_ = false;
  }
  for (const std::weak_ptr<Writer>& w : turn_) {
    if (auto writer = w.lock()) writer->on_turn();
  }
  turn_.clear();
}

}  // namespace api
