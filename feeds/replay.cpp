#include "feeds/replay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "runtime/stage.hpp"

namespace feeds {

namespace detail {

/// What the pipeline's processes and the Replay handles share.
struct ReplayState {
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> lines_read{0};
  std::atomic<std::uint64_t> lines{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> max_in_flight{0};

  mutable std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::optional<ReplayError> error;  // the first failure wins
  Replay::OnDone on_done;

  ReplayTotals snapshot() const {
    ReplayTotals t;
    t.bytes_read = bytes_read.load();
    t.lines_read = lines_read.load();
    t.lines = lines.load();
    t.accepted = accepted.load();
    t.rejected = rejected.load();
    t.batches = batches.load();
    t.max_chunks_in_flight = max_in_flight.load();
    return t;
  }

  /// Records why the replay is failing, unless an earlier reason is known.
  void fail(ReplayError e) {
    std::lock_guard g(m);
    if (!error) error = std::move(e);
  }

  /// The router exited: the replay is over, well if `reason` is normal.
  void finish(const rt::ExitReason& reason) {
    Replay::OnDone callback;
    {
      std::lock_guard g(m);
      if (done) return;
      if (!reason.is(rt::ExitReason::Kind::normal) && !error) {
        error =
            ReplayError{ReplayError::Code::crashed, "replay pipeline ended: " + reason.to_string()};
      }
      done = true;
      callback = std::move(on_done);
    }
    cv.notify_all();
    if (callback) {
      try {
        callback(result());
      } catch (const std::exception& e) {
        spdlog::error("replay: on_done threw: {}", e.what());
      }
    }
  }

  rt::Result<ReplayTotals, ReplayError> result() const {
    std::lock_guard g(m);
    if (error) return rt::Err{*error};
    return snapshot();
  }
};

}  // namespace detail

namespace {

using detail::ReplayState;

/// An owned file descriptor (stdin is borrowed, never closed).
class File {
 public:
  File() = default;
  File(int fd, bool owned) : fd_(fd), owned_(owned) {}
  File(File&& o) noexcept : fd_(std::exchange(o.fd_, -1)), owned_(o.owned_) {}
  File& operator=(File&& o) noexcept {
    std::swap(fd_, o.fd_);
    std::swap(owned_, o.owned_);
    return *this;
  }
  ~File() {
    if (fd_ >= 0 && owned_) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
};

/// Reader -> parser: complete lines (or a marker), with the first line's number.
struct Chunk {
  enum class Kind : std::uint8_t { lines, oversized_line, end };
  Kind kind = Kind::lines;
  std::string text;  // whole lines, kNdjsonPadding spare capacity
  std::size_t first_line = 1;
};

/// Parser -> router: a parsed chunk, or the end of the stream.
struct Parsed {
  ParsedBatch batch;
  bool end = false;
};

/// Reads chunks of whole lines, only as far as demand and the credit window allow.
class Reader : public rt::stage::Producer<Chunk> {
 public:
  /// Cast by the router when a chunk has been handed to the sink completely.
  struct Released {};

  Reader(std::shared_ptr<ReplayState> state, File file, ReplayOptions opts)
      : state_(std::move(state)), file_(std::move(file)), opts_(opts) {
    opts_.window = std::max<std::size_t>(opts_.window, 1);
    opts_.chunk_bytes = std::max<std::size_t>(opts_.chunk_bytes, 1);
    opts_.max_line_bytes = std::max(opts_.max_line_bytes, opts_.chunk_bytes);
  }

  std::vector<Chunk> handle_demand(std::size_t n) {
    owed_ += n;
    return produce();
  }
  void handle_cast(Released) {
    if (in_flight_ > 0) --in_flight_;
    std::vector<Chunk> out = produce();
    if (!out.empty()) send_events(std::move(out));
  }

 private:
  std::vector<Chunk> produce() {
    std::vector<Chunk> out;
    while (!at_end_ && !failed_ && owed_ > 0 && in_flight_ < opts_.window) {
      std::optional<Chunk> c = next_chunk();
      if (!c) break;
      out.push_back(std::move(*c));
      --owed_;
      ++in_flight_;
      if (in_flight_ > state_->max_in_flight.load(std::memory_order_relaxed)) {
        state_->max_in_flight.store(in_flight_, std::memory_order_relaxed);
      }
    }
    if (at_end_ && !end_sent_) {
      end_sent_ = true;
      out.push_back(Chunk{Chunk::Kind::end, {}, line_});  // may exceed demand: buffered
      finish();
    }
    return out;
  }

  // The next chunk; nullopt at the end of input (at_end_) or on a read error (failed_).
  std::optional<Chunk> next_chunk() {
    for (;;) {
      if (discarding_) {  // inside an oversized line: drop it up to its newline
        const std::size_t nl = buf_.find('\n');
        if (nl != std::string::npos) {
          buf_.erase(0, nl + 1);
          discarding_ = false;
          continue;
        }
        buf_.clear();
        if (eof_) {
          discarding_ = false;
          continue;
        }
      } else if (buf_.size() >= opts_.chunk_bytes || eof_) {
        const std::size_t nl = buf_.rfind('\n');
        if (nl != std::string::npos) return cut(nl + 1);
        if (eof_) {
          if (buf_.empty()) {
            at_end_ = true;
            return std::nullopt;
          }
          return cut(buf_.size());
        }
        if (buf_.size() >= opts_.max_line_bytes) {
          discarding_ = true;
          buf_.clear();
          state_->lines_read.fetch_add(1, std::memory_order_relaxed);
          return Chunk{Chunk::Kind::oversized_line, {}, line_++};
        }
      }
      if (!fill()) return std::nullopt;
    }
  }

  Chunk cut(std::size_t n) {
    Chunk c;
    c.first_line = line_;
    c.text.reserve(n + kNdjsonPadding);
    c.text.assign(buf_, 0, n);
    buf_.erase(0, n);
    std::size_t lines = static_cast<std::size_t>(std::count(c.text.begin(), c.text.end(), '\n'));
    if (c.text.back() != '\n') ++lines;  // the last line, without a newline at EOF
    line_ += lines;
    state_->lines_read.fetch_add(lines, std::memory_order_relaxed);
    return c;
  }

  // Appends one read's worth of input to buf_; false (and the stage stops) on error.
  bool fill() {
    const std::size_t want = std::max<std::size_t>(opts_.chunk_bytes, 64 * 1024);
    const std::size_t old = buf_.size();
    buf_.resize(old + want);
    ssize_t r = 0;
    do {
      r = ::read(file_.fd(), buf_.data() + old, want);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      const std::string what = std::string("replay: read failed: ") + std::strerror(errno);
      buf_.resize(old);
      failed_ = true;
      state_->fail(ReplayError{ReplayError::Code::read_failed, what});
      stop(rt::ExitReason::error(what));
      return false;
    }
    buf_.resize(old + static_cast<std::size_t>(r));
    if (r == 0) eof_ = true;
    state_->bytes_read.fetch_add(static_cast<std::uint64_t>(r), std::memory_order_relaxed);
    return true;
  }

  std::shared_ptr<ReplayState> state_;
  File file_;
  ReplayOptions opts_;
  std::string buf_;       // input read but not yet cut, from the start of line line_
  std::size_t line_ = 1;  // number of buf_'s first line
  std::size_t owed_ = 0;  // demand not yet met
  std::size_t in_flight_ = 0;
  bool eof_ = false;
  bool discarding_ = false;
  bool at_end_ = false;
  bool end_sent_ = false;
  bool failed_ = false;
};

/// Parses chunks into batches with one reused NdjsonParser.
class Parser : public rt::stage::ProducerConsumer<Chunk, Parsed> {
 public:
  explicit Parser(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  std::vector<Parsed> handle_events(std::vector<Chunk>&& chunks) {
    std::vector<Parsed> out;
    out.reserve(chunks.size());
    for (Chunk& c : chunks) {
      switch (c.kind) {
        case Chunk::Kind::lines:
          out.push_back(Parsed{parser_.parse(std::move(c.text), c.first_line)});
          break;
        case Chunk::Kind::oversized_line:
          out.push_back(Parsed{ParsedBatch::rejected_line(
              LineError{c.first_line, EventError::invalid_json,
                        "line longer than " + std::to_string(max_line_bytes_) + " bytes"})});
          break;
        case Chunk::Kind::end:
          out.push_back(Parsed{{}, true});
          break;
      }
    }
    return out;
  }

 private:
  NdjsonParser parser_;
  std::size_t max_line_bytes_;
};

/// Hands batches to the sink (paced or not) and returns each chunk's credit.
class Router : public rt::stage::Consumer<Parsed> {
 public:
  /// The next paced event is due.
  struct Wake {};

  Router(std::shared_ptr<ReplayState> state, std::shared_ptr<EventSink> sink,
         rt::stage::StageRef<Reader> reader, rt::stage::StageRef<Parser> parser, bool paced)
      : state_(std::move(state)),
        sink_(std::move(sink)),
        reader_(std::move(reader)),
        parser_(std::move(parser)),
        paced_(paced),
        on_exit_(*this) {}

  void init() { self().get()->add_exit_hook(on_exit_); }

  void handle_events(std::vector<Parsed>&& batches) {
    for (Parsed& p : batches) pending_.push_back(std::move(p));
    drain();
  }
  void handle_info(Wake) {
    armed_ = false;
    drain();
  }

 private:
  using Clock = std::chrono::steady_clock;

  void drain() {
    const Clock::time_point now = Clock::now();
    while (!pending_.empty()) {
      Parsed& p = pending_.front();
      if (p.end) {
        pending_.clear();
        try {
          sink_->finish();
        } catch (const std::exception& e) {
          state_->fail(ReplayError{ReplayError::Code::sink_failed,
                                   std::string("replay: the sink failed: ") + e.what()});
          throw;
        }
        stop(rt::ExitReason::normal());
        return;
      }
      if (paced_) {
        Clock::time_point next_due;
        const std::size_t due = due_prefix(p.batch, now, next_due);
        if (due < p.batch.events().size()) {
          if (due > 0) submit(p.batch.split_front(due));
          arm(next_due - now);
          return;
        }
      }
      submit(std::move(p.batch));
      pending_.pop_front();
      rt::cast(reader_, Reader::Released{});
    }
  }

  // How many leading events of `b` are due at `now`; the first one not due sets `next_due`.
  std::size_t due_prefix(const ParsedBatch& b, Clock::time_point now, Clock::time_point& next_due) {
    const std::vector<ParsedEvent>& events = b.events();
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!events[i].ts_ns) continue;
      const std::int64_t ts = *events[i].ts_ns;
      if (!anchor_) {
        anchor_ = Anchor{ts, now};
        continue;
      }
      const Clock::time_point due = anchor_->wall + std::chrono::nanoseconds(ts - anchor_->ts_ns);
      if (due > now) {
        next_due = due;
        return i;
      }
    }
    return events.size();
  }

  void arm(Clock::duration delay) {
    if (armed_) return;
    const auto ms =
        std::max(std::chrono::ceil<std::chrono::milliseconds>(delay), std::chrono::milliseconds(1));
    if (auto me = rt::stage::StageRef<Router>::from(self())) {
      rt::send_after(*me, Wake{}, ms);
      armed_ = true;
    }
  }

  void submit(ParsedBatch&& b) {
    state_->lines.fetch_add(b.line_count(), std::memory_order_relaxed);
    if (b.empty()) return;  // only blank lines: nothing to say
    state_->accepted.fetch_add(b.events().size(), std::memory_order_relaxed);
    state_->rejected.fetch_add(b.rejected_count(), std::memory_order_relaxed);
    state_->batches.fetch_add(1, std::memory_order_relaxed);
    try {
      sink_->submit(std::move(b));
    } catch (const std::exception& e) {
      state_->fail(ReplayError{ReplayError::Code::sink_failed,
                               std::string("replay: the sink failed: ") + e.what()});
      throw;
    }
  }

  /// Ends the replay when the router exits, whatever the reason (even a kill,
  /// which runs no terminate); an abnormal end also stops the other stages.
  struct OnExit final : rt::ExitHook {
    explicit OnExit(Router& r) : router(r) {}
    void on_process_exit(rt::Process& p) noexcept override {
      const rt::ExitReason reason = p.exit_reason();
      if (!reason.is(rt::ExitReason::Kind::normal)) {
        for (const rt::Pid& peer : {router.reader_.pid(), router.parser_.pid()}) {
          if (rt::Process* q = peer.get()) q->exit_signal(p.self(), reason);
        }
      }
      router.state_->finish(reason);
    }
    Router& router;
  };

  struct Anchor {
    std::int64_t ts_ns;
    Clock::time_point wall;
  };

  std::shared_ptr<ReplayState> state_;
  std::shared_ptr<EventSink> sink_;
  rt::stage::StageRef<Reader> reader_;
  rt::stage::StageRef<Parser> parser_;
  bool paced_;
  OnExit on_exit_;
  std::deque<Parsed> pending_;  // received, not yet handed over (paced: waiting for time)
  std::optional<Anchor> anchor_;
  bool armed_ = false;
};

rt::stage::StageOptions stage_options(const char* name) {
  rt::stage::StageOptions o;
  o.start.name = name;
  return o;
}

}  // namespace

rt::Result<Replay, ReplayError> Replay::start(rt::Runtime& runtime, const std::string& path,
                                              std::shared_ptr<EventSink> sink,
                                              ReplayOptions options, OnDone on_done) {
  File file;
  if (path == "-") {
    file = File(STDIN_FILENO, false);
  } else {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return rt::Err{ReplayError{ReplayError::Code::open_failed,
                                 "replay: cannot open " + path + ": " + std::strerror(errno)}};
    }
    file = File(fd, true);
  }
  auto state = std::make_shared<ReplayState>();
  state->on_done = std::move(on_done);
  auto start_failed = [](const char* what, const rt::StartError& e) {
    return rt::Err{
        ReplayError{ReplayError::Code::start_failed,
                    std::string("replay: ") + what + " did not start: " + e.to_string()}};
  };

  auto reader = rt::stage::start<Reader>(runtime, stage_options("replay.reader"), state,
                                         std::move(file), options);
  if (!reader) return start_failed("the reader", reader.error());
  auto parser =
      rt::stage::start<Parser>(runtime, stage_options("replay.parser"), options.max_line_bytes);
  if (!parser) {
    reader->pid().get()->exit_signal({}, rt::ExitReason::shutdown());
    return start_failed("the parser", parser.error());
  }
  auto router = rt::stage::start<Router>(runtime, stage_options("replay.router"), state,
                                         std::move(sink), *reader, *parser, options.paced);
  if (!router) {
    reader->pid().get()->exit_signal({}, rt::ExitReason::shutdown());
    parser->pid().get()->exit_signal({}, rt::ExitReason::shutdown());
    return start_failed("the router", router.error());
  }
  // transient: the router ends itself after the end marker; it must not stop
  // at the parser's normal exit while paced events still wait for their time.
  Replay replay(state, router->pid());
  const bool subscribed =
      rt::stage::subscribe(
          *router, *parser,
          {.max_demand = 2, .min_demand = 1, .cancel = rt::stage::Cancel::transient})
          .ok() &&
      rt::stage::subscribe(*parser, *reader, {.max_demand = 2, .min_demand = 1}).ok();
  if (!subscribed) {
    state->fail(
        ReplayError{ReplayError::Code::start_failed, "replay: the stages did not subscribe"});
    replay.cancel();
    return rt::Err{
        ReplayError{ReplayError::Code::start_failed, "replay: the stages did not subscribe"}};
  }
  return replay;
}

rt::Result<ReplayTotals, ReplayError> Replay::wait(std::chrono::milliseconds timeout) const {
  std::unique_lock g(state_->m);
  if (!state_->cv.wait_for(g, timeout, [&] { return state_->done; })) {
    return rt::Err{ReplayError{ReplayError::Code::timeout, "replay: still running"}};
  }
  g.unlock();
  return state_->result();
}

bool Replay::done() const {
  std::lock_guard g(state_->m);
  return state_->done;
}

ReplayTotals Replay::progress() const {
  return state_->snapshot();
}

void Replay::cancel() {
  state_->fail(ReplayError{ReplayError::Code::cancelled, "replay: cancelled"});
  if (rt::Process* p = router_.get()) p->exit_signal({}, rt::ExitReason::shutdown("cancelled"));
}

}  // namespace feeds
