// marketd: the market-data service. Starts the application tree of
// DESIGN.md (on the embedded simulator unless --no-simulator), the REST and
// WebSocket API in front of it, and optionally replays an NDJSON file.
// SIGINT/SIGTERM: stop accepting, close WebSockets with 1001, stop the tree
// in reverse order, exit 0 (within 10 s).

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>

#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "api/logging.hpp"
#include "api/options.hpp"
#include "api/server.hpp"
#include "feeds/replay.hpp"
#include "runtime/thread_name.hpp"
#include "services/application.hpp"
#include "services/journal_replay.hpp"

namespace {

// Replay reads big chunks: a batch then carries many events per symbol, which
// is what makes ingest fast with many symbols (docs/PERFORMANCE.md, I3).
constexpr std::size_t kReplayChunkBytes = 4 << 20;

}  // namespace

int main(int argc, char** argv) {
  auto parsed = api::parse_options(argc, argv, std::cout, std::cerr);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  api::Options& options = std::get<api::Options>(parsed);
  api::configure_logging(options.log_level, options.log_format);
  const bool simulator = options.app.simulator.has_value();

  // Block the stop signals before any thread starts, then wait for one here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The io_context outlives the runtime: call completions are posted to it.
  boost::asio::io_context io;
  rt::Runtime runtime{rt::Runtime::Options{rt::Scheduler::Options{.workers = options.workers}}};
  auto app = services::Application::start(runtime, std::move(options.app));
  if (!app) {
    spdlog::error("event=start_failed reason=\"{}\"", app.error());
    return 1;
  }
  auto server = api::ApiServer::start(io, **app, options.server);
  if (!server) {
    spdlog::error("event=start_failed reason=\"{}\"", server.error());
    (*app)->stop();
    return 1;
  }
  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> io_pool;
  for (unsigned i = 0; i < options.io_threads; ++i)
    io_pool.emplace_back([&io, i] {
      rt::name_this_thread(fmt::format("md-io-{}", i));
      io.run();
    });

  std::shared_ptr<services::IngestSink> sink;
  std::optional<feeds::Replay> replay;
  if (!options.replay_path.empty()) {
    sink = std::make_shared<services::IngestSink>((*app)->ingest());
    auto started = feeds::Replay::start(
        runtime, options.replay_path, sink,
        {.paced = options.paced, .chunk_bytes = kReplayChunkBytes},
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
  std::unique_ptr<services::JournalReplay> journal_replay;
  if (!options.replay_journal.empty()) {
    auto started = services::JournalReplay::start(
        **app, options.replay_journal, options.replay_symbols,
        {.paced = options.paced, .on_done = [](const services::JournalReplayTotals& t) {
           spdlog::info(
               "event=replay_journal_done batches={} events={} rejected={} api_records={} "
               "stopped=\"{}\"",
               t.batches, t.events, t.rejected, t.api_records, fmt::join(t.stopped_symbols, "; "));
         }});
    if (!started) {
      spdlog::error("event=replay_journal_failed reason=\"{}\"", started.error());
    } else {
      journal_replay = std::move(*started);
    }
  }
  spdlog::info("event=serving listen={}:{} workers={} io_threads={} simulator={}",
               (*server)->endpoint().address().to_string(), (*server)->endpoint().port(),
               runtime.scheduler().workers(), options.io_threads, simulator ? "on" : "off");

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("event=stopping signal={}", sig);
  if (replay) replay->cancel();
  journal_replay.reset();  // cancels and joins: it calls into the application
  (*server)->stop();       // no new connections; WebSockets closed with 1001
  (*app)->stop();          // the tree, in reverse order
  const bool clean = runtime.kill_all(std::chrono::seconds(3));
  work.reset();
  io.stop();
  for (auto& t : io_pool) t.join();
  spdlog::info("event=stopped clean={}", clean);
  return 0;
}
