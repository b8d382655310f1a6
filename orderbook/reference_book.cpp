#include "orderbook/reference_book.hpp"

#include <algorithm>
#include <limits>
#include <set>

namespace ob {
namespace {
bool same_top(const std::optional<LevelView>& a, const std::optional<LevelView>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->price == b->price && a->qty == b->qty);
}
}  // namespace

ReferenceBook::ReferenceBook(Mode mode, std::size_t /*expected_orders*/) : mode_(mode) {}

std::optional<Price> ReferenceBook::best_price(Side s) const {
  const Levels& l = levels(s);
  if (l.empty()) return std::nullopt;
  return s == Side::buy ? l.rbegin()->first : l.begin()->first;
}

std::list<ReferenceBook::RestingOrder>::iterator ReferenceBook::find_in_level(std::uint64_t id) {
  return where_.at(id).it;
}

void ReferenceBook::begin() {
  change_.clear();
  retired_.clear();
  touched_.clear();
  top_before_[0] = best(Side::buy);
  top_before_[1] = best(Side::sell);
}

void ReferenceBook::touch(Side s, Price p) {
  if (std::find(touched_.begin(), touched_.end(), std::make_pair(s, p)) == touched_.end()) {
    touched_.emplace_back(s, p);
  }
}

void ReferenceBook::finish() {
  for (const auto& [s, p] : touched_) {
    auto it = levels(s).find(p);
    change_.deltas.push_back(LevelDelta{s, p, it == levels(s).end() ? Qty(0) : it->second.total});
  }
  if (!touched_.empty()) {
    ++seq_;
    change_.changed = true;
    change_.top_changed =
        !same_top(top_before_[0], best(Side::buy)) || !same_top(top_before_[1], best(Side::sell));
  }
  change_.seq = seq_;
}

void ReferenceBook::rest(std::uint64_t id, Side side, Price price, Qty qty) {
  Level& l = levels(side)[price];
  l.orders.push_back(RestingOrder{id, qty});
  l.total += qty;
  where_[id] = Where{side, price, std::prev(l.orders.end())};
  touch(side, price);
}

void ReferenceBook::remove(std::uint64_t id) {
  const Where w = where_.at(id);
  Levels& ls = levels(w.side);
  Level& l = ls.at(w.price);
  auto it = find_in_level(id);
  l.total -= it->qty;
  l.orders.erase(it);
  if (l.orders.empty()) ls.erase(w.price);
  where_.erase(id);
  touch(w.side, w.price);
  if (auto n = names_.find(id); n != names_.end()) {
    external_.erase(n->second);
    retired_.emplace_back(id, n->second);
    names_.erase(n);
  }
}

void ReferenceBook::take(std::uint64_t id, Qty qty) {
  auto it = find_in_level(id);
  if (it->qty == qty) {
    remove(id);
    return;
  }
  const Where w = where_.at(id);
  it->qty -= qty;
  levels(w.side).at(w.price).total -= qty;
  touch(w.side, w.price);
}

AddResult ReferenceBook::place(std::uint64_t id, Side side, Price price, Qty qty, bool market,
                               TimeInForce tif) {
  AddResult r{OrderId(id), OrderStatus::cancelled, Qty(0), Qty(0)};
  const Side os = opposite(side);
  auto crosses = [&](Price p) { return market || (side == Side::buy ? p <= price : p >= price); };
  if (mode_ == Mode::venue) {
    if (tif == TimeInForce::fok) {
      __extension__ __int128 avail = 0;
      for (const auto& [p, l] : levels(os)) {
        if (crosses(p)) avail += l.total.lots();
      }
      if (avail < qty.lots()) return r;
    }
    Qty left = qty;
    while (left.positive()) {
      std::optional<Price> bp = best_price(os);
      if (!bp || !crosses(*bp)) break;
      Level& l = levels(os).at(*bp);
      while (left.positive() && !l.orders.empty()) {
        RestingOrder& m = l.orders.front();
        const Qty f = min(left, m.qty);
        left -= f;
        change_.trades.push_back(Trade{next_trade_++, *bp, f, OrderId(m.id), OrderId(id), side});
        const std::uint64_t maker = m.id;
        const bool done = f == m.qty;
        take(maker, f);
        if (done && !levels(os).count(*bp)) break;  // level gone with its last order
      }
    }
    r.filled = qty - left;
  }
  const Qty left = qty - r.filled;
  if (left.positive() && !market && tif == TimeInForce::gtc) {
    rest(id, side, price, left);
    r.remaining = left;
    r.status = r.filled.positive() ? OrderStatus::partially_filled : OrderStatus::resting;
  } else if (!left.positive()) {
    r.status = OrderStatus::filled;
  }
  return r;
}

Result<AddResult> ReferenceBook::add(const NewOrder& order) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  const bool market = order.type == OrderType::market;
  if (mode_ == Mode::mirror && (market || order.tif != TimeInForce::gtc)) {
    return ErrorCode::mode_mismatch;
  }
  if (!order.qty.positive()) return ErrorCode::invalid_quantity;
  if (!market) {
    if (!order.price.valid()) return ErrorCode::invalid_price;
  }
  begin();
  AddResult r = place(next_id_++, order.side, order.price, order.qty, market,
                      market ? TimeInForce::ioc : order.tif);
  finish();
  return r;
}

Result<AddResult> ReferenceBook::add_external(std::string_view external_id, Side side, Price price,
                                              Qty qty) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  if (external_id.empty()) return ErrorCode::invalid_field;
  if (external_.count(external_id)) return ErrorCode::duplicate_order;
  if (!price.valid()) return ErrorCode::invalid_price;
  if (!qty.positive()) return ErrorCode::invalid_quantity;
  begin();
  const std::uint64_t id = next_external_++;
  AddResult r = place(id, side, price, qty, false, TimeInForce::gtc);
  if (where_.count(id)) {
    external_.emplace(std::string(external_id), id);
    names_[id] = std::string(external_id);
  } else {
    retired_.emplace_back(id, std::string(external_id));
  }
  finish();
  return r;
}

Result<OrderId> ReferenceBook::resolve(std::string_view external_id) const {
  auto it = external_.find(external_id);
  if (it == external_.end()) return ErrorCode::unknown_order;
  return OrderId(it->second);
}

std::string_view ReferenceBook::external_id(OrderId id) const {
  if (auto it = names_.find(id.value()); it != names_.end()) return it->second;
  for (const auto& [rid, name] : retired_) {
    if (rid == id.value()) return name;
  }
  return {};
}

Status ReferenceBook::cancel(OrderId id) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  if (!where_.count(id.value())) return ErrorCode::unknown_order;
  begin();
  remove(id.value());
  finish();
  return {};
}

Result<Qty> ReferenceBook::reduce(OrderId id, Qty by) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  if (!where_.count(id.value())) return ErrorCode::unknown_order;
  const Qty have = order(id)->qty;
  if (!by.positive() || by > have) return ErrorCode::invalid_quantity;
  begin();
  take(id.value(), by);
  finish();
  return have - by;
}

Result<Qty> ReferenceBook::execute(OrderId id, Qty qty, std::optional<Price> price) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  if (!where_.count(id.value())) return ErrorCode::unknown_order;
  const OrderView o = *order(id);
  if (!qty.positive() || qty > o.qty) return ErrorCode::invalid_quantity;
  if (price && !price->valid()) return ErrorCode::invalid_price;
  begin();
  change_.trades.push_back(
      Trade{next_trade_++, price ? *price : o.price, qty, id, OrderId(), opposite(o.side)});
  take(id.value(), qty);
  finish();
  return o.qty - qty;
}

Result<AddResult> ReferenceBook::modify(OrderId id, Price price, Qty qty) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  if (!where_.count(id.value())) return ErrorCode::unknown_order;
  if (!price.valid()) return ErrorCode::invalid_price;
  if (!qty.positive()) return ErrorCode::invalid_quantity;
  const OrderView o = *order(id);
  if (price == o.price && qty <= o.qty) {
    begin();
    if (qty < o.qty) take(id.value(), o.qty - qty);
    finish();
    return AddResult{id, OrderStatus::resting, Qty(0), qty};
  }
  begin();
  std::optional<std::string> name;
  if (auto n = names_.find(id.value()); n != names_.end()) name = n->second;
  remove(id.value());
  AddResult r = place(id.value(), o.side, price, qty, false, TimeInForce::gtc);
  if (name) {
    std::erase_if(retired_, [&](const auto& e) { return e.first == id.value(); });
    if (where_.count(id.value())) {
      external_.emplace(*name, id.value());
      names_[id.value()] = *name;
    } else {
      retired_.emplace_back(id.value(), *name);
    }
  }
  finish();
  return r;
}

Result<AddResult> ReferenceBook::replace(OrderId id, Price price, Qty qty) {
  return replace_impl(id, {}, false, price, qty);
}

Result<AddResult> ReferenceBook::replace_external(OrderId id, std::string_view new_external_id,
                                                  Price price, Qty qty) {
  return replace_impl(id, new_external_id, true, price, qty);
}

Result<AddResult> ReferenceBook::replace_impl(OrderId id, std::string_view new_ext, bool external,
                                              Price price, Qty qty) {
  if (mode_ == Mode::l2) return ErrorCode::mode_mismatch;
  if (!where_.count(id.value())) return ErrorCode::unknown_order;
  if (external) {
    if (new_ext.empty()) return ErrorCode::invalid_field;
    if (external_.count(new_ext)) return ErrorCode::duplicate_order;
  }
  if (!price.valid()) return ErrorCode::invalid_price;
  if (!qty.positive()) return ErrorCode::invalid_quantity;
  const Side side = where_.at(id.value()).side;
  begin();
  remove(id.value());
  const std::uint64_t new_id = external ? next_external_++ : next_id_++;
  AddResult r = place(new_id, side, price, qty, false, TimeInForce::gtc);
  if (external) {
    if (where_.count(new_id)) {
      external_.emplace(std::string(new_ext), new_id);
      names_[new_id] = std::string(new_ext);
    } else {
      retired_.emplace_back(new_id, std::string(new_ext));
    }
  }
  finish();
  return r;
}

Status ReferenceBook::set_level(Side side, Price price, Qty qty) {
  if (mode_ != Mode::l2) return ErrorCode::mode_mismatch;
  if (!price.valid()) return ErrorCode::invalid_price;
  if (qty.lots() < 0) return ErrorCode::invalid_quantity;
  begin();
  Levels& ls = levels(side);
  auto it = ls.find(price);
  if (!qty.positive()) {
    if (it != ls.end()) {
      ls.erase(it);
      touch(side, price);
    }
  } else if (it == ls.end() || it->second.total != qty) {
    ls[price].total = qty;
    touch(side, price);
  }
  finish();
  return {};
}

Status ReferenceBook::apply_snapshot(std::span<const LevelView> bids,
                                     std::span<const LevelView> asks) {
  if (mode_ != Mode::l2) return ErrorCode::mode_mismatch;
  for (std::span<const LevelView> side : {bids, asks}) {
    std::set<Price> seen;
    for (const LevelView& l : side) {
      if (!l.price.valid()) return ErrorCode::invalid_price;
      if (!l.qty.positive()) return ErrorCode::invalid_quantity;
    }
    for (const LevelView& l : side) {
      if (!seen.insert(l.price).second) return ErrorCode::invalid_price;
    }
  }
  begin();
  for (Side s : {Side::buy, Side::sell}) {
    std::span<const LevelView> want = s == Side::buy ? bids : asks;
    Levels next;
    for (const LevelView& l : want) next[l.price].total = l.qty;
    for (const auto& [p, l] : levels(s)) {
      auto it = next.find(p);
      if (it == next.end() || it->second.total != l.total) touch(s, p);
    }
    for (const auto& [p, l] : next) {
      if (!levels(s).count(p)) touch(s, p);
    }
    levels(s) = std::move(next);
  }
  finish();
  return {};
}

std::optional<LevelView> ReferenceBook::best(Side side) const {
  std::optional<Price> p = best_price(side);
  if (!p) return std::nullopt;
  const Level& l = levels(side).at(*p);
  return LevelView{*p, l.total, static_cast<std::uint32_t>(l.orders.size())};
}

void ReferenceBook::depth(Side side, std::size_t n, std::vector<LevelView>& out) const {
  out.clear();
  auto push = [&](const auto& entry) {
    out.push_back(LevelView{entry.first, entry.second.total,
                            static_cast<std::uint32_t>(entry.second.orders.size())});
  };
  if (side == Side::buy) {
    for (auto it = bids_.rbegin(); it != bids_.rend() && out.size() < n; ++it) push(*it);
  } else {
    for (auto it = asks_.begin(); it != asks_.end() && out.size() < n; ++it) push(*it);
  }
}

std::optional<OrderView> ReferenceBook::order(OrderId id) const {
  auto w = where_.find(id.value());
  if (w == where_.end()) return std::nullopt;
  return OrderView{id, w->second.side, w->second.price, w->second.it->qty};
}

void ReferenceBook::level_orders(Side side, Price price, std::vector<OrderView>& out) const {
  out.clear();
  auto it = levels(side).find(price);
  if (it == levels(side).end()) return;
  for (const RestingOrder& o : it->second.orders) {
    out.push_back(OrderView{OrderId(o.id), side, price, o.qty});
  }
}

}  // namespace ob
