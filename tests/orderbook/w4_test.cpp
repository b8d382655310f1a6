// The shared W4 generator and the book against the peer's published figures.
#include <gtest/gtest.h>

#include <cstdint>

#include "bench/common/w4_generator.hpp"
#include "orderbook/order_book.hpp"

namespace {

TEST(W4Generator, FirstOutputsMatchTheSpecification) {
  w4::XorShift64Star r;
  EXPECT_EQ(r.next(), 973819730272012410ull);
  EXPECT_EQ(r.next(), 6108091081255984487ull);
  EXPECT_EQ(r.next(), 12125365036566318712ull);
}

TEST(W4Generator, FirstTwelveOperationsMatchTheTestVector) {
  const auto ops = w4::generate(12);
  struct Want {
    bool add;
    int side;
    std::int64_t price, qty;
    std::uint64_t id;
  };
  const Want want[] = {{true, 1, 10013, 18, 1}, {false, 0, 0, 0, 1},     {true, 0, 9987, 74, 2},
                       {true, 1, 10021, 22, 3}, {true, 1, 10035, 48, 4}, {true, 0, 9971, 79, 5},
                       {true, 0, 9984, 21, 6},  {false, 0, 0, 0, 6},     {false, 0, 0, 0, 3},
                       {true, 0, 9982, 79, 7},  {true, 1, 10004, 23, 8}, {false, 0, 0, 0, 4}};
  for (std::size_t i = 0; i < 12; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(ops[i].kind == w4::Op::Kind::add, want[i].add);
    EXPECT_EQ(ops[i].id, want[i].id);
    if (want[i].add) {
      EXPECT_EQ(ops[i].side, want[i].side);
      EXPECT_EQ(ops[i].price, want[i].price);
      EXPECT_EQ(ops[i].qty, want[i].qty);
    }
  }
}

TEST(W4Book, FiftyThousandOperationsReproduceThePeerFigures) {
  // Figures from the peer README and `python3 tools/w4_reference.py 50000`.
  ob::OrderBook book(ob::Mode::venue);
  std::int64_t trades = 0, traded = 0, notional = 0;
  std::int64_t passive = 0, crossing = 0, cancels = 0, hits = 0;
  for (const w4::Op& op : w4::generate(50'000)) {
    if (op.kind == w4::Op::Kind::add) {
      (op.crossing ? crossing : passive) += 1;
      auto r = book.add(ob::NewOrder{op.side == 0 ? ob::Side::buy : ob::Side::sell,
                                     ob::Price(op.price), ob::Qty(op.qty)});
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->id.value(), op.id);
      for (const ob::Trade& t : book.last_change().trades) {
        ++trades;
        traded += t.qty.lots();
        notional += t.qty.lots() * t.price.ticks();
      }
    } else {
      ++cancels;
      hits += book.cancel(ob::OrderId(op.id)).ok() ? 1 : 0;
    }
  }
  EXPECT_EQ(book.check_invariants(), std::nullopt);
  EXPECT_EQ(passive, 30076);
  EXPECT_EQ(crossing, 2513);
  EXPECT_EQ(cancels, 17411);
  EXPECT_EQ(hits, 15025);
  EXPECT_EQ(book.level_count(ob::Side::buy), 50u);
  EXPECT_EQ(book.level_count(ob::Side::sell), 50u);
  EXPECT_EQ(trades, 4458);
  EXPECT_EQ(traded, 114813);
  EXPECT_EQ(notional, 1148106905);
  EXPECT_EQ(book.order_count(), 13052u);
  EXPECT_EQ(book.best(ob::Side::buy)->price.ticks(), 9999);
  EXPECT_EQ(book.best(ob::Side::buy)->qty.lots(), 74);
  EXPECT_EQ(book.best(ob::Side::sell)->price.ticks(), 10001);
  EXPECT_EQ(book.best(ob::Side::sell)->qty.lots(), 102);
}

}  // namespace
