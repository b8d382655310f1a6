// mdload: WebSocket fan-out load client for marketd and any server speaking
// API.md's WebSocket subset (the node-ws peer included), on Boost.Beast.
//
//   mdload --host 127.0.0.1 --port 8080 --clients 1000 --per-client 10 --symbols 100
//
// Opens `clients` connections (at most `concurrency` handshakes at once),
// subscribes each to `trades` on `per-client` distinct symbols chosen with a
// seeded PRNG from SYM000-USD..SYM<symbols-1>-USD, waits for every
// `subscribed`, warms up, then counts for `duration` seconds: deliveries/s,
// latency now - ts_ns (CLOCK_REALTIME on both sides, one machine), and seq
// gaps per (client, symbol). One line on stdout:
//   WS1 fanout clients=N delivered_per_s=N p50_us=N p99_us=N gaps=N closed=N valid=0|1 ...
// Exit status 0 iff valid (everyone subscribed, no closes, no gaps, ticks arrived).
// --threads N spreads the clients over N threads, each with its own
// io_context and counters (merged at the end); 1, like load.js, by default.

#include <fmt/format.h>
#include <simdjson.h>
#include <CLI/CLI.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using tcp = net::ip::tcp;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Latency histogram: 1 µs buckets up to 100 ms, then one overflow bucket.
class Histogram {
 public:
  void add(std::int64_t us) {
    ++buckets_[static_cast<std::size_t>(std::clamp<std::int64_t>(us, 0, kMax))];
    ++count_;
  }
  std::int64_t percentile(double p) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(static_cast<double>(count_) * p / 100));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= rank) return static_cast<std::int64_t>(i);
    }
    return kMax;
  }
  void merge(const Histogram& o) {
    for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
    count_ += o.count_;
  }

 private:
  static constexpr std::int64_t kMax = 100'000;
  std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(kMax + 1);
  std::uint64_t count_ = 0;
};

// One thread's counters. The connection counts are read by the main thread
// while the clients run; everything else only once the threads have stopped.
struct Totals {
  std::atomic<std::size_t> subscribed{0}, closed{0}, connect_failed{0};
  std::uint64_t ticks = 0, window_ticks = 0, gaps = 0, missing = 0, backwards = 0;
  std::uint64_t unexpected = 0, bad = 0, other = 0, negative = 0;
  Histogram latency;

  void merge(const Totals& o) {
    subscribed += o.subscribed.load();
    closed += o.closed.load();
    connect_failed += o.connect_failed.load();
    ticks += o.ticks;
    window_ticks += o.window_ticks;
    gaps += o.gaps;
    missing += o.missing;
    backwards += o.backwards;
    unexpected += o.unexpected;
    bad += o.bad;
    other += o.other;
    negative += o.negative;
    latency.merge(o.latency);
  }
};

std::atomic<bool> measuring{false};  // the window is open (set by the main thread)

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  std::string path = "/ws";
  std::size_t clients = 1000;
  std::size_t per_client = 10;
  std::size_t symbols = 100;
  std::size_t concurrency = 100;
  double warmup = 2;
  double duration = 10;
  std::uint64_t seed = 42;
  unsigned threads = 1;
};

std::string symbol_name(std::size_t i) {
  return fmt::format("SYM{:03}-USD", i);
}

net::awaitable<void> client(std::size_t id, const Options& opt, std::vector<std::string> symbols,
                            Totals& totals, std::size_t& handshakes) {
  auto ex = co_await net::this_coro::executor;
  ws::stream<beast::tcp_stream> stream(ex);
  tcp::endpoint endpoint(net::ip::make_address(opt.host), opt.port);
  while (handshakes >= opt.concurrency) {  // bound the handshakes in flight
    net::steady_timer t(ex, std::chrono::milliseconds(1));
    co_await t.async_wait(kNoThrow);
  }
  ++handshakes;
  auto [cec] = co_await beast::get_lowest_layer(stream).async_connect(endpoint, kNoThrow);
  if (!cec) {
    std::string host = fmt::format("{}:{}", opt.host, opt.port);
    auto [hec] = co_await stream.async_handshake(host, opt.path, kNoThrow);
    cec = hec;
  }
  --handshakes;
  if (cec) {
    ++totals.connect_failed;
    co_return;
  }
  std::string sub = R"({"type":"subscribe","channels":["trades"],"symbols":[)";
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    sub += fmt::format("{}\"{}\"", i ? "," : "", symbols[i]);
  }
  sub += fmt::format(R"(],"id":{}}})", id + 1);
  auto [wec, wn] = co_await stream.async_write(net::buffer(sub), kNoThrow);
  if (wec) {
    ++totals.closed;
    co_return;
  }
  // A handful of symbols per client: a linear scan, no allocation per message.
  std::vector<std::pair<std::string, std::uint64_t>> last_seq;
  for (const auto& s : symbols) last_seq.emplace_back(s, 0);
  simdjson::ondemand::parser parser;
  beast::flat_buffer buffer;
  std::string text;
  for (;;) {
    auto [rec, n] = co_await stream.async_read(buffer, kNoThrow);
    if (rec) {
      ++totals.closed;
      co_return;
    }
    const std::int64_t received = now_ns();
    text.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
    buffer.consume(buffer.size());
    text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    std::string_view type;
    if (parser.iterate(simdjson::padded_string_view(text.data(), text.size(), text.capacity()))
            .get(doc) ||
        doc["type"].get_string().get(type)) {
      ++totals.bad;
      continue;
    }
    if (type == "subscribed") {
      ++totals.subscribed;
      continue;
    }
    if (type != "tick") {
      ++totals.other;
      continue;
    }
    std::string_view symbol;
    std::uint64_t seq = 0;
    std::int64_t ts_ns = 0;
    if (doc["symbol"].get_string().get(symbol) || doc["seq"].get_uint64().get(seq) ||
        doc["ts_ns"].get_int64().get(ts_ns)) {
      ++totals.bad;
      continue;
    }
    auto it = std::find_if(last_seq.begin(), last_seq.end(),
                           [&](const auto& e) { return e.first == symbol; });
    if (it == last_seq.end()) {
      ++totals.unexpected;
      continue;
    }
    if (it->second != 0 && seq != it->second + 1) {
      ++totals.gaps;
      if (seq > it->second) {
        totals.missing += seq - it->second - 1;
      } else {
        ++totals.backwards;
      }
    }
    it->second = seq;
    ++totals.ticks;
    if (measuring.load(std::memory_order_relaxed)) {
      ++totals.window_ticks;
      const std::int64_t us = (received - ts_ns) / 1000;
      if (us < 0) ++totals.negative;  // clocks disagree
      totals.latency.add(us);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App cli{"mdload: WebSocket fan-out load client (API.md subscribe protocol)"};
  cli.add_option("--host", opt.host)->capture_default_str();
  cli.add_option("--port", opt.port)->capture_default_str();
  cli.add_option("--path", opt.path)->capture_default_str();
  cli.add_option("--clients", opt.clients)->capture_default_str();
  cli.add_option("--per-client", opt.per_client)->capture_default_str();
  cli.add_option("--symbols", opt.symbols, "universe SYM000-USD..")->capture_default_str();
  cli.add_option("--concurrency", opt.concurrency, "handshakes in flight")->capture_default_str();
  cli.add_option("--warmup", opt.warmup, "seconds")->capture_default_str();
  cli.add_option("--duration", opt.duration, "seconds measured")->capture_default_str();
  cli.add_option("--seed", opt.seed)->capture_default_str();
  cli.add_option("--threads", opt.threads, "client threads (each with its share of the clients)")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  if (opt.per_client > opt.symbols) {
    fmt::print(stderr, "mdload: --per-client exceeds --symbols\n");
    return 2;
  }

  const unsigned threads = std::max(1u, opt.threads);
  std::vector<std::unique_ptr<net::io_context>> ios;
  std::vector<std::unique_ptr<Totals>> totals;
  std::vector<std::size_t> handshakes(threads, 0);  // each only touched by its thread
  for (unsigned t = 0; t < threads; ++t) {
    ios.push_back(std::make_unique<net::io_context>(1));
    totals.push_back(std::make_unique<Totals>());
  }
  // The clients keep a reference: it lives until the process ends.
  Options per_thread = opt;
  per_thread.concurrency = std::max<std::size_t>(1, opt.concurrency / threads);
  std::mt19937_64 rng(opt.seed);
  std::vector<std::size_t> universe(opt.symbols);
  for (std::size_t i = 0; i < universe.size(); ++i) universe[i] = i;
  for (std::size_t c = 0; c < opt.clients; ++c) {
    std::shuffle(universe.begin(), universe.end(), rng);
    std::vector<std::string> mine;
    for (std::size_t k = 0; k < opt.per_client; ++k) mine.push_back(symbol_name(universe[k]));
    const std::size_t t = c % threads;
    net::co_spawn(*ios[t], client(c, per_thread, std::move(mine), *totals[t], handshakes[t]),
                  net::detached);
  }
  std::vector<std::thread> pool;
  for (auto& io : ios) pool.emplace_back([&io] { io->run(); });

  auto connected = [&] {
    std::size_t n = 0;
    for (auto& t : totals) n += t->subscribed + t->connect_failed + t->closed;
    return n;
  };
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (connected() < opt.clients && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a phase timer, not a sync
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(opt.warmup));
  measuring = true;
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(opt.duration));
  measuring = false;
  const double window =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& io : ios) io->stop();
  for (auto& t : pool) t.join();
  Totals all;
  for (auto& t : totals) all.merge(*t);

  const bool valid = all.subscribed == opt.clients && all.closed == 0 && all.gaps == 0 &&
                     all.window_ticks > 0 && all.bad == 0 && all.unexpected == 0;
  fmt::print(
      "WS1 fanout clients={} delivered_per_s={:.0f} p50_us={} p99_us={} gaps={} p90_us={} "
      "p999_us={} msgs={} window_s={:.2f} symbols={} per_client={} subscribed={} closed={} "
      "missing={} backwards={} unexpected={} bad={} neg_latency={} client=mdload threads={} "
      "valid={}\n",
      opt.clients, static_cast<double>(all.window_ticks) / window, all.latency.percentile(50),
      all.latency.percentile(99), all.gaps, all.latency.percentile(90),
      all.latency.percentile(99.9), all.window_ticks, window, opt.symbols, opt.per_client,
      all.subscribed.load(), all.closed.load(), all.missing, all.backwards, all.unexpected, all.bad,
      all.negative, threads, valid ? 1 : 0);
  std::fflush(stdout);
  // Connections are not closed one by one: the process ends.
  std::_Exit(valid ? 0 : 1);
}
