// PriceLadder: the tick-offset window follows the best price.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "orderbook/detail/price_ladder.hpp"

namespace {

using ob::detail::kNil;
using ob::detail::PriceLadder;

std::vector<std::int64_t> keys(const PriceLadder& l) {
  std::vector<std::int64_t> out;
  for (std::uint32_t i = l.best(); i != kNil; i = l.next(i)) out.push_back(l[i].key);
  return out;
}

TEST(PriceLadder, IteratesBestFirstAcrossWindowAndFarLevels) {
  PriceLadder l;
  for (std::int64_t k : {100, 5000, 101, 99, 1'000'000, 4000}) l.insert(k);
  EXPECT_EQ(keys(l), (std::vector<std::int64_t>{99, 100, 101, 4000, 5000, 1'000'000}));
  EXPECT_GE(l.far_size(), 1u);
  l.erase(l.find(99));
  l.erase(l.find(100));
  EXPECT_EQ(l[l.best()].key, 101);
  EXPECT_EQ(l.find(12345), kNil);
}

TEST(PriceLadder, DriftingBestKeepsNearLevelsInTheWindow) {
  // The best worsens by 100,000 ticks: keep ~20 levels just behind it.
  PriceLadder l;
  for (std::int64_t k = 0; k < 20; ++k) l.insert(k);
  for (std::int64_t best = 0; best < 100'000; ++best) {
    l.erase(l.best());
    l.insert(best + 20);
    ASSERT_EQ(l[l.best()].key, best + 1);
    ASSERT_EQ(l.far_size(), 0u) << "near levels fell out of the window at " << best;
  }
}

TEST(PriceLadder, ImprovingBestRecentresTheWindow) {
  PriceLadder l;
  l.insert(1'000'000);
  for (std::int64_t k = 1'000'000; k > 900'000; k -= 7) {
    l.insert(k - 7);
    l.erase(l.find(k));
    ASSERT_EQ(l.far_size(), 0u);
  }
  EXPECT_EQ(l.size(), 1u);
}

TEST(PriceLadder, EmptiedWindowPullsTheFarLevelsIn) {
  PriceLadder l;
  l.insert(10);
  for (std::int64_t k = 100'000; k < 100'010; ++k) l.insert(k);
  EXPECT_EQ(l.far_size(), 10u);
  l.erase(l.find(10));
  EXPECT_EQ(l.far_size(), 0u);
  EXPECT_EQ(l[l.best()].key, 100'000);
  EXPECT_EQ(keys(l).size(), 10u);
}

TEST(PriceLadder, AfterFindsTheNextLevelForAnyKeyInWindowAndFarRange) {
  PriceLadder l;
  EXPECT_EQ(l.after(0), kNil);
  for (std::int64_t k : {100, 101, 4000, 5000, 1'000'000}) l.insert(k);
  ASSERT_GE(l.far_size(), 1u);
  auto after = [&](std::int64_t key) {
    const std::uint32_t i = l.after(key);
    return i == kNil ? std::int64_t{-1} : l[i].key;
  };
  EXPECT_EQ(after(-1'000'000), 100);  // before the window: the best
  EXPECT_EQ(after(99), 100);
  EXPECT_EQ(after(100), 101);    // strictly after an existing level
  EXPECT_EQ(after(102), 4000);   // a gap inside the window
  EXPECT_EQ(after(4000), 5000);  // across into the far map
  EXPECT_EQ(after(5000), 1'000'000);
  EXPECT_EQ(after(700'000), 1'000'000);  // a key in the far range that is no level
  EXPECT_EQ(after(1'000'000), -1);
  // Agrees with walking next() from every level.
  for (std::uint32_t i = l.best(); i != kNil; i = l.next(i))
    EXPECT_EQ(l.after(l[i].key), l.next(i));
}

}  // namespace
