#include "storage/journal_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <unordered_map>
#include <utility>
#include <vector>

#include "feeds/symbol.hpp"
#include "runtime/thread_name.hpp"
#include "storage/compression.hpp"
#include "storage/file_ops.hpp"
#include "storage/journal_reader.hpp"
#include "storage/record.hpp"

namespace storage {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

const char* to_string(FsyncPolicy p) noexcept {
  switch (p) {
    case FsyncPolicy::always:
      return "always";
    case FsyncPolicy::batch:
      return "batch";
    case FsyncPolicy::never:
      return "never";
  }
  return "unknown";
}

std::optional<FsyncPolicy> parse_fsync_policy(std::string_view text) noexcept {
  if (text == "always") return FsyncPolicy::always;
  if (text == "batch") return FsyncPolicy::batch;
  if (text == "never") return FsyncPolicy::never;
  return std::nullopt;
}

namespace {

// Dirty segments in one batch from which one syncfs(2) replaces their fdatasyncs.
constexpr std::size_t kSyncfsFrom = 8;

// Runs a caller's callback; one that throws must not take every other
// symbol's journal down with the I/O thread.
template <class F, class A>
void call_safely(F& f, const A& arg) noexcept {
  if (!f) return;
  try {
    f(arg);
  } catch (...) {
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// The I/O thread's state. Everything here runs on that thread only.

struct JournalWriter::Io {
  using AckId = std::uint64_t;

  struct Ack {
    OnDurable on_durable;
    std::optional<Status> result;  // set once known; answered in order from the front
  };

  // The open segment of one symbol. Offsets: `size` is where the next write
  // goes, `synced` how much is known durable; the records in between await a sync.
  struct Segment {
    UniqueFd fd;
    std::uint64_t first_seq = 0;
    fs::path path;
    std::uint64_t size = 0;
    std::uint64_t synced = 0;
    std::uint64_t records = 0;           // written or buffered
    std::uint64_t written_last_seq = 0;  // the last seq at `size`
    std::uint64_t synced_last_seq = 0;   // the last seq at `synced`
    std::vector<AckId> unsynced;         // written, awaiting the sync
    // Its name (and its symbol's directory) not yet synced: the first sync
    // of the file also syncs them, before any record in it is acknowledged.
    bool name_unsynced = false;
    bool symbol_dir_unsynced = false;
  };

  struct Log {
    fs::path dir;
    std::optional<Segment> seg;    // none until the next record starts one
    std::uint64_t last_seq = 0;    // the newest seq written or buffered
    std::optional<Error> blocked;  // damage found on open: quarantine() first
    std::string buf;               // encoded records not yet written
    std::vector<AckId> buf_acks;
    bool dir_created = false;        // log.dir has no segment: the first one syncs its name too
    std::uint64_t failed_batch = 0;  // the batch in which a write of this symbol failed
    bool reopen = false;             // its file could not be cut back: reopen before appending
  };

  explicit Io(JournalWriter& owner)
      : w(owner), store(owner.store_), ops(owner.store_.file_ops()), opt(owner.options_) {}

  JournalWriter& w;
  const Store& store;
  FileOps& ops;
  const WriterOptions& opt;

  std::unordered_map<std::string, Log> logs;
  std::unordered_map<std::string, std::uint64_t>
      truncate_later;  // path -> size, after a failed cut
  std::deque<Ack> acks;
  AckId first_ack = 0;  // the id of acks.front()
  std::uint64_t batch = 0;
  std::optional<SteadyClock::time_point> oldest_unsynced;
  UniqueFd data_dir_fd;  // for syncfs(2); opened at the first batch that needs it

  std::deque<fs::path> to_compress;
  std::optional<SegmentCompressor> compressing;

  // Published to the writer (under its mutex) before callbacks run.
  WriterStats delta;
  std::optional<Health> health;

  // --- acknowledgements ----------------------------------------------------

  AckId push_ack(OnDurable cb) {
    acks.push_back(Ack{std::move(cb), std::nullopt});
    return first_ack + acks.size() - 1;
  }
  void resolve(AckId id, Status s) {
    if (s) {
      ++delta.records;
    } else {
      ++delta.failures;
    }
    acks[id - first_ack].result = std::move(s);
  }
  void note_failure(const Error& e) { health = Health{false, e.to_string()}; }
  void note_success() { health = Health{true, {}}; }

  void publish() {
    std::lock_guard lk(w.m_);
    w.stats_.records += delta.records;
    w.stats_.bytes += delta.bytes;
    w.stats_.syncs += delta.syncs;
    w.stats_.failures += delta.failures;
    w.stats_.segments_compressed += delta.segments_compressed;
    w.stats_.damaged_segments += delta.damaged_segments;
    delta = WriterStats{};
    if (health) w.health_ = std::move(*health);
    health.reset();
  }

  // Answers, in acceptance order, every record whose outcome is known.
  void answer_ready() {
    if (acks.empty() || !acks.front().result) return;
    publish();  // health first: a caller told "failed" may look at health() at once
    while (!acks.empty() && acks.front().result) {
      Ack a = std::move(acks.front());
      acks.pop_front();
      ++first_ack;
      call_safely(a.on_durable, *a.result);
    }
  }

  // --- one symbol's files --------------------------------------------------

  void fail_log(Log& log, const Error& e) {
    log.failed_batch = batch;
    note_failure(e);
  }

  // Cuts a file back to `size` after a failed write or sync, so that bytes
  // whose callback said "failed" can never be recovered. If even that fails,
  // the file is closed and cut when the symbol is next opened. A segment left
  // without records goes: its name promised a first seq that never made it,
  // and the next record may have another.
  void cut_back(Log& log, std::uint64_t size) {
    Segment& seg = *log.seg;
    if (ops.truncate(seg.fd.get(), size) != 0) {
      truncate_later[seg.path.string()] = size;
      log.seg.reset();
      log.reopen = true;
    } else if (seg.records == 0) {
      const fs::path path = seg.path;
      log.seg.reset();
      if (::unlink(path.c_str()) != 0) log.reopen = true;  // open_log() drops empty segments
    }
  }

  // Writes the symbol's buffered records in one write.
  bool write_buffer(Log& log) {
    if (log.buf.empty()) return true;
    Segment& seg = *log.seg;
    const int err = ops.write_at(seg.fd.get(), log.buf, seg.size);
    if (err != 0) {
      const Error e = Error::from_errno(err, "write " + seg.path.string());
      for (AckId id : log.buf_acks) resolve(id, rt::Err{e});
      log.last_seq = seg.written_last_seq;
      seg.records -= log.buf_acks.size();
      log.buf.clear();
      log.buf_acks.clear();
      cut_back(log, seg.size);  // a short write may have left part of it
      fail_log(log, e);
      return false;
    }
    delta.bytes += log.buf.size();
    seg.size += log.buf.size();
    seg.written_last_seq = log.last_seq;
    if (opt.fsync == FsyncPolicy::never) {
      for (AckId id : log.buf_acks) resolve(id, rt::Ok{});
      note_success();
    } else {
      seg.unsynced.insert(seg.unsynced.end(), log.buf_acks.begin(), log.buf_acks.end());
      if (!oldest_unsynced) oldest_unsynced = SteadyClock::now();
    }
    log.buf.clear();
    log.buf_acks.clear();
    return true;
  }

  // fdatasync's the open segment; the records it covers become durable, or fail.
  bool sync_segment(Log& log) {
    if (!needs_sync(log)) return true;
    ++delta.syncs;
    int err = ops.sync_data(log.seg->fd.get());
    if (err == 0) err = sync_names(log);
    return synced(log, err);
  }

  // A new segment's directory entry, and its symbol directory's if that is new too.
  int sync_names(const Log& log) {
    const Segment& seg = *log.seg;
    Status s = rt::Ok{};
    if (seg.name_unsynced) s = sync_directory(ops, log.dir);
    if (s && seg.symbol_dir_unsynced) s = sync_directory(ops, store.data_dir());
    return s ? 0 : (s.error().sys_errno != 0 ? s.error().sys_errno : EIO);
  }

  static bool needs_sync(const Log& log) { return log.seg && log.seg->synced != log.seg->size; }

  // The outcome of syncing the open segment (0 or an errno value).
  bool synced(Log& log, int err) {
    Segment& seg = *log.seg;
    if (err != 0 && opt.fsync == FsyncPolicy::never) {
      // Closing a segment under `never`: its records were answered when
      // written, and cutting them now would lose what was acknowledged.
      note_failure(Error::from_errno(err, "fdatasync " + seg.path.string()));
      return false;
    }
    if (err != 0) {
      // After a failed fsync the kernel may have dropped the dirty pages and
      // forgotten the error: the unsynced bytes are lost or not, nobody can
      // say. Fail their records and cut them off.
      const Error e = Error::from_errno(err, "fdatasync " + seg.path.string());
      for (AckId id : seg.unsynced) resolve(id, rt::Err{e});
      seg.records -= seg.unsynced.size();
      seg.unsynced.clear();
      seg.size = seg.synced;
      seg.written_last_seq = seg.synced_last_seq;
      log.last_seq = seg.synced_last_seq;
      cut_back(log, seg.synced);
      fail_log(log, e);
      return false;
    }
    seg.synced = seg.size;
    seg.synced_last_seq = seg.written_last_seq;
    seg.name_unsynced = seg.symbol_dir_unsynced = false;
    for (AckId id : seg.unsynced) resolve(id, rt::Ok{});
    seg.unsynced.clear();
    note_success();
    return true;
  }

  // Creates the segment whose first record is `seq`. The header and the new
  // name are made durable with its first records, by the same sync (one
  // syncfs covers them all when many symbols start at once) and before any
  // of them is acknowledged; a failed sync removes the segment whole.
  Status start_segment(Log& log, std::uint64_t seq) {
    const fs::path path = log.dir / segment_file_name(seq, false);
    Result<UniqueFd> fd = open_file(path, O_RDWR | O_CREAT | O_EXCL);
    if (!fd) return rt::Err{fd.error()};
    if (const int err = ops.write_at(fd->get(), kSegmentMagic, 0)) {
      ::unlink(path.c_str());
      return fail_errno(err, "create " + path.string());
    }
    Segment seg;
    seg.fd = std::move(*fd);
    seg.first_seq = seq;
    seg.path = path;
    seg.size = kSegmentHeaderSize;
    seg.synced = 0;
    seg.written_last_seq = seg.synced_last_seq = log.last_seq;
    seg.name_unsynced = true;
    seg.symbol_dir_unsynced = std::exchange(log.dir_created, false);
    log.seg = std::move(seg);
    return rt::Ok{};
  }

  // Closes a full segment: written and synced whatever the policy, so that
  // only a symbol's newest segment can ever have a torn tail.
  bool close_segment(Log& log) {
    if (!write_buffer(log) || !sync_segment(log)) return false;
    if (opt.compress) to_compress.push_back(log.seg->path);
    log.seg.reset();
    return true;
  }

  // Reads the last segment's tail: where appending resumes, after cutting a
  // torn tail; a damaged journal blocks appends until quarantine().
  Result<Log> open_log(const std::string& symbol) {
    Log log;
    Result<fs::path> dir = store.symbol_dir(symbol);
    if (!dir) return rt::Err{dir.error()};
    log.dir = *dir;
    std::error_code ec;
    if (!fs::is_directory(log.dir, ec) && ::mkdir(log.dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return fail_errno(errno, "mkdir " + log.dir.string());
    }
    Result<std::vector<SegmentInfo>> segs = store.segments(symbol);
    if (!segs) return rt::Err{segs.error()};
    if (segs->empty()) {
      // New, or left empty (by a failed first segment, say): its own name is
      // synced with the first segment's, before any record is acknowledged.
      log.dir_created = true;
      return log;
    }
    for (std::size_t i = 0; i + 1 < segs->size(); ++i) {
      if (opt.compress && !(*segs)[i].compressed) to_compress.push_back((*segs)[i].path);
    }
    const SegmentInfo& last = segs->back();
    if (last.compressed) return tail_of_closed(std::move(log), last);

    Result<UniqueFd> fd = open_file(last.path, O_RDWR);
    if (!fd) return rt::Err{fd.error()};
    if (auto it = truncate_later.find(last.path.string()); it != truncate_later.end()) {
      if (const int err = ops.truncate(fd->get(), it->second)) {
        return fail_errno(err, "ftruncate " + last.path.string());
      }
      truncate_later.erase(it);
    }
    Result<std::string> image = read_fd(fd->get(), last.path);
    if (!image) return rt::Err{image.error()};
    // Damage with valid records after it is passed over to find the real end.
    const SegmentScan scan =
        scan_segment(*image, SegmentCheck{TailMode::open_segment, last.first_seq, 0,
                                          store.options().max_record_length, UINT64_MAX});
    if (scan.end.kind == SegmentEnd::Kind::corrupt) {
      log.blocked = Error{
          Errc::corrupt, 0,
          Corruption{last.path, last.first_seq, scan.end.offset, scan.last_seq, scan.end.reason}
              .to_string()};
      return log;
    }
    if (scan.records == 0) {
      // Created, but its first record never made it: its name may not match
      // the next record's seq, so it goes; the previous segment has the tail.
      fd->reset();
      ::unlink(last.path.c_str());
      if (Status s = sync_directory(ops, log.dir); !s) return rt::Err{s.error()};
      if (segs->size() == 1) return log;
      return tail_of_closed(std::move(log), (*segs)[segs->size() - 2]);
    }
    if (scan.end.kind == SegmentEnd::Kind::torn_tail) {
      if (const int err = ops.truncate(fd->get(), scan.end.offset)) {
        return fail_errno(err, "ftruncate " + last.path.string());
      }
    }
    // What an earlier run wrote may still be only in the page cache.
    if (const int err = ops.sync_data(fd->get())) {
      return fail_errno(err, "fdatasync " + last.path.string());
    }
    log.last_seq = scan.last_seq;
    if (scan.skipped) {
      // Damaged in the middle: keep it as it is (the reader reports it, or
      // passes over it when recovery starts after it) and append elsewhere.
      ++delta.damaged_segments;
      if (opt.compress) to_compress.push_back(last.path);
      return log;
    }
    Segment seg;
    seg.fd = std::move(*fd);
    seg.first_seq = last.first_seq;
    seg.path = last.path;
    seg.size = seg.synced = scan.end.offset;
    seg.records = scan.records;
    seg.written_last_seq = seg.synced_last_seq = scan.last_seq;
    log.seg = std::move(seg);
    return log;
  }

  Result<Log> tail_of_closed(Log log, const SegmentInfo& seg) {
    Result<SegmentImage> image = read_segment_image(seg, store.options());
    if (!image) return rt::Err{image.error()};
    const SegmentScan scan =
        scan_segment(image->bytes, SegmentCheck{TailMode::closed, seg.first_seq, 0,
                                                store.options().max_record_length, UINT64_MAX});
    if (scan.end.kind != SegmentEnd::Kind::clean || image->zstd_error) {
      const std::string reason = image->zstd_error ? *image->zstd_error : scan.end.reason;
      log.blocked = Error{
          Errc::corrupt, 0,
          Corruption{seg.path, seg.first_seq, scan.end.offset, scan.last_seq, reason}.to_string()};
    }
    log.last_seq = scan.last_seq;
    return log;
  }

  // --- items ---------------------------------------------------------------

  void handle(Append& a) {
    const AckId id = push_ack(std::move(a.on_durable));
    auto it = logs.find(a.symbol);
    if (it != logs.end() && it->second.failed_batch == batch) {
      resolve(id, fail(Errc::earlier_failed,
                       fmt::format("{} seq {}: an earlier record failed", a.symbol, a.seq)));
      return;
    }
    if (it != logs.end() && it->second.reopen) {
      logs.erase(it);  // a file left to cut back: open_log() does that first
      it = logs.end();
    }
    if (it == logs.end()) {
      Result<Log> log = open_log(a.symbol);
      if (!log) {
        note_failure(log.error());
        resolve(id, rt::Err{log.error()});
        return;
      }
      it = logs.emplace(a.symbol, std::move(*log)).first;
    }
    Log& log = it->second;
    if (log.blocked) {
      note_failure(*log.blocked);
      resolve(id, rt::Err{*log.blocked});
      return;
    }
    if (a.seq <= log.last_seq) {
      resolve(id, fail(Errc::out_of_order, fmt::format("{} seq {} is not above seq {}", a.symbol,
                                                       a.seq, log.last_seq)));
      return;
    }
    const std::size_t framed = framed_size(a.payload.size());
    if (log.seg && log.seg->records > 0 &&
        log.seg->size + log.buf.size() + framed > opt.segment_bytes) {
      if (!close_segment(log)) {
        resolve(id,
                fail(Errc::earlier_failed,
                     fmt::format("{} seq {}: closing the full segment failed", a.symbol, a.seq)));
        return;
      }
    }
    if (!log.seg) {
      if (Status s = start_segment(log, a.seq); !s) {
        fail_log(log, s.error());
        resolve(id, std::move(s));
        return;
      }
    }
    append_record(log.buf, a.seq, a.payload);
    log.buf_acks.push_back(id);
    ++log.seg->records;
    log.last_seq = a.seq;
    if (opt.fsync == FsyncPolicy::always) {
      // One record, one sync, then its answer: nothing waits for a batch.
      if (write_buffer(log)) sync_segment(log);
      answer_ready();
    }
  }

  void handle(Control& c) {
    // Everything accepted before it is answered first; for a flush, only its
    // symbol's records: a book recovering must not wait for every other sync.
    if (c.kind == Control::Kind::flush) {
      settle(c.symbol);
    } else {
      settle();
    }
    switch (c.kind) {
      case Control::Kind::flush:
        publish();
        call_safely(c.done, Status(rt::Ok{}));
        break;
      case Control::Kind::remove: {
        forget(c.symbol);
        Status s = store.remove(c.symbol);
        if (!s) note_failure(s.error());
        publish();
        call_safely(c.done, s);
        break;
      }
      case Control::Kind::quarantine: {
        forget(c.symbol);
        Status s = store.quarantine(c.symbol, c.corruption);
        publish();
        call_safely(c.done, s);
        break;
      }
      case Control::Kind::retain: {
        drop_compression(c.symbol, /*requeue=*/true);
        const auto now = opt.clock ? opt.clock() : std::chrono::system_clock::now();
        Result<RetentionReport> r = store.apply_retention(c.symbol, c.policy, now);
        call_safely(c.retained, r);
        break;
      }
      case Control::Kind::snapshot: {
        // Settled: a failed record has taken last_seq back below its seq.
        auto it = logs.find(c.symbol);
        Status s = it != logs.end() && it->second.last_seq >= c.seq
                       ? store.write_snapshot(c.symbol, c.seq, c.bytes)
                       : fail(Errc::invalid_argument,
                              fmt::format("snapshot of {} at {}: that record is not durable",
                                          c.symbol, c.seq));
        call_safely(c.done, s);
        break;
      }
    }
  }

  // Closes a symbol's files and forgets its state (before its directory changes).
  void forget(const std::string& symbol) {
    logs.erase(symbol);
    drop_compression(symbol, /*requeue=*/false);
  }

  // Stops compressing `symbol`'s segments; with `requeue`, the one in progress starts over later.
  void drop_compression(const std::string& symbol, bool requeue) {
    Result<fs::path> dir = store.symbol_dir(symbol);
    if (!dir) return;
    if (compressing && compressing->source().parent_path() == *dir) {
      if (requeue) to_compress.push_front(compressing->source());
      compressing.reset();  // abandons: removes its tmp file
    }
    if (!requeue) {
      std::erase_if(to_compress, [&](const fs::path& p) { return p.parent_path() == *dir; });
    }
  }

  // --- batch boundaries ----------------------------------------------------

  void write_all() {
    for (auto& [symbol, log] : logs) {
      if (log.seg) write_buffer(log);
    }
  }

  // Writes and syncs everything, then answers it.
  void settle() {
    std::vector<Log*> dirty;
    for (auto& [symbol, log] : logs) {
      if (log.seg && write_buffer(log) && opt.fsync != FsyncPolicy::never && needs_sync(log)) {
        dirty.push_back(&log);
      }
    }
    if (dirty.size() >= kSyncfsFrom && sync_filesystem()) {
      for (Log* log : dirty) synced(*log, 0);
    } else {
      for (Log* log : dirty) sync_segment(*log);
    }
    oldest_unsynced.reset();
    answer_ready();
  }

  // Many symbols written in one batch: one syncfs(2) instead of an fdatasync
  // per file (1,000 symbols: 1,000 device flushes become one). False when it
  // failed: the files are then synced one by one, so each sees its own error.
  bool sync_filesystem() {
    if (!data_dir_fd) {
      Result<UniqueFd> fd = open_file(store.data_dir(), O_RDONLY | O_DIRECTORY);
      if (!fd) return false;
      data_dir_fd = std::move(*fd);
    }
    ++delta.syncs;
    return ops.sync_filesystem(data_dir_fd.get()) == 0;
  }

  // Writes and syncs one symbol's records; the batch window goes on for the rest.
  void settle(const std::string& symbol) {
    auto it = logs.find(symbol);
    if (it == logs.end() || !it->second.seg) return;
    Log& log = it->second;
    if (write_buffer(log) && opt.fsync != FsyncPolicy::never) sync_segment(log);
    answer_ready();
  }

  bool has_compression_work() const { return compressing || !to_compress.empty(); }

  void compress_step() {
    while (!compressing && !to_compress.empty()) {
      const fs::path next = std::move(to_compress.front());
      to_compress.pop_front();
      Result<SegmentCompressor> c = SegmentCompressor::start(ops, next, opt.zstd_level);
      if (c) compressing.emplace(std::move(*c));  // else: gone (retained) — skip it
    }
    if (!compressing) return;
    Result<bool> done = compressing->step(opt.compress_step_bytes);
    if (done && *done) ++delta.segments_compressed;
    // A failed compression leaves the plain segment, which reads the same.
    if (!done || *done) compressing.reset();
  }
};

// ---------------------------------------------------------------------------
// The public side: queueing from any thread.

JournalWriter::JournalWriter(Store store, WriterOptions options)
    : store_(std::move(store)), options_(std::move(options)), io_(std::make_unique<Io>(*this)) {
  thread_ = std::thread([this] { run(); });
}

JournalWriter::~JournalWriter() {
  close();
}

void JournalWriter::close() {
  {
    std::lock_guard lk(m_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

Status JournalWriter::enqueue(Item item, std::size_t bytes, std::string_view appends_to) {
  {
    std::lock_guard lk(m_);
    if (stopping_) return fail(Errc::stopped, "journal writer stopping");
    if (bytes > 0 && queued_bytes_ + bytes > options_.max_queued_bytes) {
      return fail(Errc::overloaded, "journal writer queue full");
    }
    if (!appends_to.empty() && !appended_.contains(appends_to)) {
      appended_.emplace(appends_to);
    }
    queued_bytes_ += bytes;
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
  return rt::Ok{};
}

Status JournalWriter::append(std::string_view symbol, std::uint64_t seq, std::string payload,
                             OnDurable on_durable) {
  if (!feeds::is_valid_symbol(symbol)) {
    return fail(Errc::invalid_argument, fmt::format("invalid symbol \"{}\"", symbol));
  }
  if (payload.size() > store_.options().max_record_length - kMinRecordLength) {
    return fail(Errc::invalid_argument,
                fmt::format("record of {} bytes above the limit", payload.size()));
  }
  const std::size_t bytes = payload.size() + kQueuedRecordOverhead;
  return enqueue(Append{std::string(symbol), seq, std::move(payload), std::move(on_durable)}, bytes,
                 symbol);
}

Status JournalWriter::flush(std::string_view symbol, OnDone done) {
  if (!feeds::is_valid_symbol(symbol)) return fail(Errc::invalid_argument, "invalid symbol");
  bool nothing_appended;
  {
    std::lock_guard lk(m_);
    nothing_appended = !appended_.contains(symbol);
  }
  if (nothing_appended) {
    // A symbol's first server: no round trip behind other symbols' syncs.
    done(Status(rt::Ok{}));
    return rt::Ok{};
  }
  return enqueue(Control{Control::Kind::flush, std::string(symbol), std::move(done), {}, {}, {}},
                 0);
}

Status JournalWriter::remove(std::string_view symbol, OnDone done) {
  if (!feeds::is_valid_symbol(symbol)) return fail(Errc::invalid_argument, "invalid symbol");
  return enqueue(Control{Control::Kind::remove, std::string(symbol), std::move(done), {}, {}, {}},
                 0);
}

Status JournalWriter::quarantine(std::string_view symbol, Corruption corruption, OnDone done) {
  if (!feeds::is_valid_symbol(symbol)) return fail(Errc::invalid_argument, "invalid symbol");
  return enqueue(Control{Control::Kind::quarantine,
                         std::string(symbol),
                         std::move(done),
                         std::move(corruption),
                         {},
                         {}},
                 0);
}

Status JournalWriter::retain(std::string_view symbol, RetentionPolicy policy, OnRetained done) {
  if (!feeds::is_valid_symbol(symbol)) return fail(Errc::invalid_argument, "invalid symbol");
  return enqueue(
      Control{Control::Kind::retain, std::string(symbol), {}, {}, policy, std::move(done)}, 0);
}

Status JournalWriter::snapshot(std::string_view symbol, std::uint64_t seq, std::string bytes,
                               OnDone done) {
  if (!feeds::is_valid_symbol(symbol)) return fail(Errc::invalid_argument, "invalid symbol");
  const std::size_t size = bytes.size() + kQueuedRecordOverhead;
  Control c{Control::Kind::snapshot, std::string(symbol), std::move(done), {}, {}, {}};
  c.seq = seq;
  c.bytes = std::move(bytes);
  return enqueue(std::move(c), size);
}

Health JournalWriter::health() const {
  std::lock_guard lk(m_);
  return health_;
}

WriterStats JournalWriter::stats() const {
  std::lock_guard lk(m_);
  return stats_;
}

// The I/O thread: take everything queued, write it, sync per policy, answer.
void JournalWriter::run() {
  rt::name_this_thread("md-journal");
  Io& io = *io_;
  std::deque<Item> batch;
  for (;;) {
    bool stop = false;
    {
      std::unique_lock lk(m_);
      auto ready = [this] { return !queue_.empty() || stopping_; };
      if (io.oldest_unsynced) {
        wake_.wait_until(lk, *io.oldest_unsynced + options_.window, ready);
      } else if (!io.has_compression_work()) {
        wake_.wait(lk, ready);
      }
      batch.swap(queue_);
      queued_bytes_ = 0;
      stop = stopping_ && batch.empty();
      if (!batch.empty()) ++stats_.batches;
    }
    ++io.batch;
    for (Item& item : batch) std::visit([&io](auto& i) { io.handle(i); }, item);
    batch.clear();
    if (stop) {
      io.settle();
      io.compressing.reset();  // unfinished: the plain segment stays, compressed next run
      io.logs.clear();
      io.publish();
      return;
    }
    if (options_.fsync == FsyncPolicy::batch) {
      // Sync at once when nothing else is waiting; under load, keep writing
      // what comes and sync when the oldest written record has waited `window`.
      bool idle;
      {
        std::lock_guard lk(m_);
        idle = queue_.empty();
      }
      io.write_all();
      if (idle ||
          (io.oldest_unsynced && SteadyClock::now() >= *io.oldest_unsynced + options_.window)) {
        io.settle();
      }
    } else {
      io.settle();  // never: writes and answers; always: answers what is left
    }
    io.answer_ready();
    io.compress_step();
    io.publish();
  }
}

}  // namespace storage
