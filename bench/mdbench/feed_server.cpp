#include "bench/mdbench/feed_server.hpp"

#include <stdexcept>

#include "runtime/clock.hpp"

namespace mdbench {

namespace {
std::int64_t monotonic_ms() {
  return rt::coarse_monotonic_ms();
}
constexpr std::chrono::milliseconds kHeartbeat{1000};
constexpr std::int64_t kStaleMs = 5000;
}  // namespace

FeedServer::Action FeedServer::init() {
  last_update_ms_ = monotonic_ms();
  rt::send_after(ref(), Heartbeat{}, kHeartbeat);
  return ok();
}

FeedServer::Action FeedServer::handle_cast(const PriceUpdate& u) {
  price_ = u.price;
  volume_ = u.volume;
  ++tick_count_;
  last_update_ms_ = monotonic_ms();
  stale_ = false;
  const Tick tick{price_, volume_, tick_count_};
  for (auto& [pid, sub] : subscribers_) rt::send(sub.first, tick);
  return noreply();
}

FeedServer::Action FeedServer::handle_cast(const Boom&) {
  throw std::runtime_error("boom");
}

FeedServer::CallAction<rt::Ok> FeedServer::handle_call(const Subscribe& s, rt::From<rt::Ok>&) {
  subscribers_.emplace(s.who.pid(), std::pair{s.who, monitor(s.who.pid())});
  return reply(rt::Ok{});
}

FeedServer::Action FeedServer::handle_info(const rt::Down& d) {
  subscribers_.erase(d.pid);
  return noreply();
}

FeedServer::Action FeedServer::handle_info(const Heartbeat&) {
  if (!stale_ && monotonic_ms() - last_update_ms_ >= kStaleMs) stale_ = true;
  rt::send_after(ref(), Heartbeat{}, kHeartbeat);
  return noreply();
}

}  // namespace mdbench
