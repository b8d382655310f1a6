#include "feeds/replay.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/runtime.hpp"
#include "tests/support/eventually.hpp"

namespace feeds {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// A file under the temp directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ =
        std::filesystem::temp_directory_path() / ("marketd_replay_" + std::to_string(::getpid()) +
                                                  "_" + std::to_string(counter()++) + ".ndjson");
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

/// Counts what it receives and checks order and the pipeline's memory bound.
class CountingSink : public EventSink {
 public:
  /// bytes_through[l]: bytes of the file's lines 1..l (with their newlines).
  explicit CountingSink(std::vector<std::uint64_t> bytes_through = {})
      : bytes_through_(std::move(bytes_through)) {}

  void submit(ParsedBatch&& b) override {
    if (b.first_line() != next_line_) order_ok_ = false;
    next_line_ = b.end_line();
    for (std::size_t i = 0; i + 1 < b.lines().size(); ++i) {
      if (b.lines()[i] >= b.lines()[i + 1]) order_ok_ = false;
    }
    events_ += b.events().size();
    errors_ += b.errors().size();
    for (const LineError& e : b.errors()) codes_[static_cast<int>(e.code)]++;
    if (const Replay* r = replay.load(); r != nullptr && !bytes_through_.empty()) {
      // Bytes read but not yet handed to this sink: what the pipeline holds.
      const std::uint64_t read = r->progress().bytes_read;
      const std::uint64_t handed = bytes_through_[b.end_line() - 1];
      max_held_ = std::max(max_held_.load(), read - std::min(read, handed));
      checked_++;
    }
    if (slow_batches_ > 0) {  // a deliberately slow consumer, so the reader could run ahead
      --slow_batches_;
      std::this_thread::sleep_for(200us);
    }
    batches_++;
  }

  std::atomic<const Replay*> replay{nullptr};
  std::atomic<std::uint64_t> events_{0}, errors_{0}, batches_{0}, checked_{0}, max_held_{0};
  std::atomic<bool> order_ok_{true};
  std::atomic<int> slow_batches_{0};
  std::array<std::atomic<std::uint64_t>, 10> codes_{};

 private:
  std::vector<std::uint64_t> bytes_through_;
  std::size_t next_line_ = 1;
};

TEST(Replay, MissingFileIsAnErrorOfStart) {
  rt::Runtime runtime;
  auto r =
      Replay::start(runtime, "/nonexistent/marketd/feed.ndjson", std::make_shared<CountingSink>());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ReplayError::Code::open_failed);
  EXPECT_NE(r.error().message.find("/nonexistent/marketd/feed.ndjson"), std::string::npos);
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos);
}

TEST(Replay, EmptyFileEndsWithZeroTotals) {
  rt::Runtime runtime;
  TempFile f("");
  auto r = Replay::start(runtime, f.path(), std::make_shared<CountingSink>());
  ASSERT_TRUE(r.ok());
  auto totals = r->wait(10s);
  ASSERT_TRUE(totals.ok()) << totals.error().message;
  EXPECT_EQ(totals->lines, 0u);
  EXPECT_EQ(totals->accepted, 0u);
  EXPECT_TRUE(r->done());
}

TEST(Replay, TinyChunksGiveTheSameResultAsOneParse) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    if (i % 7 == 3) text += "\n";
    if (i % 11 == 5) text += "garbage\r\n";
    text += R"({"type":"cancel","symbol":"S","order_id":"id)" + std::to_string(i) + "\"}\n";
  }
  text += R"({"type":"cancel","symbol":"S","order_id":"last"})";  // no final newline
  const ParsedBatch whole = parse_ndjson(text);
  rt::Runtime runtime;
  TempFile f(text);
  for (std::size_t chunk : {1u, 10u, 100u, 4096u}) {
    auto sink = std::make_shared<CountingSink>();
    auto r = Replay::start(runtime, f.path(), sink, {.chunk_bytes = chunk, .window = 2});
    ASSERT_TRUE(r.ok());
    auto totals = r->wait(20s);
    ASSERT_TRUE(totals.ok()) << totals.error().message;
    EXPECT_EQ(totals->accepted, whole.events().size()) << chunk;
    EXPECT_EQ(totals->rejected, whole.errors().size()) << chunk;
    EXPECT_EQ(totals->lines, whole.line_count()) << chunk;
    EXPECT_EQ(totals->lines_read, whole.line_count()) << chunk;
    EXPECT_EQ(totals->bytes_read, text.size());
    EXPECT_EQ(sink->events_.load(), whole.events().size());
    EXPECT_TRUE(sink->order_ok_.load());
    EXPECT_LE(totals->max_chunks_in_flight, 2u);
  }
}

TEST(Replay, LinesLongerThanTheLimitAreRejectedWithoutBuffering) {
  std::string text = R"({"type":"cancel","symbol":"S","order_id":"1"})"
                     "\n";
  text += R"({"type":"cancel","symbol":"S","order_id":")" + std::string(300'000, 'x') + "\"}\n";
  text += R"({"type":"cancel","symbol":"S","order_id":"3"})"
          "\n";
  text += std::string(300'000, 'y');  // an oversized last line without newline
  rt::Runtime runtime;
  TempFile f(text);
  auto sink = std::make_shared<CountingSink>();
  auto r = Replay::start(runtime, f.path(), sink, {.chunk_bytes = 64, .max_line_bytes = 100'000});
  ASSERT_TRUE(r.ok());
  auto totals = r->wait(10s);
  ASSERT_TRUE(totals.ok()) << totals.error().message;
  EXPECT_EQ(totals->accepted, 2u);
  EXPECT_EQ(totals->rejected, 2u);
  EXPECT_EQ(totals->lines, 4u);
  EXPECT_TRUE(sink->order_ok_.load());
  EXPECT_EQ(sink->codes_[static_cast<int>(EventError::invalid_json)].load(), 2u);
}

// 1,000,000 lines through a slow sink: the bytes read but not yet handed to the
// sink never exceed what the credit window allows, however far the file goes.
TEST(Replay, LargeFileKeepsMemoryBounded) {
  constexpr int kLines = 1'000'000;
  std::string text;
  text.reserve(kLines * 80);
  std::vector<std::uint64_t> bytes_through(kLines + 1, 0);
  std::uint64_t expected_events = 0, expected_errors = 0;
  for (int i = 0; i < kLines; ++i) {
    const std::size_t before = text.size();
    switch (i % 10) {
      case 0:
        text += R"({"type":"add","symbol":"SYM)" + std::to_string(i % 97) + R"(","order_id":")" +
                std::to_string(i) +
                R"(","side":"buy","price":"100.25","qty":"3"})"
                "\n";
        ++expected_events;
        break;
      case 5:
        text += "\n";
        break;
      case 9:
        text +=
            R"({"type":"add","symbol":"lower","order_id":"1","side":"buy","price":"1","qty":"1"})"
            "\n";
        ++expected_errors;
        break;
      default:
        text += R"({"type":"cancel","symbol":"SYM1","order_id":")" + std::to_string(i) + "\"}\n";
        ++expected_events;
    }
    bytes_through[static_cast<std::size_t>(i) + 1] = bytes_through[i] + (text.size() - before);
  }
  TempFile f(text);
  text = {};
  rt::Runtime runtime;
  auto sink = std::make_shared<CountingSink>(std::move(bytes_through));
  sink->slow_batches_ = 300;
  const ReplayOptions opts{.chunk_bytes = 64 * 1024, .window = 4};
  auto r = Replay::start(runtime, f.path(), sink, opts);
  ASSERT_TRUE(r.ok());
  sink->replay = &*r;
  auto totals = r->wait(120s);
  ASSERT_TRUE(totals.ok()) << totals.error().message;
  EXPECT_EQ(totals->lines, static_cast<std::uint64_t>(kLines));
  EXPECT_EQ(totals->accepted, expected_events);
  EXPECT_EQ(totals->rejected, expected_errors);
  EXPECT_EQ(sink->events_.load(), expected_events);
  EXPECT_TRUE(sink->order_ok_.load());
  // Structural bounds: chunks in flight never exceed the window; the bytes the
  // pipeline held (read, not yet handed over) stay within window chunks plus
  // the reader's buffer (one chunk target + one read + one line).
  EXPECT_LE(totals->max_chunks_in_flight, opts.window);
  EXPECT_GT(sink->checked_.load(), totals->batches / 2);
  const std::uint64_t bound = (opts.window + 2) * opts.chunk_bytes + 64 * 1024 + 1024;
  EXPECT_LE(sink->max_held_.load(), bound);
  EXPECT_GT(totals->batches, 500u);  // really chunked
}

/// Records when each event arrives.
class TimingSink : public EventSink {
 public:
  void submit(ParsedBatch&& b) override {
    std::lock_guard g(m);
    for (const ParsedEvent& e : b.events())
      arrivals.emplace_back(std::string(e.order_id), Clock::now());
  }
  std::mutex m;
  std::vector<std::pair<std::string, Clock::time_point>> arrivals;
};

TEST(Replay, PacedReplayKeepsOrderAndTheRecordedGaps) {
  // ts offsets in ms: a=0 b=none c=30 d=30 e=none f=60 g=20 (late: due at once, after f) h=90
  const std::int64_t t0 = 1'790'000'000'000'000'000;
  auto line = [&](const char* id, std::optional<int> ms) {
    std::string s = R"({"type":"cancel","symbol":"S","order_id":")" + std::string(id) + "\"";
    if (ms) s += ",\"ts_ns\":" + std::to_string(t0 + std::int64_t{*ms} * 1'000'000);
    return s + "}\n";
  };
  const std::string text = line("a", 0) + line("b", {}) + line("c", 30) + "oops\n" + line("d", 30) +
                           line("e", {}) + line("f", 60) + line("g", 20) + line("h", 90);
  rt::Runtime runtime;
  TempFile f(text);
  auto sink = std::make_shared<TimingSink>();
  auto r = Replay::start(runtime, f.path(), sink, {.paced = true});
  ASSERT_TRUE(r.ok());
  auto totals = r->wait(10s);
  ASSERT_TRUE(totals.ok()) << totals.error().message;
  EXPECT_EQ(totals->accepted, 8u);
  EXPECT_EQ(totals->rejected, 1u);
  std::lock_guard g(sink->m);
  ASSERT_EQ(sink->arrivals.size(), 8u);
  std::string order;
  for (auto& [id, _] : sink->arrivals) order += id;
  EXPECT_EQ(order, "abcdefgh");
  const Clock::time_point start = sink->arrivals[0].second;
  auto at_least = [&](std::size_t i, int ms) {
    EXPECT_GE(sink->arrivals[i].second - start, std::chrono::milliseconds(ms))
        << sink->arrivals[i].first;
  };
  at_least(2, 30);  // c
  at_least(3, 30);  // d
  at_least(5, 60);  // f
  at_least(6, 60);  // g: waits for f, its predecessor
  at_least(7, 90);  // h: the whole recorded span
}

TEST(Replay, CancelEndsAPacedReplayWaitingForItsTime) {
  const std::string text = R"({"type":"cancel","symbol":"S","order_id":"a","ts_ns":1})"
                           "\n"
                           R"({"type":"cancel","symbol":"S","order_id":"b","ts_ns":3600000000000})"
                           "\n";
  rt::Runtime runtime;
  const auto baseline = runtime.process_count();
  TempFile f(text);
  auto sink = std::make_shared<TimingSink>();
  auto r = Replay::start(runtime, f.path(), sink, {.paced = true});
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(testing_support::eventually([&] { return r->progress().accepted == 1; }));
  EXPECT_FALSE(r->done());
  r->cancel();
  auto totals = r->wait(10s);
  ASSERT_FALSE(totals.ok());
  EXPECT_EQ(totals.error().code, ReplayError::Code::cancelled);
  EXPECT_TRUE(testing_support::eventually([&] { return runtime.process_count() == baseline; }));
}

class ThrowingSink : public EventSink {
 public:
  void submit(ParsedBatch&&) override { throw std::runtime_error("downstream is gone"); }
};

TEST(Replay, ASinkThatThrowsEndsTheReplayAndItsProcesses) {
  std::string text;
  for (int i = 0; i < 5000; ++i)
    text += R"({"type":"cancel","symbol":"S","order_id":"x"})"
            "\n";
  rt::Runtime runtime;
  const auto baseline = runtime.process_count();
  TempFile f(text);
  auto r = Replay::start(runtime, f.path(), std::make_shared<ThrowingSink>(), {.chunk_bytes = 256});
  ASSERT_TRUE(r.ok());
  auto totals = r->wait(10s);
  ASSERT_FALSE(totals.ok());
  EXPECT_EQ(totals.error().code, ReplayError::Code::sink_failed);
  EXPECT_NE(totals.error().message.find("downstream is gone"), std::string::npos);
  EXPECT_TRUE(testing_support::eventually([&] { return runtime.process_count() == baseline; }));
}

TEST(Replay, OnDoneReportsTheTotals) {
  rt::Runtime runtime;
  TempFile f(R"({"type":"cancel","symbol":"S","order_id":"x"})"
             "\nbad\n");
  testing_support::Inbox inbox;
  auto r = Replay::start(
      runtime, f.path(), std::make_shared<CountingSink>(), {},
      [&](const rt::Result<ReplayTotals, ReplayError>& res) {
        inbox.push(res.ok() ? std::to_string(res->accepted) + "/" + std::to_string(res->rejected)
                            : res.error().message);
      });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(inbox.wait_for(1), std::vector<std::string>{"1/1"});
}

}  // namespace
}  // namespace feeds
