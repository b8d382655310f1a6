#include "services/book_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "services/context.hpp"
#include "services/ticker.hpp"

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

std::string client_order_key(std::string_view owner, std::string_view client_order_id) {
  std::string key;
  key.reserve(owner.size() + 1 + client_order_id.size());
  key.append(owner).append(1, '\n').append(client_order_id);
  return key;
}

bool may_rest(const OrderRequest& o) {
  return o.type == ob::OrderType::limit && o.tif == ob::TimeInForce::gtc;
}

}  // namespace

BookState::BookState(SymbolSpec spec, std::uint64_t first_order_id, RestingOrderCounts* resting,
                     ChangeListener* listener)
    : spec_(spec), resting_(resting), listener_(listener), book_(spec.mode, 0, first_order_id) {}

void BookState::reserve_unconditionally(const std::string& owner) {
  // It passed the resting limits when it came: count it again, unconditionally.
  if (resting_ != nullptr)
    (void)resting_->try_reserve(owner, std::numeric_limits<std::size_t>::max());
}

void BookState::release(const std::string& owner) {
  if (resting_ != nullptr) resting_->release(owner);
}

void BookState::release_resting() {
  for (const auto& [id, o] : api_orders_) release(o.owner);
  api_orders_.clear();
}

BookState::Effects BookState::take_effects() {
  Effects out = std::move(effects_);
  effects_ = {};
  return out;
}

// ---- events ---------------------------------------------------------------------

std::optional<EventFailure> BookState::apply_one(const feeds::Event& e, std::int64_t receipt_ns,
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
        ++effects_.seq_rejects;
        return EventFailure{0, feeds::EventError::stale_seq,
                            fmt::format("seq: {} is not greater than the last applied {}",
                                        e.upstream_seq, last_upstream_seq_)};
      }
      if (last_upstream_seq_ != 0 && e.upstream_seq > last_upstream_seq_ + 1) {
        ++effects_.seq_gaps;
      }
      last_upstream_seq_ = e.upstream_seq;
    }
    trade(Tick{e.price, e.qty, e.side, ts});
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
    if (book_.order_count() >= max_orders) return failed(ob::ErrorCode::limit_exceeded);
    auto r = book_.add_external(e.order_id, e.side, e.price, e.qty);
    if (!r) return failed(r.error());
    ++effects_.orders;
    after_change(ts);
    return std::nullopt;
  }
  ob::Result<ob::OrderId> id = book_.resolve(e.order_id);
  if (!id) return failed(id.error());
  switch (e.type) {
    case EventType::cancel:
      if (ob::Status s = book_.cancel(*id); !s) return failed(s.error());
      ++effects_.cancels;
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

std::vector<EventFailure> BookState::apply_events(const std::vector<feeds::Event>& events,
                                                  std::int64_t receipt_ns, std::size_t max_orders) {
  last_record_ns_ = receipt_ns;
  std::vector<EventFailure> failures;
  for (std::uint32_t i = 0; i < events.size(); ++i) {
    if (auto f = apply_one(events[i], receipt_ns, max_orders)) {
      f->index = i;
      failures.push_back(std::move(*f));
    }
  }
  return failures;
}

void BookState::trade(const Tick& t) {
  add_trade(ticker_, t, t.ts_ns);
  candles_.add(t.price, t.size, t.ts_ns);
  recent_trades_.add(TradeRecord{ticker_.seq, t.price, t.size, t.side, t.ts_ns});
  effects_.ticks.push_back(t);
}

void BookState::after_change(std::int64_t ts_ns) {
  const ob::ChangeSet& c = book_.last_change();
  if (!c.changed) return;
  book_ts_ns_ = ts_ns;
  if (c.top_changed) top_ts_ns_ = ts_ns;
  effects_.trades += c.trades.size();
  for (const ob::Trade& t : c.trades) {
    trade(Tick{t.price, t.qty, t.aggressor, ts_ns});
    if (!t.maker.external() && !book_.order(t.maker)) forget_api_order(t.maker.value());
  }
  effects_.touched = true;
  if (listener_ != nullptr) listener_->on_change(c);
}

// ---- API orders --------------------------------------------------------------------

void BookState::forget_api_order(std::uint64_t id, const OrderReport* last) {
  auto it = api_orders_.find(id);
  if (it == api_orders_.end()) return;
  const ApiOrder& o = it->second;
  if (ClientOrder* c = remembered(o.owner, o.client_order_id)) {
    if (last != nullptr) {
      c->last = *last;
    } else {  // left by its last fill
      c->last.status = ob::OrderStatus::filled;
      c->last.filled = o.qty;
      c->last.remaining = ob::Qty(0);
    }
  }
  release(o.owner);
  api_orders_.erase(it);
}

BookState::ClientOrder* BookState::remembered(std::string_view owner,
                                              std::string_view client_order_id) {
  if (client_order_id.empty()) return nullptr;
  auto it = client_orders_.find(client_order_key(owner, client_order_id));
  return it == client_orders_.end() ? nullptr : &it->second;
}

const BookState::ClientOrder* BookState::remembered_order(std::string_view owner,
                                                          std::string_view client_order_id) const {
  return const_cast<BookState*>(this)->remembered(owner, client_order_id);
}

void BookState::remember_order(const OrderRequest& o, const OrderReport& rep) {
  if (o.client_order_id.empty()) return;
  std::string key = client_order_key(o.owner, o.client_order_id);
  if (!client_orders_.emplace(key, ClientOrder{o, rep}).second) return;
  client_order_age_.push_back(std::move(key));
  if (client_order_age_.size() > kClientOrdersRemembered) {
    client_orders_.erase(client_order_age_.front());
    client_order_age_.pop_front();
  }
}

std::optional<ob::OrderId> BookState::find_api_order(std::string_view id,
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

std::string BookState::id_string(ob::OrderId id) const {
  if (id.external()) return std::string(book_.external_id(id));
  return std::to_string(id.value());
}

ob::Result<OrderReport> BookState::place(const OrderRequest& o, std::int64_t ts_ns) {
  last_record_ns_ = ts_ns;
  auto r = book_.add(ob::NewOrder{o.side, o.price, o.qty, o.type, o.tif});
  if (may_rest(o) && (!r || !r->remaining.positive())) release(o.owner);
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
  remember_order(o, rep);
  ++effects_.orders;
  after_change(ts_ns);
  return ob::Result<OrderReport>(std::move(rep));
}

Depth BookState::depth(std::size_t levels) const {
  Depth d;
  d.seq = book_.seq();
  d.ts_ns = book_ts_ns_;
  book_.depth(ob::Side::buy, levels, d.bids);
  book_.depth(ob::Side::sell, levels, d.asks);
  return d;
}

ob::Result<OrderReport> BookState::report(ob::OrderId id) const {
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

OrderReport BookState::cancel(ob::OrderId id, std::int64_t ts_ns) {
  last_record_ns_ = ts_ns;
  OrderReport rep = *report(id);
  (void)book_.cancel(id);  // it rests (find_api_order): cannot fail
  ++effects_.cancels;
  rep.status = ob::OrderStatus::cancelled;
  rep.remaining = ob::Qty(0);
  forget_api_order(id.value(), &rep);
  after_change(ts_ns);
  return rep;
}

// ---- journal records and snapshots --------------------------------------------------

std::optional<std::string> BookState::apply(const journal::Record& r) {
  using namespace journal;
  if (const auto* spec = std::get_if<SpecRecord>(&r)) {
    if (spec->spec != spec_) {
      return fmt::format("the journal is of a {} book with tick {} and lot {}, not this one's",
                         ob::to_string(spec->spec.mode), spec->spec.tick_size(),
                         spec->spec.lot_size());
    }
    if (book_.seq() != 0) return std::string("a spec record after changes");
    book_ = ob::OrderBook(spec_.mode, 0, spec->first_order_id);
  } else if (const auto* events = std::get_if<EventsRecord>(&r)) {
    (void)apply_events(events->events, events->receipt_ns, events->max_orders_per_book);
  } else if (const auto* order = std::get_if<OrderRecord>(&r)) {
    if (may_rest(order->order)) reserve_unconditionally(order->order.owner);
    (void)place(order->order, order->ts_ns);
  } else if (const auto* cancel_rec = std::get_if<CancelRecord>(&r)) {
    last_record_ns_ = cancel_rec->ts_ns;  // refused or not, it was received then
    if (std::optional<ob::OrderId> id = find_api_order(cancel_rec->order_id, cancel_rec->owner)) {
      (void)cancel(*id, cancel_rec->ts_ns);
    }
  } else if (const auto* ids = std::get_if<IdsRecord>(&r)) {
    book_.skip_order_ids_to(ids->next_order_id);
  }
  return std::nullopt;
}

BookSnapshot BookState::snapshot() const {
  BookSnapshot s;
  s.spec = spec_;
  s.book = book_.image();
  s.api_orders.reserve(api_orders_.size());
  for (const auto& [id, o] : api_orders_) {
    s.api_orders.push_back({id, o.owner, o.client_order_id, o.type, o.tif, o.qty});
  }
  std::sort(s.api_orders.begin(), s.api_orders.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  s.client_orders.reserve(client_order_age_.size());
  for (const std::string& key : client_order_age_) {
    const ClientOrder& c = client_orders_.at(key);
    s.client_orders.push_back({c.fields, c.last});
  }
  s.last_upstream_seq = last_upstream_seq_;
  s.top_ts_ns = top_ts_ns_;
  s.book_ts_ns = book_ts_ns_;
  s.last_record_ns = last_record_ns_;
  s.ticker = ticker_;
  s.candles = candles_;
  s.recent_trades = recent_trades_;
  return s;
}

std::optional<std::string> BookState::restore(BookSnapshot&& s) {
  if (s.spec != spec_) return std::string("the snapshot is of another spec");
  auto book = ob::OrderBook::from_image(s.book);
  if (!book) return fmt::format("its book image: {}", ob::to_string(book.error()));
  for (const BookSnapshot::ApiOrder& o : s.api_orders) {
    if (ob::OrderId(o.id).external() || !book->order(ob::OrderId(o.id))) {
      return fmt::format("API order {} does not rest in its book", o.id);
    }
  }
  book_ = std::move(*book);
  for (BookSnapshot::ApiOrder& o : s.api_orders) {
    reserve_unconditionally(o.owner);
    api_orders_.emplace(
        o.id, ApiOrder{std::move(o.owner), std::move(o.client_order_id), o.type, o.tif, o.qty});
  }
  for (const BookSnapshot::ClientOrder& c : s.client_orders) remember_order(c.fields, c.last);
  last_upstream_seq_ = s.last_upstream_seq;
  top_ts_ns_ = s.top_ts_ns;
  book_ts_ns_ = s.book_ts_ns;
  last_record_ns_ = s.last_record_ns;
  ticker_ = s.ticker;
  candles_ = std::move(s.candles);
  recent_trades_ = std::move(s.recent_trades);
  return std::nullopt;
}

}  // namespace services
