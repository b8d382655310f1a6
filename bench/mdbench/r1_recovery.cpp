// R1 recovery (issue 16): how long a restarted marketd takes to bring back a
// symbol with 1,000,000 resting orders and 10,000,000 journaled events. One
// mirror book is fed 5,500,000 adds and 4,500,000 cancels (never crossing:
// bids below 100.00, asks above, 2,000 levels a side), 10,000 events per record,
// journaled with `--fsync never` (setting up is not what is measured) and a
// snapshot every 100 records (1,000,000 events). Then the application stops
// and a new one starts on the same data directory: timed from the start
// until the book answers, which is after its init loaded the newest snapshot
// and replayed the records after it. Valid when the recovered book's
// canonical dump equals the one before the stop, byte for byte (but for the
// next order id: a new incarnation takes a new block).

#include <filesystem>
#include <string>

#include "bench/common/scratch_dir.hpp"
#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/workloads.hpp"
#include "orderbook/decimal.hpp"
#include "services/application.hpp"
#include "services/book_snapshot.hpp"
#include "services/order_book_server.hpp"

namespace mdbench {
namespace {

constexpr std::size_t kEvents = 10'000'000;
constexpr std::size_t kResting = 1'000'000;
constexpr std::size_t kPerRecord = 10'000;
constexpr const char* kSymbol = "RECOVER-USD";

services::ApplicationConfig config(const std::filesystem::path& dir) {
  services::ApplicationConfig cfg;
  cfg.limits.max_orders_per_book = 2 * kEvents;
  cfg.symbols.push_back(
      {kSymbol, *services::SymbolSpec::parse("0.01", "0.0001", ob::Mode::mirror)});
  services::JournalConfig j;
  j.data_dir = dir;
  j.writer.fsync = storage::FsyncPolicy::never;
  j.snapshots.every_records = kEvents / kPerRecord / 10;
  j.snapshots.every = std::chrono::hours(1);
  cfg.journal = j;
  return cfg;
}

// The i-th event: adds until enough rest, then cancels of the oldest
// interleaved with adds so that kResting rest at the end.
feeds::Event event(std::size_t i, const services::SymbolSpec& spec) {
  feeds::Event e;
  const bool add = i < kResting || (i - kResting) % 2 == 0;
  const std::size_t n = add ? (i < kResting ? i : kResting + (i - kResting) / 2)
                            : (i - kResting) / 2;  // the n-th add is cancelled
  e.type = add ? feeds::EventType::add : feeds::EventType::cancel;
  e.order_id = std::to_string(n);
  e.side = n % 2 == 0 ? ob::Side::buy : ob::Side::sell;
  if (add) {
    // 2,000 price levels a side: bids 80.00-99.99, asks 100.01-120.00.
    const std::size_t level = (n * 7919) % 2000;
    const std::size_t cents = e.side == ob::Side::buy ? 9999 - level : 10001 + level;
    const std::string price = fmt::format("{}.{:02}", cents / 100, cents % 100);
    e.price = *ob::parse_price(price, spec.book);
    e.qty = *ob::parse_qty("1", spec.book);
  }
  return e;
}

std::string dump(services::Application& app) {
  auto book = services::find_book(*app.context(), kSymbol);
  if (!book) return {};
  auto d = rt::call(book->server, services::OrderBookServer::Dump{}, std::chrono::minutes(1));
  if (!d) return {};
  // A new incarnation numbers its orders from a new block: all else is equal.
  auto s = services::decode_book_snapshot(*d);
  if (!s) return {};
  s->book.next_id = 0;
  return services::encode(*s);
}

}  // namespace

ResultLine run_r1_recovery() {
  ResultLine line("R1", "recovery_1m_resting_10m_events");
  const bench::ScratchDir scratch("mdbench-r1");
  const std::filesystem::path& dir = scratch.path();
  if (dir.empty()) return line.set_valid(false);
  rt::Runtime runtime;

  std::string before;
  std::uint64_t journal_bytes = 0;
  {
    auto app = services::Application::start(runtime, config(dir));
    if (!app) return line.set_valid(false);
    auto book = services::find_book(*(*app)->context(), kSymbol);
    const services::SymbolSpec spec = book->info->spec;
    bool ok = true;
    for (std::size_t i = 0; i < kEvents && ok; i += kPerRecord) {
      std::vector<feeds::Event> batch;
      batch.reserve(kPerRecord);
      for (std::size_t k = i; k < i + kPerRecord; ++k) batch.push_back(event(k, spec));
      auto failures =
          rt::call(book->server, services::OrderBookServer::ApplyReport{std::move(batch), 1},
                   std::chrono::minutes(1));
      ok = failures && failures->empty();
    }
    if (!ok) return line.set_valid(false);
    before = dump(**app);
    (*app)->stop();
  }
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) journal_bytes += e.file_size();
  }

  const auto t0 = Clock::now();
  auto app = services::Application::start(runtime, config(dir));
  if (!app) return line.set_valid(false);
  auto book = services::find_book(*(*app)->context(), kSymbol);
  const bool answers = book && rt::call(book->server, services::OrderBookServer::GetTop{}).ok();
  const double ms = elapsed_ms(t0, Clock::now());
  const std::string after = dump(**app);
  (*app)->stop();
  return line.add("events", static_cast<std::int64_t>(kEvents))
      .add("resting", static_cast<std::int64_t>(kResting))
      .add("journal_mb", static_cast<std::int64_t>(journal_bytes >> 20))
      .add_decimal("recovery_ms", ms)
      .set_valid(answers && !before.empty() && before == after);
}

}  // namespace mdbench
