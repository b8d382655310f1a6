// A symbol's life beyond creation: deleted on request (DELETE /symbols), and
// kept consistent with what runs when its partition dies (issue 15, finding
// 12). /readyz's reasons are tested through the API (rest_api_test.cpp).

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "orderbook/decimal.hpp"
#include "runtime/dynamic_supervisor.hpp"
#include "tests/services/service_fixture.hpp"

namespace services::test {
namespace {

using testing_support::eventually;
using testing_support::Inbox;

using SymbolLifecycleTest = ServiceTest;

std::string metrics_text(const Application& app) {
  return prometheus::TextSerializer().Serialize(app.metrics()->registry()->Collect());
}

bool has_series(const Application& app, std::string_view symbol) {
  return metrics_text(app).find("symbol=\"" + std::string(symbol) + "\"") != std::string::npos;
}

OrderRequest limit_buy(const SymbolInfoPtr& s, std::string_view price, std::string owner) {
  return {ob::Side::buy,
          ob::OrderType::limit,
          ob::TimeInForce::gtc,
          *ob::parse_price(price, s->spec.book),
          *ob::parse_qty("1", s->spec.book),
          "",
          std::move(owner)};
}

rt::Result<SymbolDirectory::Removed, DirectoryError> remove(Application& app,
                                                            const std::string& symbol) {
  return *rt::call(*app.directory(), SymbolDirectory::Remove{symbol});
}

TEST_F(SymbolLifecycleTest, RemovingASymbolStopsItsServersTellsSubscribersAndDropsItsSeries) {
  auto s = create("BTC-USD");
  create("ETH-USD");
  auto inbox = std::make_shared<Inbox>();
  rt::cast(collector(inbox), Collector::Watch{"BTC-USD", {Channel::ticker}});
  ASSERT_EQ(inbox->wait_for(1).size(), 1u);  // the current ticker
  const BookHandle b = book("BTC-USD");
  const FeedHandle f = feed("BTC-USD");
  auto placed = rt::call(b.server, OrderBookServer::PlaceOrder{limit_buy(s, "100", "k1")});
  ASSERT_TRUE(placed->ok());
  const std::string first_id = (*placed)->order_id;
  ASSERT_EQ(app->context()->resting_orders->count("k1"), 1u);
  ASSERT_TRUE(has_series(*app, "BTC-USD"));

  auto removed = remove(*app, "BTC-USD");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->info->symbol, "BTC-USD");
  ASSERT_TRUE(removed->last);
  EXPECT_EQ(removed->last->subscribers, 1u);

  // The subscriber was told, once, before the servers stopped (after the
  // ticker it subscribed to and the `live` status the order caused).
  auto frames = inbox->wait_for(3);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(type_of(frames[1]), "status");
  EXPECT_EQ(frames[2],
            R"({"type":"error","code":"unknown_symbol","message":"BTC-USD was deleted; its )"
            R"(subscriptions ended"})");
  // Servers, registry entries, listing, series and the owner's resting count: gone.
  EXPECT_FALSE(b.server.alive());
  EXPECT_FALSE(f.server.alive());
  EXPECT_FALSE(find_book(*app->context(), "BTC-USD"));
  EXPECT_FALSE(find_feed(*app->context(), "BTC-USD"));
  auto list = rt::call(*app->directory(), SymbolDirectory::List{});
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0]->symbol, "ETH-USD");
  EXPECT_FALSE(has_series(*app, "BTC-USD"));
  EXPECT_TRUE(has_series(*app, "ETH-USD"));
  EXPECT_EQ(app->context()->resting_orders->count("k1"), 0u);
  EXPECT_TRUE(eventually([&] { return app->metrics()->symbols().Value() == 1; }));
  // Not a restart: nothing counted, nothing comes back.
  EXPECT_EQ(app->metrics()->restarts("order_book_server").Value(), 0);

  // Deleting it again: unknown. Creating it again: fresh, and ids are not reused.
  EXPECT_EQ(remove(*app, "BTC-USD").error().code, DirectoryError::Code::unknown_symbol);
  auto again = create("BTC-USD", "0.1", "0.01");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->spec.tick_size(), "0.1");  // another spec is no conflict any more
  auto next =
      rt::call(book("BTC-USD").server, OrderBookServer::PlaceOrder{limit_buy(again, "100", "k1")});
  ASSERT_TRUE(next->ok());
  EXPECT_NE((*next)->order_id, first_id);
  EXPECT_GT(std::stoull((*next)->order_id), std::stoull(first_id));
  EXPECT_TRUE(has_series(*app, "BTC-USD"));
}

TEST_F(SymbolLifecycleTest, ASubscribeThatRacesTheRemovalIsAnsweredWithTheRemovalAlone) {
  create("BTC-USD");
  const FeedHandle f = feed("BTC-USD");
  ASSERT_TRUE(rt::call(f.server, PriceFeedHandler::Remove{}).ok());
  auto inbox = std::make_shared<Inbox>();
  auto c = collector(inbox);
  auto answer =
      rt::call(f.server, PriceFeedHandler::Subscribe{Subscriber::of(c), Channels{Channel::ticker}});
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->current.size(), 1u);
  EXPECT_EQ(answer->current[0]->kind, Frame::Kind::removed);
  EXPECT_EQ(rt::call(f.server, PriceFeedHandler::GetTicker{})->subscribers, 0u);
}

// The original finding: four book crashes in 5 s took the partition's
// DynamicSupervisor down; its successor started empty, so the symbol stayed
// listed by the directory but unreachable (PUT 200, GET 404) for good.
TEST_F(SymbolLifecycleTest, ASymbolWhosePartitionDiedComesBackUnderItsSuccessor) {
  create("BTC-USD");
  auto inbox = std::make_shared<Inbox>();
  auto resubscribed = std::make_shared<Inbox>();
  rt::cast(collector(inbox, resubscribed), Collector::Watch{"BTC-USD", {Channel::book}});
  ASSERT_EQ(inbox->wait_for(1).size(), 1u);
  const auto partition = app->symbol_partitions().whereis(std::string_view("BTC-USD"));
  ASSERT_TRUE(partition);
  for (int crash = 0; crash < 4; ++crash) {
    const rt::Pid old = book("BTC-USD").server.pid();
    rt::exit(old, rt::ExitReason::error("injected crash"));
    if (crash < 3) {
      ASSERT_TRUE(eventually([&] {
        auto b = find_book(*app->context(), "BTC-USD");
        return b && b->server.pid() != old;
      }));
    }
  }
  ASSERT_TRUE(eventually([&] { return !partition->alive(); }));  // it gave up
  // Back under the partition's successor, reachable, and the tree is ready again.
  ASSERT_TRUE(eventually([&] {
    auto now = app->symbol_partitions().whereis(std::string_view("BTC-USD"));
    return now && *now != *partition && find_book(*app->context(), "BTC-USD") &&
           find_feed(*app->context(), "BTC-USD");
  }));
  EXPECT_TRUE(eventually([&] { return !app->not_ready_reason(); }))
      << app->not_ready_reason().value_or("");
  auto top = rt::call(book("BTC-USD").server, OrderBookServer::GetTop{});
  EXPECT_TRUE(top.ok());
  auto ensured = app->ensure_symbol("BTC-USD", *SymbolSpec::parse("0.01", "0.0001"));
  ASSERT_TRUE(ensured.ok());
  EXPECT_FALSE(ensured->created);
}

TEST_F(SymbolLifecycleTest, EnsureStartsAListedSymbolWhoseServersAreNotRunning) {
  create("BTC-USD");
  auto sup =
      app->symbol_partitions().whereis_ref<rt::DynamicSupervisor>(std::string_view("BTC-USD"));
  ASSERT_TRUE(sup);
  // Stop both servers behind the directory's back, as a dying partition does.
  for (const rt::ChildInfo& c : rt::which_children(*sup)) {
    ASSERT_TRUE(rt::terminate_child(*sup, c.pid).ok());
  }
  ASSERT_FALSE(find_book(*app->context(), "BTC-USD"));
  auto ensured = app->ensure_symbol("BTC-USD", *SymbolSpec::parse("0.01", "0.0001"));
  ASSERT_TRUE(ensured.ok());
  EXPECT_FALSE(ensured->created);
  EXPECT_TRUE(find_book(*app->context(), "BTC-USD"));
  EXPECT_TRUE(find_feed(*app->context(), "BTC-USD"));
}

}  // namespace
}  // namespace services::test
