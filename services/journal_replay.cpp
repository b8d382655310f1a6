#include "services/journal_replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>
#include <utility>

#include "runtime/thread_name.hpp"
#include "services/application.hpp"
#include "services/journal_record.hpp"
#include "services/order_book_server.hpp"
#include "storage/journal_reader.hpp"
#include "storage/store.hpp"

namespace services {

namespace {

// A symbol's records, one decoded ahead.
struct Cursor {
  std::string symbol;
  std::optional<storage::JournalReader> reader;  // dropped at the end: its segment image goes
  std::optional<journal::Record> next;
  std::optional<SymbolSpec> spec;  // from its spec record, once replayed
  std::string stopped;             // why it ended early; empty if it read to the end
};

// When the recording marketd received a record. A spec comes first (it is
// its journal's first record); an ids jump has no time and goes at once.
std::int64_t received_at(const journal::Record& r) {
  return journal::received_ns(r).value_or(std::numeric_limits<std::int64_t>::min());
}

// Decodes the cursor's next record; on the journal's end (or damage) leaves next empty.
void advance(Cursor& c) {
  c.next.reset();
  if (!c.stopped.empty()) c.reader.reset();
  if (!c.reader) return;
  std::optional<storage::RecordView> rec = c.reader->next();
  if (!rec) {
    const storage::ReadEnd& end = c.reader->end();
    if (end.kind == storage::ReadEnd::Kind::corrupt && end.corruption) {
      c.stopped = fmt::format("damaged journal at {} offset {}", end.corruption->segment.string(),
                              end.corruption->offset);
    } else if (end.kind == storage::ReadEnd::Kind::io_error && end.error) {
      c.stopped = end.error->to_string();
    }
    c.reader.reset();  // clean, or a torn tail: everything acknowledged was read
    return;
  }
  auto decoded = journal::decode(rec->payload);
  if (!decoded) {
    c.stopped = fmt::format("record {}: {}", rec->seq, decoded.error());
    c.reader.reset();
    return;
  }
  // Records name prices in the recording's ticks and lots, and a book is the
  // sum of all its records: a journal whose start retention deleted (it
  // begins after a snapshot) cannot be replayed onto a fresh book.
  if (!c.spec && !std::holds_alternative<journal::SpecRecord>(*decoded)) {
    c.stopped = fmt::format(
        "its journal starts at record {}, after a snapshot (--retain deleted its start): "
        "a replay needs the whole journal",
        rec->seq);
    c.reader.reset();
    return;
  }
  c.next = std::move(*decoded);
}

}  // namespace

struct JournalReplay::State {
  Application& app;
  JournalReplayOptions options;
  std::vector<Cursor> cursors;

  mutable std::mutex m;
  mutable std::condition_variable cv;
  JournalReplayTotals totals;
  bool finished = false;
  bool cancelled = false;
  bool ended_by_cancel = false;  // cancelled before the last record
  std::thread thread;

  State(Application& a, JournalReplayOptions o, std::vector<Cursor> c)
      : app(a), options(o), cursors(std::move(c)) {}

  // False once cancelled.
  bool pace(std::chrono::steady_clock::time_point until) {
    std::unique_lock lk(m);
    cv.wait_until(lk, until, [this] { return cancelled; });
    return !cancelled;
  }

  void stop_symbol(Cursor& c, std::string why) {
    c.stopped = std::move(why);
    c.next.reset();
    c.reader.reset();
  }

  void apply(Cursor& c, journal::Record& record) {
    if (auto* spec = std::get_if<journal::SpecRecord>(&record)) {
      auto made = app.ensure_symbol(c.symbol, spec->spec);
      if (!made) {
        stop_symbol(c, "cannot create it here: " + made.error().detail);
      } else {
        c.spec = spec->spec;
      }
      return;
    }
    auto* events = std::get_if<journal::EventsRecord>(&record);
    if (events == nullptr) {
      std::lock_guard lk(m);
      ++totals.api_records;
      return;
    }
    std::optional<BookHandle> book = find_book(*app.context(), c.symbol);
    if (!book) {
      // Restarting, or deleted here meanwhile: the directory answers once it
      // is up again (or creates it anew, with the recorded spec).
      auto ensured = app.ensure_symbol(c.symbol, *c.spec);
      if (!ensured) return stop_symbol(c, "its book here is gone: " + ensured.error().detail);
      book = find_book(*app.context(), c.symbol);
    }
    if (!book || book->info->spec != *c.spec) {
      return stop_symbol(c, "its book here is gone or has another spec now");
    }
    const std::size_t n = events->events.size();
    auto failures = rt::call(
        book->server, OrderBookServer::ApplyReport{std::move(events->events), wall_clock_ns()});
    std::lock_guard lk(m);
    ++totals.batches;
    totals.events += n;
    totals.rejected += failures ? failures->size() : n;
  }

  void run() {
    rt::name_this_thread("md-replay");
    // The symbols' next records, earliest receipt first (ties: by symbol, for a stable order).
    using Entry = std::pair<std::int64_t, std::size_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
    for (std::size_t i = 0; i < cursors.size(); ++i) {
      advance(cursors[i]);
      if (cursors[i].next) heap.emplace(received_at(*cursors[i].next), i);
    }
    std::optional<std::pair<std::int64_t, std::chrono::steady_clock::time_point>> anchor;
    while (!heap.empty()) {
      const auto [at, i] = heap.top();
      heap.pop();
      Cursor& c = cursors[i];
      if (options.paced && std::holds_alternative<journal::EventsRecord>(*c.next)) {
        if (!anchor) anchor.emplace(at, std::chrono::steady_clock::now());
        if (!pace(anchor->second +
                  std::chrono::nanoseconds(std::max<std::int64_t>(0, at - anchor->first)))) {
          break;
        }
      }
      {
        std::lock_guard lk(m);
        if (cancelled) break;
      }
      apply(c, *c.next);
      advance(c);
      if (c.next) heap.emplace(received_at(*c.next), i);
    }
    JournalReplayTotals final_totals;
    {
      std::lock_guard lk(m);
      for (const Cursor& c : cursors) {
        if (!c.stopped.empty()) totals.stopped_symbols.push_back(c.symbol + ": " + c.stopped);
      }
      final_totals = totals;
      ended_by_cancel = cancelled;
    }
    if (!ended_by_cancel && options.on_done) options.on_done(final_totals);
    std::lock_guard lk(m);
    finished = true;
    cv.notify_all();
  }
};

JournalReplay::JournalReplay(Token, std::unique_ptr<State> state) : state_(std::move(state)) {}

rt::Result<std::unique_ptr<JournalReplay>, std::string> JournalReplay::start(
    Application& app, std::filesystem::path dir, std::vector<std::string> symbols,
    JournalReplayOptions options) {
  std::error_code ec;
  if (const auto& own = app.config().journal;
      own && std::filesystem::equivalent(dir, own->data_dir, ec)) {
    return rt::Err{fmt::format("{} is this marketd's own data directory", dir.string())};
  }
  auto store = storage::Store::open_for_reading(dir);
  if (!store) return rt::Err{store.error().to_string()};
  const bool named = !symbols.empty();
  if (!named) {
    auto all = store->symbols();
    if (!all) return rt::Err{all.error().to_string()};
    symbols = std::move(*all);
  }
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  std::vector<Cursor> cursors;
  cursors.reserve(symbols.size());
  for (std::string& symbol : symbols) {
    auto reader = storage::JournalReader::open(*store, symbol);
    if (!reader) return rt::Err{reader.error().to_string()};
    if (reader->segments().empty()) {
      // A listed directory without a segment yet (a writer creating it): nothing to replay.
      if (!named) continue;
      return rt::Err{fmt::format("no journal for {} in {}", symbol, dir.string())};
    }
    cursors.push_back(Cursor{.symbol = std::move(symbol), .reader = std::move(*reader)});
  }
  auto state = std::make_unique<State>(app, options, std::move(cursors));
  State* s = state.get();
  state->thread = std::thread([s] { s->run(); });
  return std::make_unique<JournalReplay>(Token{}, std::move(state));
}

JournalReplay::~JournalReplay() {
  cancel();
  if (state_->thread.joinable()) state_->thread.join();
}

rt::Result<JournalReplayTotals, std::string> JournalReplay::wait(
    std::chrono::milliseconds timeout) const {
  std::unique_lock lk(state_->m);
  if (!state_->cv.wait_for(lk, timeout, [this] { return state_->finished; })) {
    return rt::Err{std::string("timeout")};
  }
  if (state_->ended_by_cancel) return rt::Err{std::string("cancelled")};
  return state_->totals;
}

bool JournalReplay::done() const {
  std::lock_guard lk(state_->m);
  return state_->finished;
}

JournalReplayTotals JournalReplay::progress() const {
  std::lock_guard lk(state_->m);
  return state_->totals;
}

void JournalReplay::cancel() {
  std::lock_guard lk(state_->m);
  state_->cancelled = true;
  state_->cv.notify_all();
}

}  // namespace services
