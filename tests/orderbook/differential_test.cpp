// Differential tests: OrderBook and the naive ReferenceBook driven by the same
// random operation streams must agree on every result, trade, delta, seq and
// query, in all three modes. Streams include sweeps through many levels, huge
// orders, price jumps of thousands of ticks, 10,000 orders at one level and
// (mirror) locked and crossed books. Set MARKETD_LONG_TESTS=1 for the
// multi-million-operation run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "orderbook/order_book.hpp"
#include "orderbook/reference_book.hpp"

namespace {

using namespace ob;

constexpr std::int64_t kMaxLots = std::numeric_limits<std::int64_t>::max();

bool long_tests() {
  const char* v = std::getenv("MARKETD_LONG_TESTS");
  return v != nullptr && std::string(v) == "1";
}

// "X<n>"; built by append because g++ 12 at -O3 reports a false -Wrestrict
// on "X" + std::to_string(n) (GCC bug 105329).
std::string ext_name(std::int64_t n) {
  std::string s = "X";
  s += std::to_string(n);
  return s;
}

std::vector<LevelDelta> sorted(std::vector<LevelDelta> d) {
  std::sort(d.begin(), d.end(), [](const LevelDelta& a, const LevelDelta& b) {
    return std::tie(a.side, a.price) < std::tie(b.side, b.price);
  });
  return d;
}

template <class T>
::testing::AssertionResult same(const Result<T>& a, const Result<T>& b) {
  if (a.ok() != b.ok()) return ::testing::AssertionFailure() << "ok differs";
  if (!a.ok()) {
    if (a.error() == b.error()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "errors differ: " << to_string(a.error()) << " vs " << to_string(b.error());
  }
  if constexpr (!std::is_void_v<T>) {
    if (!(*a == *b)) return ::testing::AssertionFailure() << "values differ";
  }
  return ::testing::AssertionSuccess();
}

// Drives both books with one random stream and compares after every operation.
class Differential {
 public:
  struct Knobs {
    int spread = 20;          // typical distance from mid, in ticks
    int jump_permille = 5;    // price jumps of thousands of ticks
    int huge_permille = 3;    // orders near the 64-bit limit
    int sweep_permille = 10;  // big crossing orders
  };

  Differential(Mode mode, std::uint64_t seed) : Differential(mode, seed, Knobs()) {}
  Differential(Mode mode, std::uint64_t seed, Knobs k)
      : mode_(mode), fast_(mode), ref_(mode), rng_(seed), k_(k) {}

  // Applies n random operations; stops at the first disagreement.
  void run(std::size_t n) {
    for (std::size_t i = 0; i < n && !::testing::Test::HasFailure(); ++i) {
      step_ = i;
      one();
      compare_state(i % 512 == 0 ? 1000 : 10);
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "mode " << to_string(mode_) << " diverged at op " << i;
      }
    }
    compare_state(1u << 30);
    EXPECT_EQ(fast_.check_invariants(), std::nullopt);
    ::testing::Test::RecordProperty("ops_ok", std::to_string(ok_));
    ::testing::Test::RecordProperty("ops_failed", std::to_string(failed_));
    ::testing::Test::RecordProperty("trades", std::to_string(trades_));
    ::testing::Test::RecordProperty("max_orders", std::to_string(max_orders_));
    ::testing::Test::RecordProperty("max_levels", std::to_string(max_levels_));
  }

  OrderBook& fast() { return fast_; }

  // Adds `count` orders at one price (both books), alternating sides away from it.
  void pile(Side side, std::int64_t px, int count) {
    for (int i = 0; i < count; ++i) {
      NewOrder o{side, Price(px), Qty(1 + static_cast<std::int64_t>(rng_() % 5))};
      check(fast_.add(o), ref_.add(o));
    }
  }

 private:
  std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  bool chance(int permille) { return uniform(0, 999) < permille; }

  Price price_near(Side side, bool cross) {
    if (chance(k_.jump_permille)) mid_ = std::max<std::int64_t>(6000, mid_ + uniform(-5000, 5000));
    if (chance(50)) mid_ = std::max<std::int64_t>(100, mid_ + uniform(-3, 3));
    std::int64_t off = uniform(0, k_.spread);
    if (chance(20)) off = uniform(0, 5000);  // long tail
    const bool below = (side == Side::buy) != cross;
    std::int64_t px = below ? mid_ - 1 - off : mid_ + 1 + off;
    px = std::max<std::int64_t>(px, 1);
    if (chance(3)) px = uniform(-2, 0);  // invalid
    if (chance(1)) px = Price::kMaxTicks + uniform(-1, 1);
    return Price(px);
  }
  Qty qty() {
    if (chance(k_.huge_permille))
      return Qty(kMaxLots - uniform(0, 3) - uniform(0, 1) * (kMaxLots / 3));
    if (chance(4)) return Qty(uniform(-1, 0));
    return Qty(uniform(1, 100));
  }
  Side side() { return uniform(0, 1) == 0 ? Side::buy : Side::sell; }

  OrderId pick_id() {
    picked_ = ids_.size();
    if (ids_.empty() || chance(20)) return OrderId(static_cast<std::uint64_t>(uniform(0, 50)));
    picked_ = static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(ids_.size()) - 1));
    return ids_[picked_];
  }
  // Forgets the last picked id once the books agree it is gone.
  void forget_if_gone() {
    if (picked_ < ids_.size() && !fast_.order(ids_[picked_])) {
      ids_[picked_] = ids_.back();
      ids_.pop_back();
    }
    picked_ = ids_.size();
  }
  void remember(const Result<AddResult>& r) {
    if (r.ok() && r->remaining.positive()) ids_.push_back(r->id);
    if (ids_.size() > 20000) ids_.erase(ids_.begin(), ids_.begin() + 10000);
  }

  template <class T>
  void check(const Result<T>& a, const Result<T>& b) {
    ASSERT_TRUE(same(a, b)) << "at op " << step_;
    forget_if_gone();
    const ChangeSet& x = fast_.last_change();
    const ChangeSet& y = ref_.last_change();
    (a.ok() ? ok_ : failed_) += 1;
    trades_ += a.ok() ? x.trades.size() : 0;
    max_orders_ = std::max(max_orders_, fast_.order_count());
    max_levels_ =
        std::max(max_levels_, fast_.level_count(Side::buy) + fast_.level_count(Side::sell));
    if (!a.ok()) {
      EXPECT_EQ(fast_.seq(), ref_.seq());
      return;
    }
    ASSERT_EQ(x.seq, y.seq) << "at op " << step_;
    ASSERT_EQ(x.changed, y.changed) << "at op " << step_;
    ASSERT_EQ(x.top_changed, y.top_changed) << "at op " << step_;
    ASSERT_EQ(x.trades, y.trades) << "at op " << step_;
    ASSERT_EQ(sorted(x.deltas), sorted(y.deltas)) << "at op " << step_;
    for (const Trade& t : x.trades) {
      ASSERT_EQ(fast_.external_id(t.maker), ref_.external_id(t.maker)) << "at op " << step_;
    }
  }

  void one() {
    const std::int64_t u = uniform(0, 99);
    if (mode_ == Mode::l2) return one_l2(u);
    if (u < 3) {  // wrong kind for the mode
      check(fast_.set_level(side(), Price(mid_), Qty(1)),
            ref_.set_level(side(), Price(mid_), Qty(1)));
      return;
    }
    // Alternate phases that build the book up and drain it down.
    const std::int64_t adds = (step_ / 5000) % 2 == 0 ? 70 : 35;
    if (u < adds) {
      const Side s = side();
      const bool cross = mode_ == Mode::mirror ? chance(300) : chance(150);
      NewOrder o{s, price_near(s, cross), qty()};
      if (chance(k_.sweep_permille)) o = NewOrder{s, price_near(s, true), Qty(uniform(200, 5000))};
      if (mode_ == Mode::venue || chance(20)) {
        const std::int64_t t = uniform(0, 19);
        if (t == 0) o.type = OrderType::market;
        if (t == 1 || t == 2) o.tif = TimeInForce::ioc;
        if (t == 3 || t == 4) o.tif = TimeInForce::fok;
      }
      if (mode_ == Mode::mirror && chance(600)) {
        const std::string ext = ext_name(next_ext_++ % 100000);
        auto a = fast_.add_external(ext, s, o.price, o.qty);
        auto b = ref_.add_external(ext, s, o.price, o.qty);
        check(a, b);
        remember(a);
        return;
      }
      auto a = fast_.add(o);
      auto b = ref_.add(o);
      check(a, b);
      remember(a);
      return;
    }
    const std::int64_t v = (u - adds) * 100 / (100 - adds);
    if (v < 55) {
      const OrderId id = pick_id();
      check(fast_.cancel(id), ref_.cancel(id));
    } else if (v < 67) {
      const OrderId id = pick_id();
      const Qty by(uniform(-1, 60));
      check(fast_.reduce(id, by), ref_.reduce(id, by));
    } else if (v < 78) {
      const OrderId id = pick_id();
      const Qty q(uniform(0, 60));
      std::optional<Price> p;
      if (chance(300)) p = Price(uniform(-1, mid_ * 2));
      check(fast_.execute(id, q, p), ref_.execute(id, q, p));
    } else if (v < 89) {
      const OrderId id = pick_id();
      const auto cur = fast_.order(id);
      const Side s = cur ? cur->side : side();
      Price p = chance(500) && cur ? cur->price : price_near(s, chance(100));
      Qty q = chance(300) && cur ? Qty(cur->qty.lots() - uniform(-1, 2)) : qty();
      auto a = fast_.modify(id, p, q);
      auto b = ref_.modify(id, p, q);
      check(a, b);
    } else {
      const OrderId id = pick_id();
      const auto cur = fast_.order(id);
      const Side s = cur ? cur->side : side();
      const Price p = price_near(s, chance(100));
      const Qty q = qty();
      if (mode_ == Mode::mirror && chance(500)) {
        std::string ext = ext_name(next_ext_++ % 100000);
        if (chance(50)) ext.clear();
        auto a = fast_.replace_external(id, ext, p, q);
        auto b = ref_.replace_external(id, ext, p, q);
        check(a, b);
        remember(a);
      } else {
        auto a = fast_.replace(id, p, q);
        auto b = ref_.replace(id, p, q);
        check(a, b);
        remember(a);
      }
    }
    if (mode_ == Mode::mirror && chance(30)) {  // upstream ids resolve the same
      const std::string ext = ext_name(uniform(0, next_ext_ % 100000));
      auto a = fast_.resolve(ext);
      ASSERT_TRUE(same(a, ref_.resolve(ext)));
      if (a.ok()) ids_.push_back(*a);
    }
  }

  void one_l2(std::int64_t u) {
    if (u < 3) {
      NewOrder o{side(), Price(mid_), Qty(1)};
      check(fast_.add(o), ref_.add(o));
    } else if (u < 97) {
      const Side s = side();
      const Price p = price_near(s, chance(100));
      Qty q = chance(350) ? Qty(0) : qty();
      if (chance(5)) q = Qty(-1);
      check(fast_.set_level(s, p, q), ref_.set_level(s, p, q));
    } else {
      std::vector<LevelView> bids, asks;
      const std::int64_t n = chance(100) ? uniform(0, 300) : uniform(0, 20);
      for (std::int64_t i = 0; i < n; ++i) {
        const Side s = side();
        LevelView l{price_near(s, false), Qty(uniform(1, 50)), 0};
        if (chance(5)) l.qty = Qty(0);
        (s == Side::buy ? bids : asks).push_back(l);
      }
      // Drop accidental duplicates most of the time; keep some to test rejection.
      if (!chance(200)) {
        for (auto* v : {&bids, &asks}) {
          std::sort(v->begin(), v->end(), [](auto& a, auto& b) { return a.price < b.price; });
          v->erase(std::unique(v->begin(), v->end(),
                               [](auto& a, auto& b) { return a.price == b.price; }),
                   v->end());
        }
      }
      check(fast_.apply_snapshot(bids, asks), ref_.apply_snapshot(bids, asks));
    }
  }

  void compare_state(std::size_t levels) {
    ASSERT_EQ(fast_.seq(), ref_.seq());
    ASSERT_EQ(fast_.order_count(), ref_.order_count());
    ASSERT_EQ(fast_.next_order_id(), ref_.next_order_id());
    for (Side s : {Side::buy, Side::sell}) {
      ASSERT_EQ(fast_.level_count(s), ref_.level_count(s));
      ASSERT_EQ(fast_.best(s), ref_.best(s));
      fast_.depth(s, levels, da_);
      ref_.depth(s, levels, db_);
      ASSERT_EQ(da_, db_);
    }
    for (int i = 0; i < 3 && !ids_.empty(); ++i) {
      const OrderId id = pick_id();
      ASSERT_EQ(fast_.order(id), ref_.order(id));
    }
    if (levels > 100) {
      ASSERT_EQ(fast_.check_invariants(), std::nullopt);
      // Queue order (time priority) of the best levels.
      for (Side s : {Side::buy, Side::sell}) {
        if (auto b = fast_.best(s)) {
          fast_.level_orders(s, b->price, oa_);
          ref_.level_orders(s, b->price, ob_);
          ASSERT_EQ(oa_, ob_);
        }
      }
    }
  }

  Mode mode_;
  OrderBook fast_;
  ReferenceBook ref_;
  std::mt19937_64 rng_;
  Knobs k_;
  std::int64_t mid_ = 100000;
  std::vector<OrderId> ids_;
  std::uint64_t next_ext_ = 0;
  std::size_t step_ = 0;
  std::size_t picked_ = 0;
  std::size_t ok_ = 0, failed_ = 0, trades_ = 0, max_orders_ = 0, max_levels_ = 0;
  std::vector<LevelView> da_, db_;
  std::vector<OrderView> oa_, ob_;
};

std::size_t ops_per_seed() {
  return long_tests() ? 1'000'000 : 100'000;
}

class DifferentialAllModes : public ::testing::TestWithParam<std::tuple<Mode, int>> {};

TEST_P(DifferentialAllModes, FastBookAgreesWithReferenceOnEveryOperation) {
  const auto [mode, seed] = GetParam();
  Differential d(mode, 0xC0FFEE + static_cast<std::uint64_t>(seed) * 7919);
  d.run(ops_per_seed());
}

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialAllModes,
                         ::testing::Combine(::testing::Values(Mode::venue, Mode::mirror, Mode::l2),
                                            ::testing::Values(1, 2, 3)),
                         [](const ::testing::TestParamInfo<std::tuple<Mode, int>>& p) {
                           return std::string(to_string(std::get<0>(p.param))) + "_seed" +
                                  std::to_string(std::get<1>(p.param));
                         });

TEST(Differential, TenThousandOrdersAtOneLevelThenRandomFlow) {
  for (Mode mode : {Mode::venue, Mode::mirror}) {
    Differential d(mode, 42, Differential::Knobs{3, 0, 0, 30});
    d.pile(Side::sell, 100001, 10'000);
    d.pile(Side::buy, 99999, 10'000);
    EXPECT_EQ(d.fast().best(Side::sell)->orders, 10'000u);
    d.run(long_tests() ? 500'000 : 50'000);
  }
}

TEST(Differential, WideJumpsAndSweeps) {
  Differential d(Mode::venue, 7, Differential::Knobs{200, 60, 10, 80});
  d.run(long_tests() ? 1'000'000 : 100'000);
}

}  // namespace
