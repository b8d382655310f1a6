// marketd: the market-data service. Starts the application tree of
// DESIGN.md (on the embedded simulator unless --no-simulator), the REST and
// WebSocket API in front of it, and optionally replays an NDJSON file.
// SIGINT/SIGTERM: stop accepting, close WebSockets with 1001, stop the tree
// in reverse order, exit 0 (within 10 s).

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/server.hpp"
#include "feeds/ndjson.hpp"
#include "feeds/replay.hpp"
#include "services/application.hpp"

namespace {

// Replay reads big chunks: a batch then carries many events per symbol, which
// is what makes ingest fast with many symbols (docs/PERFORMANCE.md, I3).
constexpr std::size_t kReplayChunkBytes = 4 << 20;

/// `%*` in a pattern: the log message as a JSON string (escaped).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string out;
    feeds::append_json_string(out, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

void configure_logging(const std::string& level, const std::string& format) {
  spdlog::set_level(spdlog::level::from_str(level));
  if (format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    f->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":%*})");
    spdlog::set_formatter(std::move(f));
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  }
}

/// "SYMBOL:TICK:LOT[:MODE]" into a symbol definition.
std::optional<services::SymbolDefinition> parse_symbol_option(const std::string& text,
                                                              std::string& error) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ':') {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() < 3 || parts.size() > 4) {
    error = "expected SYMBOL:TICK:LOT[:MODE], got '" + text + "'";
    return std::nullopt;
  }
  ob::Mode mode = ob::Mode::venue;
  if (parts.size() == 4) {
    auto m = services::parse_mode(parts[3]);
    if (!m) {
      error = "mode must be venue, mirror or l2 in '" + text + "'";
      return std::nullopt;
    }
    mode = *m;
  }
  auto spec = services::SymbolSpec::parse(parts[1], parts[2], mode);
  if (!spec) {
    error = "bad tick or lot size in '" + text + "'";
    return std::nullopt;
  }
  return services::SymbolDefinition{parts[0], *spec};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"marketd: market-data service — order books, price feeds, REST and WebSocket API"};
  cli.set_config("--config", "", "read options from a TOML/INI file (same names as the flags)");
  std::string listen = "127.0.0.1:8080";
  unsigned workers = 0;
  unsigned io_threads = 1;
  bool no_simulator = false;
  services::SimulatorFeedOptions sim;
  double tick_rate = 0;
  std::vector<std::string> symbols;
  std::string replay_path;
  bool paced = false;
  int heartbeat_ms = 1000;
  int stale_ms = 5000;
  std::uint32_t rate_limit = 1000;
  int rate_window_ms = 1000;
  std::size_t body_limit = 1u << 20;
  std::size_t ws_queue_limit = 4u << 20;
  unsigned ws_write_interval_us = 1000;
  std::string log_level = "info";
  std::string log_format = "text";
  bool access_log = false;
  cli.add_option("--listen", listen, "HOST:PORT to serve REST and WebSocket on")
      ->capture_default_str();
  cli.add_option("--workers", workers, "runtime scheduler threads (0 = hardware threads)")
      ->capture_default_str();
  cli.add_option("--io-threads", io_threads, "network threads")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cli.add_flag("--no-simulator", no_simulator, "start with no feed (ingest, replay or API only)");
  cli.add_option("--rate", sim.rate, "simulator events per second, all symbols together")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cli.add_option("--seed", sim.simulator.seed, "simulator seed (same seed, same market)")
      ->capture_default_str();
  cli.add_option("--tick-feed", tick_rate,
                 "also run a synthetic trade feed of this many ticks/s over every symbol (0 = off)")
      ->check(CLI::Range(0.0, 1e8))
      ->capture_default_str();
  cli.add_option("--symbols", symbols, "symbols to create at start: SYMBOL:TICK:LOT[:MODE] ...");
  cli.add_option("--replay", replay_path,
                 "NDJSON file of normalized events to ingest ('-' = stdin)");
  cli.add_flag("--paced", paced, "replay at the recorded pace (ts_ns) instead of at once");
  cli.add_option("--heartbeat-ms", heartbeat_ms, "staleness check period")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
  cli.add_option("--stale-ms", stale_ms, "no update for this long makes a symbol stale")
      ->check(CLI::Range(1, 86'400'000))
      ->capture_default_str();
  cli.add_option("--rate-limit", rate_limit, "REST requests per window per client key (0 = off)")
      ->capture_default_str();
  cli.add_option("--rate-window-ms", rate_window_ms, "rate limit window")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
  cli.add_option("--body-limit", body_limit, "largest request body in bytes")
      ->capture_default_str();
  cli.add_option("--ws-queue-limit", ws_queue_limit, "bytes queued per WebSocket before conflation")
      ->capture_default_str();
  cli.add_option("--ws-write-interval-us", ws_write_interval_us,
                 "how long a WebSocket's messages may gather into one write (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 100'000u));
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  cli.add_option("--log-format", log_format, "text (key=value) or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cli.add_flag("--access-log", access_log, "log one line per HTTP request");
  CLI11_PARSE(cli, argc, argv);
  configure_logging(log_level, log_format);

  api::ServerConfig server_config;
  {
    const auto colon = listen.rfind(':');
    int port = -1;
    if (colon != std::string::npos) {
      try {
        port = std::stoi(listen.substr(colon + 1));
      } catch (const std::exception&) {
        port = -1;
      }
    }
    if (colon == std::string::npos || port < 0 || port > 65535) {
      spdlog::error("event=bad_option option=--listen value=\"{}\" expected=HOST:PORT", listen);
      return 2;
    }
    server_config.host = listen.substr(0, colon);
    server_config.port = static_cast<unsigned short>(port);
  }
  server_config.body_limit = body_limit;
  server_config.rest.access_log = access_log;
  server_config.ws.send_queue_limit = ws_queue_limit;
  server_config.ws.write_interval = std::chrono::microseconds(ws_write_interval_us);

  services::ApplicationConfig config;
  config.timing.heartbeat = std::chrono::milliseconds(heartbeat_ms);
  config.timing.stale_after = std::chrono::milliseconds(stale_ms);
  config.rate_limit.limit = rate_limit;
  config.rate_limit.window = std::chrono::milliseconds(rate_window_ms);
  for (const std::string& s : symbols) {
    std::string error;
    auto def = parse_symbol_option(s, error);
    if (!def) {
      spdlog::error("event=bad_option option=--symbols reason=\"{}\"", error);
      return 2;
    }
    config.symbols.push_back(std::move(*def));
  }
  if (!no_simulator) config.simulator = sim;
  if (tick_rate > 0) config.tick_feed = services::TickFeedOptions{.rate = tick_rate};

  // Block the stop signals before any thread starts, then wait for one here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The io_context outlives the runtime: call completions are posted to it.
  boost::asio::io_context io;
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = workers}}};
  auto app = services::Application::start(runtime, std::move(config));
  if (!app) {
    spdlog::error("event=start_failed reason=\"{}\"", app.error());
    return 1;
  }
  auto server = api::ApiServer::start(io, **app, server_config);
  if (!server) {
    spdlog::error("event=start_failed reason=\"{}\"", server.error());
    (*app)->stop();
    return 1;
  }
  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> io_pool;
  for (unsigned i = 0; i < io_threads; ++i) io_pool.emplace_back([&io] { io.run(); });

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
    } else {
      replay.emplace(std::move(*started));
    }
  }
  spdlog::info("event=serving listen={}:{} workers={} io_threads={} simulator={}",
               (*server)->endpoint().address().to_string(), (*server)->endpoint().port(),
               runtime.scheduler().workers(), io_threads, no_simulator ? "off" : "on");

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("event=stopping signal={}", sig);
  if (replay) replay->cancel();
  (*server)->stop();  // no new connections; WebSockets closed with 1001
  (*app)->stop();     // the tree, in reverse order
  const bool clean = runtime.kill_all(std::chrono::seconds(3));
  work.reset();
  io.stop();
  for (auto& t : io_pool) t.join();
  spdlog::info("event=stopped clean={}", clean);
  return 0;
}
