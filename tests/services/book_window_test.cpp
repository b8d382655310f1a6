// BookWindow against the real book: after every change, a client replaying
// the encoded snapshot and updates holds exactly the book's best `depth`
// levels per side, and every checksum verifies.
#include "services/book_window.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "services/wire.hpp"
#include "tests/support/book_replica.hpp"

namespace services {
namespace {

using ob::Side;

struct Case {
  ob::Mode mode;
  std::uint32_t depth;
};

class BookWindowRandomTest : public ::testing::TestWithParam<Case> {};

std::vector<ob::LevelView> top(const ob::OrderBook& b, Side s, std::size_t n) {
  std::vector<ob::LevelView> out;
  b.depth(s, n, out);
  for (auto& l : out) l.orders = 0;  // the wire carries price and qty only
  return out;
}

TEST_P(BookWindowRandomTest, AReplayedClientHoldsExactlyTheBooksTopLevelsAfterEveryChange) {
  const ob::Mode mode = GetParam().mode;
  const std::uint32_t depth = GetParam().depth;
  const SymbolInfo info{"T", *SymbolSpec::parse("0.01", "0.0001", mode)};
  ob::OrderBook book(mode);
  std::mt19937_64 rng(depth * 7919 + static_cast<unsigned>(mode));
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  std::vector<ob::OrderId> resting;
  // Changes: adds around 10,000 ticks (a few hundred levels), cancels, sweeps;
  // l2: level sets and whole-book snapshots (many deltas in one change).
  auto change = [&]() -> bool {
    if (mode == ob::Mode::l2) {
      if (pick(0, 99) == 0) {
        std::vector<ob::LevelView> bids, asks;
        for (std::int64_t p = 10'000 - pick(1, 5); p > 9'800; p -= pick(1, 30)) {
          bids.push_back({ob::Price(p), ob::Qty(pick(1, 9)), 0});
        }
        for (std::int64_t p = 10'000 + pick(1, 5); p < 10'200; p += pick(1, 30)) {
          asks.push_back({ob::Price(p), ob::Qty(pick(1, 9)), 0});
        }
        return book.apply_snapshot(bids, asks).ok();
      }
      const Side s = pick(0, 1) ? Side::buy : Side::sell;
      const std::int64_t p = s == Side::buy ? 10'000 - pick(1, 300) : 10'000 + pick(1, 300);
      return book.set_level(s, ob::Price(p), ob::Qty(pick(0, 2) == 0 ? 0 : pick(1, 9))).ok();
    }
    const int what = static_cast<int>(pick(0, 99));
    if (what < 35 && !resting.empty()) {
      const std::size_t i =
          static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(resting.size()) - 1));
      const ob::OrderId id = resting[i];
      resting[i] = resting.back();
      resting.pop_back();
      return book.cancel(id).ok();  // may be gone (filled): then nothing changed
    }
    const Side s = pick(0, 1) ? Side::buy : Side::sell;
    ob::NewOrder o{s, ob::Price(0), ob::Qty(pick(1, 20)), ob::OrderType::limit,
                   ob::TimeInForce::gtc};
    if (what < 40) {
      o.type = ob::OrderType::market;  // a sweep: many levels leave at once
      o.tif = ob::TimeInForce::ioc;
      o.qty = ob::Qty(pick(1, 200));
    } else {
      // Mostly passive, sometimes crossing.
      o.price = ob::Price(s == Side::buy ? 10'000 - pick(-3, 300) : 10'000 + pick(-3, 300));
    }
    auto r = book.add(o);
    if (r && r->remaining.positive()) resting.push_back(r->id);
    return r.ok();
  };
  for (int i = 0; i < 400; ++i) change();  // a book before anyone subscribes

  BookWindow window(book, depth);
  testing_support::BookReplica client(info.spec.book);
  ASSERT_EQ(
      client.apply(wire::book_snapshot(info, book.seq(), window.levels(Side::buy),
                                       window.levels(Side::sell), window.checksum(info.spec.book))),
      "");
  std::uint64_t last_sent = book.seq();
  std::vector<ob::LevelDelta> changes;
  for (int i = 0; i < 5000; ++i) {
    if (!change() || !book.last_change().changed) continue;
    const ob::ChangeSet& c = book.last_change();
    window.apply(book, c.deltas, changes);
    if (!changes.empty()) {
      ASSERT_EQ(client.apply(wire::book_update(info, c.seq, changes,
                                               window.checksum(info.spec.book), c.seq - last_sent)),
                "")
          << "change " << i;
      last_sent = c.seq;
    }
    // Sent or not, the client now holds exactly the book's window.
    ASSERT_EQ(client.levels(Side::buy), top(book, Side::buy, depth)) << "change " << i;
    ASSERT_EQ(client.levels(Side::sell), top(book, Side::sell, depth)) << "change " << i;
  }
  EXPECT_GT(client.updates(), 50u);
  if (depth < 50) {
    EXPECT_GT(client.merged_updates(), 0u) << "changes beyond the window were seen";
  }
}

INSTANTIATE_TEST_SUITE_P(DepthsAndModes, BookWindowRandomTest,
                         ::testing::Values(Case{ob::Mode::venue, 1}, Case{ob::Mode::venue, 3},
                                           Case{ob::Mode::venue, 10}, Case{ob::Mode::venue, 1000},
                                           Case{ob::Mode::l2, 1}, Case{ob::Mode::l2, 7},
                                           Case{ob::Mode::l2, 40}));

TEST(BookWindow, AnEraseFromAFullWindowPullsInTheNextLevelAndAnInsertPushesOutTheWorst) {
  ob::OrderBook book(ob::Mode::l2);
  for (std::int64_t p : {100, 99, 98, 97})
    ASSERT_TRUE(book.set_level(Side::buy, ob::Price(p), ob::Qty(1)).ok());
  BookWindow w(book, 2);
  std::vector<ob::LevelDelta> out;
  ASSERT_TRUE(book.set_level(Side::buy, ob::Price(100), ob::Qty(0)).ok());
  w.apply(book, book.last_change().deltas, out);
  EXPECT_EQ(out, (std::vector<ob::LevelDelta>{{Side::buy, ob::Price(98), ob::Qty(1)},
                                              {Side::buy, ob::Price(100), ob::Qty(0)}}));
  ASSERT_TRUE(book.set_level(Side::buy, ob::Price(101), ob::Qty(5)).ok());
  w.apply(book, book.last_change().deltas, out);
  EXPECT_EQ(out, (std::vector<ob::LevelDelta>{{Side::buy, ob::Price(98), ob::Qty(0)},
                                              {Side::buy, ob::Price(101), ob::Qty(5)}}));
  ASSERT_TRUE(book.set_level(Side::buy, ob::Price(50), ob::Qty(5)).ok());  // beyond: nothing
  w.apply(book, book.last_change().deltas, out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace services
