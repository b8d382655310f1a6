// marketd — until the API issue lands, this runs the OTP-style runtime on a
// demo tree: one random-walk ticker server per symbol, registered by symbol,
// and a reporter that logs what the runtime is doing once a second. SIGINT or
// SIGTERM stops every process and exits 0.

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "runtime/gen_server.hpp"
#include "runtime/registry.hpp"

namespace {

using Names = rt::Registry<std::string>;

/// A symbol's demo price feed: a random walk in integer ticks, one step per timer.
class DemoTicker : public rt::GenServer<DemoTicker> {
 public:
  struct Step {};
  struct Last {
    using Reply = std::int64_t;
  };

  DemoTicker(std::string symbol, std::chrono::milliseconds period, std::uint64_t seed)
      : symbol_(std::move(symbol)), period_(period), rng_(seed) {}

  Action init() {
    rt::send_after(ref(), Step{}, period_);
    return ok();
  }
  Action handle_info(const Step&) {
    price_ += std::uniform_int_distribution<int>(-5, 5)(rng_);
    rt::send_after(ref(), Step{}, period_);
    return noreply();
  }
  CallAction<std::int64_t> handle_call(const Last&, From<std::int64_t>&) { return reply(price_); }

 private:
  std::string symbol_;
  std::chrono::milliseconds period_;
  std::mt19937_64 rng_;
  std::int64_t price_ = 100'000;
};

/// Logs the runtime's state once a second.
class Reporter : public rt::GenServer<Reporter> {
 public:
  struct Tick {};
  Reporter(Names& names, std::vector<std::string> symbols)
      : names_(names), symbols_(std::move(symbols)) {}
  Action init() {
    rt::send_after(ref(), Tick{}, std::chrono::seconds(1));
    return ok();
  }
  Action handle_info(const Tick&) {
    auto stats = runtime().stats();
    std::string prices;
    for (const auto& s : symbols_) {
      if (auto pid = names_.whereis(s)) {
        if (auto t = rt::Ref<DemoTicker>::from(*pid)) {
          // A cast-and-forget reporter would be more OTP-like; a call keeps the demo short.
          auto last = rt::call(*t, DemoTicker::Last{}, std::chrono::milliseconds(100));
          if (last) prices += fmt::format(" {}={}", s, *last);
        }
      }
    }
    spdlog::info("processes={} spawned={} utilisation={:.3f}{}", stats.alive, stats.spawned,
                 runtime().scheduler().utilisation(), prices);
    rt::send_after(ref(), Tick{}, std::chrono::seconds(1));
    return noreply();
  }

 private:
  Names& names_;
  std::vector<std::string> symbols_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"marketd: market-data service (runtime demo until the API lands)"};
  std::vector<std::string> symbols{"BTC-USD", "ETH-USD",  "SOL-USD", "ADA-USD",
                                   "XRP-USD", "DOGE-USD", "LTC-USD", "DOT-USD"};
  unsigned workers = 0;
  int period_ms = 100;
  app.add_option("--symbols", symbols, "symbols to simulate")->capture_default_str();
  app.add_option("--workers", workers, "scheduler threads (0 = hardware threads)")
      ->capture_default_str();
  app.add_option("--period-ms", period_ms, "milliseconds between price steps")
      ->check(CLI::Range(1, 60'000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals before any thread starts, then wait for one here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = workers}}};
  Names names;
  std::uint64_t seed = 1;
  for (const auto& s : symbols) {
    auto r = rt::start<DemoTicker>(runtime, {.name = s, .register_as = names.via(s)}, s,
                                   std::chrono::milliseconds(period_ms), seed++);
    if (!r) {
      spdlog::error("could not start {}: {}", s, r.error().to_string());
      return 1;
    }
  }
  auto reporter = rt::start<Reporter>(runtime, {.name = "reporter"}, names, symbols);
  spdlog::info("marketd runtime demo: {} symbols on {} workers; Ctrl-C stops", symbols.size(),
               runtime.scheduler().workers());

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: stopping {} processes", sig, runtime.process_count());
  bool clean = runtime.kill_all(std::chrono::seconds(5));
  spdlog::info("stopped{}", clean ? "" : " (some processes did not exit in time)");
  return clean ? 0 : 1;
}
