#include "services/wire.hpp"

#include <fmt/format.h>

#include <ctime>

#include "orderbook/decimal.hpp"

namespace services::wire {

namespace {

void begin(std::string& out, std::string_view type, const SymbolInfo& s) {
  out.reserve(160);
  out += R"({"type":")";
  out += type;
  out += R"(","symbol":")";
  out += s.symbol;  // validated: [A-Z0-9._-], nothing to escape
  out += '"';
}

void append_u64(std::string& out, std::string_view name, std::uint64_t v) {
  fmt::format_to(std::back_inserter(out), R"(,"{}":{})", name, v);
}

}  // namespace

void append_levels(std::string& out, std::string_view name, std::span<const ob::LevelView> levels,
                   const SymbolSpec& spec) {
  out += ",\"";
  out += name;
  out += "\":[";
  for (std::size_t i = 0; i < levels.size(); ++i) {
    out += i == 0 ? "[\"" : ",[\"";
    ob::append_price(out, levels[i].price, spec.book);
    out += "\",\"";
    ob::append_qty(out, levels[i].qty, spec.book);
    out += "\"]";
  }
  out += ']';
}

std::string format_rfc3339(std::int64_t ts_ns) {
  std::time_t secs = static_cast<std::time_t>(ts_ns / 1'000'000'000);
  std::int64_t micros = (ts_ns % 1'000'000'000) / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

void append_time(std::string& out, std::int64_t ts_ns) {
  if (ts_ns == 0) {
    out += R"(,"ts":null,"ts_ns":null)";
    return;
  }
  fmt::format_to(std::back_inserter(out), R"(,"ts":"{}","ts_ns":{})", format_rfc3339(ts_ns), ts_ns);
}

void append_price_member(std::string& out, std::string_view name, std::optional<ob::Price> p,
                         const SymbolSpec& spec) {
  out += ",\"";
  out += name;
  if (!p) {
    out += "\":null";
    return;
  }
  out += "\":\"";
  ob::append_price(out, *p, spec.book);
  out += '"';
}

void append_qty_member(std::string& out, std::string_view name, ob::Qty q, const SymbolSpec& spec) {
  out += ",\"";
  out += name;
  out += "\":\"";
  ob::append_qty(out, q, spec.book);
  out += '"';
}

std::string tick(const SymbolInfo& s, std::uint64_t seq, ob::Price price, ob::Qty size,
                 ob::Side side, std::int64_t ts_ns) {
  std::string out;
  begin(out, "tick", s);
  append_u64(out, "seq", seq);
  append_price_member(out, "price", price, s.spec);
  append_qty_member(out, "size", size, s.spec);
  out += R"(,"side":")";
  out += ob::to_string(side);
  out += '"';
  append_time(out, ts_ns);
  out += '}';
  return out;
}

std::string ticker(const SymbolInfo& s, const Ticker& t) {
  std::string out;
  begin(out, "ticker", s);
  append_u64(out, "seq", t.seq);
  const bool any = t.tick_count > 0;
  append_price_member(out, "last_price", any ? std::optional(t.last_price) : std::nullopt, s.spec);
  append_qty_member(out, "volume", t.volume, s.spec);
  append_price_member(out, "high", any ? std::optional(t.high) : std::nullopt, s.spec);
  append_price_member(out, "low", any ? std::optional(t.low) : std::nullopt, s.spec);
  append_time(out, t.ts_ns);
  out += '}';
  return out;
}

std::string top(const SymbolInfo& s, const Top& t) {
  std::string out;
  begin(out, "top", s);
  append_u64(out, "seq", t.seq);
  append_price_member(out, "bid", t.bid ? std::optional(t.bid->price) : std::nullopt, s.spec);
  if (t.bid) {
    append_qty_member(out, "bid_qty", t.bid->qty, s.spec);
  } else {
    out += R"(,"bid_qty":null)";
  }
  append_price_member(out, "ask", t.ask ? std::optional(t.ask->price) : std::nullopt, s.spec);
  if (t.ask) {
    append_qty_member(out, "ask_qty", t.ask->qty, s.spec);
  } else {
    out += R"(,"ask_qty":null)";
  }
  append_time(out, t.ts_ns);
  out += '}';
  return out;
}

std::string book_snapshot(const SymbolInfo& s, std::uint64_t seq,
                          std::span<const ob::LevelView> bids,
                          std::span<const ob::LevelView> asks) {
  std::string out;
  begin(out, "book_snapshot", s);
  out.reserve(out.size() + 32 * (bids.size() + asks.size()));
  append_u64(out, "seq", seq);
  append_levels(out, "bids", bids, s.spec);
  append_levels(out, "asks", asks, s.spec);
  out += '}';
  return out;
}

std::string book_update(const SymbolInfo& s, std::uint64_t seq,
                        std::span<const ob::LevelDelta> changes) {
  std::string out;
  begin(out, "book_update", s);
  append_u64(out, "seq", seq);
  out += R"(,"changes":[)";
  for (std::size_t i = 0; i < changes.size(); ++i) {
    out += i == 0 ? "[\"" : ",[\"";
    out += ob::to_string(changes[i].side);
    out += "\",\"";
    ob::append_price(out, changes[i].price, s.spec.book);
    out += "\",\"";
    ob::append_qty(out, changes[i].qty, s.spec.book);
    out += "\"]";
  }
  out += "]}";
  return out;
}

std::string status(const SymbolInfo& s, FeedState state, std::int64_t last_update_age_ms) {
  std::string out;
  begin(out, "status", s);
  out += R"(,"state":")";
  out += to_string(state);
  out += '"';
  fmt::format_to(std::back_inserter(out), R"(,"last_update_age_ms":{}}})", last_update_age_ms);
  return out;
}

}  // namespace services::wire
