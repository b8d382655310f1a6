#include "services/book_history.hpp"

#include <fmt/format.h>

#include <limits>

#include "storage/journal_reader.hpp"

namespace services {

namespace {

rt::Err<PastError> past_error(PastError::Code code, std::string message) {
  return rt::Err{PastError{code, std::move(message)}};
}

// A journal record's content; damaged when its bytes mean nothing.
rt::Result<journal::Record, PastError> decode(const storage::RecordView& rec) {
  auto decoded = journal::decode(rec.payload);
  if (!decoded) {
    return past_error(PastError::Code::damaged,
                      fmt::format("record {}: {}", rec.seq, decoded.error()));
  }
  return std::move(*decoded);
}

// Applies a record as it was first applied; damaged when it cannot be.
std::optional<PastError> apply(BookState& state, const journal::Record& r, std::uint64_t seq) {
  if (std::optional<std::string> bad = state.apply(r)) {
    return PastError{PastError::Code::damaged, fmt::format("record {}: {}", seq, *bad)};
  }
  return std::nullopt;
}

// Why a read that ended before its caller stopped it cannot be trusted, if it cannot.
std::optional<PastError> read_failure(const storage::ReadEnd& end, std::string_view symbol,
                                      std::string_view where) {
  if (end.kind == storage::ReadEnd::Kind::io_error && end.error) {
    return PastError{PastError::Code::io_error, end.error->to_string()};
  }
  if (end.kind == storage::ReadEnd::Kind::corrupt && end.corruption) {
    return PastError{PastError::Code::damaged,
                     fmt::format("the journal of {} is damaged{}: {}", symbol, where,
                                 end.corruption->to_string())};
  }
  return std::nullopt;
}

// The newest snapshot taken at or before `t_ns` that loads into `state`, and
// its seq; 0 (and `state` untouched) when there is none.
std::uint64_t start_from_snapshot(const storage::Store& store, std::string_view symbol,
                                  std::int64_t t_ns, BookState& state) {
  auto listed = store.snapshots(symbol);
  if (!listed) return 0;
  for (auto it = listed->rbegin(); it != listed->rend(); ++it) {
    // Deleted since the listing, unreadable or damaged: recovery reports it;
    // here it only costs replay time from an older one.
    auto bytes = storage::read_snapshot(*it);
    if (!bytes) continue;
    const std::optional<std::int64_t> taken = snapshot_record_time(*bytes);
    if (!taken || *taken == 0 || *taken > t_ns) continue;
    auto decoded = decode_book_snapshot(*bytes);
    if (!decoded || state.restore(std::move(*decoded))) continue;
    return it->seq;
  }
  return 0;
}

}  // namespace

rt::Result<Depth, PastError> depth_at(const storage::Store& store, std::string_view symbol,
                                      const SymbolSpec& spec, std::int64_t t_ns, std::size_t levels,
                                      std::int64_t now_ns) {
  using Code = PastError::Code;
  if (t_ns > now_ns) return past_error(Code::out_of_range, "at: T is in the future");
  BookState state(spec, 1);
  const std::uint64_t snapshot_seq = start_from_snapshot(store, symbol, t_ns, state);
  auto reader = storage::JournalReader::open(store, symbol, snapshot_seq + 1);
  if (!reader) return past_error(Code::io_error, reader.error().to_string());

  bool applied_timed = snapshot_seq != 0;  // some state from at or before T
  bool reached_after_t = false;
  std::uint64_t expected = snapshot_seq + 1;
  while (std::optional<storage::RecordView> rec = reader->next()) {
    if (rec->seq != expected) {
      // Retention deleted the records between the start (or the snapshot) and here.
      return past_error(Code::out_of_range,
                        fmt::format("at: T is before the oldest retained state of {}", symbol));
    }
    ++expected;
    auto decoded = decode(*rec);
    if (!decoded) return rt::Err{decoded.error()};
    if (const std::optional<std::int64_t> at = journal::received_ns(*decoded)) {
      if (*at > t_ns) {
        reached_after_t = true;
        break;
      }
      applied_timed = true;
    }
    if (std::optional<PastError> bad = apply(state, *decoded, rec->seq)) return rt::Err{*bad};
    (void)state.take_effects();  // nobody to tell: keep them from piling up
  }
  if (!reached_after_t) {
    if (std::optional<PastError> bad = read_failure(reader->end(), symbol, " before T")) {
      return rt::Err{*bad};
    }
  }
  if (!applied_timed) {
    return past_error(Code::out_of_range,
                      fmt::format("at: T is before the first recorded change of {}", symbol));
  }
  return state.depth(levels);
}

rt::Result<std::vector<Candle>, PastError> candles_from_journal(
    const storage::Store& store, std::string_view symbol, const SymbolSpec& spec,
    CandleInterval interval, std::int64_t from_ns, std::int64_t to_ns, std::size_t limit) {
  using Code = PastError::Code;
  BookState state(spec, 1);
  CandleSeries all(interval, std::numeric_limits<std::size_t>::max());
  std::uint64_t start_seq = 0;
  auto segments = store.segments(symbol);
  if (!segments) return past_error(Code::io_error, segments.error().to_string());
  if (!segments->empty() && segments->front().first_seq != 1) {
    // The start was retained away: the oldest snapshot that loads, and its ring.
    auto listed = store.snapshots(symbol);
    if (!listed) return past_error(Code::io_error, listed.error().to_string());
    for (const storage::SnapshotInfo& info : *listed) {
      auto bytes = storage::read_snapshot(info);
      if (!bytes) continue;
      auto decoded = decode_book_snapshot(*bytes);
      if (!decoded) continue;
      const CandleSeries kept = decoded->candles.series(interval);
      if (state.restore(std::move(*decoded))) continue;
      (void)all.restore(kept.candles(), kept.watermark(), kept.late());
      start_seq = info.seq;
      break;
    }
  }
  auto reader = storage::JournalReader::open(store, symbol, start_seq + 1);
  if (!reader) return past_error(Code::io_error, reader.error().to_string());
  while (std::optional<storage::RecordView> rec = reader->next()) {
    auto decoded = decode(*rec);
    if (!decoded) return rt::Err{decoded.error()};
    if (std::optional<PastError> bad = apply(state, *decoded, rec->seq)) return rt::Err{*bad};
    for (const Tick& t : state.take_effects().ticks) (void)all.add(t.price, t.size, t.ts_ns);
  }
  if (std::optional<PastError> bad = read_failure(reader->end(), symbol, "")) {
    return rt::Err{*bad};
  }
  return all.range(from_ns, to_ns, limit);
}

BookHistory::BookHistory(std::size_t max_running) : max_running_(max_running) {}

BookHistory::~BookHistory() {
  pool_.join();  // the queries running finish; their callers hold their own results
}

BookHistory::Slot::~Slot() {
  if (history_ != nullptr) history_->running_.fetch_sub(1, std::memory_order_acq_rel);
}

std::optional<BookHistory::Slot> BookHistory::try_begin() {
  std::size_t n = running_.load(std::memory_order_relaxed);
  do {
    if (n >= max_running_) return std::nullopt;
  } while (!running_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
  return Slot(this);
}

}  // namespace services
