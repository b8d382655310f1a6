// BookSnapshot's bytes (services/book_snapshot.hpp): a round trip keeps
// everything, and damaged bytes are an error, never a crash.

#include "services/book_snapshot.hpp"

#include <gtest/gtest.h>

namespace services {
namespace {

BookSnapshot sample() {
  BookSnapshot s;
  s.spec = *SymbolSpec::parse("0.01", "0.0001", ob::Mode::venue);
  s.book.mode = ob::Mode::venue;
  s.book.seq = 9;
  s.book.next_id = 4;
  s.book.next_trade = 3;
  s.book.orders.push_back({ob::OrderId(2), ob::Side::buy, ob::Price(100), ob::Qty(5), ""});
  s.book.orders.push_back({ob::OrderId(3), ob::Side::sell, ob::Price(105), ob::Qty(1), ""});
  s.api_orders.push_back(
      {2, "key-a", "c-1", ob::OrderType::limit, ob::TimeInForce::gtc, ob::Qty(7)});
  OrderReport last;
  last.order_id = "2";
  last.client_order_id = "c-1";
  last.price = ob::Price(100);
  last.qty = ob::Qty(7);
  last.status = ob::OrderStatus::partially_filled;
  last.filled = ob::Qty(2);
  last.remaining = ob::Qty(5);
  last.trades.push_back({1, ob::Price(100), ob::Qty(2), "1"});
  s.client_orders.push_back({{ob::Side::buy, ob::OrderType::limit, ob::TimeInForce::gtc,
                              ob::Price(100), ob::Qty(7), "c-1", "key-a"},
                             last});
  s.last_upstream_seq = 77;
  s.top_ts_ns = 1;
  s.book_ts_ns = 2;
  s.last_record_ns = 3;
  s.ticker = wire::Ticker{7,
                          ob::Price(101),
                          ob::Price(105),
                          ob::Price(99),
                          ob::Price(100),
                          ob::Qty(2),
                          ob::Qty(40),
                          ob::Side::sell,
                          11,
                          7};
  return s;
}

TEST(BookSnapshotCodec, RoundTripsEverything) {
  const BookSnapshot s = sample();
  auto back = decode_book_snapshot(encode(s));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, s);
  EXPECT_EQ(encode(*back), encode(s));
}

TEST(BookSnapshotCodec, EveryTruncationAndTrailingBytesAreRefused) {
  const std::string bytes = encode(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_book_snapshot(std::string_view(bytes).substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(decode_book_snapshot(bytes + "x").ok());
}

TEST(BookSnapshotCodec, AnotherVersionIsRefusedWithWhatItIs) {
  std::string bytes = encode(sample());
  bytes[0] = 3;
  auto r = decode_book_snapshot(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("version 3"), std::string::npos) << r.error();
  EXPECT_FALSE(snapshot_record_time(bytes));
}

TEST(BookSnapshotCodec, ItsRecordTimeReadsWithoutDecodingTheRest) {
  BookSnapshot s = sample();
  s.last_record_ns = 1'765'000'000'123'456'789;
  const std::string bytes = encode(s);
  EXPECT_EQ(snapshot_record_time(bytes), s.last_record_ns);
  EXPECT_EQ(snapshot_record_time(std::string_view(bytes).substr(0, 9)), s.last_record_ns);
  EXPECT_FALSE(snapshot_record_time(std::string_view(bytes).substr(0, 8)));
}

TEST(BookSnapshotCodec, AVersion1SnapshotStillLoadsWithNoRecordTime) {
  BookSnapshot s = sample();
  s.last_record_ns = 42;
  s.ticker = {};
  s.candles = {};
  s.recent_trades = {};
  // Version 1 is version 2 without the record time after the version byte,
  // and without the ticker (8 + 4 * 8 + 2 * 8 + 1 + 8 + 8 bytes), the empty
  // candles (6 * 3 * 8) and the empty recent trades (8) at the end.
  std::string v1 = encode(s).erase(1, 8);
  v1.resize(v1.size() - 73 - 144 - 8);
  v1[0] = 1;
  auto r = decode_book_snapshot(v1);
  ASSERT_TRUE(r.ok()) << r.error();
  s.last_record_ns = 0;
  EXPECT_EQ(*r, s);  // bar the ticker: version 1 has none
  EXPECT_FALSE(snapshot_record_time(v1));
}

TEST(BookSnapshotCodec, EveryByteFlippedDecodesOrFailsCleanly) {
  const std::string bytes = encode(sample());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0xA5);
    auto r = decode_book_snapshot(damaged);  // must not crash (ASan/UBSan watch)
    if (r.ok()) {
      EXPECT_EQ(decode_book_snapshot(encode(*r))->book, r->book);
    }
  }
}

}  // namespace
}  // namespace services
