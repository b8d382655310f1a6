#include "orderbook/order_book.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>
#include <utility>

namespace ob {
namespace {
using detail::kNil;
constexpr std::uint32_t kLookup = kNil - 1;  // "find the level yourself"
// Pool slots are 32-bit, and kNil and kNil - 1 are markers.
constexpr std::size_t kMaxOrders = kNil - 2;

bool valid(Side s) {
  return s == Side::buy || s == Side::sell;
}

// The counters against each other and the mode: what from_image can check
// before it looks at any order.
Status check_counters(const BookImage& im) {
  if (im.mode != Mode::venue && im.mode != Mode::mirror && im.mode != Mode::l2) {
    return ErrorCode::invalid_field;
  }
  if (im.next_id == 0 || im.next_id >= OrderId::kExternalBit) return ErrorCode::invalid_field;
  if (im.next_external <= OrderId::kExternalBit) return ErrorCode::invalid_field;
  if (im.next_trade == 0) return ErrorCode::invalid_field;
  if (im.mode == Mode::l2) {
    if (!im.orders.empty()) return ErrorCode::mode_mismatch;
    // An l2 book never trades nor takes upstream orders; a snapshot takes a seq.
    if (im.next_trade != 1 || im.next_external != (OrderId::kExternalBit | 1)) {
      return ErrorCode::invalid_field;
    }
    if (!im.levels.empty() && im.seq == 0) return ErrorCode::invalid_field;
    return {};
  }
  if (!im.levels.empty()) return ErrorCode::mode_mismatch;
  if (im.orders.size() > kMaxOrders) return ErrorCode::limit_exceeded;
  // An operation rests at most one order, and one that rests takes a seq.
  if (im.orders.size() > im.seq) return ErrorCode::invalid_field;
  return {};
}

}  // namespace

OrderBook::OrderBook(Mode mode, std::size_t expected_orders, std::uint64_t first_order_id)
    : mode_(mode), ids_(expected_orders), next_id_(first_order_id) {
  assert(first_order_id > 0 && first_order_id < OrderId::kExternalBit);
  // Pre-size the pool now (touching its pages) rather than during operations.
  orders_.resize(expected_orders);
  for (std::size_t i = expected_orders; i-- > 0;) {
    orders_[i].next = free_order_;
    free_order_ = static_cast<std::uint32_t>(i);
  }
  change_.deltas.reserve(64);
  change_.trades.reserve(64);
}

void OrderBook::skip_order_ids_to(std::uint64_t next) {
  if (next > next_id_ && next < OrderId::kExternalBit) next_id_ = next;
}

// ---- bookkeeping -------------------------------------------------------------

OrderBook::Top OrderBook::top() const {
  Top t;
  if (std::uint32_t b = bids_.best(); b != kNil) {
    t.bid = price_of(Side::buy, bids_[b].key);
    t.bid_qty = bids_[b].total;
  }
  if (std::uint32_t a = asks_.best(); a != kNil) {
    t.ask = price_of(Side::sell, asks_[a].key);
    t.ask_qty = asks_[a].total;
  }
  return t;
}

void OrderBook::begin_op() {
  change_.clear();
  external_.clear_retired();
}

void OrderBook::end_op(const Top& before) {
  if (!change_.deltas.empty()) {
    ++seq_;
    change_.changed = true;
    change_.top_changed = !(top() == before);
  }
  change_.seq = seq_;
#ifndef NDEBUG
  // Debug builds re-check the whole structure every 1,024 changes (O(orders)).
  if (change_.changed && (seq_ & 1023) == 0) {
    const auto violation = check_invariants();
    assert(!violation && "order book invariant broken");
  }
#endif
}

void OrderBook::emit(Side side, const detail::Level& level) {
  const LevelDelta d{side, price_of(side, level.key), level.total};
  // Only a modify/replace can touch one level twice (remove, then rest at the
  // same price); its first delta is then the removal, so checking the front
  // is enough to report each level once.
  auto& ds = change_.deltas;
  if (!ds.empty() && ds.front().side == side && ds.front().price == d.price) {
    ds.front().qty = d.qty;
    return;
  }
  ds.push_back(d);
}

Status OrderBook::check_l3(Price price, Qty qty) const {
  if (!price.valid()) return ErrorCode::invalid_price;
  if (!qty.positive()) return ErrorCode::invalid_quantity;
  return {};
}

std::uint32_t OrderBook::allocate_order() {
  if (free_order_ != kNil) {
    const std::uint32_t o = free_order_;
    free_order_ = orders_[o].next;
    return o;
  }
  orders_.emplace_back();
  return static_cast<std::uint32_t>(orders_.size() - 1);
}

void OrderBook::unlink(std::uint32_t o) {
  Order& n = orders_[o];
  detail::Level& l = ladder(n.side)[n.level];
  if (n.prev != kNil) {
    orders_[n.prev].next = n.next;
  } else {
    l.head = n.next;
  }
  if (n.next != kNil) {
    orders_[n.next].prev = n.prev;
  } else {
    l.tail = n.prev;
  }
  --l.count;
  l.total -= n.qty;
}

void OrderBook::remove_order(std::uint32_t o) {
  unlink(o);
  Order& n = orders_[o];
  ids_.erase(n.id, o);
  if ((n.id & OrderId::kExternalBit) != 0) external_.retire(o, n.id);
  n.next = free_order_;
  free_order_ = o;
  --side_orders_[static_cast<std::size_t>(n.side)];
}

void OrderBook::rest(std::uint64_t id, Side side, Price price, Qty qty, std::uint32_t level) {
  detail::PriceLadder& lad = ladder(side);
  const std::int64_t key = key_of(side, price);
  std::uint32_t li = level == kLookup ? lad.find(key) : level;
  if (li == kNil) li = lad.insert(key);
  last_rested_ = append(id, side, qty, li);
  emit(side, lad[li]);
}

// Inlined into its two callers (an add's rest() is the hot path).
inline std::uint32_t OrderBook::append(std::uint64_t id, Side side, Qty qty, std::uint32_t li) {
  const std::uint32_t o = allocate_order();
  detail::Level& l = ladder(side)[li];
  orders_[o] = Order{id, qty, li, l.tail, kNil, side};
  if (l.tail != kNil) {
    orders_[l.tail].next = o;
  } else {
    l.head = o;
  }
  l.tail = o;
  ++l.count;
  l.total += qty;
  ids_.insert(id, o, [this](std::uint32_t s) { return orders_[s].id; });
  ++side_orders_[static_cast<std::size_t>(side)];
  return o;
}

Qty OrderBook::available(Side taker_side, Price limit, bool market, Qty wanted) const {
  const Side os = opposite(taker_side);
  const detail::PriceLadder& opp = ladder(os);
  Qty sum;
  for (std::uint32_t li = opp.best(); li != kNil && sum < wanted; li = opp.next(li)) {
    const Price p = price_of(os, opp[li].key);
    if (!market && (taker_side == Side::buy ? p > limit : p < limit)) break;
    if (opp[li].total >= wanted - sum) return wanted;  // enough (and no overflow)
    sum += opp[li].total.narrow();                     // < wanted - sum: fits
  }
  return sum;
}

Qty OrderBook::match(std::uint64_t taker, Side side, Price limit, bool market, Qty qty) {
  const Side os = opposite(side);
  detail::PriceLadder& opp = ladder(os);
  Qty left = qty;
  while (left.positive()) {
    const std::uint32_t li = opp.best();
    if (li == kNil) break;
    detail::Level& l = opp[li];
    const Price p = price_of(os, l.key);
    if (!market && (side == Side::buy ? p > limit : p < limit)) break;
    while (left.positive() && l.head != kNil) {
      const std::uint32_t o = l.head;
      Order& m = orders_[o];
      const Qty f = min(left, m.qty);
      left -= f;
      m.qty -= f;
      l.total -= f;
      change_.trades.push_back(Trade{next_trade_++, p, f, OrderId(m.id), OrderId(taker), side});
      if (!m.qty.positive()) remove_order(o);
    }
    emit(os, l);
    if (l.count == 0) opp.erase(li);
  }
  return qty - left;
}

AddResult OrderBook::place(std::uint64_t id, Side side, Price price, Qty qty, OrderType type,
                           TimeInForce tif, std::uint32_t own_level) {
  AddResult r{OrderId(id), OrderStatus::cancelled, Qty(0), Qty(0)};
  last_rested_ = kNil;
  const bool market = type == OrderType::market;
  if (mode_ == Mode::venue) {
    if (tif == TimeInForce::fok && available(side, price, market, qty) < qty) {
      return r;  // cannot fill completely: nothing happens
    }
    r.filled = match(id, side, price, market, qty);
  }
  const Qty left = qty - r.filled;
  if (left.positive() && !market && tif == TimeInForce::gtc) {
    rest(id, side, price, left, own_level);
    r.remaining = left;
    r.status = r.filled.positive() ? OrderStatus::partially_filled : OrderStatus::resting;
  } else if (!left.positive()) {
    r.status = OrderStatus::filled;
  }
  return r;
}

// ---- L3 operations -------------------------------------------------------------

Result<AddResult> OrderBook::add(const NewOrder& order) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  const bool market = order.type == OrderType::market;
  if (mode_ == Mode::mirror && (market || order.tif != TimeInForce::gtc)) {
    return ErrorCode::mode_mismatch;
  }
  if (!order.qty.positive()) return ErrorCode::invalid_quantity;
  // The order's own level, looked up once: matching only touches the other
  // side, so it stays valid for rest(). Level totals are 128-bit, so no
  // valid order is ever refused for what already rests at its price.
  std::uint32_t own = kLookup;
  if (!market) {
    if (!order.price.valid()) return ErrorCode::invalid_price;
    own = ladder(order.side).find(key_of(order.side, order.price));
  }
  begin_op();
  const Top before = top();
  const TimeInForce tif = market ? TimeInForce::ioc : order.tif;
  AddResult r = place(next_id_++, order.side, order.price, order.qty, order.type, tif, own);
  end_op(before);
  return r;
}

Result<AddResult> OrderBook::add_external(std::string_view external_id, Side side, Price price,
                                          Qty qty) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  if (external_id.empty()) return ErrorCode::invalid_field;
  const std::uint64_t hash = external_.hash(external_id);  // once: find, then attach
  if (external_.find(external_id, hash) != external_.kNone) return ErrorCode::duplicate_order;
  if (Status s = check_l3(price, qty); !s) return s.error();
  begin_op();
  const Top before = top();
  const std::uint64_t id = next_external_++;
  AddResult r = place(id, side, price, qty, OrderType::limit, TimeInForce::gtc);
  attach_external(id, external_id, hash);
  end_op(before);
  return r;
}

void OrderBook::attach_external(std::uint64_t id, std::string_view name, std::uint64_t hash) {
  if (last_rested_ == kNil) {
    external_.retire_unattached(id, name);  // filled at once: still nameable for trades
    return;
  }
  external_.attach(last_rested_, name, hash);
}

Result<OrderId> OrderBook::resolve(std::string_view external_id) const {
  const std::uint32_t o = external_.find(external_id);
  if (o == external_.kNone) return ErrorCode::unknown_order;
  return OrderId(orders_[o].id);
}

std::string_view OrderBook::external_id(OrderId id) const {
  if (!id.external()) return {};
  const std::uint32_t o = find(id);
  if (o != kNil) return external_.name(o);
  return external_.retired_name(id.value());
}

Status OrderBook::cancel(OrderId id) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  const std::uint32_t o = find(id);
  if (o == kNil) return ErrorCode::unknown_order;
  begin_op();
  const Top before = top();
  const Side side = orders_[o].side;
  const std::uint32_t li = orders_[o].level;
  remove_order(o);
  detail::PriceLadder& lad = ladder(side);
  emit(side, lad[li]);
  if (lad[li].count == 0) lad.erase(li);
  end_op(before);
  return {};
}

Result<Qty> OrderBook::reduce(OrderId id, Qty by) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  const std::uint32_t o = find(id);
  if (o == kNil) return ErrorCode::unknown_order;
  if (!by.positive() || by > orders_[o].qty) return ErrorCode::invalid_quantity;
  begin_op();
  const Top before = top();
  const Qty left = orders_[o].qty - by;
  take(o, by);
  end_op(before);
  return left;
}

// Removes `qty` from order o (removing it when nothing remains) and reports its level.
void OrderBook::take(std::uint32_t o, Qty qty) {
  Order& n = orders_[o];
  const Side side = n.side;
  const std::uint32_t li = n.level;
  detail::PriceLadder& lad = ladder(side);
  if (qty == n.qty) {
    remove_order(o);
  } else {
    n.qty -= qty;
    lad[li].total -= qty;
  }
  emit(side, lad[li]);
  if (lad[li].count == 0) lad.erase(li);
}

Result<Qty> OrderBook::execute(OrderId id, Qty qty, std::optional<Price> price) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  const std::uint32_t o = find(id);
  if (o == kNil) return ErrorCode::unknown_order;
  if (!qty.positive() || qty > orders_[o].qty) return ErrorCode::invalid_quantity;
  if (price && !price->valid()) return ErrorCode::invalid_price;
  begin_op();
  const Top before = top();
  const Order& n = orders_[o];
  const Price at = price ? *price : price_of(n.side, ladder(n.side)[n.level].key);
  change_.trades.push_back(Trade{next_trade_++, at, qty, id, OrderId(), opposite(n.side)});
  const Qty left = n.qty - qty;
  take(o, qty);
  end_op(before);
  return left;
}

Result<AddResult> OrderBook::modify(OrderId id, Price price, Qty qty) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  const std::uint32_t o = find(id);
  if (o == kNil) return ErrorCode::unknown_order;
  if (Status s = check_l3(price, qty); !s) return s.error();
  const Order& n = orders_[o];
  const Side side = n.side;
  const Price old_price = price_of(side, ladder(side)[n.level].key);
  if (price == old_price && qty <= n.qty) {
    begin_op();
    const Top before = top();
    if (qty < n.qty) take(o, n.qty - qty);  // keeps priority
    end_op(before);
    return AddResult{id, OrderStatus::resting, Qty(0), qty};
  }
  begin_op();
  const Top before = top();
  take(o, n.qty);  // leaves the queue; the id is re-used below
  AddResult r = place(id.value(), side, price, qty, OrderType::limit, TimeInForce::gtc);
  // Same id, maybe another slot: the name moves back from the retired list.
  if (id.external() && last_rested_ != kNil) external_.reattach(last_rested_, id.value());
  end_op(before);
  return r;
}

Result<AddResult> OrderBook::replace(OrderId id, Price price, Qty qty) {
  return replace_impl(id, {}, false, price, qty);
}

Result<AddResult> OrderBook::replace_external(OrderId id, std::string_view new_external_id,
                                              Price price, Qty qty) {
  return replace_impl(id, new_external_id, true, price, qty);
}

Result<AddResult> OrderBook::replace_impl(OrderId id, std::string_view new_ext, bool external,
                                          Price price, Qty qty) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  const std::uint32_t o = find(id);
  if (o == kNil) return ErrorCode::unknown_order;
  std::uint64_t new_hash = 0;
  if (external) {
    if (new_ext.empty()) return ErrorCode::invalid_field;
    new_hash = external_.hash(new_ext);
    if (external_.find(new_ext, new_hash) != external_.kNone) return ErrorCode::duplicate_order;
  }
  if (Status s = check_l3(price, qty); !s) return s.error();
  const Side side = orders_[o].side;
  begin_op();
  const Top before = top();
  take(o, orders_[o].qty);
  const std::uint64_t new_id = external ? next_external_++ : next_id_++;
  AddResult r = place(new_id, side, price, qty, OrderType::limit, TimeInForce::gtc);
  if (external) attach_external(new_id, new_ext, new_hash);
  end_op(before);
  return r;
}

// ---- L2 operations -------------------------------------------------------------

Status OrderBook::set_level(Side side, Price price, Qty qty) {
  if (mode_ != Mode::l2) return ErrorCode::mode_mismatch;
  if (!price.valid()) return ErrorCode::invalid_price;
  if (qty.lots() < 0) return ErrorCode::invalid_quantity;
  begin_op();
  const Top before = top();
  detail::PriceLadder& lad = ladder(side);
  const std::int64_t key = key_of(side, price);
  std::uint32_t li = lad.find(key);
  if (!qty.positive()) {
    if (li != kNil) {
      lad[li].total = Qty(0);
      emit(side, lad[li]);
      lad.erase(li);
    }
  } else if (li == kNil || lad[li].total != qty) {
    if (li == kNil) li = lad.insert(key);
    lad[li].total = qty;
    emit(side, lad[li]);
  }
  end_op(before);
  return {};
}

Status OrderBook::apply_snapshot(std::span<const LevelView> bids, std::span<const LevelView> asks) {
  if (mode_ != Mode::l2) return ErrorCode::mode_mismatch;
  for (int s = 0; s < 2; ++s) {
    const Side side = s == 0 ? Side::buy : Side::sell;
    std::span<const LevelView> levels = s == 0 ? bids : asks;
    for (const LevelView& l : levels) {
      if (!l.price.valid()) return ErrorCode::invalid_price;
      if (!l.qty.positive()) return ErrorCode::invalid_quantity;
    }
    scratch_keys_.clear();
    for (const LevelView& l : levels) scratch_keys_.push_back(key_of(side, l.price));
    std::sort(scratch_keys_.begin(), scratch_keys_.end());
    if (std::adjacent_find(scratch_keys_.begin(), scratch_keys_.end()) != scratch_keys_.end()) {
      return ErrorCode::invalid_price;  // a price twice on one side
    }
  }
  begin_op();
  const Top before = top();
  for (int s = 0; s < 2; ++s) {
    const Side side = s == 0 ? Side::buy : Side::sell;
    std::span<const LevelView> levels = s == 0 ? bids : asks;
    detail::PriceLadder& lad = ladder(side);
    scratch_keys_.clear();
    for (const LevelView& l : levels) scratch_keys_.push_back(key_of(side, l.price));
    std::sort(scratch_keys_.begin(), scratch_keys_.end());
    scratch_levels_.clear();
    for (std::uint32_t li = lad.best(); li != kNil; li = lad.next(li)) {
      if (!std::binary_search(scratch_keys_.begin(), scratch_keys_.end(), lad[li].key)) {
        scratch_levels_.push_back(li);
      }
    }
    for (std::uint32_t li : scratch_levels_) {
      lad[li].total = Qty(0);
      emit(side, lad[li]);
      lad.erase(li);
    }
    for (const LevelView& l : levels) {
      const std::int64_t key = key_of(side, l.price);
      std::uint32_t li = lad.find(key);
      if (li != kNil && lad[li].total == l.qty) continue;
      if (li == kNil) li = lad.insert(key);
      lad[li].total = l.qty;
      emit(side, lad[li]);
    }
  }
  end_op(before);
  return {};
}

// ---- images ----------------------------------------------------------------------

BookImage OrderBook::image() const {
  BookImage im;
  im.mode = mode_;
  im.seq = seq_;
  im.next_id = next_id_;
  im.next_external = next_external_;
  im.next_trade = next_trade_;
  if (mode_ == Mode::l2) {
    im.levels.reserve(bids_.size() + asks_.size());
    for (const Side side : {Side::buy, Side::sell}) {
      const detail::PriceLadder& lad = ladder(side);
      for (std::uint32_t li = lad.best(); li != kNil; li = lad.next(li)) {
        im.levels.push_back(BookImage::Level{side, price_of(side, lad[li].key), lad[li].total});
      }
    }
    return im;
  }
  // Each level's FIFO list is a chain of dependent loads scattered over the
  // pool: walked one after another, every order costs a cache miss or two
  // (its node, its upstream id). So each level's place in the image comes
  // first, O(levels), then kLanes levels are walked at once, their misses
  // overlapping (1,000,000 orders: 72 -> 40 ms; bench/orderbook).
  struct Lane {
    std::uint32_t o;  // the next order of the level
    std::size_t at;   // where it goes in the image
    Side side;
    Price price;
  };
  std::vector<Lane> levels;
  levels.reserve(bids_.size() + asks_.size());
  std::size_t at = 0;
  for (const Side side : {Side::buy, Side::sell}) {
    const detail::PriceLadder& lad = ladder(side);
    for (std::uint32_t li = lad.best(); li != kNil; li = lad.next(li)) {
      if (lad[li].head == kNil) continue;  // (an L3 level always has orders)
      levels.push_back(Lane{lad[li].head, at, side, price_of(side, lad[li].key)});
      at += lad[li].count;
    }
  }
  im.orders.resize(at);
  constexpr std::size_t kLanes = 8;
  std::array<Lane, kLanes> lanes;
  std::size_t active = std::min(kLanes, levels.size());
  std::copy_n(levels.begin(), active, lanes.begin());
  std::size_t next_level = active;
  while (active > 0) {
    for (std::size_t k = 0; k < active;) {
      Lane& l = lanes[k];
      const Order& n = orders_[l.o];
      BookImage::Order& out = im.orders[l.at++];
      out.id = OrderId(n.id);
      out.side = l.side;
      out.price = l.price;
      out.qty = n.qty;
      if (out.id.external()) out.external_id.assign(external_.name(l.o));
      l.o = n.next;
      if (l.o != kNil) {
        ++k;
      } else if (next_level < levels.size()) {
        l = levels[next_level++];
        ++k;
      } else {
        l = lanes[--active];  // this lane is done: the last one takes its place
      }
    }
  }
  return im;
}

Result<OrderBook> OrderBook::from_image(const BookImage& image, std::size_t expected_orders) {
  if (Status s = check_counters(image); !s) return s.error();
  OrderBook book(image.mode, std::max(expected_orders, image.orders.size()), image.next_id);
  book.next_external_ = image.next_external;
  book.next_trade_ = image.next_trade;
  book.seq_ = image.seq;
  book.change_.seq = image.seq;
  const Status s = image.mode == Mode::l2 ? book.restore_levels(image.levels)
                                          : book.restore_orders(image.orders);
  if (!s) return s.error();
#ifndef NDEBUG
  const auto violation = book.check_invariants();
  assert(!violation && "from_image built a broken book");
#endif
  return book;
}

// Rests the orders as given, one level per run of equal (side, price), each
// checked as add_external / add would and against what came before: O(1) each.
Status OrderBook::restore_orders(std::span<const BookImage::Order> orders) {
  const auto upstream = static_cast<std::size_t>(std::count_if(
      orders.begin(), orders.end(), [](const BookImage::Order& o) { return o.id.external(); }));
  if (upstream > 0) external_.reserve(orders.size(), upstream);
  // The index slots an order will touch are fetched kAhead orders early, so
  // that the cache misses of big indexes overlap instead of queueing (the
  // upstream-id index's miss was most of a restore; bench/orderbook).
  constexpr std::size_t kAhead = 16;
  std::array<std::uint64_t, kAhead> hashes{};  // of the upstream ids ahead
  auto look_ahead = [&](std::size_t j) {
    const BookImage::Order& o = orders[j];
    ids_.prefetch(o.id.value());
    if (!o.id.external()) return;
    hashes[j % kAhead] = external_.hash(o.external_id);
    external_.prefetch(hashes[j % kAhead]);
  };
  for (std::size_t j = 0; j < std::min(kAhead, orders.size()); ++j) look_ahead(j);

  std::uint32_t li = kNil;  // the level being filled
  Side side = Side::buy;
  std::int64_t key = 0;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    const BookImage::Order& in = orders[i];
    const std::uint64_t hash = hashes[i % kAhead];
    if (i + kAhead < orders.size()) look_ahead(i + kAhead);
    if (!valid(in.side)) return ErrorCode::invalid_field;
    if (Status s = check_l3(in.price, in.qty); !s) return s;
    const std::uint64_t id = in.id.value();
    const bool external = in.id.external();
    if (external ? id == OrderId::kExternalBit || id >= next_external_
                 : id == 0 || id >= next_id_) {
      return ErrorCode::invalid_field;  // an id the book has not handed out yet
    }
    if (external == in.external_id.empty()) return ErrorCode::invalid_field;
    const std::int64_t k = key_of(in.side, in.price);
    if (li == kNil || in.side != side || k != key) {
      // A new level: after the last one (bids before asks, each side best first).
      if (li != kNil && (in.side < side || (in.side == side && k < key))) {
        return ErrorCode::invalid_field;
      }
      side = in.side;
      key = k;
      li = ladder(side).insert(key);
    }
    if (find_slot(id) != kNil) return ErrorCode::duplicate_order;
    if (external && external_.find(in.external_id, hash) != external_.kNone) {
      return ErrorCode::duplicate_order;
    }
    const std::uint32_t o = append(id, side, in.qty, li);
    if (external) external_.attach(o, in.external_id, hash);
  }
  if (mode_ == Mode::venue) {
    const auto b = best(Side::buy);
    const auto a = best(Side::sell);
    if (b && a && b->price >= a->price) return ErrorCode::invalid_field;  // would have matched
  }
  return {};
}

// Sets the levels as given, each checked as apply_snapshot would.
Status OrderBook::restore_levels(std::span<const BookImage::Level> levels) {
  bool first = true;
  Side side = Side::buy;
  std::int64_t key = 0;
  for (const BookImage::Level& in : levels) {
    if (!valid(in.side)) return ErrorCode::invalid_field;
    if (!in.price.valid()) return ErrorCode::invalid_price;
    if (!in.qty.positive() || in.qty.lots() > detail::LevelTotal::kMaxLots) {
      return ErrorCode::invalid_quantity;
    }
    const std::int64_t k = key_of(in.side, in.price);
    if (!first && in.side == side && k == key) return ErrorCode::invalid_price;  // a price twice
    if (!first && (in.side < side || (in.side == side && k < key))) {
      return ErrorCode::invalid_field;
    }
    first = false;
    side = in.side;
    key = k;
    detail::PriceLadder& lad = ladder(side);
    lad[lad.insert(key)].total = in.qty;
  }
  return {};
}

// ---- queries -------------------------------------------------------------------

std::optional<LevelView> OrderBook::best(Side side) const {
  const detail::PriceLadder& lad = ladder(side);
  const std::uint32_t li = lad.best();
  if (li == kNil) return std::nullopt;
  return LevelView{price_of(side, lad[li].key), lad[li].total, lad[li].count};
}

void OrderBook::depth(Side side, std::size_t n, std::vector<LevelView>& out) const {
  out.clear();
  const detail::PriceLadder& lad = ladder(side);
  for (std::uint32_t li = lad.best(); li != kNil && out.size() < n; li = lad.next(li)) {
    out.push_back(LevelView{price_of(side, lad[li].key), lad[li].total, lad[li].count});
  }
}

std::optional<LevelView> OrderBook::next_worse(Side side, Price price) const {
  const detail::PriceLadder& lad = ladder(side);
  const std::uint32_t li = lad.after(key_of(side, price));
  if (li == kNil) return std::nullopt;
  return LevelView{price_of(side, lad[li].key), lad[li].total, lad[li].count};
}

std::optional<OrderView> OrderBook::order(OrderId id) const {
  const std::uint32_t o = find(id);
  if (o == kNil) return std::nullopt;
  const Order& n = orders_[o];
  return OrderView{id, n.side, price_of(n.side, ladder(n.side)[n.level].key), n.qty};
}

void OrderBook::level_orders(Side side, Price price, std::vector<OrderView>& out) const {
  out.clear();
  const detail::PriceLadder& lad = ladder(side);
  const std::uint32_t li = lad.find(key_of(side, price));
  if (li == kNil) return;
  for (std::uint32_t o = lad[li].head; o != kNil; o = orders_[o].next) {
    out.push_back(OrderView{OrderId(orders_[o].id), side, price, orders_[o].qty});
  }
}

std::size_t OrderBook::memory_bytes() const {
  return orders_.capacity() * sizeof(Order) + ids_.bytes() + bids_.bytes() + asks_.bytes() +
         external_.bytes();
}

std::optional<std::string> OrderBook::check_invariants() const {
  std::size_t orders_seen = 0;
  std::size_t external_seen = 0;
  for (int s = 0; s < 2; ++s) {
    const Side side = s == 0 ? Side::buy : Side::sell;
    const std::string where = std::string(to_string(side)) + " ";
    const detail::PriceLadder& lad = ladder(side);
    std::size_t levels = 0;
    std::int64_t prev_key = std::numeric_limits<std::int64_t>::min();
    for (std::uint32_t li = lad.best(); li != kNil; li = lad.next(li)) {
      const detail::Level& l = lad[li];
      const std::string at = where + std::to_string(price_of(side, l.key).ticks());
      if (levels > 0 && l.key <= prev_key) return at + ": levels out of order";
      if (lad.find(l.key) != li) return at + ": level not found by its price";
      prev_key = l.key;
      ++levels;
      if (!l.total.positive()) return at + ": empty level";
      if (mode_ == Mode::l2) {
        if (l.count != 0 || l.head != kNil) return at + ": l2 level holds orders";
        continue;
      }
      LevelQty sum;
      std::uint32_t n = 0;
      std::uint32_t prev = kNil;
      for (std::uint32_t o = l.head; o != kNil; o = orders_[o].next) {
        const Order& ord = orders_[o];
        if (ord.prev != prev) return at + ": broken FIFO links";
        if (ord.level != li || ord.side != side) return at + ": order in the wrong level";
        if (!ord.qty.positive()) return at + ": order with no quantity";
        if (find_slot(ord.id) != o) return at + ": id index disagrees";
        if ((ord.id & OrderId::kExternalBit) != 0) {
          if (external_.name(o).empty()) return at + ": upstream order without its id";
          ++external_seen;
        }
        sum += ord.qty;
        prev = o;
        if (++n > order_count()) return at + ": FIFO cycle";
      }
      if (prev != l.tail) return at + ": tail is not the last order";
      if (n != l.count) return at + ": order count mismatch";
      if (sum != l.total) return at + ": total is not the sum of its orders";
      orders_seen += n;
    }
    if (levels != lad.size()) return where + "level count mismatch";
  }
  if (orders_seen != order_count() || ids_.size() != order_count()) return "order count mismatch";
  // Every index entry names a live upstream order in its slot, once each.
  const bool index_ok = external_.check([this](std::uint32_t o) {
    return o < orders_.size() && (orders_[o].id & OrderId::kExternalBit) != 0 &&
           find_slot(orders_[o].id) == o;
  });
  if (!index_ok || external_.size() != external_seen) return "upstream id index disagrees";
  if (mode_ == Mode::venue) {
    const auto b = best(Side::buy);
    const auto a = best(Side::sell);
    if (b && a && b->price >= a->price) return "venue book is crossed";
  }
  return std::nullopt;
}

}  // namespace ob
