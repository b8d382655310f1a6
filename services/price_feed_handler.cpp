#include "services/price_feed_handler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "runtime/clock.hpp"
#include "services/order_book_server.hpp"
#include "services/symbol_directory.hpp"
#include "services/ticker.hpp"

namespace services {

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

PriceFeedHandler::PriceFeedHandler(SymbolInfoPtr info, ContextPtr ctx)
    : info_(std::move(info)),
      ctx_(std::move(ctx)),
      metrics_(ctx_->metrics->symbol(info_->symbol)) {}

PriceFeedHandler::Action PriceFeedHandler::init() {
  if (info().restarts > 0) {
    ctx_->events.notify({SystemEvent::Kind::process_restarted, info_->symbol,
                         std::string(restart_kind::price_feed_handler)});
  }
  metrics_.stale.Set(0);
  // A book rebuilt from a damaged journal may lack what came after the
  // damage: the symbol starts stale (API.md "Durability"), whichever of the
  // book and this handler started first.
  if (ctx_->journals && ctx_->journals->damage.has(info_->symbol)) {
    transition(wire::FeedState::stale, 0);
  }
  // The ticker and trade seq a predecessor had: the book keeps them too.
  if (std::optional<BookHandle> book = find_book(*ctx_, info_->symbol)) {
    (void)rt::cast(book->server, OrderBookServer::SendTicker{});
  }
  rt::send_after(ref(), Heartbeat{}, ctx_->timing.heartbeat);
  return ok();
}

PriceFeedHandler::Action PriceFeedHandler::handle_cast(const Resume& r) {
  // Behind the book's ticker: this handler is new, or missed ticks while it
  // restarted. Never backwards: subscribers have seen this handler's seqs.
  if (r.ticker.seq <= ticker_.seq) return noreply();
  ticker_ = r.ticker;
  if (subscribers_.count(Channel::ticker) > 0) {
    subscribers_.publish(frame(Channel::ticker, ticker_.seq, wire::ticker(*info_, ticker_)));
  }
  return noreply();
}

PriceFeedHandler::Action PriceFeedHandler::handle_cast(const JournalDamaged&) {
  if (state_ != wire::FeedState::stale) {
    const std::int64_t age =
        state_ == wire::FeedState::idle ? 0 : rt::coarse_monotonic_ms() - last_update_ms_;
    transition(wire::FeedState::stale, age);
  }
  return noreply();
}

FramePtr PriceFeedHandler::frame(Channel c, std::uint64_t seq, std::string json) const {
  return std::make_shared<const Frame>(
      Frame{c, Frame::Kind::update, seq, info_->symbol, std::move(json)});
}

PriceFeedHandler::Action PriceFeedHandler::handle_cast(const Tick& t) {
  on_tick(t);
  return noreply();
}

PriceFeedHandler::Action PriceFeedHandler::handle_cast(const Ticks& t) {
  for (const Tick& tick : t.ticks) on_tick(tick);
  return noreply();
}

void PriceFeedHandler::on_tick(const Tick& t) {
  const std::int64_t ts = t.ts_ns != 0 ? t.ts_ns : wall_clock_ns();
  wire::Ticker& k = ticker_;
  add_trade(k, t, ts);
  metrics_.ticks.Increment();
  metrics_.last_update.Set(static_cast<double>(ts) / 1e9);
  if (subscribers_.count(Channel::trades) > 0) {
    subscribers_.publish(
        frame(Channel::trades, k.seq, wire::tick(*info_, k.seq, t.price, t.size, t.side, ts)));
  }
  if (subscribers_.count(Channel::ticker) > 0) {
    subscribers_.publish(frame(Channel::ticker, k.seq, wire::ticker(*info_, k)));
  }
  updated();
}

PriceFeedHandler::Action PriceFeedHandler::handle_cast(const Touch&) {
  metrics_.last_update.Set(static_cast<double>(wall_clock_ns()) / 1e9);
  updated();
  return noreply();
}

void PriceFeedHandler::updated() {
  last_update_ms_ = rt::coarse_monotonic_ms();
  if (state_ != wire::FeedState::live) transition(wire::FeedState::live, 0);
}

void PriceFeedHandler::transition(wire::FeedState to, std::int64_t age_ms) {
  state_ = to;
  metrics_.stale.Set(to == wire::FeedState::stale ? 1 : 0);
  FramePtr status = frame(Channel::status, 0, wire::status(*info_, to, age_ms));
  subscribers_.publish_to_all(status);
  ctx_->events.notify(
      {to == wire::FeedState::stale ? SystemEvent::Kind::feed_stale : SystemEvent::Kind::feed_live,
       info_->symbol, fmt::format("last_update_age_ms={}", age_ms)});
}

PriceFeedHandler::Action PriceFeedHandler::handle_info(const Heartbeat&) {
  if (state_ == wire::FeedState::live) {
    const std::int64_t age = rt::coarse_monotonic_ms() - last_update_ms_;
    if (age >= ctx_->timing.stale_after.count()) transition(wire::FeedState::stale, age);
  }
  rt::send_after(ref(), Heartbeat{}, ctx_->timing.heartbeat);
  return noreply();
}

PriceFeedHandler::CallAction<Subscribed> PriceFeedHandler::handle_call(const Subscribe& s,
                                                                       From<Subscribed>&) {
  Subscribed answer;
  if (removed_) {
    answer.current.push_back(removed_);  // too late: the symbol is going
    return reply(std::move(answer));
  }
  Channels wanted = s.channels & Channels{Channel::trades, Channel::ticker, Channel::status};
  subscribers_.add(*this, s.who, wanted);
  if (wanted.has(Channel::ticker)) {
    answer.current.push_back(frame(Channel::ticker, ticker_.seq, wire::ticker(*info_, ticker_)));
  }
  return reply(std::move(answer));
}

PriceFeedHandler::Action PriceFeedHandler::handle_cast(const Unsubscribe& u) {
  subscribers_.remove(*this, u.who, u.channels);
  return noreply();
}

PriceFeedHandler::Report PriceFeedHandler::report() const {
  Report r{ticker_, state_, std::nullopt, subscribers_.size()};
  if (state_ != wire::FeedState::idle)
    r.last_update_age_ms = rt::coarse_monotonic_ms() - last_update_ms_;
  return r;
}

PriceFeedHandler::CallAction<PriceFeedHandler::Report> PriceFeedHandler::handle_call(
    const GetTicker&, From<Report>&) {
  return reply(report());
}

PriceFeedHandler::CallAction<PriceFeedHandler::Report> PriceFeedHandler::handle_call(
    const Remove&, From<Report>&) {
  if (!removed_) {
    removed_ = std::make_shared<const Frame>(Frame{Channel::status, Frame::Kind::removed, 0,
                                                   info_->symbol, wire::symbol_removed(*info_)});
    subscribers_.publish_to_all(removed_);
  }
  return reply(report());
}

PriceFeedHandler::Action PriceFeedHandler::handle_info(const rt::Down& d) {
  subscribers_.on_down(d);
  return noreply();
}

}  // namespace services
