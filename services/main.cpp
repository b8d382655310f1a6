// marketd: starts the application tree of DESIGN.md on the embedded simulator
// (the default) or with no feed, optionally replays an NDJSON file into it,
// and logs a one-line summary every few seconds. SIGINT or SIGTERM stops the
// tree in reverse order and exits 0. (The REST/WebSocket API lands with the
// API issue.)

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>

#include "feeds/replay.hpp"
#include "services/application.hpp"

namespace {

// Replay reads big chunks: a batch then carries many events per symbol, which
// is what makes ingest fast with many symbols (docs/PERFORMANCE.md, I3).
constexpr std::size_t kReplayChunkBytes = 4 << 20;

/// Logs what the service is doing now and then.
class Reporter : public rt::GenServer<Reporter> {
 public:
  struct Report {};
  Reporter(services::ContextPtr ctx, std::chrono::seconds every)
      : ctx_(std::move(ctx)), every_(every) {}
  Action init() {
    rt::send_after(ref(), Report{}, every_);
    return ok();
  }
  Action handle_info(const Report&) {
    auto stats = runtime().stats();
    spdlog::info("event=summary symbols={} processes={} utilisation={:.3f}", ctx_->books.count(),
                 stats.alive, runtime().scheduler().utilisation());
    rt::send_after(ref(), Report{}, every_);
    return noreply();
  }

 private:
  services::ContextPtr ctx_;
  std::chrono::seconds every_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"marketd: market-data service (order books, price feeds, OTP-style runtime)"};
  unsigned workers = 0;
  bool no_simulator = false;
  services::SimulatorFeedOptions sim;
  std::string replay_path;
  bool paced = false;
  int heartbeat_ms = 1000;
  int stale_ms = 5000;
  int summary_s = 10;
  std::string log_level = "info";
  cli.add_option("--workers", workers, "scheduler threads (0 = hardware threads)")
      ->capture_default_str();
  cli.add_flag("--no-simulator", no_simulator, "start with no feed");
  cli.add_option("--rate", sim.rate, "simulator events per second, all symbols together")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cli.add_option("--seed", sim.simulator.seed, "simulator seed (same seed, same market)")
      ->capture_default_str();
  cli.add_option("--replay", replay_path,
                 "NDJSON file of normalized events to ingest ('-' = stdin)");
  cli.add_flag("--paced", paced, "replay at the recorded pace (ts_ns) instead of at once");
  cli.add_option("--heartbeat-ms", heartbeat_ms, "staleness check period")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
  cli.add_option("--stale-ms", stale_ms, "no update for this long makes a symbol stale")
      ->check(CLI::Range(1, 86'400'000))
      ->capture_default_str();
  cli.add_option("--summary-s", summary_s, "seconds between summary log lines")
      ->check(CLI::Range(1, 86'400))
      ->capture_default_str();
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  // Block the stop signals before any thread starts, then wait for one here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = workers}}};
  services::ApplicationConfig config;
  config.timing.heartbeat = std::chrono::milliseconds(heartbeat_ms);
  config.timing.stale_after = std::chrono::milliseconds(stale_ms);
  if (!no_simulator) config.simulator = sim;
  auto app = services::Application::start(runtime, std::move(config));
  if (!app) {
    spdlog::error("event=start_failed reason=\"{}\"", app.error());
    return 1;
  }
  auto reporter = rt::start<Reporter>(runtime, {.name = "reporter"}, (*app)->context(),
                                      std::chrono::seconds(summary_s));

  std::shared_ptr<services::IngestSink> sink;
  std::optional<feeds::Replay> replay;
  if (!replay_path.empty()) {
    sink = std::make_shared<services::IngestSink>((*app)->ingest());
    auto started = feeds::Replay::start(
        runtime, replay_path, sink, {.paced = paced, .chunk_bytes = kReplayChunkBytes},
        [sink](const rt::Result<feeds::ReplayTotals, feeds::ReplayError>& done) {
          if (done) {
            spdlog::info("event=replay_done lines={} accepted={} rejected={}", done->lines,
                         sink->accepted(), sink->rejected());
          } else {
            spdlog::error("event=replay_failed reason=\"{}\"", done.error().message);
          }
        });
    if (!started) {
      spdlog::error("event=replay_failed reason=\"{}\"", started.error().message);
      return 1;
    }
    replay.emplace(std::move(*started));
  }
  spdlog::info("event=serving workers={} simulator={} (Ctrl-C stops)",
               runtime.scheduler().workers(), no_simulator ? "off" : "on");

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("event=stopping signal={}", sig);
  if (replay) replay->cancel();
  if (reporter) rt::stop(*reporter);
  (*app)->stop();
  bool clean = runtime.kill_all(std::chrono::seconds(5));
  return clean ? 0 : 1;
}
