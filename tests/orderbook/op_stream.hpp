#pragma once
// OpStream: random operation streams for order book tests, in all three
// modes: sweeps through many levels, huge orders, price jumps of thousands of
// ticks, invalid prices and quantities, unknown ids, upstream ids (mirror),
// L2 snapshots with the odd duplicate price. Ops are values (Op), applied to
// any book with the OrderBook interface by apply(), which returns an Outcome
// that compares equal exactly when the two results do.
//
// The stream draws its ops against an OrderBook it can query (the ids it
// picks, the order a modify changes); the caller tells it how each op ended
// (forget_if_gone, learn) so it keeps picking live ids. Used by the
// differential tests (against ReferenceBook) and the book image tests
// (against a book rebuilt from a snapshot).
// Thread-safety: not thread-safe: owned by one thread.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "orderbook/events.hpp"
#include "orderbook/order_book.hpp"
#include "orderbook/result.hpp"

namespace obtest {

/// One book operation with its arguments (only those of its kind are used).
struct Op {
  enum class Kind : std::uint8_t {
    add,
    add_external,
    cancel,
    reduce,
    execute,
    modify,
    replace,
    replace_external,
    resolve,
    set_level,
    apply_snapshot,
  };
  Kind kind = Kind::add;
  ob::NewOrder order;               ///< add
  ob::OrderId id;                   ///< cancel, reduce, execute, modify, replace*
  ob::Side side = ob::Side::buy;    ///< add_external, set_level
  ob::Price price;                  ///< add_external, modify, replace*, set_level
  ob::Qty qty;                      ///< add_external, reduce, execute, modify, replace*, set_level
  std::optional<ob::Price> at;      ///< execute
  std::string external_id;          ///< add_external, replace_external, resolve
  std::vector<ob::LevelView> bids;  ///< apply_snapshot
  std::vector<ob::LevelView> asks;  ///< apply_snapshot
};

/// How an op ended, whatever its result type: the error, or the value.
struct Outcome {
  bool ok = true;
  ob::ErrorCode error{};
  ob::AddResult added;  ///< add, add_external, modify, replace*
  ob::Qty left;         ///< reduce, execute
  ob::OrderId id;       ///< resolve
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

/// "ok id=.. status=.. filled=.. remaining=.. left=.. resolved=.." or "error <code>".
inline std::string to_string(const Outcome& o) {
  if (!o.ok) return "error " + std::string(ob::to_string(o.error));
  return "ok id=" + std::to_string(o.added.id.value()) +
         " status=" + std::to_string(static_cast<int>(o.added.status)) +
         " filled=" + std::to_string(o.added.filled.lots()) +
         " remaining=" + std::to_string(o.added.remaining.lots()) +
         " left=" + std::to_string(o.left.lots()) + " resolved=" + std::to_string(o.id.value());
}

namespace detail {
template <class T>
Outcome outcome(const ob::Result<T>& r) {
  Outcome o;
  o.ok = r.ok();
  if (!r.ok()) {
    o.error = r.error();
  } else if constexpr (std::is_same_v<T, ob::AddResult>) {
    o.added = *r;
  } else if constexpr (std::is_same_v<T, ob::Qty>) {
    o.left = *r;
  } else if constexpr (std::is_same_v<T, ob::OrderId>) {
    o.id = *r;
  }
  return o;
}
}  // namespace detail

/// Applies `op` to `book` (an OrderBook or a ReferenceBook).
template <class Book>
Outcome apply(Book& book, const Op& op) {
  using K = Op::Kind;
  switch (op.kind) {
    case K::add:
      return detail::outcome(book.add(op.order));
    case K::add_external:
      return detail::outcome(book.add_external(op.external_id, op.side, op.price, op.qty));
    case K::cancel:
      return detail::outcome(book.cancel(op.id));
    case K::reduce:
      return detail::outcome(book.reduce(op.id, op.qty));
    case K::execute:
      return detail::outcome(book.execute(op.id, op.qty, op.at));
    case K::modify:
      return detail::outcome(book.modify(op.id, op.price, op.qty));
    case K::replace:
      return detail::outcome(book.replace(op.id, op.price, op.qty));
    case K::replace_external:
      return detail::outcome(book.replace_external(op.id, op.external_id, op.price, op.qty));
    case K::resolve:
      return detail::outcome(book.resolve(op.external_id));
    case K::set_level:
      return detail::outcome(book.set_level(op.side, op.price, op.qty));
    case K::apply_snapshot:
      return detail::outcome(book.apply_snapshot(op.bids, op.asks));
  }
  return Outcome{};
}

/// "X<n>"; built by append because g++ 12 at -O3 reports a false -Wrestrict
/// on "X" + std::to_string(n) (GCC bug 105329).
inline std::string ext_name(std::int64_t n) {
  std::string s = "X";
  s += std::to_string(n);
  return s;
}

/// A seeded random stream of operations for one mode.
class OpStream {
 public:
  /// How wild the stream is.
  struct Knobs {
    int spread = 20;          ///< typical distance from mid, in ticks
    int jump_permille = 5;    ///< price jumps of thousands of ticks
    int huge_permille = 3;    ///< orders near the 64-bit limit
    int sweep_permille = 10;  ///< big crossing orders
  };

  /// One step: an operation, and (mirror) maybe a resolve() to run after it.
  struct Step {
    Op op;
    std::optional<Op> then;
  };

  OpStream(ob::Mode mode, std::uint64_t seed, Knobs k) : mode_(mode), rng_(seed), k_(k) {}

  /// The next step, drawn against `book` (the ids resting there). Steps
  /// alternate phases of 5,000 that build the book up and drain it down.
  Step next(const ob::OrderBook& book) {
    Step s;
    if (mode_ == ob::Mode::l2) {
      s.op = next_l2(uniform(0, 99));
    } else {
      s.op = next_l3(book, uniform(0, 99));
      if (!is_add_ && mode_ == ob::Mode::mirror && chance(30)) {  // upstream ids resolve the same
        Op r;
        r.kind = Op::Kind::resolve;
        r.external_id = ext_name(uniform(0, static_cast<std::int64_t>(next_ext_ % 100000)));
        s.then = std::move(r);
      }
    }
    ++step_;
    return s;
  }

  /// Learns from how `op` ended: the ids it left resting.
  void learn(const Op& op, const Outcome& r) {
    using K = Op::Kind;
    switch (op.kind) {
      case K::add:
      case K::add_external:
      case K::replace:
      case K::replace_external:
        if (r.ok && r.added.remaining.positive()) ids_.push_back(r.added.id);
        if (ids_.size() > 20000) ids_.erase(ids_.begin(), ids_.begin() + 10000);
        break;
      case K::resolve:
        if (r.ok) ids_.push_back(r.id);
        break;
      default:
        break;
    }
  }

  /// Forgets the id picked last if `book` no longer has it.
  void forget_if_gone(const ob::OrderBook& book) {
    if (picked_ < ids_.size() && !book.order(ids_[picked_])) {
      ids_[picked_] = ids_.back();
      ids_.pop_back();
    }
    picked_ = ids_.size();
  }

  /// An id to act on: mostly one that rested, sometimes a small number.
  ob::OrderId pick_id() {
    picked_ = ids_.size();
    if (ids_.empty() || chance(20)) return ob::OrderId(static_cast<std::uint64_t>(uniform(0, 50)));
    picked_ = static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(ids_.size()) - 1));
    return ids_[picked_];
  }

  /// True when the stream knows a resting id to pick.
  bool has_ids() const { return !ids_.empty(); }

  /// A small random quantity (1..5 lots), for piling orders at one price.
  ob::Qty small_qty() { return ob::Qty(1 + static_cast<std::int64_t>(rng_() % 5)); }

 private:
  static constexpr std::int64_t kMaxLots = std::numeric_limits<std::int64_t>::max();

  std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  bool chance(int permille) { return uniform(0, 999) < permille; }

  ob::Price price_near(ob::Side side, bool cross) {
    if (chance(k_.jump_permille)) mid_ = std::max<std::int64_t>(6000, mid_ + uniform(-5000, 5000));
    if (chance(50)) mid_ = std::max<std::int64_t>(100, mid_ + uniform(-3, 3));
    std::int64_t off = uniform(0, k_.spread);
    if (chance(20)) off = uniform(0, 5000);  // long tail
    const bool below = (side == ob::Side::buy) != cross;
    std::int64_t px = below ? mid_ - 1 - off : mid_ + 1 + off;
    px = std::max<std::int64_t>(px, 1);
    if (chance(3)) px = uniform(-2, 0);  // invalid
    if (chance(1)) px = ob::Price::kMaxTicks + uniform(-1, 1);
    return ob::Price(px);
  }
  ob::Qty qty() {
    if (chance(k_.huge_permille))
      return ob::Qty(kMaxLots - uniform(0, 3) - uniform(0, 1) * (kMaxLots / 3));
    if (chance(4)) return ob::Qty(uniform(-1, 0));
    return ob::Qty(uniform(1, 100));
  }
  ob::Side side() { return uniform(0, 1) == 0 ? ob::Side::buy : ob::Side::sell; }

  Op next_l3(const ob::OrderBook& book, std::int64_t u) {
    using K = Op::Kind;
    Op op;
    is_add_ = true;  // no resolve after these
    if (u < 3) {     // wrong kind for the mode
      op.kind = K::set_level;
      op.side = side();
      (void)side();  // (the stream has always drawn a side for each book here)
      op.price = ob::Price(mid_);
      op.qty = ob::Qty(1);
      return op;
    }
    const std::int64_t adds = (step_ / 5000) % 2 == 0 ? 70 : 35;
    if (u < adds) {
      const ob::Side s = side();
      const bool cross = mode_ == ob::Mode::mirror ? chance(300) : chance(150);
      ob::NewOrder o{s, price_near(s, cross), qty()};
      if (chance(k_.sweep_permille)) {
        o = ob::NewOrder{s, price_near(s, true), ob::Qty(uniform(200, 5000))};
      }
      if (mode_ == ob::Mode::venue || chance(20)) {
        const std::int64_t t = uniform(0, 19);
        if (t == 0) o.type = ob::OrderType::market;
        if (t == 1 || t == 2) o.tif = ob::TimeInForce::ioc;
        if (t == 3 || t == 4) o.tif = ob::TimeInForce::fok;
      }
      if (mode_ == ob::Mode::mirror && chance(600)) {
        op.kind = K::add_external;
        op.external_id = ext_name(static_cast<std::int64_t>(next_ext_++ % 100000));
        op.side = s;
        op.price = o.price;
        op.qty = o.qty;
        return op;
      }
      op.kind = K::add;
      op.order = o;
      return op;
    }
    is_add_ = false;
    const std::int64_t v = (u - adds) * 100 / (100 - adds);
    op.id = pick_id();
    if (v < 55) {
      op.kind = K::cancel;
    } else if (v < 67) {
      op.kind = K::reduce;
      op.qty = ob::Qty(uniform(-1, 60));
    } else if (v < 78) {
      op.kind = K::execute;
      op.qty = ob::Qty(uniform(0, 60));
      if (chance(300)) op.at = ob::Price(uniform(-1, mid_ * 2));
    } else if (v < 89) {
      op.kind = K::modify;
      const auto cur = book.order(op.id);
      const ob::Side s = cur ? cur->side : side();
      op.price = chance(500) && cur ? cur->price : price_near(s, chance(100));
      op.qty = chance(300) && cur ? ob::Qty(cur->qty.lots() - uniform(-1, 2)) : qty();
    } else {
      op.kind = K::replace;
      const auto cur = book.order(op.id);
      const ob::Side s = cur ? cur->side : side();
      op.price = price_near(s, chance(100));
      op.qty = qty();
      if (mode_ == ob::Mode::mirror && chance(500)) {
        op.kind = K::replace_external;
        op.external_id = ext_name(static_cast<std::int64_t>(next_ext_++ % 100000));
        if (chance(50)) op.external_id.clear();
      }
    }
    return op;
  }

  Op next_l2(std::int64_t u) {
    Op op;
    if (u < 3) {  // wrong kind for the mode
      op.kind = Op::Kind::add;
      op.order = ob::NewOrder{side(), ob::Price(mid_), ob::Qty(1)};
    } else if (u < 97) {
      op.kind = Op::Kind::set_level;
      op.side = side();
      op.price = price_near(op.side, chance(100));
      op.qty = chance(350) ? ob::Qty(0) : qty();
      if (chance(5)) op.qty = ob::Qty(-1);
    } else {
      op.kind = Op::Kind::apply_snapshot;
      const std::int64_t n = chance(100) ? uniform(0, 300) : uniform(0, 20);
      for (std::int64_t i = 0; i < n; ++i) {
        const ob::Side s = side();
        ob::LevelView l{price_near(s, false), ob::Qty(uniform(1, 50)), 0};
        if (chance(5)) l.qty = ob::Qty(0);
        (s == ob::Side::buy ? op.bids : op.asks).push_back(l);
      }
      // Drop accidental duplicates most of the time; keep some to test rejection.
      if (!chance(200)) {
        for (auto* v : {&op.bids, &op.asks}) {
          std::sort(v->begin(), v->end(), [](auto& a, auto& b) { return a.price < b.price; });
          v->erase(std::unique(v->begin(), v->end(),
                               [](auto& a, auto& b) { return a.price == b.price; }),
                   v->end());
        }
      }
    }
    return op;
  }

  ob::Mode mode_;
  std::mt19937_64 rng_;
  Knobs k_;
  std::int64_t mid_ = 100000;
  std::vector<ob::OrderId> ids_;
  std::uint64_t next_ext_ = 0;
  std::size_t step_ = 0;
  std::size_t picked_ = 0;
  bool is_add_ = true;  // the last L3 op drawn was an add or a mode mismatch
};

}  // namespace obtest
