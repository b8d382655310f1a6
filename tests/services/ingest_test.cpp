// Ingest: NDJSON batches routed to the symbol servers, with per-line verdicts.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

TEST_F(IngestTest, TheReplaySinkCollectsEachBatchsVerdictsOneBatchBehindAndFinishCollectsTheLast) {
  IngestSink sink(app->ingest());
  auto batch = [](std::string_view id, bool bad) {
    return feeds::parse_ndjson(fmt::format(
        R"({{"type":"add","symbol":"AAA","order_id":"{}","side":"sell","price":"10","qty":"1"}})"
        "\n{}",
        id, bad ? "{\"type\":\"bogus\"}\n" : ""));
  };
  sink.submit(batch("A1", true));
  EXPECT_EQ(sink.accepted() + sink.rejected(), 0u) << "in flight: not yet collected";
  sink.submit(batch("A1", false));  // a duplicate id: the book rejects it
  EXPECT_EQ(sink.accepted(), 1u);
  EXPECT_EQ(sink.rejected(), 1u);
  sink.finish();
  EXPECT_EQ(sink.accepted(), 1u);
  EXPECT_EQ(sink.rejected(), 2u);
  sink.finish();  // nothing left: idempotent
  EXPECT_EQ(sink.rejected(), 2u);
  // In order: the second batch's add came after the first's.
  auto top = rt::call(find_book(*app->context(), "AAA")->server, OrderBookServer::GetTop{});
  ASSERT_TRUE(top->ask);
  EXPECT_EQ(top->ask->orders, 1u);
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

TEST_F(IngestTest, ABatchNamingManyNewSymbolsGoesInPartsOfBoundedCreations) {
  // Creating a book runs its supervisor's start and its recovery on the
  // ingest's worker: 200 in one turn held GET /top for 50 ms. A part creates
  // at most the budget's books; lines of known symbols ride along.
  create("OLD", "0.01", "0.0001", ob::Mode::mirror);
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += R"({"type":"tick","symbol":"NEW)" + std::to_string(i) +
            R"(","price":"1","size":"1","side":"buy"})"
            "\n"
            R"({"type":"tick","symbol":"OLD","price":"1","size":"1","side":"buy"})"
            "\n";
    if (i % 10 == 0) text += "{\n";  // a parse error every 10 symbols
  }
  feeds::ParsedBatch rest = feeds::parse_ndjson(text);
  std::size_t accepted = 0, rejected = 0, parts = 0, created_before = 0;
  std::vector<std::size_t> error_lines;
  while (!rest.empty()) {
    NewSymbolBudget budget{.left = 16};
    IngestReport part = app->ingest().apply_front(rest, budget);
    ++parts;
    accepted += part.accepted;
    rejected += part.rejected;
    for (const auto& e : part.errors) error_lines.push_back(e.line);
    std::size_t created = 0;
    for (int i = 0; i < 40; ++i)
      created += find_book(*app->context(), "NEW" + std::to_string(i)) ? 1 : 0;
    EXPECT_LE(created - created_before, 16u) << "part " << parts;
    created_before = created;
  }
  EXPECT_EQ(parts, 3u);  // 16 + 16 + 8 new symbols
  EXPECT_EQ(accepted, 80u);
  EXPECT_EQ(rejected, 4u);
  // Every parse error listed once, in line order across the parts.
  EXPECT_EQ(error_lines, (std::vector<std::size_t>{3, 24, 45, 66}));
  // The same body through the IngestServer: the same verdicts.
  auto r = rt::call(*app->ingest_server(), IngestServer::Apply{text}, 30s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 80u);
  ASSERT_EQ(r->errors.size(), 4u);
  EXPECT_EQ(r->errors[3].line, 66u);
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

// ---- shutdown: a body in flight stops at a slice boundary (ADR 020) ----------------

/// Records every symbol the directory creates (through the system events).
class CreatedSymbols final : public rt::EventHandler<SystemEvent> {
 public:
  explicit CreatedSymbols(std::shared_ptr<testing_support::Inbox> out) : out_(std::move(out)) {}
  void handle_event(const SystemEvent& e) override {
    if (e.kind == SystemEvent::Kind::symbol_created) out_->push(e.symbol);
  }

 private:
  std::shared_ptr<testing_support::Inbox> out_;
};

constexpr std::size_t kPaddedLine = 1024;  // 16 lines to a slice

/// A tick for the new symbol `prefix``i`, padded with an ignored field to kPaddedLine bytes.
std::string padded_tick(const std::string& prefix, std::size_t i) {
  std::string line = R"({"type":"tick","symbol":")" + prefix + std::to_string(i) +
                     R"(","price":"1","size":"1","side":"buy","pad":")";
  line.append(kPaddedLine - line.size() - 3, 'x');
  line += "\"}\n";
  return line;
}

/// n lines: ticks for the new symbols `prefix`1..n, in that order.
std::string padded_ticks(const std::string& prefix, std::size_t n) {
  std::string body;
  body.reserve(n * kPaddedLine);
  for (std::size_t i = 1; i <= n; ++i) body += padded_tick(prefix, i);
  return body;
}

class IngestShutdownTest : public ServiceTest {
 protected:
  IngestShutdownTest() {
    EXPECT_TRUE(
        app->context()->events.add_handler("created", std::make_unique<CreatedSymbols>(created)));
  }
  std::shared_ptr<testing_support::Inbox> created = std::make_shared<testing_support::Inbox>();
};

// Issue 15, finding 9: symbols were still being created 6 s after SIGTERM.
TEST_F(IngestShutdownTest, StoppingTheTreeCutsABodyAtASliceBoundaryAndSaysFromWhichLine) {
  constexpr std::size_t kLines = 1000;  // ~1 MiB, 63 slices, a new symbol per line
  std::string body = padded_ticks("CUT", kLines);
  ASSERT_EQ(body.size(), kLines * kPaddedLine);
  ASSERT_EQ(IngestServer::kSliceBytes % kPaddedLine, 0u);
  constexpr std::size_t kLinesPerSlice = IngestServer::kSliceBytes / kPaddedLine;
  auto server = app->ingest_server();
  ASSERT_TRUE(server);
  auto first = rt::send_request(*server, IngestServer::Apply{std::move(body)});
  // A few slices in, a second body queues behind it.
  ASSERT_TRUE(eventually([&] { return find_book(*app->context(), "CUT40").has_value(); }));
  auto queued = rt::send_request(*server, IngestServer::Apply{padded_ticks("QUEUED", 3)});

  app->stop();  // the supervisor's shutdown, as on SIGTERM

  auto r = first.wait(1s);  // answered during the stop
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->not_applied_from.has_value());
  const std::size_t n = *r->not_applied_from;
  EXPECT_GT(n, 40u);
  EXPECT_LT(n, kLines) << "the stop waited for the whole body";
  EXPECT_EQ((n - 1) % kLinesPerSlice, 0u) << "cut within a slice, at line " << n;
  // Lines 1..n-1 were applied (each accepted), lines n.. not at all.
  EXPECT_EQ(r->accepted, n - 1);
  EXPECT_EQ(r->rejected, 0u);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].line, n);
  EXPECT_EQ(r->errors[0].code, feeds::EventError::unavailable);
  EXPECT_EQ(r->errors[0].message,
            "shutting down: lines " + std::to_string(n) + ".. were not applied");
  // Exactly the symbols of lines 1..n-1 were created: none after the cut, none queued.
  // (The event manager stopped after the tree: every creation is recorded.)
  std::vector<std::string> expected;
  for (std::size_t i = 1; i < n; ++i) expected.push_back("CUT" + std::to_string(i));
  std::vector<std::string> got = created->items();
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(app->metrics()->ingest_rejects("invalid_symbol").Value(), 0);

  // The queued body: nothing applied, from its first line.
  auto q = queued.wait(1s);
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_EQ(q->not_applied_from, std::optional<std::size_t>(1));
  EXPECT_EQ(q->accepted, 0u);
  EXPECT_EQ(q->rejected, 0u);
  ASSERT_EQ(q->errors.size(), 1u);
  EXPECT_EQ(q->errors[0].line, 1u);
  EXPECT_EQ(q->errors[0].code, feeds::EventError::unavailable);
  EXPECT_EQ(q->errors[0].message, "shutting down: lines 1.. were not applied");
}

TEST_F(IngestShutdownTest, ACutBodyWithAHundredListedErrorsStillSaysFromWhichLine) {
  // 150 bad lines (one slice), then new symbols: the cut's record takes the 100th place.
  std::string body;
  for (int i = 0; i < 150; ++i) body += "[]\n";
  body += padded_ticks("FULL", 1000);
  auto server = app->ingest_server();
  ASSERT_TRUE(server);
  auto pending = rt::send_request(*server, IngestServer::Apply{std::move(body)});
  ASSERT_TRUE(eventually([&] { return find_book(*app->context(), "FULL40").has_value(); }));
  app->stop();

  auto r = pending.wait(1s);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->not_applied_from.has_value());
  const std::size_t n = *r->not_applied_from;
  EXPECT_GT(n, 150u + 40u);
  EXPECT_LT(n, 150u + 1000u);
  EXPECT_EQ(r->rejected, 150u);  // every bad line is still counted
  EXPECT_EQ(r->accepted, n - 1 - 150);
  ASSERT_EQ(r->errors.size(), IngestReport::kMaxErrors);
  for (std::size_t i = 0; i + 1 < r->errors.size(); ++i) {
    EXPECT_EQ(r->errors[i].line, i + 1);
    EXPECT_EQ(r->errors[i].code, feeds::EventError::invalid_json);
  }
  EXPECT_EQ(r->errors.back().line, n);
  EXPECT_EQ(r->errors.back().code, feeds::EventError::unavailable);
  EXPECT_EQ(created->items().size(), n - 1 - 150);
}

}  // namespace
}  // namespace services::test
