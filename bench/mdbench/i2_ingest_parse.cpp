// I2 ingest_parse: NDJSON parse-only throughput of the feeds codec, one core.
// 2,000,000 generated lines across 1,000 symbols, mixed like an L3 feed
// (40 % add, 30 % cancel, 15 % execute, 15 % tick, all with ts_ns), parsed in
// 64 KiB chunks of whole lines as replay and ingest do (the copy of each chunk
// into its batch is timed too). Median of three passes. Valid when every line
// parses into an event; the issue's bar is > 3 M events/s.

#include <algorithm>
#include <array>
#include <random>

#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/workloads.hpp"
#include "feeds/ndjson.hpp"

namespace mdbench {
namespace {

constexpr std::size_t kLines = 2'000'000;
constexpr int kSymbols = 1000;
constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr int kPasses = 3;

std::string generate_feed() {
  const std::vector<std::string> symbols = symbol_names("SYM", kSymbols, 4);
  std::mt19937_64 rng(42);
  std::string text;
  text.reserve(kLines * 120);
  std::int64_t ts = 1'790'000'000'000'000'000;
  std::uint64_t next_id = 1'000'000;
  for (std::size_t i = 0; i < kLines; ++i) {
    const std::string& sym = symbols[rng() % kSymbols];
    const unsigned kind = rng() % 100;
    const auto price = fmt::format("{}.{:02}", 60000 + rng() % 8000, rng() % 100);
    const auto qty = fmt::format("0.{:04}", 1 + rng() % 9999);
    const char* side = rng() % 2 ? "buy" : "sell";
    ts += static_cast<std::int64_t>(rng() % 5000);
    if (kind < 40) {
      fmt::format_to(
          std::back_inserter(text),
          R"({{"type":"add","symbol":"{}","order_id":"{}","side":"{}","price":"{}","qty":"{}","ts_ns":{}}})"
          "\n",
          sym, next_id++, side, price, qty, ts);
    } else if (kind < 70) {
      fmt::format_to(std::back_inserter(text),
                     R"({{"type":"cancel","symbol":"{}","order_id":"{}","ts_ns":{}}})"
                     "\n",
                     sym, next_id - 1 - rng() % 1000, ts);
    } else if (kind < 85) {
      fmt::format_to(std::back_inserter(text),
                     R"({{"type":"execute","symbol":"{}","order_id":"{}","qty":"{}","ts_ns":{}}})"
                     "\n",
                     sym, next_id - 1 - rng() % 1000, qty, ts);
    } else {
      fmt::format_to(
          std::back_inserter(text),
          R"({{"type":"tick","symbol":"{}","price":"{}","size":"{}","side":"{}","ts_ns":{}}})"
          "\n",
          sym, price, qty, side, ts);
    }
  }
  return text;
}

/// Whole-line chunks of about kChunkBytes, as views into the feed.
std::vector<std::string_view> chunk(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    std::size_t end = std::min(kChunkBytes, text.size());
    const std::size_t nl = text.rfind('\n', end - 1);
    end = nl == std::string_view::npos ? text.size() : nl + 1;
    out.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return out;
}

}  // namespace

ResultLine run_i2_ingest_parse() {
  const std::string feed = generate_feed();
  const std::vector<std::string_view> chunks = chunk(feed);
  feeds::NdjsonParser parser;
  std::array<double, kPasses> ms{};
  std::size_t events = 0, errors = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    events = errors = 0;
    const auto t0 = Clock::now();
    for (std::string_view c : chunks) {
      std::string text;
      text.reserve(c.size() + feeds::kNdjsonPadding);
      text.append(c);
      const feeds::ParsedBatch batch = parser.parse(std::move(text));
      events += batch.events().size();
      errors += batch.errors().size();
    }
    ms[pass] = elapsed_ms(t0, Clock::now());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[kPasses / 2];
  const double secs = median / 1000.0;
  return ResultLine("I2", "ingest_parse")
      .add("lines", static_cast<std::int64_t>(kLines))
      .add("symbols", kSymbols)
      .add("bytes", static_cast<std::int64_t>(feed.size()))
      .add_decimal("elapsed_ms", median)
      .add("events_per_s", static_cast<std::int64_t>(static_cast<double>(events) / secs))
      .add_decimal("mb_per_s", static_cast<double>(feed.size()) / 1e6 / secs)
      .set_valid(events == kLines && errors == 0);
}

}  // namespace mdbench
