// MaxRateStream: a stream capped at max_hz sends at once when it may, holds
// and merges otherwise (API.md "Max rate").

#include "services/max_rate_stream.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "services/wire.hpp"

namespace services {
namespace {

using services::Channel;
using services::Frame;
using services::FramePtr;

constexpr std::int64_t kMs = 1'000'000;

const services::SymbolInfo kInfo{"X", *services::SymbolSpec::parse("0.01", "1")};

FramePtr book_update(std::uint64_t seq, std::vector<ob::LevelDelta> changes, std::uint32_t sum,
                     std::uint64_t merged = 1) {
  std::string json = services::wire::book_update(kInfo, seq, changes, sum, merged);
  return std::make_shared<const Frame>(Frame{Channel::book, Frame::Kind::update, seq, "X",
                                             std::move(json), merged, std::move(changes), sum});
}
FramePtr top(std::uint64_t seq) {
  return std::make_shared<const Frame>(
      Frame{Channel::top, Frame::Kind::update, seq, "X", "top " + std::to_string(seq)});
}
ob::LevelDelta level(ob::Side side, std::int64_t price, std::int64_t qty) {
  return ob::LevelDelta{side, ob::Price(price), ob::LevelQty(ob::Qty(qty))};
}

TEST(MaxRateStream, AFrameGoesAtOnceWhenAPeriodHasPassedElseItIsHeldUntilDue) {
  MaxRateStream s(10);  // 100 ms
  const std::int64_t t0 = 1'000 * kMs;
  FramePtr first = top(1);
  EXPECT_EQ(s.offer(first, t0), first);
  EXPECT_EQ(s.offer(top(2), t0 + 10 * kMs), nullptr);
  EXPECT_TRUE(s.holding());
  EXPECT_EQ(s.due_ns(), t0 + 100 * kMs);
  FramePtr third = top(3);
  EXPECT_EQ(s.offer(third, t0 + 20 * kMs), nullptr);
  EXPECT_EQ(s.take(kInfo, t0 + 100 * kMs), third) << "the newest top wins";
  EXPECT_FALSE(s.holding());
  EXPECT_EQ(s.take(kInfo, t0 + 100 * kMs), nullptr);
  // Past the period again, with nothing held: at once.
  FramePtr fourth = top(4);
  EXPECT_EQ(s.offer(fourth, t0 + 250 * kMs), fourth);
  // Held while something is, even past the due time: order is kept.
  EXPECT_EQ(s.offer(top(5), t0 + 260 * kMs), nullptr);
  EXPECT_EQ(s.offer(top(6), t0 + 400 * kMs), nullptr);
  EXPECT_EQ(s.take(kInfo, t0 + 400 * kMs)->seq, 6u);
}

TEST(MaxRateStream, BookUpdatesMergePerLevelWithTheLastSeqAndChecksumAndTheSeqsCovered) {
  MaxRateStream s(1);
  const std::int64_t t0 = 5'000 * kMs;
  ASSERT_NE(s.offer(book_update(10, {level(ob::Side::buy, 100, 5)}, 1), t0), nullptr);
  EXPECT_EQ(
      s.offer(book_update(11, {level(ob::Side::buy, 100, 7), level(ob::Side::sell, 103, 1)}, 2),
              t0 + kMs),
      nullptr);
  EXPECT_EQ(s.offer(book_update(14, {level(ob::Side::buy, 101, 2)}, 3, 3), t0 + 2 * kMs), nullptr);
  EXPECT_EQ(
      s.offer(book_update(15, {level(ob::Side::sell, 103, 0), level(ob::Side::sell, 102, 4)}, 4),
              t0 + 3 * kMs),
      nullptr);
  FramePtr merged = s.take(kInfo, t0 + 1'000 * kMs);
  ASSERT_NE(merged, nullptr);
  EXPECT_EQ(merged->seq, 15u);
  EXPECT_EQ(merged->merged, 5u) << "seqs 11 to 15";
  EXPECT_EQ(merged->checksum, 4u);
  const std::vector<ob::LevelDelta> want{level(ob::Side::buy, 101, 2), level(ob::Side::buy, 100, 7),
                                         level(ob::Side::sell, 102, 4),
                                         level(ob::Side::sell, 103, 0)};
  EXPECT_EQ(merged->changes, want) << "bids best first, then asks best first";
  EXPECT_EQ(merged->json, services::wire::book_update(kInfo, 15, want, 4, 5));
}

TEST(MaxRateStream, OneHeldUpdateIsSentAsItIsAndASnapshotDropsWhatIsHeld) {
  MaxRateStream s(2);
  const std::int64_t t0 = 9'000 * kMs;
  ASSERT_NE(s.offer(book_update(1, {level(ob::Side::buy, 100, 1)}, 1), t0), nullptr);
  FramePtr only = book_update(2, {level(ob::Side::buy, 100, 2)}, 2);
  EXPECT_EQ(s.offer(only, t0 + kMs), nullptr);
  EXPECT_EQ(s.take(kInfo, t0 + 500 * kMs), only);
  EXPECT_EQ(s.offer(book_update(3, {level(ob::Side::buy, 100, 3)}, 3), t0 + 600 * kMs), nullptr);
  s.restart(t0 + 700 * kMs);  // a snapshot at seq >= 3 went out
  EXPECT_FALSE(s.holding());
  EXPECT_EQ(s.due_ns(), t0 + 1'200 * kMs) << "the snapshot counts as a message sent";
  FramePtr next = book_update(4, {level(ob::Side::buy, 100, 4)}, 4);
  EXPECT_EQ(s.offer(next, t0 + 1'200 * kMs), next);
}

}  // namespace
}  // namespace services
