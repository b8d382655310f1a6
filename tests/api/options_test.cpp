// The command line and the --config file: defaults, every kind of value
// reaching its config field, the file's values, and refusals with exit 2.
#include "api/options.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct Parsed {
  std::variant<api::Options, int> result;
  std::string out, err;
  const api::Options* options() const { return std::get_if<api::Options>(&result); }
  int status() const { return std::holds_alternative<int>(result) ? std::get<int>(result) : -1; }
};

Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "marketd");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  auto r = api::parse_options(static_cast<int>(argv.size()), argv.data(), out, err);
  return Parsed{std::move(r), out.str(), err.str()};
}

TEST(Options, NoArgumentsServeTheSimulatorOnLocalhost8080) {
  Parsed p = parse({});
  ASSERT_NE(p.options(), nullptr) << p.err;
  const api::Options& o = *p.options();
  EXPECT_EQ(o.server.host, "127.0.0.1");
  EXPECT_EQ(o.server.port, 8080);
  EXPECT_TRUE(o.app.simulator.has_value());
  EXPECT_FALSE(o.app.tick_feed.has_value());
  EXPECT_TRUE(o.app.symbols.empty());
  EXPECT_EQ(o.app.rate_limit.limit, 1000u);
  EXPECT_EQ(o.server.ws.write_interval, 0us);
  EXPECT_EQ(o.log_format, "text");
  EXPECT_EQ(o.workers, api::default_workers(std::thread::hardware_concurrency(), 1));
}

TEST(Options, SimSymbolsGrowsTheSimulatorPastItsEightDefaults) {
  Parsed p = parse({});
  ASSERT_NE(p.options(), nullptr) << p.err;
  EXPECT_EQ(p.options()->app.simulator->simulator.symbols.size(), 8u);
  p = parse({"--sim-symbols", "100"});
  ASSERT_NE(p.options(), nullptr) << p.err;
  const auto& symbols = p.options()->app.simulator->simulator.symbols;
  ASSERT_EQ(symbols.size(), 100u);
  EXPECT_EQ(symbols[0].symbol, "BTC-USD");
  EXPECT_EQ(symbols[8].symbol, "SIM008-USD");
  EXPECT_EQ(symbols[99].symbol, "SIM099-USD");
  p = parse({"--sim-symbols", "2"});
  ASSERT_NE(p.options(), nullptr) << p.err;
  EXPECT_EQ(p.options()->app.simulator->simulator.symbols.size(), 2u);
  EXPECT_EQ(parse({"--sim-symbols", "0"}).status(), 2);
}

TEST(Options, TheRuntimeGetsTheCoresTheIoThreadsLeave) {
  EXPECT_EQ(api::default_workers(8, 1), 7u);
  EXPECT_EQ(api::default_workers(2, 1), 1u);
  EXPECT_EQ(api::default_workers(2, 4), 1u);
  EXPECT_EQ(api::default_workers(0, 1), 1u);  // hardware_concurrency unknown
  Parsed p = parse({"--workers", "3"});
  ASSERT_NE(p.options(), nullptr);
  EXPECT_EQ(p.options()->workers, 3u);
}

TEST(Options, EveryKindOfValueReachesItsField) {
  Parsed p = parse({"--listen", "0.0.0.0:9001", "--no-simulator", "--symbols",
                    "BTC-USD:0.01:0.0001", "ETH-USD:0.01:0.001:mirror", "--rate-limit", "0",
                    "--stale-ms", "250", "--ws-write-interval-us", "2000", "--tick-feed", "1500",
                    "--log-format", "json", "--access-log"});
  ASSERT_NE(p.options(), nullptr) << p.err;
  const api::Options& o = *p.options();
  EXPECT_EQ(o.server.host, "0.0.0.0");
  EXPECT_EQ(o.server.port, 9001);
  EXPECT_FALSE(o.app.simulator.has_value());
  ASSERT_EQ(o.app.symbols.size(), 2u);
  EXPECT_EQ(o.app.symbols[1].symbol, "ETH-USD");
  EXPECT_EQ(o.app.symbols[1].spec.mode, ob::Mode::mirror);
  EXPECT_EQ(o.app.rate_limit.limit, 0u);
  EXPECT_EQ(o.app.timing.stale_after, 250ms);
  EXPECT_EQ(o.server.ws.write_interval, 2000us);
  ASSERT_TRUE(o.app.tick_feed.has_value());
  EXPECT_EQ(o.app.tick_feed->rate, 1500);
  EXPECT_EQ(o.log_format, "json");
  EXPECT_TRUE(o.server.rest.access_log);
}

TEST(Options, AConfigFileSetsOptionsAndTheCommandLineWins) {
  const auto path = std::filesystem::temp_directory_path() / "marketd_options_test.toml";
  {
    std::ofstream f(path);
    f << "# marketd configuration\n"
         "listen = \"127.0.0.1:18080\"\n"
         "no-simulator = true\n"
         "symbols = [\"SOL-USD:0.001:0.01\", \"ADA-USD:0.0001:1:l2\"]\n"
         "heartbeat-ms = 200\n"
         "rate-limit = 5\n";
  }
  Parsed p = parse({"--config", path.string(), "--rate-limit", "7"});
  std::filesystem::remove(path);
  ASSERT_NE(p.options(), nullptr) << p.err;
  const api::Options& o = *p.options();
  EXPECT_EQ(o.server.port, 18080);
  EXPECT_FALSE(o.app.simulator.has_value());
  ASSERT_EQ(o.app.symbols.size(), 2u);
  EXPECT_EQ(o.app.symbols[0].symbol, "SOL-USD");
  EXPECT_EQ(o.app.symbols[1].spec.mode, ob::Mode::l2);
  EXPECT_EQ(o.app.timing.heartbeat, 200ms);
  EXPECT_EQ(o.app.rate_limit.limit, 7u);
}

TEST(Options, AccessOptionsComeFromTheFlagsOrTheConfigFileAsLists) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto keys = dir / "marketd_options_test.keys";
  const auto conf = dir / "marketd_options_test_access.toml";
  {
    std::ofstream(keys) << "# keys\nk-1 read\nk-2 admin\n";
    std::ofstream(conf) << "api-keys = \"" << keys.string() << "\"\n"
                        << "allow-origin = [\"https://a.example\", \"null\"]\n"
                        << "allow-host = [\"marketd.internal\"]\n"
                        << "max-connections = 100\n"
                        << "ws-ping-interval-ms = 500\n";
  }
  Parsed p = parse({"--config", conf.string()});
  std::filesystem::remove(conf);
  ASSERT_NE(p.options(), nullptr) << p.err;
  const api::ServerConfig& s = p.options()->server;
  EXPECT_EQ(s.access.key_count(), 2u);
  EXPECT_EQ(s.allow_origins, (std::vector<std::string>{"https://a.example", "null"}));
  EXPECT_EQ(s.allow_hosts, (std::vector<std::string>{"marketd.internal"}));
  EXPECT_EQ(s.max_connections, 100u);
  EXPECT_EQ(s.ws.ping_interval, 500ms);
  EXPECT_EQ(s.ws.pong_timeout, 20000ms);
  EXPECT_FALSE(s.insecure_no_auth);
  Parsed flags = parse({"--allow-origin", "https://b.example", "--allow-origin",
                        "https://c.example", "--insecure-no-auth"});
  ASSERT_NE(flags.options(), nullptr) << flags.err;
  EXPECT_EQ(flags.options()->server.allow_origins.size(), 2u);
  EXPECT_TRUE(flags.options()->server.insecure_no_auth);
  EXPECT_FALSE(flags.options()->server.access.enabled());
  EXPECT_EQ(flags.options()->server.max_connections, 4096u);
  // A bad keys file stops the start, naming the file and the line.
  std::ofstream(keys) << "k-1 read\nk-2 root\n";
  Parsed bad = parse({"--api-keys", keys.string()});
  std::filesystem::remove(keys);
  EXPECT_EQ(bad.status(), 2);
  EXPECT_NE(bad.err.find("line 2: unknown role"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find(keys.string()), std::string::npos) << bad.err;
}

TEST(Options, TheJournalDefaultsToVarWithBatchSyncsAndKeepsEverything) {
  Parsed p = parse({});
  ASSERT_NE(p.options(), nullptr) << p.err;
  ASSERT_TRUE(p.options()->app.journal.has_value());
  const services::JournalConfig& j = *p.options()->app.journal;
  EXPECT_EQ(j.data_dir, "var");
  EXPECT_EQ(j.writer.fsync, storage::FsyncPolicy::batch);
  EXPECT_FALSE(j.snapshots.retention.has_value());
}

TEST(Options, DurabilityFlagsReachTheJournalConfig) {
  Parsed p = parse({"--data-dir", "/srv/md", "--fsync", "always", "--retain", "7d,10GiB"});
  ASSERT_NE(p.options(), nullptr) << p.err;
  const services::JournalConfig& j = *p.options()->app.journal;
  EXPECT_EQ(j.data_dir, "/srv/md");
  EXPECT_EQ(j.writer.fsync, storage::FsyncPolicy::always);
  ASSERT_TRUE(j.snapshots.retention.has_value());
  EXPECT_EQ(j.snapshots.retention->max_age, std::chrono::seconds(7 * 86400));
  EXPECT_EQ(j.snapshots.retention->max_bytes, 10ull << 30);
  // An empty --data-dir journals nothing.
  Parsed none = parse({"--data-dir", ""});
  ASSERT_NE(none.options(), nullptr) << none.err;
  EXPECT_FALSE(none.options()->app.journal.has_value());
}

TEST(Options, AJournalReplayNamesADirectoryAndOptionallyItsSymbols) {
  Parsed p = parse(
      {"--replay-journal", "/srv/recorded", "--replay-symbols", "BTC-USD,ETH-USD", "--paced"});
  ASSERT_NE(p.options(), nullptr) << p.err;
  EXPECT_EQ(p.options()->replay_journal, "/srv/recorded");
  EXPECT_EQ(p.options()->replay_symbols, (std::vector<std::string>{"BTC-USD", "ETH-USD"}));
  EXPECT_TRUE(p.options()->paced);
  Parsed none = parse({});
  ASSERT_NE(none.options(), nullptr) << none.err;
  EXPECT_TRUE(none.options()->replay_journal.empty());
  EXPECT_TRUE(none.options()->replay_symbols.empty());
}

TEST(Options, RetentionIsAnAgeASizeOrBoth) {
  std::string error;
  auto age = api::parse_retention("36h", error);
  ASSERT_TRUE(age.has_value()) << error;
  EXPECT_EQ(age->max_age, std::chrono::seconds(36 * 3600));
  EXPECT_FALSE(age->max_bytes.has_value());
  auto size = api::parse_retention("512MiB", error);
  ASSERT_TRUE(size.has_value()) << error;
  EXPECT_EQ(size->max_bytes, 512ull << 20);
  EXPECT_FALSE(size->max_age.has_value());
  for (const char* bad : {"", "7", "d", "0d", "7y", "7d,8d", "10GiB,1MiB", "7d,", "-1d",
                          "99999999999999999999d", "20000000TiB"}) {
    EXPECT_FALSE(api::parse_retention(bad, error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    error.clear();
  }
}

TEST(Options, BadValuesAreRefusedWithTheReasonAndExit2) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--listen", "8080"}, "HOST:PORT"},
      {{"--listen", "localhost:70000"}, "HOST:PORT"},
      {{"--listen", "localhost:http"}, "HOST:PORT"},
      {{"--symbols", "BTC-USD:0.01"}, "SYMBOL:TICK:LOT"},
      {{"--symbols", "BTC-USD:0.01:0.001:spot"}, "venue, mirror or l2"},
      {{"--symbols", "BTC-USD:-1:0.001"}, "bad tick or lot"},
      {{"--log-level", "loud"}, "log-level"},
      {{"--io-threads", "0"}, "io-threads"},
      {{"--ws-write-interval-us", "-5"}, "ws-write-interval-us"},
      {{"--config", "/nonexistent/marketd.toml"}, "marketd.toml"},
      {{"--no-such-option"}, "no-such-option"},
      {{"--fsync", "sometimes"}, "fsync"},
      {{"--retain", "7 days"}, "--retain"},
  };
  for (const Case& c : cases) {
    Parsed p = parse(c.args);
    EXPECT_EQ(p.status(), 2) << c.args[0] << " " << (c.args.size() > 1 ? c.args[1] : "");
    EXPECT_NE(p.err.find(c.says), std::string::npos) << p.err;
  }
}

TEST(Options, HelpListsEveryOptionWithItsDefaultAndExits0) {
  Parsed p = parse({"--help"});
  EXPECT_EQ(p.status(), 0);
  for (const char* option :
       {"--listen", "--config", "--no-simulator", "--symbols", "--workers", "--rate-limit",
        "--ws-queue-limit", "--ws-write-interval-us", "--log-format", "--access-log", "--data-dir",
        "--fsync", "--retain", "--replay-journal", "--replay-symbols"}) {
    EXPECT_NE(p.out.find(option), std::string::npos) << option;
  }
  EXPECT_NE(p.out.find("127.0.0.1:8080"), std::string::npos);
}

}  // namespace
