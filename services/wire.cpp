#include "services/wire.hpp"

#include <memory>

#include "services/publication.hpp"

namespace services::wire {

using feeds::JsonWriter;

namespace {

// Every symbol frame starts `{"type":…,"symbol":…`; the caller ends the object.
JsonWriter& begin(JsonWriter& w, std::string& out, std::string_view type, const SymbolInfo& s) {
  out.reserve(160);
  return w.begin_object().member("type", type).member("symbol", s.symbol);
}

std::optional<ob::Price> price_if(bool present, ob::Price p) {
  return present ? std::optional(p) : std::nullopt;
}

void write_string_array(JsonWriter& w, std::span<const std::string> items) {
  w.begin_array();
  for (const std::string& item : items) w.string(item);
  w.end_array();
}

std::string echo(std::string_view type, std::optional<std::int64_t> id,
                 std::span<const std::string> channels, std::span<const std::string> symbols) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("type", type);
  if (id) w.member("id", *id);
  write_string_array(w.key("channels"), channels);
  write_string_array(w.key("symbols"), symbols);
  w.end_object();
  return out;
}

}  // namespace

void write_levels(JsonWriter& w, std::span<const ob::LevelView> levels, const SymbolSpec& spec) {
  w.begin_array();
  for (const ob::LevelView& l : levels) {
    w.begin_array().price(l.price, spec.book).qty(l.qty, spec.book).end_array();
  }
  w.end_array();
}

std::string tick(const SymbolInfo& s, std::uint64_t seq, ob::Price price, ob::Qty size,
                 ob::Side side, std::int64_t ts_ns) {
  std::string out;
  JsonWriter w(out);
  begin(w, out, "tick", s).member("seq", seq);
  w.key("price").price(price, s.spec.book).key("size").qty(size, s.spec.book);
  w.member("side", ob::to_string(side)).time_members(ts_ns).end_object();
  return out;
}

std::string ticker(const SymbolInfo& s, const Ticker& t) {
  std::string out;
  JsonWriter w(out);
  const bool any = t.tick_count > 0;
  begin(w, out, "ticker", s).member("seq", t.seq);
  w.price_member("last_price", price_if(any, t.last_price), s.spec.book);
  w.qty_member("volume", t.volume, s.spec.book);
  w.price_member("high", price_if(any, t.high), s.spec.book);
  w.price_member("low", price_if(any, t.low), s.spec.book);
  w.time_members(t.ts_ns).end_object();
  return out;
}

std::string top(const SymbolInfo& s, const Top& t) {
  std::string out;
  JsonWriter w(out);
  const auto& spec = s.spec.book;
  begin(w, out, "top", s).member("seq", t.seq);
  w.price_member("bid", t.bid ? std::optional(t.bid->price) : std::nullopt, spec);
  w.qty_member("bid_qty", t.bid ? std::optional(t.bid->qty) : std::nullopt, spec);
  w.price_member("ask", t.ask ? std::optional(t.ask->price) : std::nullopt, spec);
  w.qty_member("ask_qty", t.ask ? std::optional(t.ask->qty) : std::nullopt, spec);
  w.time_members(t.ts_ns).end_object();
  return out;
}

std::string book_snapshot(const SymbolInfo& s, std::uint64_t seq,
                          std::span<const ob::LevelView> bids, std::span<const ob::LevelView> asks,
                          std::uint32_t checksum) {
  std::string out;
  out.reserve(160 + 32 * (bids.size() + asks.size()));
  JsonWriter w(out);
  begin(w, out, "book_snapshot", s).member("seq", seq);
  write_levels(w.key("bids"), bids, s.spec);
  write_levels(w.key("asks"), asks, s.spec);
  w.member("checksum", std::uint64_t{checksum}).end_object();
  return out;
}

FramePtr book_update_frame(const SymbolInfo& s, std::uint64_t seq,
                           std::vector<ob::LevelDelta> changes, std::uint32_t checksum,
                           std::uint64_t merged) {
  std::string json = book_update(s, seq, changes, checksum, merged);
  return std::make_shared<const Frame>(Frame{Channel::book, Frame::Kind::update, seq, s.symbol,
                                             std::move(json), merged, std::move(changes),
                                             checksum});
}

void candle_members(JsonWriter& w, const Candle& c, const ob::BookSpec& spec, bool closed) {
  w.time_members(c.start_ns, "start", "start_ns");
  w.key("open").price(c.open, spec).key("high").price(c.high, spec);
  w.key("low").price(c.low, spec).key("close").price(c.close, spec);
  w.key("volume").qty(c.volume, spec).member("trades", c.trades);
  w.key("vwap").plain_string(format_vwap(c, spec));
  w.member("closed", closed);
}

std::string candle(const SymbolInfo& s, CandleInterval interval, const Candle& c, bool closed) {
  std::string out;
  JsonWriter w(out);
  begin(w, out, "candle", s).member("interval", to_string(interval));
  candle_members(w, c, s.spec.book, closed);
  w.end_object();
  return out;
}

std::string book_update(const SymbolInfo& s, std::uint64_t seq,
                        std::span<const ob::LevelDelta> changes, std::uint32_t checksum,
                        std::uint64_t merged) {
  std::string out;
  JsonWriter w(out);
  begin(w, out, "book_update", s).member("seq", seq);
  w.key("changes").begin_array();
  for (const ob::LevelDelta& c : changes) {
    w.begin_array().string(ob::to_string(c.side));
    w.price(c.price, s.spec.book).qty(c.qty, s.spec.book).end_array();
  }
  w.end_array().member("checksum", std::uint64_t{checksum});
  if (merged > 1) w.member("merged", merged);
  w.end_object();
  return out;
}

std::string status(const SymbolInfo& s, FeedState state, std::int64_t last_update_age_ms) {
  std::string out;
  JsonWriter w(out);
  begin(w, out, "status", s).member("state", to_string(state));
  w.member("last_update_age_ms", last_update_age_ms).end_object();
  return out;
}

std::string subscribed(std::optional<std::int64_t> id, std::span<const std::string> channels,
                       std::span<const std::string> symbols) {
  return echo("subscribed", id, channels, symbols);
}

std::string unsubscribed(std::optional<std::int64_t> id, std::span<const std::string> channels,
                         std::span<const std::string> symbols) {
  return echo("unsubscribed", id, channels, symbols);
}

std::string pong(std::optional<std::int64_t> id) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("type", "pong");
  if (id) w.member("id", *id);
  w.end_object();
  return out;
}

std::string error(std::optional<std::int64_t> id, std::string_view code, std::string_view message) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("type", "error");
  if (id) w.member("id", *id);
  w.member("code", code).member("message", message).end_object();
  return out;
}

std::string symbol_removed(const SymbolInfo& s) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("type", "error").member("code", "unknown_symbol");
  // No `symbol` member: API.md's error has exactly these fields.
  w.member("message", s.symbol + " was deleted; its subscriptions ended").end_object();
  return out;
}

std::string heartbeat(std::int64_t ts_ns) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("type", "heartbeat").time_members(ts_ns).end_object();
  return out;
}

}  // namespace services::wire
