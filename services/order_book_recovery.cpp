// OrderBookServer's side of durability: appending records, rebuilding the
// book from its journal in init(), and refusing writes while the journal
// cannot take them (docs/decisions/023-journal-integration.md).

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

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

BookSnapshot OrderBookServer::snapshot() const {
  BookSnapshot s;
  s.spec = info_->spec;
  s.book = book_.image();
  s.api_orders.reserve(api_orders_.size());
  for (const auto& [id, o] : api_orders_) {
    s.api_orders.push_back({id, o.owner, o.client_order_id, o.type, o.tif, o.qty});
  }
  std::sort(s.api_orders.begin(), s.api_orders.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  s.client_orders.reserve(client_order_age_.size());
  for (const std::string& key : client_order_age_) {
    const ClientOrder& c = client_orders_.at(key);
    s.client_orders.push_back({c.fields, c.last});
  }
  s.last_upstream_seq = last_upstream_seq_;
  s.top_ts_ns = top_ts_ns_;
  s.book_ts_ns = book_ts_ns_;
  return s;
}

std::optional<std::string> OrderBookServer::restore(BookSnapshot&& s) {
  // Everything is checked before anything changes: a snapshot refused leaves
  // the server as it was, to rebuild from the records instead.
  if (s.spec != info_->spec) return std::string("the snapshot is of another spec");
  auto book = ob::OrderBook::from_image(s.book);
  if (!book) return fmt::format("its book image: {}", ob::to_string(book.error()));
  for (const BookSnapshot::ApiOrder& o : s.api_orders) {
    if (ob::OrderId(o.id).external() || !book->order(ob::OrderId(o.id))) {
      return fmt::format("API order {} does not rest in its book", o.id);
    }
  }
  book_ = std::move(*book);
  for (BookSnapshot::ApiOrder& o : s.api_orders) {
    // It passed the resting limits when it came: count it again, unconditionally.
    (void)ctx_->resting_orders->try_reserve(o.owner, std::numeric_limits<std::size_t>::max());
    api_orders_.emplace(
        o.id, ApiOrder{std::move(o.owner), std::move(o.client_order_id), o.type, o.tif, o.qty});
  }
  for (const BookSnapshot::ClientOrder& c : s.client_orders) {
    remember_order(c.fields.owner, c.fields, c.last);
  }
  last_upstream_seq_ = s.last_upstream_seq;
  top_ts_ns_ = s.top_ts_ns;
  book_ts_ns_ = s.book_ts_ns;
  return std::nullopt;
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
  auto wrote = writer.snapshot(symbol, journal_seq_, encode(snapshot()),
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

std::optional<std::string> OrderBookServer::replay(const journal::Record& r) {
  using namespace journal;
  if (const auto* spec = std::get_if<SpecRecord>(&r)) {
    if (spec->spec != info_->spec) {
      return fmt::format("the journal is of a {} book with tick {} and lot {}, not this one's",
                         ob::to_string(spec->spec.mode), spec->spec.tick_size(),
                         spec->spec.lot_size());
    }
    if (book_.seq() != 0) return std::string("a spec record after changes");
    book_ = ob::OrderBook(info_->spec.mode, 0, spec->first_order_id);
  } else if (const auto* events = std::get_if<EventsRecord>(&r)) {
    (void)apply_events(events->events, events->receipt_ns, events->max_orders_per_book);
  } else if (const auto* order = std::get_if<OrderRecord>(&r)) {
    const OrderRequest& o = order->order;
    // It passed the resting limits when it came: count it again, unconditionally.
    if (o.type == ob::OrderType::limit && o.tif == ob::TimeInForce::gtc) {
      (void)ctx_->resting_orders->try_reserve(o.owner, std::numeric_limits<std::size_t>::max());
    }
    (void)place(o, order->ts_ns);
  } else if (const auto* cancel_rec = std::get_if<CancelRecord>(&r)) {
    if (std::optional<ob::OrderId> id = find_api_order(cancel_rec->order_id, cancel_rec->owner)) {
      (void)cancel(*id, cancel_rec->ts_ns);
    }
  } else if (const auto* ids = std::get_if<IdsRecord>(&r)) {
    book_.skip_order_ids_to(ids->next_order_id);
  }
  return std::nullopt;
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
        decoded ? restore(std::move(*decoded)) : std::optional<std::string>(decoded.error());
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
        decoded ? replay(*decoded) : std::optional<std::string>(decoded.error());
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
    book_.skip_order_ids_to(next);
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
