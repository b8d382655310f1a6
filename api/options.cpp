#include "api/options.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace api {

namespace {

/// "SYMBOL:TICK:LOT[:MODE]" into a symbol definition, or the reason it is not one.
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

/// "HOST:PORT" into the server's address, or the reason it is not one.
bool parse_listen(const std::string& text, ServerConfig& server, std::string& error) {
  const auto colon = text.rfind(':');
  const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (colon == std::string::npos || colon == 0 || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    error = "expected HOST:PORT (port 0-65535), got '" + text + "'";
    return false;
  }
  server.host = text.substr(0, colon);
  server.port = static_cast<unsigned short>(std::stoi(port));
  return true;
}

}  // namespace

std::optional<storage::RetentionPolicy> parse_retention(std::string_view text, std::string& error) {
  storage::RetentionPolicy p;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view part = text.substr(start, comma - start);
    start = comma + 1;
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    const std::string_view unit(end, part.data() + part.size() - end);
    if (ec != std::errc{} || n == 0 || unit.empty()) {
      error = fmt::format("'{}': expected a positive number and a unit, as 7d or 10GiB", part);
      return std::nullopt;
    }
    static constexpr std::pair<std::string_view, std::uint64_t> kAges[] = {
        {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
    static constexpr std::pair<std::string_view, std::uint64_t> kSizes[] = {{"B", 1},
                                                                            {"KiB", 1ull << 10},
                                                                            {"MiB", 1ull << 20},
                                                                            {"GiB", 1ull << 30},
                                                                            {"TiB", 1ull << 40}};
    bool known = false;
    for (const auto& [name, seconds] : kAges) {
      if (unit == name) {
        if (p.max_age || n > (std::uint64_t{1} << 40) / seconds) break;
        p.max_age = std::chrono::seconds(n * seconds);
        known = true;
      }
    }
    for (const auto& [name, bytes] : kSizes) {
      if (unit == name) {
        if (p.max_bytes || n > (std::uint64_t{1} << 62) / bytes) break;
        p.max_bytes = n * bytes;
        known = true;
      }
    }
    if (!known) {
      error = fmt::format("'{}': an unknown unit, a repeated kind or too large", part);
      return std::nullopt;
    }
  }
  return p;
}

unsigned default_workers(unsigned hardware_threads, unsigned io_threads) {
  return hardware_threads > io_threads ? hardware_threads - io_threads : 1;
}

std::variant<Options, int> parse_options(int argc, const char* const* argv, std::ostream& out,
                                         std::ostream& err) {
  Options o;
  CLI::App cli{"marketd: market-data service — order books, price feeds, REST and WebSocket API"};
  cli.set_config("--config", "", "read options from a TOML/INI file (same names as the flags)");
  std::string listen = "127.0.0.1:8080";
  bool no_simulator = false;
  services::SimulatorFeedOptions sim;
  double tick_rate = 0;
  std::vector<std::string> symbols;
  int heartbeat_ms = 1000;
  int stale_ms = 5000;
  int rate_window_ms = 1000;
  unsigned ws_write_interval_us = 0;
  std::string data_dir = "var";
  std::string fsync = "batch";
  std::string retain;
  auto& app = o.app;
  auto& server = o.server;
  cli.add_option("--listen", listen, "HOST:PORT to serve REST and WebSocket on")
      ->capture_default_str();
  cli.add_option("--workers", o.workers,
                 "runtime scheduler threads (0 = hardware threads less --io-threads, at least 1)")
      ->check(CLI::Range(0u, 256u))
      ->capture_default_str();
  cli.add_option("--io-threads", o.io_threads, "network threads")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cli.add_flag("--no-simulator", no_simulator, "start with no feed (ingest, replay or API only)");
  cli.add_option("--rate", sim.rate, "simulator events per second, all symbols together")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cli.add_option("--seed", sim.simulator.seed, "simulator seed (same seed, same market)")
      ->capture_default_str();
  std::size_t sim_symbols = sim.simulator.symbols.size();
  cli.add_option("--sim-symbols", sim_symbols,
                 "symbols the simulator trades: its 8 defaults, then SIM008-USD, SIM009-USD, ...")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000}))
      ->capture_default_str();
  cli.add_option("--tick-feed", tick_rate,
                 "also run a synthetic trade feed of this many ticks/s over every symbol (0 = off)")
      ->check(CLI::Range(0.0, 1e8))
      ->capture_default_str();
  cli.add_option("--symbols", symbols, "symbols to create at start: SYMBOL:TICK:LOT[:MODE] ...");
  cli.add_option("--replay", o.replay_path,
                 "NDJSON file of normalized events to ingest ('-' = stdin)");
  cli.add_option("--replay-journal", o.replay_journal,
                 "another marketd's data directory: re-emit its recorded feed (ingested events) "
                 "into this one's books");
  cli.add_option("--replay-symbols", o.replay_symbols,
                 "the symbols of --replay-journal to replay (default: all it recorded)")
      ->delimiter(',');
  cli.add_flag("--paced", o.paced,
               "replay at the recorded pace (ts_ns, or receipt times for --replay-journal) "
               "instead of at once");
  cli.add_option("--heartbeat-ms", heartbeat_ms, "staleness check period")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
  cli.add_option("--stale-ms", stale_ms, "no update for this long makes a symbol stale")
      ->check(CLI::Range(1, 86'400'000))
      ->capture_default_str();
  cli.add_option("--rate-limit", app.rate_limit.limit,
                 "REST requests per window per client key (0 = off)")
      ->capture_default_str();
  cli.add_option("--rate-window-ms", rate_window_ms, "rate limit window")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
  cli.add_option("--body-limit", server.body_limit, "largest request body in bytes")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  cli.add_option("--ws-queue-limit", server.ws.send_queue_limit,
                 "bytes queued per WebSocket before conflation")
      ->check(CLI::Range(std::size_t{1} << 10, std::size_t{1} << 30))
      ->capture_default_str();
  cli.add_option("--ws-write-interval-us", ws_write_interval_us,
                 "how long a WebSocket's messages may gather into one write (0: none)")
      ->check(CLI::Range(0u, 100'000u))
      ->capture_default_str();
  cli.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  cli.add_option("--log-format", o.log_format, "text (key=value) or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cli.add_flag("--access-log", server.rest.access_log, "log one line per HTTP request");
  int ws_ping_ms = 20000;
  int ws_pong_ms = 20000;
  cli.add_option("--ws-ping-interval-ms", ws_ping_ms, "the server pings every WebSocket this often")
      ->check(CLI::Range(10, 3'600'000))
      ->capture_default_str();
  cli.add_option("--ws-pong-timeout-ms", ws_pong_ms,
                 "a WebSocket silent this long after a ping is closed (1001)")
      ->check(CLI::Range(10, 3'600'000))
      ->capture_default_str();
  std::string api_keys;
  cli.add_option("--api-keys", api_keys,
                 "file of API keys, one 'KEY ROLE' a line (ROLE read, trade or admin; # comments)");
  cli.add_flag("--insecure-no-auth", server.insecure_no_auth,
               "serve a non-loopback address without --api-keys (every client has every role)");
  cli.add_option("--allow-origin", server.allow_origins,
                 "a browser Origin (scheme://host[:port], or null) allowed to write; repeatable");
  cli.add_option("--allow-host", server.allow_hosts,
                 "a Host name accepted when no keys are configured; repeatable");
  services::SymbolLimits& limits = o.app.limits;
  cli.add_option("--max-symbols", limits.max_symbols,
                 "symbols, however created; past it PUT is 403 and ingest rejects the line")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))
      ->capture_default_str();
  cli.add_option("--max-orders-per-book", limits.max_orders_per_book,
                 "resting orders per book, ingested ones included")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000'000}))
      ->capture_default_str();
  cli.add_option("--max-orders-per-key", limits.max_orders_per_owner,
                 "resting API orders per key (without keys: per remote address)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000'000}))
      ->capture_default_str();
  cli.add_option("--max-connections", server.max_connections,
                 "open connections, HTTP and WebSocket together; one more is closed at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  cli.add_option("--data-dir", data_dir,
                 "where every accepted change is journaled (created if missing); '' = nowhere: "
                 "nothing survives a restart")
      ->capture_default_str();
  cli.add_option("--fsync", fsync,
                 "when a change counts as stored: always (fdatasync each), batch (group commit, "
                 "at most 10 ms), never (written, not synced: a machine crash may lose it)")
      ->check(CLI::IsMember({"always", "batch", "never"}))
      ->capture_default_str();
  cli.add_option(
      "--retain", retain,
      "delete whole journal segments older than AGE and/or beyond SIZE per symbol, "
      "e.g. 7d, 10GiB or 7d,10GiB (units s m h d; B KiB MiB GiB TiB); default: keep all");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e, out, err) == 0 ? 0 : 2;  // 2: a usage error, as for the checks below
  }

  std::string error;
  if (!parse_listen(listen, server, error)) {
    err << "--listen: " << error << "\n";
    return 2;
  }
  if (!api_keys.empty()) {
    auto access = AccessControl::load_keys_file(api_keys);
    if (!access) {
      err << "--api-keys: " << access.error() << "\n";
      return 2;
    }
    server.access = std::move(*access);
  }
  for (const std::string& s : symbols) {
    auto def = parse_symbol_option(s, error);
    if (!def) {
      err << "--symbols: " << error << "\n";
      return 2;
    }
    app.symbols.push_back(std::move(*def));
  }
  if (!data_dir.empty()) {
    services::JournalConfig j;
    j.data_dir = data_dir;
    j.writer.fsync = *storage::parse_fsync_policy(fsync);  // checked by CLI11
    if (!retain.empty()) {
      auto policy = parse_retention(retain, error);
      if (!policy) {
        err << "--retain: " << error << "\n";
        return 2;
      }
      j.snapshots.retention = *policy;
    }
    app.journal = std::move(j);
  }
  app.timing.heartbeat = std::chrono::milliseconds(heartbeat_ms);
  app.timing.stale_after = std::chrono::milliseconds(stale_ms);
  app.rate_limit.window = std::chrono::milliseconds(rate_window_ms);
  if (!no_simulator) {
    sim.simulator.symbols = feeds::simulated_symbols(sim_symbols);
    app.simulator = sim;
  }
  if (tick_rate > 0) app.tick_feed = services::TickFeedOptions{.rate = tick_rate};
  server.ws.write_interval = std::chrono::microseconds(ws_write_interval_us);
  server.ws.ping_interval = std::chrono::milliseconds(ws_ping_ms);
  server.ws.pong_timeout = std::chrono::milliseconds(ws_pong_ms);
  if (o.workers == 0)
    o.workers = default_workers(std::thread::hardware_concurrency(), o.io_threads);
  return o;
}

}  // namespace api
