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
#include <string>
#include <tuple>
#include <vector>

#include "orderbook/order_book.hpp"
#include "orderbook/reference_book.hpp"
#include "tests/orderbook/op_stream.hpp"

namespace {

using namespace ob;

bool long_tests() {
  const char* v = std::getenv("MARKETD_LONG_TESTS");
  return v != nullptr && std::string(v) == "1";
}

std::vector<LevelDelta> sorted(std::vector<LevelDelta> d) {
  std::sort(d.begin(), d.end(), [](const LevelDelta& a, const LevelDelta& b) {
    return std::tie(a.side, a.price) < std::tie(b.side, b.price);
  });
  return d;
}

// Drives both books with one random stream and compares after every operation.
class Differential {
 public:
  using Knobs = obtest::OpStream::Knobs;

  Differential(Mode mode, std::uint64_t seed) : Differential(mode, seed, Knobs()) {}
  Differential(Mode mode, std::uint64_t seed, Knobs k)
      : mode_(mode), fast_(mode), ref_(mode), stream_(mode, seed, k) {}

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
      obtest::Op op;
      op.order = NewOrder{side, Price(px), stream_.small_qty()};
      check(obtest::apply(fast_, op), obtest::apply(ref_, op));
    }
  }

 private:
  void one() {
    const obtest::OpStream::Step s = stream_.next(fast_);
    const obtest::Outcome a = obtest::apply(fast_, s.op);
    const obtest::Outcome b = obtest::apply(ref_, s.op);
    check(a, b);
    stream_.learn(s.op, a);
    if (s.then) {  // a query: the results agree, nothing else changes
      const obtest::Outcome x = obtest::apply(fast_, *s.then);
      const obtest::Outcome y = obtest::apply(ref_, *s.then);
      ASSERT_EQ(x, y) << "at op " << step_ << ": " << to_string(x) << " vs " << to_string(y);
      stream_.learn(*s.then, x);
    }
  }

  void check(const obtest::Outcome& a, const obtest::Outcome& b) {
    ASSERT_EQ(a, b) << "at op " << step_ << ": " << to_string(a) << " vs " << to_string(b);
    stream_.forget_if_gone(fast_);
    const bool ok = a.ok;
    const ChangeSet& x = fast_.last_change();
    const ChangeSet& y = ref_.last_change();
    (ok ? ok_ : failed_) += 1;
    trades_ += ok ? x.trades.size() : 0;
    max_orders_ = std::max(max_orders_, fast_.order_count());
    max_levels_ =
        std::max(max_levels_, fast_.level_count(Side::buy) + fast_.level_count(Side::sell));
    if (!ok) {
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
    for (int i = 0; i < 3 && stream_.has_ids(); ++i) {
      const OrderId id = stream_.pick_id();
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
  obtest::OpStream stream_;
  std::size_t step_ = 0;
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
