#include "runtime/detail/steal_watch.hpp"

#include <gtest/gtest.h>

namespace rt::detail {
namespace {

// Limits: average over 20 µs, a turn of 1 µs is heavy, 100 µs in one turn is stuck.
constexpr std::int64_t kT0 = 1'000'000'000;

TEST(StealWatchTest, FirstLookOnlyStartsWatching) {
  StealWatch w;
  EXPECT_FALSE(w.worth_stealing(5, kT0));
}

TEST(StealWatchTest, ShortTurnsStayWhereTheyAre) {
  StealWatch w;
  std::uint64_t turns = 0;
  // A victim running 100 turns per µs (a fan-out's subscribers), watched for 1 ms.
  for (std::int64_t t = kT0; t < kT0 + 1'000'000; t += 2'000) {
    EXPECT_FALSE(w.worth_stealing(turns, t)) << "at +" << (t - kT0) << " ns";
    turns += 200;
  }
}

TEST(StealWatchTest, LongTurnsOnAverageAreWorthMoving) {
  StealWatch w;
  EXPECT_FALSE(w.worth_stealing(0, kT0));
  EXPECT_FALSE(w.worth_stealing(3, kT0 + 10'000));  // the window is not over yet
  // 10 turns in 25 µs: 2.5 µs a turn.
  EXPECT_TRUE(w.worth_stealing(10, kT0 + 25'000));
}

TEST(StealWatchTest, AVictimStuckInOneTurnHasItsQueueTaken) {
  StealWatch w;
  EXPECT_FALSE(w.worth_stealing(7, kT0));
  EXPECT_FALSE(w.worth_stealing(7, kT0 + 99'000));
  EXPECT_TRUE(w.worth_stealing(7, kT0 + 100'000));
}

TEST(StealWatchTest, ProgressRestartsTheStuckClock) {
  // Many short turns, then one long one: stuck counts from the last progress.
  StealWatch w;
  EXPECT_FALSE(w.worth_stealing(0, kT0));
  EXPECT_FALSE(w.worth_stealing(1'000, kT0 + 10'000));
  EXPECT_FALSE(w.worth_stealing(1'000, kT0 + 105'000));  // 95 µs since progress; averages short
  EXPECT_TRUE(w.worth_stealing(1'000, kT0 + 110'000));
}

TEST(StealWatchTest, ResetForgetsAnOldObservation) {
  // A victim idle for a second is not stuck when work arrives.
  StealWatch w;
  EXPECT_FALSE(w.worth_stealing(4, kT0));
  w.reset();
  EXPECT_FALSE(w.worth_stealing(4, kT0 + 1'000'000'000));
  EXPECT_FALSE(w.worth_stealing(4, kT0 + 1'000'050'000));
}

}  // namespace
}  // namespace rt::detail
