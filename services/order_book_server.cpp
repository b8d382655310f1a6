#include "services/order_book_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "runtime/clock.hpp"

namespace services {

namespace {

// The answer to a call whose record is being made durable, sent by whichever
// comes second: the handler with its result, or the journal with its verdict
// (on its own thread). A record that failed answers `failed`, whatever the result.
template <class R>
class DurableReply {
 public:
  DurableReply(rt::From<R> from, R failed) : from_(std::move(from)), failed_(std::move(failed)) {}

  void result(R r) {
    std::unique_lock lock(mu_);
    result_ = std::move(r);
    if (durable_) answer(lock);
  }
  void durable(bool ok) {
    std::unique_lock lock(mu_);
    durable_ = ok;
    if (result_ || !ok) answer(lock);
  }

 private:
  void answer(std::unique_lock<std::mutex>& lock) {
    if (answered_) return;
    answered_ = true;
    R r = *durable_ ? std::move(*result_) : std::move(failed_);
    lock.unlock();
    (void)from_.reply(std::move(r));
  }

  std::mutex mu_;
  rt::From<R> from_;
  R failed_;
  std::optional<R> result_;
  std::optional<bool> durable_;
  bool answered_ = false;
};

}  // namespace

template <class R, class Rec, class F>
OrderBookServer::CallAction<R> OrderBookServer::durably(From<R>& from, const Rec& record, R refused,
                                                        F&& apply) {
  if (journals_ == nullptr) return reply(apply());
  if (refusing_) return reply(std::move(refused));
  auto answer = std::make_shared<DurableReply<R>>(from, refused);
  storage::JournalWriter::OnDurable done = [answer,
                                            failed = report_failure()](const storage::Status& s) {
    answer->durable(s.ok());
    if (!s) failed(s);
  };
  if (append(journal::encode(record), std::move(done))) return reply(std::move(refused));
  answer->result(apply());
  return noreply();
}

OrderBookServer::OrderBookServer(SymbolInfoPtr info, ContextPtr ctx)
    : info_(std::move(info)),
      ctx_(std::move(ctx)),
      metrics_(ctx_->metrics->symbol(info_->symbol)),
      state_(info_->spec, ctx_->order_ids->next_first_id(info_->symbol), ctx_->resting_orders.get(),
             this),
      journals_(ctx_->journals.get()) {}

void OrderBookServer::ReleaseOnExit::on_process_exit(rt::Process&) noexcept {
  server_.state_.release_resting();
}

OrderBookServer::Action OrderBookServer::init() {
  add_exit_hook(release_on_exit_);
  if (info().restarts > 0) {
    ctx_->events.notify({SystemEvent::Kind::process_restarted, info_->symbol,
                         std::string(restart_kind::order_book_server)});
  }
  if (journals_ != nullptr) {
    if (std::optional<std::string> failed = recover()) {
      return stop(rt::ExitReason::error("journal recovery: " + *failed));
    }
  }
  // The trade stream goes on from the recovered ticker (a handler started
  // after this asks for it).
  if (state_.ticker().seq > 0) to_feed(PriceFeedHandler::Resume{state_.ticker()});
  refresh_gauges();
  return ok();
}

// ---- events ---------------------------------------------------------------------

std::vector<EventFailure> OrderBookServer::apply_events(const journal::EventsRecord& rec) {
  std::vector<EventFailure> failures =
      state_.apply_events(rec.events, rec.receipt_ns, rec.max_orders_per_book);
  const bool refused_add = std::any_of(failures.begin(), failures.end(), [](const EventFailure& f) {
    return f.code == feeds::EventError::limit_exceeded;
  });
  // Counted per line by the caller; logged at most once a second per book.
  if (refused_add) {
    if (const std::int64_t now = rt::coarse_monotonic_ms(); now - last_limit_log_ms_ >= 1000) {
      last_limit_log_ms_ = now;
      spdlog::warn("book {}: an ingested add refused: {} resting orders (--max-orders-per-book)",
                   info_->symbol, book_.order_count());
    }
  }
  return failures;
}

OrderBookServer::Action OrderBookServer::handle_cast(Apply&& a) {
  journal::EventsRecord rec{std::move(a.events), a.receipt_ns, ctx_->limits.max_orders_per_book};
  if (journals_ != nullptr) {
    // Without a caller to tell, a refused batch is dropped: logged, at most once a second.
    std::optional<std::string> refused = refusing_;
    if (!refused) refused = append(journal::encode(rec), report_failure());
    if (refused) {
      if (const std::int64_t now = rt::coarse_monotonic_ms(); now - last_refusal_log_ms_ >= 1000) {
        last_refusal_log_ms_ = now;
        spdlog::warn("book {}: {} feed events dropped: {}", info_->symbol, rec.events.size(),
                     *refused);
      }
      return noreply();
    }
  }
  const std::vector<EventFailure> failures = apply_events(rec);
  for (const EventFailure& f : failures) {
    ctx_->metrics->ingest_rejects(feeds::to_string(f.code)).Increment();
  }
  if (!failures.empty()) {
    spdlog::debug("symbol={} rejected={} of {} events", info_->symbol, failures.size(),
                  rec.events.size());
  }
  flush();
  return noreply();
}

OrderBookServer::CallAction<std::vector<EventFailure>> OrderBookServer::handle_call(
    ApplyReport&& a, From<std::vector<EventFailure>>& from) {
  journal::EventsRecord rec{std::move(a.events), a.receipt_ns, ctx_->limits.max_orders_per_book};
  // Every line of a batch the journal did not take is unavailable, none applied.
  std::vector<EventFailure> unavailable;
  if (journals_ != nullptr) {
    unavailable.reserve(rec.events.size());
    const std::string why =
        fmt::format("symbol: '{}' is not taking changes (its journal cannot write)", info_->symbol);
    for (std::uint32_t i = 0; i < rec.events.size(); ++i) {
      unavailable.push_back(EventFailure{i, feeds::EventError::unavailable, why});
    }
  }
  return durably(from, rec, std::move(unavailable), [&] {
    std::vector<EventFailure> failures = apply_events(rec);
    flush();
    return failures;
  });
}

// ---- what every change does ------------------------------------------------------

namespace {
// How long after a whole second the candle timer fires.
constexpr std::int64_t kCandleTickLagMs = 2;
}  // namespace

void OrderBookServer::on_change(const ob::ChangeSet& c) {
  if (subscribers_.count(Channel::book) > 0) publish_book(c);
  if (c.top_changed && subscribers_.count(Channel::top) > 0) {
    subscribers_.publish(frame(Channel::top, Frame::Kind::update, c.seq, wire::top(*info_, top())));
  }
}

void OrderBookServer::refresh_gauges() {
  metrics_.bid_levels.Set(static_cast<double>(book_.level_count(ob::Side::buy)));
  metrics_.ask_levels.Set(static_cast<double>(book_.level_count(ob::Side::sell)));
  metrics_.bid_orders.Set(static_cast<double>(book_.order_count(ob::Side::buy)));
  metrics_.ask_orders.Set(static_cast<double>(book_.order_count(ob::Side::sell)));
}

template <class M>
void OrderBookServer::to_feed(M msg) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!feed_ || !feed_->alive()) {
      feed_.reset();
      if (std::optional<rt::Pid> pid = ctx_->feeds.whereis(info_->symbol)) {
        feed_ = rt::Ref<PriceFeedHandler>::from(*pid);
      }
      if (!feed_) return;  // restarting: the update is lost, as a send to a dead pid
    }
    if (rt::cast(*feed_, msg) != rt::SendStatus::noproc) return;
    feed_.reset();
  }
}
// order_book_recovery.cpp tells the feed handler of damage.
template void OrderBookServer::to_feed(PriceFeedHandler::JournalDamaged);

void OrderBookServer::flush() {
  BookState::Effects e = state_.take_effects();
  if (replaying_) return;  // told the first time
  if (journals_ != nullptr) maybe_snapshot();
  metrics_.orders.Increment(static_cast<double>(e.orders));
  metrics_.cancels.Increment(static_cast<double>(e.cancels));
  metrics_.trades.Increment(static_cast<double>(e.trades));
  if (e.seq_rejects > 0) metrics_.seq_rejects.Increment(static_cast<double>(e.seq_rejects));
  if (e.seq_gaps > 0) metrics_.seq_gaps.Increment(static_cast<double>(e.seq_gaps));
  if (!e.ticks.empty()) {
    to_feed(PriceFeedHandler::Ticks{std::move(e.ticks)});
    last_touch_ms_ = rt::coarse_monotonic_ms();
  } else if (e.touched) {
    // Trades already count as updates; other changes at most every touch_interval.
    const std::int64_t now = rt::coarse_monotonic_ms();
    if (now - last_touch_ms_ >= ctx_->timing.touch_interval.count()) {
      last_touch_ms_ = now;
      to_feed(PriceFeedHandler::Touch{});
    }
  }
  refresh_gauges();
}

FramePtr OrderBookServer::frame(Channel c, Frame::Kind k, std::uint64_t seq, std::string json,
                                std::uint64_t merged) const {
  return std::make_shared<const Frame>(Frame{c, k, seq, info_->symbol, std::move(json), merged});
}

void OrderBookServer::publish_book(const ob::ChangeSet& c) {
  for (BookGroup& g : book_groups_) {
    g.window.apply(book_, c.deltas, scratch_changes_);
    if (scratch_changes_.empty()) continue;  // beyond this window: the next frame merges it
    const std::uint64_t merged = c.seq - g.last_seq;
    g.last_seq = c.seq;
    const std::uint32_t checksum = g.window.checksum(info_->spec.book);
    publish_book(g, wire::book_update_frame(*info_, c.seq, scratch_changes_, checksum, merged));
  }
}

void OrderBookServer::publish_book(BookGroup& g, FramePtr update) {
  if (g.cap) {
    // Merged here once for every subscriber at this rate, not per session.
    const std::int64_t now = MaxRateStream::now_ns();
    update = g.cap->offer(std::move(update), now);
    if (!update) {
      if (!g.cap->timer_armed) arm_book_flush(g, now);
      return;
    }
  }
  subscribers_.publish_book(update, g.stream);
}

void OrderBookServer::arm_book_flush(BookGroup& g, std::int64_t now) {
  g.cap->timer_armed = true;
  // Rounded up to the timer's milliseconds: never before the period is over.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(
      std::chrono::nanoseconds(std::max<std::int64_t>(g.cap->due_ns() - now, 0)));
  rt::send_after(ref(), FlushBook{g.stream}, wait);
}

OrderBookServer::Action OrderBookServer::handle_info(const FlushBook& f) {
  auto g = std::find_if(book_groups_.begin(), book_groups_.end(),
                        [&](const BookGroup& b) { return b.stream == f.stream; });
  if (g == book_groups_.end() || !g->cap) return noreply();  // nobody left at that rate
  g->cap->timer_armed = false;
  if (!g->cap->holding()) return noreply();
  const std::int64_t now = MaxRateStream::now_ns();
  if (now < g->cap->due_ns()) {
    arm_book_flush(*g, now);
    return noreply();
  }
  subscribers_.publish_book(g->cap->take(*info_, now), g->stream);
  return noreply();
}

FramePtr OrderBookServer::book_snapshot(BookStream stream) {
  auto it = std::find_if(book_groups_.begin(), book_groups_.end(),
                         [&](const BookGroup& g) { return g.stream == stream; });
  if (it == book_groups_.end()) {
    it = book_groups_.insert(book_groups_.end(),
                             BookGroup{stream, BookWindow(book_, stream.depth), book_.seq()});
    if (stream.max_hz != 0) it->cap.emplace(stream.max_hz);
  }
  BookGroup& g = *it;
  const std::uint64_t seq = book_.seq();
  if (g.last_seq < seq) {
    // Changes beyond the window since the members' last frame: an update with
    // no changes covers them, so the newcomer's updates and theirs can share
    // frames (and `merged` counts) from here on. The newcomer, if already a
    // member, drops it as older than its snapshot.
    const std::uint64_t merged = seq - g.last_seq;
    g.last_seq = seq;
    publish_book(
        g, wire::book_update_frame(*info_, seq, {}, g.window.checksum(info_->spec.book), merged));
  }
  if (g.cap && g.cap->holding()) {
    // The members, too, must be at `seq` before the newcomer's first update:
    // what their cap holds goes now (one frame early, once per subscribe).
    subscribers_.publish_book(g.cap->take(*info_, MaxRateStream::now_ns()), g.stream);
  }
  if (!g.snapshot || g.snapshot->seq != seq) {
    g.snapshot = frame(
        Channel::book, Frame::Kind::snapshot, seq,
        wire::book_snapshot(*info_, seq, g.window.levels(ob::Side::buy),
                            g.window.levels(ob::Side::sell), g.window.checksum(info_->spec.book)));
  }
  return g.snapshot;
}

void OrderBookServer::prune_book_groups() {
  std::erase_if(book_groups_,
                [&](const BookGroup& g) { return subscribers_.book_count(g.stream) == 0; });
}

wire::Top OrderBookServer::top() const {
  return wire::Top{book_.seq(), book_.best(ob::Side::buy), book_.best(ob::Side::sell),
                   state_.top_ts_ns()};
}

// ---- API orders --------------------------------------------------------------------

OrderBookServer::CallAction<ob::Result<OrderReport>> OrderBookServer::handle_call(
    const PlaceOrder& p, From<ob::Result<OrderReport>>& from) {
  using R = ob::Result<OrderReport>;
  if (book_.mode() != ob::Mode::venue) return reply(R(ob::ErrorCode::mode_mismatch));
  const OrderRequest& o = p.order;
  // A repeat after a timeout (API.md "Timeouts"): the first order, not a second.
  if (const BookState::ClientOrder* first = state_.remembered_order(o.owner, o.client_order_id)) {
    if (!first->fields.same_order(o)) return reply(R(ob::ErrorCode::duplicate_order));
    OrderReport again = first->last;
    // Still resting: its fills since then show in the book's current view.
    if (std::optional<ob::OrderId> id = state_.find_api_order(again.order_id, o.owner)) {
      const R now = state_.report(*id);
      again.status = now->status;
      again.filled = now->filled;
      again.remaining = now->remaining;
    }
    again.repeated = true;
    return reply(R(std::move(again)));
  }
  // Only a gtc limit order may rest: it is the one the resting limits refuse
  // (conservatively, even one that would fill at once), and it reserves its
  // owner's count until it leaves. These checks depend on configuration and
  // on other books, so they come before the journal, which a replay trusts.
  const bool may_rest = o.type == ob::OrderType::limit && o.tif == ob::TimeInForce::gtc;
  const SymbolLimits& limits = ctx_->limits;
  if (may_rest && book_.order_count() >= limits.max_orders_per_book) {
    return reply(R(ob::ErrorCode::limit_exceeded));
  }
  if (may_rest && !ctx_->resting_orders->try_reserve(o.owner, limits.max_orders_per_owner)) {
    return reply(R(ob::ErrorCode::limit_exceeded));
  }
  const journal::OrderRecord rec{o, wall_clock_ns()};
  bool placed = false;
  auto answer = durably(from, rec, R(ob::ErrorCode::unavailable), [&] {
    placed = true;
    R r = state_.place(rec.order, rec.ts_ns);
    flush();
    return r;
  });
  if (!placed && may_rest) ctx_->resting_orders->release(o.owner);  // refused by the journal
  return answer;
}

OrderBookServer::CallAction<ob::Result<OrderReport>> OrderBookServer::handle_call(
    const GetOrder& g, From<ob::Result<OrderReport>>&) {
  std::optional<ob::OrderId> id = state_.find_api_order(g.order_id, g.owner);
  if (!id) return reply(ob::Result<OrderReport>(ob::ErrorCode::unknown_order));
  return reply(state_.report(*id));
}

OrderBookServer::CallAction<ob::Result<OrderReport>> OrderBookServer::handle_call(
    const CancelOrder& c, From<ob::Result<OrderReport>>& from) {
  using R = ob::Result<OrderReport>;
  // The mode first: a mirror's orders are the venue's, and a DELETE must not
  // make the mirror diverge (a later execute would be rejected).
  if (book_.mode() != ob::Mode::venue) return reply(R(ob::ErrorCode::mode_mismatch));
  std::optional<ob::OrderId> id = state_.find_api_order(c.order_id, c.owner);
  if (!id) return reply(R(ob::ErrorCode::unknown_order));
  const journal::CancelRecord rec{c.order_id, c.owner, wall_clock_ns()};
  return durably(from, rec, R(ob::ErrorCode::unavailable), [&] {
    R r(state_.cancel(*id, rec.ts_ns));
    flush();
    return r;
  });
}

// ---- queries and subscriptions ------------------------------------------------------

OrderBookServer::CallAction<wire::Top> OrderBookServer::handle_call(const GetTop&,
                                                                    From<wire::Top>&) {
  return reply(top());
}

OrderBookServer::CallAction<std::string> OrderBookServer::handle_call(const Dump&,
                                                                      From<std::string>&) {
  return reply(encode(state_.snapshot()));
}

OrderBookServer::CallAction<Depth> OrderBookServer::handle_call(const GetDepth& g, From<Depth>&) {
  return reply(state_.depth(g.levels));
}

OrderBookServer::CallAction<OrderBookServer::GetCandles::Reply> OrderBookServer::handle_call(
    const GetCandles& g, From<GetCandles::Reply>&) {
  const CandleSeries& series = state_.candles().series(g.interval);
  return reply(
      GetCandles::Reply{series.range(g.from_ns, g.to_ns, g.limit), series.holds_since(g.from_ns)});
}

OrderBookServer::CallAction<std::vector<TradeRecord>> OrderBookServer::handle_call(
    const GetTrades& g, From<std::vector<TradeRecord>>&) {
  return reply(state_.recent_trades().newest(g.limit));
}

OrderBookServer::CallAction<Subscribed> OrderBookServer::handle_call(const Subscribe& s,
                                                                     From<Subscribed>&) {
  const Channels wanted = s.channels & (Channels{Channel::top, Channel::book} | kCandleChannels);
  // Callers validate the depth; the clamp keeps this turn bounded regardless.
  const BookStream stream{std::clamp(s.book.depth, kMinBookDepth, kMaxBookDepth),
                          std::min(s.book.max_hz, kMaxMaxHz)};
  FramePtr snapshot = wanted.has(Channel::book) ? book_snapshot(stream) : nullptr;
  subscribers_.add(*this, s.who, wanted, stream);
  prune_book_groups();  // a new depth may have emptied the subscriber's old group
  Subscribed answer;
  if (wanted.has(Channel::top)) {
    answer.current.push_back(
        frame(Channel::top, Frame::Kind::snapshot, book_.seq(), wire::top(*info_, top())));
  }
  if (snapshot) answer.current.push_back(std::move(snapshot));
  if (!(wanted & kCandleChannels).empty()) {
    const std::int64_t now = wall_clock_ns();
    for (std::size_t i = 0; i < kCandleIntervals.size(); ++i) {
      if (!wanted.has(candle_channel(i))) continue;
      if (auto c = CandleFeed::current(state_.candles(), i, now)) {
        answer.current.push_back(candle_frame(*c, Frame::Kind::snapshot));
      }
    }
    arm_candle_tick();
  }
  return reply(std::move(answer));
}

FramePtr OrderBookServer::candle_frame(const CandleFeed::Due& due, Frame::Kind k) const {
  return frame(candle_channel(due.interval), k, state_.ticker().seq,
               wire::candle(*info_, kCandleIntervals[due.interval], due.candle, due.closed));
}

Channels OrderBookServer::followed_candles() const {
  Channels followed;
  for (std::size_t i = 0; i < kCandleIntervals.size(); ++i) {
    if (subscribers_.count(candle_channel(i)) > 0) followed.add(candle_channel(i));
  }
  return followed;
}

void OrderBookServer::arm_candle_tick() {
  if (candle_tick_armed_) return;
  candle_tick_armed_ = true;
  // Just past the next whole second: a closing candle goes out as its interval ends.
  constexpr std::int64_t kSecondNs = 1'000'000'000;
  const std::int64_t to_next = kSecondNs - wall_clock_ns() % kSecondNs;
  rt::send_after(ref(), CandleTick{},
                 std::chrono::milliseconds(to_next / 1'000'000 + kCandleTickLagMs));
}

OrderBookServer::Action OrderBookServer::handle_info(const CandleTick&) {
  candle_tick_armed_ = false;
  const Channels followed = followed_candles();
  scratch_due_.clear();
  candle_feed_.tick(state_.candles(), followed, wall_clock_ns(), scratch_due_);
  for (const CandleFeed::Due& due : scratch_due_) {
    subscribers_.publish(candle_frame(due, Frame::Kind::update));
  }
  if (!followed.empty()) arm_candle_tick();
  return noreply();
}

OrderBookServer::Action OrderBookServer::handle_cast(const SendTicker&) {
  to_feed(PriceFeedHandler::Resume{state_.ticker()});
  return noreply();
}

OrderBookServer::Action OrderBookServer::handle_cast(const Unsubscribe& u) {
  subscribers_.remove(*this, u.who, u.channels);
  prune_book_groups();
  return noreply();
}

OrderBookServer::Action OrderBookServer::handle_info(const rt::Down& d) {
  if (subscribers_.on_down(d)) prune_book_groups();
  return noreply();
}

}  // namespace services
