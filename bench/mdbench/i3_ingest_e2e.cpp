// I3 ingest_e2e: NDJSON file -> replay pipeline (reader -> parser -> router)
// -> ingest (symbol lookup, decimal resolution, one message per symbol per
// batch) -> 1,000 OrderBookServers (venue mode: adds match) -> trades to their
// PriceFeedHandlers. 2,000,000 events of the market simulator's flow (adds
// around a random-walk mid, cancels of resting orders, marketable orders),
// written to a file in /dev/shm (or the temp dir) first; timed from the start
// of the replay until every book has applied its share and every trade has
// reached its feed handler. Valid when every event is accepted and the feed
// handlers count exactly the trades the simulator's shadow books made.
//
// I3J is the same with the journal on (`--fsync batch`, data directory under
// $TMPDIR: a real disk, not /dev/shm): every book answers its share only once
// its record is durable. It also reports the journal's bytes per event, as
// written and once each segment is compressed as a closed one would be.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/common/scratch_dir.hpp"
#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/workloads.hpp"
#include "feeds/ndjson.hpp"
#include "feeds/replay.hpp"
#include "feeds/simulator.hpp"
#include "services/application.hpp"
#include "storage/compression.hpp"
#include "storage/file_ops.hpp"

namespace mdbench {
namespace {

constexpr std::size_t kEvents = 2'000'000;
constexpr int kSymbols = 1000;
// Big chunks: with 1,000 symbols a 64 KiB chunk carries ~1 event per symbol,
// so every book message and every cold book is paid for one event. 16 MiB
// chunks (window 4: 64 MiB in flight at most) carry ~190 per symbol.
constexpr std::size_t kChunkBytes = 16 << 20;

std::filesystem::path scratch_file() {
  std::filesystem::path dir = std::filesystem::exists("/dev/shm")
                                  ? std::filesystem::path("/dev/shm")
                                  : std::filesystem::temp_directory_path();
  return dir / fmt::format("mdbench-i3-{}.ndjson", ::getpid());
}

/// Bytes of the files under `dir` whose name ends with `suffix`.
std::uint64_t bytes_under(const std::filesystem::path& dir, std::string_view suffix) {
  std::uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().string().ends_with(suffix)) total += e.file_size();
  }
  return total;
}

ResultLine run_ingest_e2e(const char* id, bool journaled) {
  feeds::SimulatorOptions opts;
  opts.symbols.clear();
  for (const std::string& s : symbol_names("SYM", kSymbols, 4)) {
    opts.symbols.push_back({s, "0.01", "0.0001", "100.00"});
  }
  opts.seed = 11;
  feeds::MarketSimulator sim(opts);
  const std::filesystem::path path = scratch_file();
  std::uint64_t bytes = 0;
  {
    std::ofstream out(path, std::ios::binary);
    std::string buf;
    buf.reserve(1 << 20);
    for (std::size_t i = 0; i < kEvents; ++i) {
      auto step = sim.next();
      feeds::append_ndjson(buf, opts.symbols[step.symbol].symbol, step.event,
                           sim.spec(step.symbol));
      if (buf.size() > (1 << 20) - 512) {
        out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        bytes += buf.size();
        buf.clear();
      }
    }
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    bytes += buf.size();
  }

  rt::Runtime runtime;
  services::ApplicationConfig cfg;
  for (const auto& s : opts.symbols) {
    cfg.symbols.push_back({s.symbol, *services::SymbolSpec::parse(s.tick_size, s.lot_size)});
  }
  bench::ScratchDir data("mdbench-i3j");
  if (journaled) {
    services::JournalConfig j;
    j.data_dir = data.path();
    j.writer.fsync = storage::FsyncPolicy::batch;
    cfg.journal = j;
  }
  auto app = services::Application::start(runtime, std::move(cfg));
  ResultLine line(id, journaled ? "ingest_e2e_journal_batch" : "ingest_e2e");
  if (journaled && data.path().empty()) return line.set_valid(false);
  if (!app) {
    std::fprintf(stderr, "I3: %s\n", app.error().c_str());
    return line.set_valid(false);
  }
  auto sink = std::make_shared<services::IngestSink>((*app)->ingest());
  if (journaled) {
    // Each new journal's first record (its spec) and the fsyncs that create
    // its file and directory are the start's cost, not ingest's: let them end.
    const storage::JournalWriter& writer = (*app)->context()->journals->writer;
    while (writer.stats().records < static_cast<std::uint64_t>(kSymbols)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  const auto t0 = Clock::now();
  auto replay = feeds::Replay::start(runtime, path.string(), sink, {.chunk_bytes = kChunkBytes});
  auto totals = replay
                    ? replay->wait(std::chrono::minutes(10))
                    : rt::Result<feeds::ReplayTotals, feeds::ReplayError>(rt::Err{replay.error()});
  // Every trade was cast to its feed handler before the book answered; a call
  // to each handler now is answered after those casts.
  std::uint64_t ticks = 0;
  for (const auto& s : opts.symbols) {
    auto feed = services::find_feed(*(*app)->context(), s.symbol);
    if (auto t = feed ? rt::call(feed->server, services::PriceFeedHandler::GetTicker{})
                      : rt::CallResult<services::PriceFeedHandler::Report>(
                            rt::Err{rt::CallError{rt::CallError::Code::noproc, {}}})) {
      ticks += t->ticker.tick_count;
    }
  }
  const double secs = elapsed_ms(t0, Clock::now()) / 1000;
  std::filesystem::remove(path);
  std::uint64_t synced = 0;
  if (journaled) synced = (*app)->context()->journals->writer.stats().syncs;
  (*app)->stop();
  if (journaled) {
    // What the journal holds, plain and compressed as closing each segment would.
    const std::uint64_t plain = bytes_under(data.path(), ".log");
    storage::FileOps ops;
    for (const auto& e : std::filesystem::recursive_directory_iterator(data.path())) {
      if (e.path().extension() == ".log") (void)storage::compress_segment(ops, e.path());
    }
    const std::uint64_t zst = bytes_under(data.path(), ".log.zst");
    line.add_decimal("journal_bytes_per_event", static_cast<double>(plain) / kEvents)
        .add_decimal("zstd_bytes_per_event", static_cast<double>(zst) / kEvents)
        .add("syncs", static_cast<std::int64_t>(synced));
  }

  const bool ok =
      totals.ok() && sink->accepted() == kEvents && sink->rejected() == 0 && ticks == sim.trades();
  if (!totals) std::fprintf(stderr, "I3: %s\n", totals.error().message.c_str());
  return line.add("events", static_cast<std::int64_t>(kEvents))
      .add("symbols", kSymbols)
      .add("bytes", static_cast<std::int64_t>(bytes))
      .add("trades", static_cast<std::int64_t>(ticks))
      .add("elapsed_ms", static_cast<std::int64_t>(secs * 1000))
      .add("events_per_s", static_cast<std::int64_t>(static_cast<double>(kEvents) / secs))
      .set_valid(ok);
}

}  // namespace

ResultLine run_i3_ingest_e2e() {
  return run_ingest_e2e("I3", false);
}
ResultLine run_i3j_ingest_e2e_journal() {
  return run_ingest_e2e("I3J", true);
}

}  // namespace mdbench
