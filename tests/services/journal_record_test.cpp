// The journal's record payloads (services/journal_record.hpp): every kind
// round-trips, and damaged bytes are an error, never a crash or a huge allocation.

#include "services/journal_record.hpp"

#include <gtest/gtest.h>

#include "storage/record.hpp"

namespace services::journal {
namespace {

std::vector<Record> samples() {
  feeds::Event add;
  add.type = feeds::EventType::add;
  add.side = ob::Side::sell;
  add.price = ob::Price(12345);
  add.qty = ob::Qty(7);
  add.order_id = "up-1";
  add.ts_ns = 1'700'000'000'000'000'000;
  feeds::Event tick;
  tick.type = feeds::EventType::tick;
  tick.price = ob::Price(-3);  // replay judges values; the codec keeps them as they were
  tick.qty = ob::Qty(1);
  tick.upstream_seq = 99;
  feeds::Event replace;
  replace.type = feeds::EventType::replace;
  replace.order_id = "up-1";
  replace.new_order_id = std::string("up-\0-2", 6);
  OrderRequest order{ob::Side::buy, ob::OrderType::market, ob::TimeInForce::ioc,
                     ob::Price(0),  ob::Qty(42),           "client-7",
                     "key-a"};
  return {
      SpecRecord{*SymbolSpec::parse("0.01", "0.0001", ob::Mode::mirror), 1099511627777},
      EventsRecord{{add, tick, replace}, 123456789, 1'000'000},
      EventsRecord{{}, 0, 0},
      OrderRecord{order, 987654321},
      CancelRecord{"17", "key-a", 5},
      IdsRecord{2199023255553},
  };
}

TEST(JournalRecord, EveryKindRoundTrips) {
  for (const Record& r : samples()) {
    const std::string bytes = encode(r);
    auto back = decode(bytes);
    ASSERT_TRUE(back.ok()) << "kind " << r.index() << ": " << back.error();
    EXPECT_EQ(*back, r) << "kind " << r.index();
  }
}

TEST(JournalRecord, TheOverloadPerKindEncodesAsTheVariant) {
  const OrderRecord o{OrderRequest{}, 1};
  EXPECT_EQ(encode(o), encode(Record(o)));
}

TEST(JournalRecord, EveryTruncationAndAnyTrailingByteIsAnError) {
  for (const Record& r : samples()) {
    const std::string bytes = encode(r);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n)).ok())
          << "kind " << r.index() << " cut to " << n << " of " << bytes.size();
    }
    EXPECT_FALSE(decode(bytes + '\0').ok()) << "kind " << r.index();
  }
}

TEST(JournalRecord, UnknownKindsAndOutOfRangeEnumerationsAreErrors) {
  EXPECT_FALSE(decode(std::string(1, '\0')).ok());
  EXPECT_FALSE(decode(std::string(1, '\x7f')).ok());
  std::string order = encode(OrderRecord{OrderRequest{}, 1});
  order[1] = 2;  // side: neither buy nor sell
  auto bad = decode(order);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("enumeration"), std::string::npos) << bad.error();
  std::string spec = encode(SpecRecord{*SymbolSpec::parse("0.01", "1"), 1});
  spec[6] = 'x';  // the tick "0.01" becomes "0x01"
  EXPECT_FALSE(decode(spec).ok());
}

TEST(JournalRecord, ACountTheBytesCannotHoldIsRefusedBeforeAllocating) {
  std::string events = encode(EventsRecord{{}, 0, 0});
  // kind, receipt (8), max orders (8), then the count: claim 2^32 - 1 events.
  events.replace(17, 4, std::string(4, '\xff'));
  auto bad = decode(events);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("events claimed"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace services::journal
