// OrderBookServer's side of durability: appending records, rebuilding the
// book from its journal in init(), and refusing writes while the journal
// cannot take them (docs/decisions/023-journal-integration.md).

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "runtime/clock.hpp"
#include "services/order_book_server.hpp"
#include "storage/journal_reader.hpp"

namespace services {

namespace {

// How often a refusing server probes the journal (with its first record, which
// changes nothing when written again).
constexpr std::chrono::milliseconds kProbeInterval{1000};

// The first id of a new incarnation's block: past every id the journal's
// incarnations may have handed out, acknowledged or not.
std::uint64_t next_block_start(std::uint64_t next_id) {
  constexpr std::uint64_t block = OrderIdSeeds::kBlock;
  return (next_id - 1) / block * block + block + 1;
}

}  // namespace

std::optional<std::string> OrderBookServer::append(std::string payload,
                                                   storage::JournalWriter::OnDurable done) {
  storage::Status s = journals_->writer.append(info_->symbol, journal_seq_ + 1, std::move(payload),
                                               std::move(done));
  if (!s) return s.error().to_string();
  ++journal_seq_;
  return std::nullopt;
}

storage::JournalWriter::OnDurable OrderBookServer::report_failure() {
  return [self = ref()](const storage::Status& s) {
    if (!s) (void)rt::cast(self, JournalFailed{s.error().to_string()});
  };
}

OrderBookServer::Action OrderBookServer::handle_cast(const JournalFailed& f) {
  // The book holds a change its journal does not: start again from the journal.
  spdlog::error("book {}: a journal record failed ({}); restarting from the journal", info_->symbol,
                f.reason);
  return stop(rt::ExitReason::error("journal write failed: " + f.reason));
}

void OrderBookServer::start_refusing(std::string reason, std::string probe) {
  spdlog::warn("book {}: refusing changes until the journal writes again: {}", info_->symbol,
               reason);
  refusing_ = std::move(reason);
  probe_ = std::move(probe);
  rt::send_after(ref(), ProbeTick{}, kProbeInterval);
}

OrderBookServer::Action OrderBookServer::handle_info(const ProbeTick&) {
  if (!refusing_) return noreply();
  const std::uint64_t seq = journal_seq_ + 1;
  auto refused = append(probe_, [self = ref(), seq](const storage::Status& s) {
    (void)rt::cast(self, ProbeDone{seq, s.ok(), s.ok() ? "" : s.error().to_string()});
  });
  if (refused) {
    refusing_ = std::move(*refused);
    rt::send_after(ref(), ProbeTick{}, kProbeInterval);
  }
  return noreply();
}

OrderBookServer::Action OrderBookServer::handle_cast(const ProbeDone& p) {
  if (!refusing_) return noreply();
  if (p.durable) {
    spdlog::info("book {}: the journal writes again; taking changes", info_->symbol);
    refusing_.reset();
  } else {
    refusing_ = p.reason;
    rt::send_after(ref(), ProbeTick{}, kProbeInterval);
  }
  return noreply();
}

void OrderBookServer::maybe_snapshot() {
  const SnapshotPolicy& policy = journals_->snapshots;
  const std::uint64_t since = journal_seq_ - snapshot_seq_;
  if (since == 0 || refusing_) return;
  const std::int64_t now = rt::coarse_monotonic_ms();
  if (since < policy.every_records && now - last_snapshot_ms_ < policy.every.count()) return;
  // The state is the one after record journal_seq_: the writer writes it
  // once that record is durable, and not at all if it failed.
  snapshot_seq_ = journal_seq_;
  last_snapshot_ms_ = now;
  const std::string& symbol = info_->symbol;
  storage::JournalWriter& writer = journals_->writer;
  auto wrote = writer.snapshot(symbol, journal_seq_, encode(state_.snapshot()),
                               [symbol, seq = journal_seq_](const storage::Status& st) {
                                 if (!st) {
                                   spdlog::warn("book {}: snapshot at {} not written: {}", symbol,
                                                seq, st.error().to_string());
                                 }
                               });
  if (!wrote) {
    spdlog::warn("book {}: snapshot refused: {}", symbol, wrote.error().to_string());
    return;
  }
  if (policy.retention) {
    (void)writer.retain(symbol, *policy.retention,
                        [symbol](const storage::Result<storage::RetentionReport>& r) {
                          if (!r) {
                            spdlog::warn("book {}: retention: {}", symbol, r.error().to_string());
                          } else if (!r->deleted.empty()) {
                            spdlog::info("event=journal_retained symbol={} files={} bytes={}",
                                         symbol, r->deleted.size(), r->bytes_freed);
                          }
                        });
  }
}

std::optional<std::string> OrderBookServer::recover() {
  const std::string& symbol = info_->symbol;
  storage::JournalWriter& writer = journals_->writer;
  // What an earlier incarnation appended is answered (durable or cut off) first.
  if (storage::Status s = await_done([&](auto done) { return writer.flush(symbol, done); }); !s) {
    return s.error().to_string();
  }
  // The newest snapshot that loads, then the records after it.
  auto lookup = journals_->store.latest_snapshot(symbol);
  if (!lookup) return lookup.error().to_string();
  for (const std::string& skipped : lookup->skipped) {
    spdlog::warn("book {}: snapshot passed over: {}", symbol, skipped);
  }
  if (lookup->snapshot) {
    auto decoded = decode_book_snapshot(lookup->snapshot->bytes);
    std::optional<std::string> bad =
        decoded ? state_.restore(std::move(*decoded)) : std::optional<std::string>(decoded.error());
    if (bad) {
      // Its CRC passed, so a bug wrote it: say so, and rebuild from the records.
      const std::string what =
          fmt::format("snapshot {} refused: {}", lookup->snapshot->path.string(), *bad);
      spdlog::error("book {}: {}; replaying the whole journal", symbol, what);
      journals_->damage.report(symbol, what);
    } else {
      journal_seq_ = snapshot_seq_ = lookup->snapshot->seq;
    }
  }
  last_snapshot_ms_ = rt::coarse_monotonic_ms();
  auto reader = storage::JournalReader::open(journals_->store, symbol, journal_seq_ + 1);
  if (!reader) return reader.error().to_string();

  // Nothing replayed goes anywhere: no subscriber exists yet, and what the
  // feed handler and the metrics saw the first time is not told twice.
  const std::int64_t started_ms = rt::coarse_monotonic_ms();
  std::uint64_t records = 0;
  std::optional<storage::Corruption> damage;
  replaying_ = true;
  while (std::optional<storage::RecordView> rec = reader->next()) {
    auto decoded = journal::decode(rec->payload);
    std::optional<std::string> bad =
        decoded ? state_.apply(*decoded) : std::optional<std::string>(decoded.error());
    if (!bad && records == 0 && snapshot_seq_ == 0 &&
        !std::holds_alternative<journal::SpecRecord>(*decoded)) {
      bad = "the journal does not start with its spec";
    }
    flush();
    if (bad) {
      // A record that framed well but means nothing: damage like any other.
      storage::Corruption c;
      for (const storage::SegmentInfo& seg : reader->segments()) {
        if (seg.first_seq <= rec->seq) {
          c.segment = seg.path;
          c.first_seq = seg.first_seq;
        }
      }
      c.offset = rec->offset;
      c.last_good_seq = journal_seq_;
      c.reason = fmt::format("record {}: {}", rec->seq, *bad);
      damage = std::move(c);
      break;
    }
    journal_seq_ = rec->seq;
    ++records;
  }
  replaying_ = false;
  switch (reader->end().kind) {
    case storage::ReadEnd::Kind::io_error:
      return reader->end().error->to_string();
    case storage::ReadEnd::Kind::corrupt:
      if (!damage) damage = reader->end().corruption;
      break;
    default:
      break;
  }
  if (damage) {
    // The book is the state after the last good record; what follows moves
    // aside so appends continue after it, and /readyz says what happened.
    spdlog::error("book {}: journal damaged: {}; recovered up to record {}, the rest quarantined",
                  symbol, damage->to_string(), journal_seq_);
    if (storage::Status s =
            await_done([&](auto done) { return writer.quarantine(symbol, *damage, done); });
        !s) {
      return "quarantine: " + s.error().to_string();
    }
    journals_->damage.report(symbol, fmt::format("journal damaged ({}); recovered to record {}",
                                                 damage->to_string(), journal_seq_));
    to_feed(PriceFeedHandler::JournalDamaged{});  // else its init sees the report
  }

  // A new journal starts with what it is of; a recovered book's incarnation
  // numbers from a block of its own, so ids the last one handed out after
  // its last durable record are never reused either. While the journal
  // does not write, that record is what probes it.
  std::string first_record;
  if (journal_seq_ == 0) {
    first_record = journal::encode(journal::SpecRecord{info_->spec, book_.next_order_id().value()});
  } else {
    const std::uint64_t next = next_block_start(book_.next_order_id().value());
    state_.skip_order_ids_to(next);
    first_record = journal::encode(journal::IdsRecord{next});
    spdlog::info(
        "event=book_recovered symbol={} records={} seq={} orders={} next_order_id={} took_ms={}",
        symbol, records, book_.seq(), book_.order_count(), next,
        rt::coarse_monotonic_ms() - started_ms);
  }
  if (const storage::Health h = writer.health(); !h.healthy) {
    start_refusing(h.reason, std::move(first_record));
  } else if (auto refused = append(std::move(first_record), report_failure())) {
    return "its first record was refused: " + *refused;
  }
  return std::nullopt;
}

}  // namespace services
