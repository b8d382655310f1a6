// Feed sources through the whole service: the embedded simulator, and a
// replayed NDJSON file going through ingest to the books.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "feeds/ndjson.hpp"
#include "feeds/replay.hpp"
#include "tests/services/service_fixture.hpp"

namespace services::test {
namespace {

using namespace std::chrono_literals;
using testing_support::eventually;

TEST(SimulatorFeedTest, TheDefaultSymbolsTradeAndTheirBooksFillUp) {
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 2}}};
  ApplicationConfig cfg;
  cfg.simulator = SimulatorFeedOptions{.rate = 20'000, .period = 5ms};
  auto app = Application::start(runtime, std::move(cfg));
  ASSERT_TRUE(app.ok()) << app.error();
  const auto symbols = feeds::default_simulated_symbols();
  for (const auto& s : symbols) {
    SCOPED_TRACE(s.symbol);
    auto feed = find_feed(*(*app)->context(), s.symbol);
    auto book = find_book(*(*app)->context(), s.symbol);
    ASSERT_TRUE(feed && book);
    EXPECT_EQ(book->info->spec.mode, ob::Mode::venue);
    EXPECT_EQ(book->info->spec.tick_size(), s.tick_size);
    EXPECT_TRUE(eventually([&] {
      auto t = rt::call(feed->server, PriceFeedHandler::GetTicker{});
      return t && t->ticker.tick_count > 5 && t->state == wire::FeedState::live;
    }));
    auto top = rt::call(book->server, OrderBookServer::GetTop{});
    ASSERT_TRUE(top.ok());
    EXPECT_TRUE(top->bid && top->ask);
    if (top->bid && top->ask) {
      EXPECT_LT(top->bid->price, top->ask->price);  // venue: never crossed
    }
  }
  // Everything the simulator emitted was accepted.
  EXPECT_EQ((*app)->metrics()->ingest_rejects("unknown_order").Value(), 0);
  (*app)->stop();
}

TEST(TickFeedTest, TradesEverySymbolThatExistsAtTheOfferedRate) {
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 2}}};
  ApplicationConfig cfg;
  for (const char* s : {"AAA", "BBB", "CCC"}) {
    cfg.symbols.push_back({s, *SymbolSpec::parse("0.01", "0.0001")});
  }
  cfg.tick_feed = TickFeedOptions{.rate = 3000, .period = 1ms};
  auto app = Application::start(runtime, std::move(cfg));
  ASSERT_TRUE(app.ok()) << app.error();
  for (const char* s : {"AAA", "BBB", "CCC"}) {
    auto feed = find_feed(*(*app)->context(), s);
    ASSERT_TRUE(feed);
    // Contiguous trade seqs and live state: ticks go through the book to the feed handler.
    EXPECT_TRUE(eventually([&] {
      auto t = rt::call(feed->server, PriceFeedHandler::GetTicker{});
      return t && t->ticker.tick_count >= 20 && t->ticker.seq == t->ticker.tick_count &&
             t->state == wire::FeedState::live;
    })) << s;
  }
  (*app)->stop();
}

TEST(TickFeedTest, WithNoSymbolsTheStartFailsWithAReason) {
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 2}}};
  ApplicationConfig cfg;
  cfg.tick_feed = TickFeedOptions{};
  auto app = Application::start(runtime, std::move(cfg));
  ASSERT_FALSE(app.ok());
  EXPECT_NE(app.error().find("tick feed"), std::string::npos);
}

class ReplayTest : public ServiceTest {
 protected:
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("marketd-replay-" + std::to_string(::getpid()) + ".ndjson");
  ~ReplayTest() override { std::filesystem::remove(path); }
};

TEST_F(ReplayTest, AGeneratedDayReplaysThroughIngestIntoTheBooks) {
  // The simulator's flow, written as NDJSON for mirror symbols of its specs.
  feeds::MarketSimulator sim({.seed = 3});
  for (std::size_t i = 0; i < sim.options().symbols.size(); ++i) {
    const auto& s = sim.options().symbols[i];
    ASSERT_TRUE(
        app->ensure_symbol(s.symbol, *SymbolSpec::parse(s.tick_size, s.lot_size, ob::Mode::venue))
            .ok());
  }
  std::ofstream out(path);
  std::string line;
  const int kEvents = 100'000;
  for (int k = 0; k < kEvents; ++k) {
    auto step = sim.next();
    line.clear();
    feeds::append_ndjson(line, sim.options().symbols[step.symbol].symbol, step.event,
                         sim.spec(step.symbol));
    out << line;  // append_ndjson ends the line
  }
  out << "{\"type\":\"bogus\"}\n";
  out.close();

  auto sink = std::make_shared<IngestSink>(app->ingest());
  auto replay = feeds::Replay::start(runtime, path.string(), sink);
  ASSERT_TRUE(replay.ok()) << replay.error().message;
  auto totals = replay->wait(60s);
  ASSERT_TRUE(totals.ok()) << totals.error().message;
  EXPECT_EQ(totals->lines, static_cast<std::uint64_t>(kEvents) + 1);
  EXPECT_EQ(sink->accepted(), static_cast<std::uint64_t>(kEvents));
  EXPECT_EQ(sink->rejected(), 1u);
  EXPECT_LE(totals->max_chunks_in_flight, feeds::ReplayOptions{}.window);
  // Trades happened and reached the price feeds.
  std::uint64_t ticks = 0;
  for (const auto& s : sim.options().symbols) {
    ticks += rt::call(feed(s.symbol).server, PriceFeedHandler::GetTicker{})->ticker.tick_count;
  }
  EXPECT_TRUE(eventually([&] {
    std::uint64_t n = 0;
    for (const auto& s : sim.options().symbols) {
      n += rt::call(feed(s.symbol).server, PriceFeedHandler::GetTicker{})->ticker.tick_count;
    }
    return n == sim.trades();
  })) << ticks
      << " of " << sim.trades();
}

TEST_F(ReplayTest, AMissingFileIsAClearError) {
  auto sink = std::make_shared<IngestSink>(app->ingest());
  auto replay = feeds::Replay::start(runtime, "/nonexistent/day.ndjson", sink);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, feeds::ReplayError::Code::open_failed);
  EXPECT_NE(replay.error().message.find("/nonexistent/day.ndjson"), std::string::npos);
}

}  // namespace
}  // namespace services::test
