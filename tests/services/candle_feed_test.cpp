// CandleFeed: what candles:I subscribers are sent on each once-a-second tick
// (API.md "Candles").

#include "services/candle_feed.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace services {
namespace {

constexpr std::int64_t kS = 1'000'000'000;
const std::int64_t kT0 = 1'765'000'020 * kS;  // a minute's start
const Channels kOneMinute{Channel::candles_1m};
constexpr std::size_t kM1 = 1;  // its index in kCandleIntervals

std::vector<CandleFeed::Due> tick(CandleFeed& feed, const Candles& c, Channels followed,
                                  std::int64_t now) {
  std::vector<CandleFeed::Due> out;
  feed.tick(c, followed, now, out);
  return out;
}

TEST(CandleFeed, TheChannelsNameTheIntervalsInOrder) {
  for (std::size_t i = 0; i < kCandleIntervals.size(); ++i) {
    EXPECT_EQ(to_string(candle_channel(i)),
              "candles:" + std::string(to_string(kCandleIntervals[i])));
    EXPECT_TRUE(kCandleChannels.has(candle_channel(i)));
  }
}

TEST(CandleFeed, ACandleIsSentWhenItChangesThenOnceClosedWhenItsIntervalEnds) {
  Candles candles;
  CandleFeed feed;
  EXPECT_TRUE(tick(feed, candles, kOneMinute, kT0).empty()) << "no trade, no candle";
  candles.add(ob::Price(100), ob::Qty(1), kT0 + kS);
  auto due = tick(feed, candles, kOneMinute, kT0 + 2 * kS);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].interval, kM1);
  EXPECT_EQ(due[0].candle.start_ns, kT0);
  EXPECT_FALSE(due[0].closed);
  EXPECT_TRUE(tick(feed, candles, kOneMinute, kT0 + 3 * kS).empty()) << "unchanged: nothing";
  candles.add(ob::Price(105), ob::Qty(2), kT0 + 3 * kS);
  due = tick(feed, candles, kOneMinute, kT0 + 4 * kS);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].candle.trades, 2u);
  EXPECT_EQ(due[0].candle.high, ob::Price(105));
  // The minute ends: its closing state, once.
  due = tick(feed, candles, kOneMinute, kT0 + 60 * kS);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(due[0].closed);
  EXPECT_EQ(due[0].candle.trades, 2u);
  EXPECT_TRUE(tick(feed, candles, kOneMinute, kT0 + 61 * kS).empty());
  // A late trade within the grace window updates the closed candle again.
  candles.add(ob::Price(90), ob::Qty(1), kT0 + 59 * kS);
  due = tick(feed, candles, kOneMinute, kT0 + 62 * kS);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(due[0].closed);
  EXPECT_EQ(due[0].candle.low, ob::Price(90));
}

TEST(CandleFeed, ANewIntervalSendsThePreviousClosedBeforeTheNewCandle) {
  Candles candles;
  CandleFeed feed;
  candles.add(ob::Price(100), ob::Qty(1), kT0 + kS);
  ASSERT_EQ(tick(feed, candles, kOneMinute, kT0 + 2 * kS).size(), 1u);
  candles.add(ob::Price(101), ob::Qty(1), kT0 + 30 * kS);
  candles.add(ob::Price(102), ob::Qty(1), kT0 + 61 * kS);  // event time runs ahead of the clock
  auto due = tick(feed, candles, kOneMinute, kT0 + 59 * kS);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].candle.start_ns, kT0);
  EXPECT_TRUE(due[0].closed);
  EXPECT_EQ(due[0].candle.trades, 2u) << "its final state, from the ring";
  EXPECT_EQ(due[1].candle.start_ns, kT0 + 60 * kS);
  EXPECT_FALSE(due[1].closed);
}

TEST(CandleFeed, OnlyFollowedIntervalsAreSentAndAnUnfollowedOneStartsAfresh) {
  Candles candles;
  CandleFeed feed;
  candles.add(ob::Price(100), ob::Qty(1), kT0 + kS);
  auto due = tick(feed, candles, Channels{Channel::candles_1s, Channel::candles_1h}, kT0 + kS);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(kCandleIntervals[due[0].interval], CandleInterval::s1);
  EXPECT_EQ(kCandleIntervals[due[1].interval], CandleInterval::h1);
  EXPECT_TRUE(tick(feed, candles, Channels{}, kT0 + 2 * kS).empty());
  // Followed again: what was sent before is forgotten, the current candle goes.
  due = tick(feed, candles, Channels{Channel::candles_1h}, kT0 + 3 * kS);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_FALSE(due[0].closed);
  auto current = CandleFeed::current(candles, kM1, kT0 + 3 * kS);
  ASSERT_TRUE(current);
  EXPECT_EQ(current->candle.start_ns, kT0);
  EXPECT_FALSE(current->closed);
  EXPECT_TRUE(CandleFeed::current(candles, kM1, kT0 + 60 * kS)->closed);
  EXPECT_FALSE(CandleFeed::current(Candles{}, kM1, kT0));
}

}  // namespace
}  // namespace services
