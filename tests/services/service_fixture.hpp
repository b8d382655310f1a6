#pragma once
// A running Application on a small runtime, and a subscriber process that
// records every frame it receives, for the services tests.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "runtime/runtime.hpp"
#include "services/application.hpp"
#include "services/publication.hpp"
#include "tests/support/eventually.hpp"

namespace services::test {

/// A subscriber process: every frame's JSON goes to its inbox. It monitors
/// the servers it subscribed to and, like a WebSocket session, subscribes
/// again (through the registries) when one goes down.
class Collector : public rt::GenServer<Collector> {
 public:
  struct Watch {
    std::string symbol;
    Channels channels;
    std::uint32_t book_depth = kDefaultBookDepth;
  };
  struct Resubscribed {};
  Collector(std::shared_ptr<testing_support::Inbox> inbox, ContextPtr ctx,
            std::shared_ptr<testing_support::Inbox> resubscribes = nullptr)
      : inbox_(std::move(inbox)), ctx_(std::move(ctx)), resubscribes_(std::move(resubscribes)) {}

  Action handle_info(const Published& p) {
    inbox_->push(p.frame->json);
    return noreply();
  }
  /// Subscribes to `channels` of `symbol` on both servers; current-state
  /// frames go to the inbox first.
  Action handle_cast(const Watch& w);
  Action handle_info(const rt::Down& d);

 private:
  void subscribe(const Watch& w);
  std::shared_ptr<testing_support::Inbox> inbox_;
  ContextPtr ctx_;
  std::shared_ptr<testing_support::Inbox> resubscribes_;
  std::vector<Watch> watching_;
};

/// An Application on a 2-worker runtime with the given timing.
class ServiceTest : public ::testing::Test {
 protected:
  explicit ServiceTest(SymbolTiming timing = {}, SymbolLimits limits = {}) {
    ApplicationConfig cfg;
    cfg.partitions = 2;
    cfg.timing = timing;
    cfg.limits = limits;
    auto started = Application::start(runtime, std::move(cfg));
    if (!started) throw std::runtime_error(started.error());
    app = std::move(*started);
  }
  ~ServiceTest() override {
    for (const auto& c : collectors_) rt::stop(c);  // before the tree they watch
    app->stop();
  }

  SymbolInfoPtr create(const std::string& symbol, std::string_view tick = "0.01",
                       std::string_view lot = "0.0001", ob::Mode mode = ob::Mode::venue) {
    auto made = app->ensure_symbol(symbol, *SymbolSpec::parse(tick, lot, mode));
    EXPECT_TRUE(made.ok());
    return made ? made->info : nullptr;
  }
  rt::Ref<Collector> collector(std::shared_ptr<testing_support::Inbox> inbox,
                               std::shared_ptr<testing_support::Inbox> resubscribes = nullptr) {
    auto c = *rt::start<Collector>(runtime, {}, std::move(inbox), app->context(),
                                   std::move(resubscribes));
    collectors_.push_back(c);
    return c;
  }
  BookHandle book(std::string_view symbol) { return *find_book(*app->context(), symbol); }
  FeedHandle feed(std::string_view symbol) { return *find_feed(*app->context(), symbol); }

  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = 2}}};
  std::unique_ptr<Application> app;

 private:
  std::vector<rt::Ref<Collector>> collectors_;
};

/// The integer after `"seq":` in a frame (0 if none).
std::uint64_t seq_of(const std::string& json);
/// The value of `"type":"…"` in a frame.
std::string type_of(const std::string& json);

}  // namespace services::test
