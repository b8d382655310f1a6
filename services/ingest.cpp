#include "services/ingest.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "feeds/symbol.hpp"

namespace services {

struct Ingest::Routed {
  struct PerSymbol {
    BookHandle book;
    std::vector<feeds::Event> events;
    std::vector<std::size_t> lines;  // physical line of each event
  };
  std::vector<PerSymbol> symbols;
  std::size_t events = 0;
};

Ingest::Ingest(ContextPtr ctx, DirectoryLookup directory, SymbolSpec default_spec)
    : ctx_(std::move(ctx)), directory_(std::move(directory)), default_spec_(default_spec) {}

namespace {

bool by_line(const feeds::LineError& a, const feeds::LineError& b) {
  return a.line < b.line;
}

}  // namespace

void Ingest::reject(IngestReport& report, feeds::LineError e) const {
  ++report.rejected;
  ctx_->metrics->ingest_rejects(feeds::to_string(e.code)).Increment();
  // Keep the kMaxErrors first lines: a max-heap, whose top is the one to drop.
  auto& heap = report.errors;
  if (heap.size() < IngestReport::kMaxErrors) {
    heap.push_back(std::move(e));
    std::push_heap(heap.begin(), heap.end(), by_line);
  } else if (e.line < heap.front().line) {
    std::pop_heap(heap.begin(), heap.end(), by_line);
    heap.back() = std::move(e);
    std::push_heap(heap.begin(), heap.end(), by_line);
  }
}

rt::Result<BookHandle, feeds::FieldError> Ingest::book_for(std::string_view symbol,
                                                           feeds::EventType first) const {
  auto unavailable = [symbol](std::string why) {
    return rt::Err{
        feeds::FieldError{feeds::EventError::invalid_symbol,
                          fmt::format("symbol: '{}' is not available ({})", symbol, why)}};
  };
  if (auto found = find_book(*ctx_, symbol)) return std::move(*found);
  if (!feeds::is_valid_symbol(symbol)) return unavailable("not a valid symbol");
  auto directory = directory_();
  if (!directory) return unavailable("the directory is restarting");
  SymbolSpec spec = default_spec_;
  spec.mode = first == feeds::EventType::level ? ob::Mode::l2 : ob::Mode::mirror;
  auto ensured =
      rt::call(*directory, SymbolDirectory::Ensure{std::string(symbol), spec, /*adopt=*/true},
               rt::kSupervisorCallTimeout);
  if (!ensured) return unavailable(ensured.error().to_string());
  if (!*ensured) {
    const DirectoryError& e = ensured->error();
    if (e.code == DirectoryError::Code::limit_exceeded) {
      return rt::Err{
          feeds::FieldError{feeds::EventError::limit_exceeded,
                            fmt::format("symbol: a new symbol would pass {}", e.detail)}};
    }
    return unavailable(e.detail);
  }
  if (auto found = find_book(*ctx_, symbol)) return std::move(*found);
  return unavailable("its book is restarting");
}

Ingest::Routed Ingest::route(const feeds::ParsedBatch& batch, IngestReport& report,
                             std::optional<feeds::FieldError>& full) const {
  Routed routed;
  // Views into the batch: a symbol's slot in routed.symbols, or why it has none.
  std::unordered_map<std::string_view, rt::Result<std::size_t, feeds::FieldError>> by_symbol;
  const auto& events = batch.events();
  for (std::size_t i = 0; i < events.size(); ++i) {
    const feeds::ParsedEvent& p = events[i];
    const std::size_t line = batch.lines()[i];
    auto it = by_symbol.find(p.symbol);
    if (it == by_symbol.end()) {
      // Once the directory is full, a flood of new symbols costs it nothing more.
      auto book = full && !find_book(*ctx_, p.symbol)
                      ? rt::Result<BookHandle, feeds::FieldError>(rt::Err{*full})
                      : book_for(p.symbol, p.type);
      if (!book && book.error().code == feeds::EventError::limit_exceeded && !full) {
        full = book.error();
      }
      rt::Result<std::size_t, feeds::FieldError> slot =
          book ? rt::Result<std::size_t, feeds::FieldError>(routed.symbols.size())
               : rt::Result<std::size_t, feeds::FieldError>(rt::Err{std::move(book.error())});
      if (book) routed.symbols.push_back({std::move(*book), {}, {}});
      it = by_symbol.emplace(p.symbol, std::move(slot)).first;
    }
    if (!it->second) {
      reject(report, {line, it->second.error().code, it->second.error().message});
      continue;
    }
    Routed::PerSymbol& dest = routed.symbols[*it->second];
    auto event = feeds::resolve(p, dest.book.info->spec.book);
    if (!event) {
      reject(report, {line, event.error().code, event.error().message});
      continue;
    }
    dest.events.push_back(std::move(*event));
    dest.lines.push_back(line);
    ++routed.events;
  }
  for (const feeds::LineError& e : batch.errors()) reject(report, e);
  // Lines the parser only counted come after every listed one: counted, not listed.
  const auto& unlisted = batch.unlisted_errors();
  for (std::size_t c = 0; c < unlisted.size(); ++c) {
    if (unlisted[c] == 0) continue;
    report.rejected += unlisted[c];
    ctx_->metrics->ingest_rejects(feeds::to_string(feeds::kEventErrors[c]))
        .Increment(static_cast<double>(unlisted[c]));
  }
  return routed;
}

namespace {

// Errors are gathered per symbol into a heap of the first ones; listed by line.
void finish(IngestReport& report) {
  std::sort_heap(report.errors.begin(), report.errors.end(), by_line);
}

}  // namespace

IngestReport Ingest::apply(const feeds::ParsedBatch& batch) const {
  std::optional<feeds::FieldError> full;
  return apply(batch, full);
}

IngestReport Ingest::apply_front(feeds::ParsedBatch& rest, NewSymbolBudget& budget) const {
  // Count the new symbols the router will ask the directory for, in the order
  // it will: an invalid name, or any once the directory is full, costs nothing.
  const auto& events = rest.events();
  std::unordered_set<std::string_view> seen;
  std::size_t n = 0;
  for (; n < events.size(); ++n) {
    const std::string_view symbol = events[n].symbol;
    if (!seen.insert(symbol).second || budget.full || !feeds::is_valid_symbol(symbol) ||
        find_book(*ctx_, symbol)) {
      continue;
    }
    if (budget.left == 0) break;
    --budget.left;
  }
  const feeds::ParsedBatch front = rest.split_front(n);
  return apply(front, budget.full);
}

IngestReport Ingest::apply(const feeds::ParsedBatch& batch,
                           std::optional<feeds::FieldError>& full) const {
  return collect(dispatch(batch, full));
}

Ingest::InFlight Ingest::dispatch(const feeds::ParsedBatch& batch) const {
  std::optional<feeds::FieldError> full;
  return dispatch(batch, full);
}

Ingest::InFlight Ingest::dispatch(const feeds::ParsedBatch& batch,
                                  std::optional<feeds::FieldError>& full) const {
  InFlight f;
  auto routed = std::make_shared<Routed>(route(batch, f.report, full));
  const std::int64_t receipt = wall_clock_ns();
  // Every book works on its share at once; collect() gathers the verdicts.
  f.verdicts.reserve(routed->symbols.size());
  for (Routed::PerSymbol& s : routed->symbols) {
    f.verdicts.push_back(rt::send_request(
        s.book.server, OrderBookServer::ApplyReport{std::move(s.events), receipt}));
  }
  f.report.accepted = routed->events;
  f.routed = std::move(routed);
  return f;
}

IngestReport Ingest::collect(InFlight&& batch) const {
  IngestReport report = std::move(batch.report);
  const auto& routed = *static_cast<const Routed*>(batch.routed.get());
  for (std::size_t k = 0; k < batch.verdicts.size(); ++k) {
    const Routed::PerSymbol& s = routed.symbols[k];
    auto failures = batch.verdicts[k].wait();
    if (!failures) {
      // The book died or did not answer: its whole share is unaccounted for.
      for (std::size_t line : s.lines) {
        --report.accepted;
        reject(report, {line, feeds::EventError::invalid_symbol,
                        fmt::format("symbol: '{}' is unavailable ({})", s.book.info->symbol,
                                    failures.error().to_string())});
      }
      continue;
    }
    for (EventFailure& f : *failures) {
      --report.accepted;
      reject(report, {s.lines[f.index], f.code, std::move(f.message)});
    }
  }
  finish(report);
  return report;
}

IngestReport Ingest::submit(const feeds::ParsedBatch& batch) const {
  IngestReport report;
  std::optional<feeds::FieldError> full;
  Routed routed = route(batch, report, full);
  const std::int64_t receipt = wall_clock_ns();
  for (Routed::PerSymbol& s : routed.symbols) {
    rt::cast(s.book.server, OrderBookServer::Apply{std::move(s.events), receipt});
  }
  report.accepted = routed.events;
  finish(report);
  return report;
}

IngestServer::Action IngestServer::init() {
  // The supervisor's shutdown then queues behind the slice being applied
  // instead of unwinding its waits for the books halfway (terminate below).
  trap_exit(true);
  return ok();
}

IngestServer::CallAction<IngestReport> IngestServer::handle_call(Apply a,
                                                                 From<IngestReport>& from) {
  jobs_.push_back(Job{.body = std::move(a.body), .from = from});
  if (jobs_.size() == 1) run_slice();  // else the job in progress yields to it in turn
  return noreply();
}

IngestServer::Action IngestServer::handle_info(const NextSlice&) {
  run_slice();
  return noreply();
}

void IngestServer::yield() {
  // The turn ends here and the next slice waits behind every process made
  // ready meanwhile (a GET /top waiting for this worker). Through the timer:
  // its delivery ignores the mailbox bound, which a flood of bodies may fill.
  rt::send_after(ref(), NextSlice{}, std::chrono::milliseconds(0));
  rt::yield();
}

void IngestServer::run_slice() {
  if (jobs_.empty()) return;
  Job& job = jobs_.front();
  in_slice_ = true;  // until the part is applied and counted (a throw leaves it set)
  if (!job.rest) {
    // Whole lines: up to the last newline within the slice (a longer line whole).
    std::size_t end = std::min(job.body.size(), job.pos + kSliceBytes);
    if (end < job.body.size()) {
      std::size_t nl = job.body.rfind('\n', end - 1);
      if (nl == std::string::npos || nl < job.pos) nl = job.body.find('\n', end);
      end = nl == std::string::npos ? job.body.size() : nl + 1;
    }
    std::string slice;
    slice.reserve(end - job.pos + feeds::kNdjsonPadding);
    slice.assign(job.body, job.pos, end - job.pos);
    job.pos = end;
    // Listing more parse errors than the report keeps would only cost memory.
    const std::size_t room =
        IngestReport::kMaxErrors - std::min(IngestReport::kMaxErrors, job.report.errors.size());
    job.rest = parser_.parse(std::move(slice), job.line, room);
  }
  job.budget.left = kNewSymbolsPerTurn;
  IngestReport part = ingest_.apply_front(*job.rest, job.budget);
  job.line = job.rest->first_line();  // every line before it was judged
  if (job.rest->empty()) job.rest.reset();
  job.report.accepted += part.accepted;
  job.report.rejected += part.rejected;
  for (feeds::LineError& e : part.errors) {  // slices come in line order
    if (job.report.errors.size() == IngestReport::kMaxErrors) break;
    job.report.errors.push_back(std::move(e));
  }
  in_slice_ = false;
  if (job.rest || job.pos < job.body.size()) return yield();
  job.from.reply(std::move(job.report));
  jobs_.pop_front();
  if (!jobs_.empty()) yield();
}

void IngestServer::terminate(const rt::ExitReason& reason) {
  // Between two slices each job's report and next line are exact: everything
  // before `line` was judged, nothing from it on was applied. A crash within
  // a slice leaves the front job's caller to the exit (`exited`): unknown.
  const std::string_view why = reason.is_normal() ? "shutting down" : "the ingest process failed";
  std::size_t answered = 0;
  for (std::size_t k = in_slice_ ? 1 : 0; k < jobs_.size(); ++k) {
    Job& job = jobs_[k];
    IngestReport& r = job.report;
    r.not_applied_from = job.line;
    // At most kMaxErrors records: this one matters more than the last reject's.
    if (r.errors.size() == IngestReport::kMaxErrors) r.errors.pop_back();
    r.errors.push_back({job.line, feeds::EventError::unavailable,
                        fmt::format("{}: lines {}.. were not applied", why, job.line)});
    if (job.from.reply(std::move(r))) ++answered;
  }
  if (!jobs_.empty()) {
    spdlog::warn("event=ingest_stopped reason={} bodies={} answered_with_partial_report={}",
                 reason.to_string(), jobs_.size(), answered);
  }
  jobs_.clear();
}

void IngestSink::submit(feeds::ParsedBatch&& batch) {
  Ingest::InFlight next = ingest_.dispatch(batch);
  if (in_flight_) count(ingest_.collect(std::move(*in_flight_)));
  in_flight_ = std::move(next);
}

void IngestSink::finish() {
  if (!in_flight_) return;
  count(ingest_.collect(std::move(*in_flight_)));
  in_flight_.reset();
}

void IngestSink::count(const IngestReport& r) {
  accepted_.fetch_add(r.accepted, std::memory_order_relaxed);
  rejected_.fetch_add(r.rejected, std::memory_order_relaxed);
}

}  // namespace services
