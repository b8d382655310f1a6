#include "services/order_book_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "runtime/clock.hpp"

namespace services {

namespace {

feeds::EventError to_event_error(ob::ErrorCode c) {
  switch (c) {
    case ob::ErrorCode::invalid_price:
      return feeds::EventError::invalid_price;
    case ob::ErrorCode::invalid_quantity:
      return feeds::EventError::invalid_quantity;
    case ob::ErrorCode::unknown_order:
      return feeds::EventError::unknown_order;
    case ob::ErrorCode::duplicate_order:
      return feeds::EventError::duplicate_order;
    case ob::ErrorCode::mode_mismatch:
      return feeds::EventError::mode_mismatch;
    case ob::ErrorCode::invalid_field:
      return feeds::EventError::invalid_field;
    case ob::ErrorCode::limit_exceeded:
      return feeds::EventError::limit_exceeded;
    case ob::ErrorCode::unavailable:
      return feeds::EventError::unavailable;
  }
  return feeds::EventError::invalid_field;
}

// The message of a rejected event: what went wrong with which field.
std::string describe(ob::ErrorCode c, const feeds::Event& e) {
  switch (c) {
    case ob::ErrorCode::unknown_order:
      return fmt::format("order_id: no resting order '{}'", e.order_id);
    case ob::ErrorCode::duplicate_order:
      return fmt::format("order_id: an order '{}' already rests",
                         e.type == feeds::EventType::replace ? e.new_order_id : e.order_id);
    case ob::ErrorCode::mode_mismatch:
      return fmt::format("type: a {} event does not fit this symbol's book mode",
                         feeds::to_string(e.type));
    case ob::ErrorCode::invalid_quantity:
      return "qty: not applicable to the order (zero, or more than it has)";
    case ob::ErrorCode::invalid_price:
      return "price: out of range";
    case ob::ErrorCode::invalid_field:
      return "order_id: must not be empty";
    case ob::ErrorCode::limit_exceeded:
      return "order_id: the book already rests its maximum of orders (--max-orders-per-book)";
    case ob::ErrorCode::unavailable:
      return "the book is not taking changes (its journal cannot write)";
  }
  return "rejected";
}

}  // namespace

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
      book_(info_->spec.mode, 0, ctx_->order_ids->next_first_id(info_->symbol)),
      journals_(ctx_->journals.get()) {}

void OrderBookServer::ReleaseOnExit::on_process_exit(rt::Process&) noexcept {
  for (const auto& [id, o] : server_.api_orders_) server_.ctx_->resting_orders->release(o.owner);
  server_.api_orders_.clear();
}

void OrderBookServer::forget_api_order(std::uint64_t id, const OrderReport* last) {
  auto it = api_orders_.find(id);
  if (it == api_orders_.end()) return;
  const ApiOrder& o = it->second;
  if (ClientOrder* c = remembered_order(o.owner, o.client_order_id)) {
    if (last != nullptr) {
      c->last = *last;
    } else {  // left by its last fill
      c->last.status = ob::OrderStatus::filled;
      c->last.filled = o.qty;
      c->last.remaining = ob::Qty(0);
    }
  }
  ctx_->resting_orders->release(o.owner);
  api_orders_.erase(it);
}

namespace {

std::string client_order_key(std::string_view owner, std::string_view client_order_id) {
  std::string key;
  key.reserve(owner.size() + 1 + client_order_id.size());
  key.append(owner).append(1, '\n').append(client_order_id);
  return key;
}

}  // namespace

OrderBookServer::ClientOrder* OrderBookServer::remembered_order(std::string_view owner,
                                                                std::string_view client_order_id) {
  if (client_order_id.empty()) return nullptr;
  auto it = client_orders_.find(client_order_key(owner, client_order_id));
  return it == client_orders_.end() ? nullptr : &it->second;
}

void OrderBookServer::remember_order(const std::string& owner, const OrderRequest& o,
                                     const OrderReport& rep) {
  if (o.client_order_id.empty()) return;
  std::string key = client_order_key(owner, o.client_order_id);
  if (!client_orders_.emplace(key, ClientOrder{o, rep}).second) return;
  client_order_age_.push_back(std::move(key));
  if (client_order_age_.size() > kClientOrdersRemembered) {
    client_orders_.erase(client_order_age_.front());
    client_order_age_.pop_front();
  }
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
  refresh_gauges();
  return ok();
}

// ---- events ---------------------------------------------------------------------

std::optional<EventFailure> OrderBookServer::apply_one(const feeds::Event& e,
                                                       std::int64_t receipt_ns,
                                                       std::size_t max_orders) {
  using feeds::EventType;
  const std::int64_t ts = e.ts_ns != 0 ? e.ts_ns : receipt_ns;
  auto failed = [&](ob::ErrorCode c) {
    return std::optional(EventFailure{0, to_event_error(c), describe(c, e)});
  };
  if (e.type == EventType::tick) {
    // The upstream seq is judged here, where the verdict reaches the caller.
    if (e.upstream_seq != 0) {
      if (e.upstream_seq <= last_upstream_seq_) {
        metrics_.seq_rejects.Increment();
        return EventFailure{0, feeds::EventError::stale_seq,
                            fmt::format("seq: {} is not greater than the last applied {}",
                                        e.upstream_seq, last_upstream_seq_)};
      }
      if (last_upstream_seq_ != 0 && e.upstream_seq > last_upstream_seq_ + 1) {
        metrics_.seq_gaps.Increment();
      }
      last_upstream_seq_ = e.upstream_seq;
    }
    pending_.ticks.push_back(PriceFeedHandler::Tick{e.price, e.qty, e.side, ts});
    return std::nullopt;
  }
  const bool l2 = book_.mode() == ob::Mode::l2;
  if ((e.type == EventType::level) != l2) return failed(ob::ErrorCode::mode_mismatch);
  if (e.type == EventType::level) {
    if (ob::Status s = book_.set_level(e.side, e.price, e.qty); !s) return failed(s.error());
    after_change(ts);
    return std::nullopt;
  }
  if (e.type == EventType::add) {
    if (book_.order_count() >= max_orders) {
      // Counted per line by the caller; logged at most once a second per book.
      if (const std::int64_t now = rt::coarse_monotonic_ms(); now - last_limit_log_ms_ >= 1000) {
        last_limit_log_ms_ = now;
        spdlog::warn("book {}: an ingested add refused: {} resting orders (--max-orders-per-book)",
                     info_->symbol, book_.order_count());
      }
      return failed(ob::ErrorCode::limit_exceeded);
    }
    auto r = book_.add_external(e.order_id, e.side, e.price, e.qty);
    if (!r) return failed(r.error());
    ++pending_.orders;
    after_change(ts);
    return std::nullopt;
  }
  ob::Result<ob::OrderId> id = book_.resolve(e.order_id);
  if (!id) return failed(id.error());
  switch (e.type) {
    case EventType::cancel:
      if (ob::Status s = book_.cancel(*id); !s) return failed(s.error());
      ++pending_.cancels;
      break;
    case EventType::reduce:
      if (auto r = book_.reduce(*id, e.qty); !r) return failed(r.error());
      break;
    case EventType::execute: {
      std::optional<ob::Price> at;
      if (e.price.ticks() != 0) at = e.price;
      if (auto r = book_.execute(*id, e.qty, at); !r) return failed(r.error());
      break;
    }
    case EventType::replace:
      if (auto r = book_.replace_external(*id, e.new_order_id, e.price, e.qty); !r) {
        return failed(r.error());
      }
      break;
    default:
      break;
  }
  after_change(ts);
  return std::nullopt;
}

std::vector<EventFailure> OrderBookServer::apply_events(const std::vector<feeds::Event>& events,
                                                        std::int64_t receipt_ns,
                                                        std::size_t max_orders) {
  std::vector<EventFailure> failures;
  for (std::uint32_t i = 0; i < events.size(); ++i) {
    if (auto f = apply_one(events[i], receipt_ns, max_orders)) {
      f->index = i;
      failures.push_back(std::move(*f));
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
  const std::vector<EventFailure> failures =
      apply_events(rec.events, rec.receipt_ns, rec.max_orders_per_book);
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
    std::vector<EventFailure> failures =
        apply_events(rec.events, rec.receipt_ns, rec.max_orders_per_book);
    flush();
    return failures;
  });
}

// ---- what every change does ------------------------------------------------------

void OrderBookServer::after_change(std::int64_t ts_ns) {
  const ob::ChangeSet& c = book_.last_change();
  if (!c.changed) return;
  book_ts_ns_ = ts_ns;
  if (c.top_changed) top_ts_ns_ = ts_ns;
  pending_.trades += c.trades.size();
  for (const ob::Trade& t : c.trades) {
    pending_.ticks.push_back(PriceFeedHandler::Tick{t.price, t.qty, t.aggressor, ts_ns});
    if (!t.maker.external() && !book_.order(t.maker)) forget_api_order(t.maker.value());
  }
  pending_.touched = true;
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
  if (replaying_) {  // told the first time
    pending_ = {};
    return;
  }
  if (journals_ != nullptr) maybe_snapshot();
  metrics_.orders.Increment(static_cast<double>(pending_.orders));
  metrics_.cancels.Increment(static_cast<double>(pending_.cancels));
  metrics_.trades.Increment(static_cast<double>(pending_.trades));
  pending_.orders = pending_.cancels = pending_.trades = 0;
  if (!pending_.ticks.empty()) {
    to_feed(PriceFeedHandler::Ticks{std::move(pending_.ticks)});
    pending_.ticks = {};
    last_touch_ms_ = rt::coarse_monotonic_ms();
  } else if (pending_.touched) {
    // Trades already count as updates; other changes at most every touch_interval.
    const std::int64_t now = rt::coarse_monotonic_ms();
    if (now - last_touch_ms_ >= ctx_->timing.touch_interval.count()) {
      last_touch_ms_ = now;
      to_feed(PriceFeedHandler::Touch{});
    }
  }
  pending_.touched = false;
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
    subscribers_.publish_book(frame(Channel::book, Frame::Kind::update, c.seq,
                                    wire::book_update(*info_, c.seq, scratch_changes_,
                                                      g.window.checksum(info_->spec.book), merged),
                                    merged),
                              g.window.depth());
  }
}

FramePtr OrderBookServer::book_snapshot(std::uint32_t depth) {
  auto it = std::find_if(book_groups_.begin(), book_groups_.end(),
                         [&](const BookGroup& g) { return g.window.depth() == depth; });
  if (it == book_groups_.end()) {
    it = book_groups_.insert(book_groups_.end(), BookGroup{BookWindow(book_, depth), book_.seq()});
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
    subscribers_.publish_book(
        frame(Channel::book, Frame::Kind::update, seq,
              wire::book_update(*info_, seq, {}, g.window.checksum(info_->spec.book), merged),
              merged),
        depth);
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
                [&](const BookGroup& g) { return subscribers_.book_count(g.window.depth()) == 0; });
}

wire::Top OrderBookServer::top() const {
  return wire::Top{book_.seq(), book_.best(ob::Side::buy), book_.best(ob::Side::sell), top_ts_ns_};
}

// ---- API orders --------------------------------------------------------------------

std::optional<ob::OrderId> OrderBookServer::find_api_order(std::string_view id,
                                                           std::string_view owner) const {
  // Only ids marketd assigned: an ingested order's upstream id is another id
  // space and never reachable here (finding 5 of issue 15).
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  if (ec != std::errc{} || end != id.data() + id.size() || v == 0) return std::nullopt;
  const ob::OrderId internal(v);
  if (internal.external()) return std::nullopt;
  auto it = api_orders_.find(v);
  if (it == api_orders_.end() || it->second.owner != owner || !book_.order(internal)) {
    return std::nullopt;  // someone else's order looks exactly like no order
  }
  return internal;
}

std::string OrderBookServer::id_string(ob::OrderId id) const {
  if (id.external()) return std::string(book_.external_id(id));
  return std::to_string(id.value());
}

OrderBookServer::CallAction<ob::Result<OrderReport>> OrderBookServer::handle_call(
    const PlaceOrder& p, From<ob::Result<OrderReport>>& from) {
  using R = ob::Result<OrderReport>;
  if (book_.mode() != ob::Mode::venue) return reply(R(ob::ErrorCode::mode_mismatch));
  const OrderRequest& o = p.order;
  // A repeat after a timeout (API.md "Timeouts"): the first order, not a second.
  if (const ClientOrder* first = remembered_order(o.owner, o.client_order_id)) {
    if (!first->fields.same_order(o)) return reply(R(ob::ErrorCode::duplicate_order));
    OrderReport again = first->last;
    // Still resting: its fills since then show in the book's current view.
    if (std::optional<ob::OrderId> id = find_api_order(again.order_id, o.owner)) {
      const R now = report(*id);
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
    return place(rec.order, rec.ts_ns);
  });
  if (!placed && may_rest) ctx_->resting_orders->release(o.owner);  // refused by the journal
  return answer;
}

ob::Result<OrderReport> OrderBookServer::place(const OrderRequest& o, std::int64_t ts_ns) {
  const bool may_rest = o.type == ob::OrderType::limit && o.tif == ob::TimeInForce::gtc;
  auto r = book_.add(ob::NewOrder{o.side, o.price, o.qty, o.type, o.tif});
  if (may_rest && (!r || !r->remaining.positive())) ctx_->resting_orders->release(o.owner);
  if (!r) return ob::Result<OrderReport>(r.error());
  OrderReport rep;
  rep.order_id = std::to_string(r->id.value());
  rep.client_order_id = o.client_order_id;
  rep.side = o.side;
  rep.type = o.type;
  rep.tif = o.type == ob::OrderType::market ? ob::TimeInForce::ioc : o.tif;
  if (o.type == ob::OrderType::limit) rep.price = o.price;
  rep.qty = o.qty;
  rep.status = r->status;
  rep.filled = r->filled;
  rep.remaining = r->remaining;
  for (const ob::Trade& t : book_.last_change().trades) {
    rep.trades.push_back(OrderFill{t.id, t.price, t.qty, id_string(t.maker)});
  }
  if (r->remaining.positive()) {
    api_orders_.emplace(r->id.value(),
                        ApiOrder{o.owner, o.client_order_id, o.type, rep.tif, o.qty});
  }
  remember_order(o.owner, o, rep);
  ++pending_.orders;
  after_change(ts_ns);
  flush();
  return ob::Result<OrderReport>(std::move(rep));
}

ob::Result<OrderReport> OrderBookServer::report(ob::OrderId id) const {
  const ob::OrderView v = *book_.order(id);
  OrderReport rep;
  rep.order_id = id_string(id);
  rep.side = v.side;
  rep.price = v.price;
  rep.qty = v.qty;
  rep.remaining = v.qty;
  if (auto it = api_orders_.find(id.value()); it != api_orders_.end()) {
    rep.client_order_id = it->second.client_order_id;
    rep.type = it->second.type;
    rep.tif = it->second.tif;
    rep.qty = it->second.qty;
    rep.filled = it->second.qty - v.qty;
  }
  rep.status = rep.filled.positive() ? ob::OrderStatus::partially_filled : ob::OrderStatus::resting;
  return rep;
}

OrderBookServer::CallAction<ob::Result<OrderReport>> OrderBookServer::handle_call(
    const GetOrder& g, From<ob::Result<OrderReport>>&) {
  std::optional<ob::OrderId> id = find_api_order(g.order_id, g.owner);
  if (!id) return reply(ob::Result<OrderReport>(ob::ErrorCode::unknown_order));
  return reply(report(*id));
}

OrderBookServer::CallAction<ob::Result<OrderReport>> OrderBookServer::handle_call(
    const CancelOrder& c, From<ob::Result<OrderReport>>& from) {
  using R = ob::Result<OrderReport>;
  // The mode first: a mirror's orders are the venue's, and a DELETE must not
  // make the mirror diverge (a later execute would be rejected).
  if (book_.mode() != ob::Mode::venue) return reply(R(ob::ErrorCode::mode_mismatch));
  std::optional<ob::OrderId> id = find_api_order(c.order_id, c.owner);
  if (!id) return reply(R(ob::ErrorCode::unknown_order));
  const journal::CancelRecord rec{c.order_id, c.owner, wall_clock_ns()};
  return durably(from, rec, R(ob::ErrorCode::unavailable),
                 [&] { return R(cancel(*id, rec.ts_ns)); });
}

OrderReport OrderBookServer::cancel(ob::OrderId id, std::int64_t ts_ns) {
  OrderReport rep = *report(id);
  (void)book_.cancel(id);  // it rests (find_api_order): cannot fail
  ++pending_.cancels;
  rep.status = ob::OrderStatus::cancelled;
  rep.remaining = ob::Qty(0);
  forget_api_order(id.value(), &rep);
  after_change(ts_ns);
  flush();
  return rep;
}

// ---- queries and subscriptions ------------------------------------------------------

OrderBookServer::CallAction<wire::Top> OrderBookServer::handle_call(const GetTop&,
                                                                    From<wire::Top>&) {
  return reply(top());
}

OrderBookServer::CallAction<std::string> OrderBookServer::handle_call(const Dump&,
                                                                      From<std::string>&) {
  return reply(encode(snapshot()));
}

OrderBookServer::CallAction<Depth> OrderBookServer::handle_call(const GetDepth& g, From<Depth>&) {
  Depth d;
  d.seq = book_.seq();
  d.ts_ns = book_ts_ns_;
  book_.depth(ob::Side::buy, g.levels, d.bids);
  book_.depth(ob::Side::sell, g.levels, d.asks);
  return reply(std::move(d));
}

OrderBookServer::CallAction<Subscribed> OrderBookServer::handle_call(const Subscribe& s,
                                                                     From<Subscribed>&) {
  const Channels wanted = s.channels & Channels{Channel::top, Channel::book};
  // Callers validate the depth; the clamp keeps this turn bounded regardless.
  const std::uint32_t depth = std::clamp(s.book_depth, kMinBookDepth, kMaxBookDepth);
  FramePtr snapshot = wanted.has(Channel::book) ? book_snapshot(depth) : nullptr;
  subscribers_.add(*this, s.who, wanted, depth);
  prune_book_groups();  // a new depth may have emptied the subscriber's old group
  Subscribed answer;
  if (wanted.has(Channel::top)) {
    answer.current.push_back(
        frame(Channel::top, Frame::Kind::snapshot, book_.seq(), wire::top(*info_, top())));
  }
  if (snapshot) answer.current.push_back(std::move(snapshot));
  return reply(std::move(answer));
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
