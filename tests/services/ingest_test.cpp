// Ingest: NDJSON batches routed to the symbol servers, with per-line verdicts.

#include <gtest/gtest.h>

#include "feeds/ndjson.hpp"
#include "tests/services/service_fixture.hpp"

namespace services::test {
namespace {

using testing_support::eventually;
using namespace std::chrono_literals;
using IngestTest = ServiceTest;

IngestReport ingest(Application& app, std::string text) {
  return app.ingest().apply(feeds::parse_ndjson(std::move(text)));
}

TEST_F(IngestTest, UnknownSymbolsAreCreatedMirrorForL3AndL2ForLevels) {
  auto r = ingest(
      *app,
      R"({"type":"add","symbol":"AAA","order_id":"A1","side":"sell","price":"10.5","qty":"2"})"
      "\n"
      R"({"type":"level","symbol":"BBB","side":"buy","price":"9","qty":"1.25"})"
      "\n");
  EXPECT_EQ(r.accepted, 2u);
  EXPECT_EQ(r.rejected, 0u);
  auto a = find_book(*app->context(), "AAA");
  auto b = find_book(*app->context(), "BBB");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->info->spec.mode, ob::Mode::mirror);
  EXPECT_EQ(b->info->spec.mode, ob::Mode::l2);
  EXPECT_EQ(a->info->spec.tick_size(), "0.00000001");
  auto top = rt::call(a->server, OrderBookServer::GetTop{});
  ASSERT_TRUE(top->ask);
  EXPECT_EQ(top->ask->price.ticks(), 1'050'000'000);
}

TEST_F(IngestTest, ABadLineIsRejectedAloneWithItsLineNumberAndTheRestApplies) {
  create("BTC-USD", "0.01", "0.0001", ob::Mode::mirror);
  const std::string text =
      R"({"type":"add","symbol":"BTC-USD","order_id":"A1","side":"sell","price":"64001.00","qty":"0.5000"})"
      "\n"
      "\n"  // blank: skipped, not counted
      R"({"type":"add","symbol":"BTC-USD","order_id":"A2","side":"sell","price":"64001.001","qty":"1"})"
      "\n"
      R"({"type":"cancel","symbol":"BTC-USD","order_id":"ZZ"})"
      "\n"
      R"({"type":"add","symbol":"BTC-USD","order_id":"A1","side":"buy","price":"1","qty":"1"})"
      "\n"
      R"({"type":"level","symbol":"BTC-USD","side":"buy","price":"1","qty":"1"})"
      "\n"
      "{not json\n"
      R"({"type":"execute","symbol":"BTC-USD","order_id":"A1","qty":"0.2"})"
      "\n"
      R"({"type":"reduce","symbol":"BTC-USD","order_id":"A1","qty":"0.1"})"
      "\n";
  auto r = ingest(*app, text);
  EXPECT_EQ(r.accepted, 3u);
  EXPECT_EQ(r.rejected, 5u);
  ASSERT_EQ(r.errors.size(), 5u);
  std::vector<std::pair<std::size_t, feeds::EventError>> got;
  for (const auto& e : r.errors) got.emplace_back(e.line, e.code);
  using E = feeds::EventError;
  EXPECT_EQ(got, (std::vector<std::pair<std::size_t, E>>{{3, E::invalid_price},
                                                         {4, E::unknown_order},
                                                         {5, E::duplicate_order},
                                                         {6, E::mode_mismatch},
                                                         {7, E::invalid_json}}));
  auto top = rt::call(book("BTC-USD").server, OrderBookServer::GetTop{});
  ASSERT_TRUE(top->ask);
  EXPECT_EQ(top->ask->qty.lots(), 2000);  // 0.5 - 0.2 executed - 0.1 reduced
  EXPECT_EQ(top->seq, 3u);
  // The execute is a trade: a tick of the price feed, aggressor opposite the maker.
  auto h = feed("BTC-USD");
  ASSERT_TRUE(eventually(
      [&] { return rt::call(h.server, PriceFeedHandler::GetTicker{})->ticker.tick_count == 1; }));
  EXPECT_EQ(rt::call(h.server, PriceFeedHandler::GetTicker{})->ticker.last_side, ob::Side::buy);
  EXPECT_EQ(app->metrics()->ingest_rejects("unknown_order").Value(), 1);
}

TEST_F(IngestTest, TicksGoToThePriceFeedInOrder) {
  std::string text;
  for (int i = 1; i <= 50; ++i) {
    text += R"({"type":"tick","symbol":"ETH-USD","price":")" + std::to_string(1000 + i) +
            R"(","size":"1","side":"buy","ts_ns":)" +
            std::to_string(1'790'000'000'000'000'000 + i) + "}\n";
  }
  auto r = ingest(*app, text);
  EXPECT_EQ(r.accepted, 50u);
  auto h = feed("ETH-USD");
  ASSERT_TRUE(eventually(
      [&] { return rt::call(h.server, PriceFeedHandler::GetTicker{})->ticker.tick_count == 50; }));
  auto t = rt::call(h.server, PriceFeedHandler::GetTicker{})->ticker;
  EXPECT_EQ(t.last_price.ticks(), 105'000'000'000);
  EXPECT_EQ(t.ts_ns, 1'790'000'000'000'000'050);
}

// Finding 11: after a tick with seq 2^63-1, later ticks were dropped but
// reported accepted. They are rejected stale_seq and counted as rejects.
TEST_F(IngestTest, StaleUpstreamSequenceNumbersAreRejectedNotReportedAccepted) {
  auto tick = [](std::string seq) {
    return R"({"type":"tick","symbol":"SEQ","price":"1","size":"1","side":"sell","seq":)" + seq +
           "}\n";
  };
  auto& stale = app->metrics()->ingest_rejects("stale_seq");
  const double before = stale.Value();
  auto r = ingest(*app, tick("1") + tick("2") + tick("2") + tick("1") + tick("5") +
                            tick("9223372036854775807") + tick("6"));
  EXPECT_EQ(r.accepted, 4u);
  EXPECT_EQ(r.rejected, 3u);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].line, 3u);
  EXPECT_EQ(r.errors[1].line, 4u);
  EXPECT_EQ(r.errors[2].line, 7u);
  for (const auto& e : r.errors) EXPECT_EQ(e.code, feeds::EventError::stale_seq);
  EXPECT_EQ(stale.Value() - before, 3);
  auto h = feed("SEQ");
  auto m = app->metrics()->symbol("SEQ");
  EXPECT_EQ(m.seq_rejects.Value(), 3);
  EXPECT_EQ(m.seq_gaps.Value(), 2);
  ASSERT_TRUE(eventually(
      [&] { return rt::call(h.server, PriceFeedHandler::GetTicker{})->ticker.tick_count == 4u; }));
}

TEST_F(IngestTest, OnlyTheFirstHundredErrorsAreListedButAllAreCounted) {
  std::string text;
  for (int i = 0; i < 150; ++i) text += "[]\n";
  auto r = ingest(*app, text);
  EXPECT_EQ(r.rejected, 150u);
  EXPECT_EQ(r.errors.size(), IngestReport::kMaxErrors);
  EXPECT_EQ(r.errors.front().line, 1u);
  EXPECT_EQ(r.errors.back().line, 100u);
}

TEST_F(IngestTest, TheIngestServerListsAHundredErrorsOfABodyOfBadLinesAndCountsEveryOne) {
  // Finding 4 of issue 15: a record per bad line cost 100 MiB per 1 MiB body.
  std::string body;
  for (int i = 0; i < 100'000; ++i) body += "{\n";
  const double before = app->metrics()->ingest_rejects("invalid_json").Value();
  auto server = app->ingest_server();
  ASSERT_TRUE(server);
  auto r = rt::call(*server, IngestServer::Apply{std::move(body)}, 30s);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->accepted, 0u);
  EXPECT_EQ(r->rejected, 100'000u);
  ASSERT_EQ(r->errors.size(), IngestReport::kMaxErrors);
  for (std::size_t i = 0; i < r->errors.size(); ++i) EXPECT_EQ(r->errors[i].line, i + 1);
  EXPECT_EQ(app->metrics()->ingest_rejects("invalid_json").Value() - before, 100'000);
}

TEST_F(IngestTest, ABodyOfManySlicesKeepsItsLineNumbersAndOrder) {
  // ~400 KB: several IngestServer slices; a bad line every 1,000.
  std::string body;
  for (int i = 1; i <= 5000; ++i) {
    body += i % 1000 == 0
                ? std::string("{\n")
                : R"({"type":"tick","symbol":"SLICE","price":"1","size":"1","side":"buy","seq":)" +
                      std::to_string(i) + "}\n";
  }
  ASSERT_GT(body.size(), 4 * IngestServer::kSliceBytes);
  auto r = rt::call(*app->ingest_server(), IngestServer::Apply{std::move(body)}, 30s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 4995u);  // in order: no tick's seq is stale
  EXPECT_EQ(r->rejected, 5u);
  ASSERT_EQ(r->errors.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(r->errors[k].line, (k + 1) * 1000);
}

TEST_F(IngestTest, ErrorsOfTheParserAndOfTheBooksAreListedTogetherByLine) {
  // Odd lines fail in the parser, even lines in the book (no such order).
  std::string body;
  for (int i = 1; i <= 300; ++i) {
    body += i % 2 == 1
                ? "[]\n"
                : R"({"type":"cancel","symbol":"MIX","order_id":"X)" + std::to_string(i) + "\"}\n";
  }
  auto r = rt::call(*app->ingest_server(), IngestServer::Apply{std::move(body)}, 30s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rejected, 300u);
  ASSERT_EQ(r->errors.size(), IngestReport::kMaxErrors);
  for (std::size_t i = 0; i < r->errors.size(); ++i) {
    EXPECT_EQ(r->errors[i].line, i + 1);
    EXPECT_EQ(r->errors[i].code,
              i % 2 == 0 ? feeds::EventError::invalid_json : feeds::EventError::unknown_order);
  }
}

}  // namespace
}  // namespace services::test
