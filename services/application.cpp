#include "services/application.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/dynamic_supervisor.hpp"

namespace services {

namespace {
constexpr std::string_view kDirectory = "directory";
constexpr std::string_view kFeeds = "feeds";
constexpr std::string_view kIngest = "ingest";
}  // namespace

Application::Application(ApplicationConfig config) : config_(std::move(config)) {}

Application::~Application() {
  stop();
}

template <class Impl>
std::optional<rt::Ref<Impl>> Application::named(std::string_view name) const {
  std::optional<rt::Pid> pid = names_.whereis(name);
  return pid ? rt::Ref<Impl>::from(*pid) : std::nullopt;
}

std::optional<rt::Ref<SymbolDirectory>> Application::directory() const {
  return named<SymbolDirectory>(kDirectory);
}

std::optional<rt::Ref<IngestServer>> Application::ingest_server() const {
  return named<IngestServer>(kIngest);
}

rt::Result<std::unique_ptr<Application>, std::string> Application::start(rt::Runtime& runtime,
                                                                         ApplicationConfig config) {
  std::unique_ptr<Application> app(new Application(std::move(config)));  // private constructor
  Application& a = *app;
  a.runtime_ = &runtime;
  const std::size_t partitions =
      a.config_.partitions != 0 ? a.config_.partitions : runtime.scheduler().workers();

  auto events = SystemEvents::start(runtime);
  if (!events) return rt::Err{"system event manager: " + events.error().to_string()};
  auto metrics = std::make_shared<Metrics>();
  events->add_handler("log", std::make_unique<LogHandler>());
  events->add_handler("metrics", std::make_unique<MetricsHandler>(metrics));
  std::shared_ptr<Journals> journals;
  if (a.config_.journal) {
    auto store = storage::Store::open(a.config_.journal->data_dir, a.config_.journal->store);
    if (!store) {
      (void)events->stop();
      return rt::Err{"data directory: " + store.error().to_string()};
    }
    journals = std::make_shared<Journals>(std::move(*store), a.config_.journal->writer,
                                          a.config_.journal->snapshots);
  }
  ServiceContext context{a.config_.timing, a.config_.limits, a.feeds_, a.books_, *events, metrics};
  context.journals = std::move(journals);
  a.context_ = std::make_shared<const ServiceContext>(std::move(context));

  auto [symbols, symbols_spec] = rt::PartitionSupervisor::child_spec(
      "symbols", {.partitions = partitions, .child = [](std::size_t) {
                    rt::ChildSpec s =
                        rt::child<rt::DynamicSupervisor>("", rt::DynamicSupervisorSpec{});
                    s.type = rt::ChildType::supervisor;
                    s.shutdown = rt::Shutdown::infinity();
                    return s;
                  }});
  a.symbol_partitions_.emplace(symbols);
  rt::ChildSpec directory =
      rt::child<SymbolDirectory>(std::string(kDirectory), a.context_, symbols, a.directory_health_);
  directory.options.register_as = a.names_.via(std::string(kDirectory));
  if (a.config_.rate_limit.window.count() <= 0)
    return rt::Err{std::string("rate limit window must be > 0")};
  auto [limiters, limiters_spec] = RateLimiters::child_spec(
      a.config_.rate_limit, a.config_.limiter_partitions != 0
                                ? a.config_.limiter_partitions
                                : RateLimiters::default_partitions(runtime));
  a.limiters_.emplace(std::move(limiters));
  // Ingest exists before the tree (the server child refers to it).
  a.ingest_.emplace(
      a.context_, [&a] { return a.directory(); }, a.config_.ingest_default);
  rt::ChildSpec ingest = rt::child<IngestServer>(std::string(kIngest), std::cref(*a.ingest_));
  ingest.options.register_as = a.names_.via(std::string(kIngest));
  ingest.options.mailbox_capacity = 64;
  rt::ChildSpec feeds = rt::child<rt::Supervisor>(std::string(kFeeds), rt::SupervisorSpec{});
  feeds.type = rt::ChildType::supervisor;
  feeds.shutdown = rt::Shutdown::infinity();
  feeds.options.register_as = a.names_.via(std::string(kFeeds));

  auto root = rt::start<rt::Supervisor>(
      runtime, {.name = "marketd"},
      rt::SupervisorSpec{rt::Strategy::one_for_one,
                         3,
                         std::chrono::seconds(5),
                         {std::move(symbols_spec), std::move(directory), std::move(limiters_spec),
                          std::move(ingest), std::move(feeds)}});
  if (!root) {
    (void)events->stop();
    return rt::Err{"process tree: " + root.error().to_string()};
  }
  a.root_ = *root;

  if (const auto& journaled = a.context_->journals) {
    // What was journaled comes back first, as it was; a configured symbol
    // that disagrees with its journal is then a conflict, said at start.
    auto names = journaled->store.symbols();
    if (!names) return rt::Err{"data directory: " + names.error().to_string()};
    for (const std::string& name : *names) {
      auto spec = journaled_spec(journaled->store, name);
      if (!spec) return rt::Err{"journal of " + name + ": " + spec.error()};
      if (!*spec) continue;  // nothing durable in it yet
      auto made = a.ensure_symbol(name, **spec);
      if (!made) return rt::Err{"symbol " + name + " (journaled): " + made.error().detail};
    }
    spdlog::info("event=journals_recovered data_dir={} symbols={}",
                 a.config_.journal->data_dir.string(), names->size());
  }
  for (const SymbolDefinition& d : a.config_.symbols) {
    auto made = a.ensure_symbol(d.symbol, d.spec);
    if (!made) return rt::Err{"symbol " + d.symbol + ": " + made.error().detail};
  }
  if (a.config_.simulator) {
    rt::ChildSpec sim = rt::child<SimulatorFeed>("simulator", a.context_,
                                                 DirectoryLookup([&a] { return a.directory(); }),
                                                 *a.config_.simulator);
    if (auto started = a.start_feed(std::move(sim)); !started) {
      return rt::Err{"simulator: " + started.error().to_string()};
    }
  }
  if (a.config_.tick_feed) {
    rt::ChildSpec ticks = rt::child<TickFeed>("tick_feed", a.context_, *a.config_.tick_feed);
    if (auto started = a.start_feed(std::move(ticks)); !started) {
      return rt::Err{"tick feed: " + started.error().to_string()};
    }
  }
  a.ready_.store(true, std::memory_order_release);
  spdlog::info("event=ready symbols={} partitions={}", a.config_.symbols.size(), partitions);
  return app;
}

std::optional<std::string> Application::not_ready_reason() const {
  if (!ready()) return std::string("starting or stopping");
  if (!root_.alive()) {
    // The tree is gone for good: the root reached its restart intensity.
    return "the root supervisor stopped: " + root_.pid().get()->exit_reason().to_string();
  }
  for (std::size_t i = 0; i < symbol_partitions_->partitions(); ++i) {
    if (!symbol_partitions_->whereis(i)) return fmt::format("symbol partition {} is restarting", i);
  }
  if (!directory()) return std::string("the symbol directory is restarting");
  if (!ingest_server()) return std::string("the ingest process is restarting");
  if (const std::size_t down = directory_health_->unavailable(); down > 0) {
    return fmt::format("{} symbols wait for their partition to restart", down);
  }
  if (const auto& journals = context_->journals) {
    if (const storage::Health h = journals->writer.health(); !h.healthy) {
      return "the journal cannot write: " + h.reason;
    }
    if (auto damaged = journals->damage.summary()) return "journal damage found: " + *damaged;
  }
  return std::nullopt;
}

rt::Result<SymbolDirectory::Ensured, DirectoryError> Application::ensure_symbol(
    std::string symbol, SymbolSpec spec) const {
  auto dir = directory();
  if (!dir)
    return rt::Err{DirectoryError{DirectoryError::Code::unavailable, nullptr, "restarting"}};
  auto r = rt::call(*dir, SymbolDirectory::Ensure{std::move(symbol), spec, false},
                    rt::kSupervisorCallTimeout);
  if (!r)
    return rt::Err{
        DirectoryError{DirectoryError::Code::unavailable, nullptr, r.error().to_string()}};
  return std::move(*r);
}

rt::Result<rt::Pid, rt::SupervisorError> Application::start_feed(rt::ChildSpec spec) const {
  auto feeds = named<rt::Supervisor>(kFeeds);
  if (!feeds) return rt::Err{rt::SupervisorError{rt::SupervisorError::Code::not_found, {}, {}}};
  return rt::start_child(*feeds, std::move(spec));
}

void Application::stop() {
  if (stopped_) return;
  stopped_ = true;
  ready_.store(false, std::memory_order_release);
  if (root_) rt::stop(root_, rt::ExitReason::shutdown(), std::chrono::seconds(10));
  // Every record answered now: the answers' references to the book servers
  // (which hold the journals) go, and no I/O outlives the application.
  if (context_ && context_->journals) context_->journals->writer.close();
  if (context_) (void)context_->events.stop();
  spdlog::info("event=stopped");
}

}  // namespace services
