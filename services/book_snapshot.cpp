#include "services/book_snapshot.hpp"

#include "services/byte_codec.hpp"

namespace services {

namespace {

using detail::ByteReader;
using detail::put_enum;
using detail::put_i64;
using detail::put_str;
using detail::put_u64;
using detail::put_u8;

// The least bytes an encoded item takes, to refuse counts the input cannot hold.
constexpr std::size_t kMinApiOrderBytes = 8 + 4 + 4 + 1 + 1 + 8;
constexpr std::size_t kMinRequestBytes = 3 + 8 + 8 + 4 + 4;
constexpr std::size_t kMinReportBytes = 4 + 4 + 3 + 1 + 8 + 1 + 8 + 8 + 8 + 8 + 1;
constexpr std::size_t kMinFillBytes = 8 + 8 + 8 + 4;
constexpr std::size_t kCandleBytes = 8 * 11;
constexpr std::size_t kTradeBytes = 8 + 8 + 8 + 1 + 8;

void put(std::string& out, const OrderRequest& o) {
  put_enum(out, o.side);
  put_enum(out, o.type);
  put_enum(out, o.tif);
  put_i64(out, o.price.ticks());
  put_i64(out, o.qty.lots());
  put_str(out, o.client_order_id);
  put_str(out, o.owner);
}

OrderRequest read_request(ByteReader& in) {
  OrderRequest o;
  o.side = in.enumerated(ob::Side::sell);
  o.type = in.enumerated(ob::OrderType::market);
  o.tif = in.enumerated(ob::TimeInForce::fok);
  o.price = ob::Price(in.i64());
  o.qty = ob::Qty(in.i64());
  o.client_order_id = in.str();
  o.owner = in.str();
  return o;
}

void put(std::string& out, const OrderReport& r) {
  put_str(out, r.order_id);
  put_str(out, r.client_order_id);
  put_enum(out, r.side);
  put_enum(out, r.type);
  put_enum(out, r.tif);
  put_u8(out, r.price ? 1 : 0);
  put_i64(out, r.price ? r.price->ticks() : 0);
  put_i64(out, r.qty.lots());
  put_enum(out, r.status);
  put_i64(out, r.filled.lots());
  put_i64(out, r.remaining.lots());
  put_u64(out, r.trades.size());
  for (const OrderFill& f : r.trades) {
    put_u64(out, f.trade_id);
    put_i64(out, f.price.ticks());
    put_i64(out, f.qty.lots());
    put_str(out, f.maker_order_id);
  }
  put_u8(out, r.repeated ? 1 : 0);
}

OrderReport read_report(ByteReader& in) {
  OrderReport r;
  r.order_id = in.str();
  r.client_order_id = in.str();
  r.side = in.enumerated(ob::Side::sell);
  r.type = in.enumerated(ob::OrderType::market);
  r.tif = in.enumerated(ob::TimeInForce::fok);
  const bool has_price = in.enumerated(std::uint8_t{1}) != 0;
  const std::int64_t price = in.i64();
  if (has_price) r.price = ob::Price(price);
  r.qty = ob::Qty(in.i64());
  r.status = in.enumerated(ob::OrderStatus::cancelled);
  r.filled = ob::Qty(in.i64());
  r.remaining = ob::Qty(in.i64());
  const std::uint64_t fills = in.count(kMinFillBytes, "fills");
  r.trades.reserve(fills);
  for (std::uint64_t i = 0; i < fills && !in.failed(); ++i) {
    OrderFill& f = r.trades.emplace_back();
    f.trade_id = in.u64();
    f.price = ob::Price(in.i64());
    f.qty = ob::Qty(in.i64());
    f.maker_order_id = in.str();
  }
  r.repeated = in.enumerated(std::uint8_t{1}) != 0;
  return r;
}

}  // namespace

std::string encode(const BookSnapshot& s) {
  std::string out;
  put_u8(out, kBookSnapshotVersion);
  put_i64(out, s.last_record_ns);
  put_str(out, s.spec.tick_size());
  put_str(out, s.spec.lot_size());
  put_enum(out, s.spec.mode);
  put_str(out, ob::encode(s.book));
  put_u64(out, s.api_orders.size());
  for (const BookSnapshot::ApiOrder& o : s.api_orders) {
    put_u64(out, o.id);
    put_str(out, o.owner);
    put_str(out, o.client_order_id);
    put_enum(out, o.type);
    put_enum(out, o.tif);
    put_i64(out, o.qty.lots());
  }
  put_u64(out, s.client_orders.size());
  for (const BookSnapshot::ClientOrder& c : s.client_orders) {
    put(out, c.fields);
    put(out, c.last);
  }
  put_u64(out, s.last_upstream_seq);
  put_i64(out, s.top_ts_ns);
  put_i64(out, s.book_ts_ns);
  const wire::Ticker& k = s.ticker;
  put_u64(out, k.seq);
  for (ob::Price p : {k.last_price, k.high, k.low, k.open}) put_i64(out, p.ticks());
  put_i64(out, k.last_size.lots());
  put_i64(out, k.volume.lots());
  put_enum(out, k.last_side);
  put_i64(out, k.ts_ns);
  put_u64(out, k.tick_count);
  for (CandleInterval i : kCandleIntervals) {
    const CandleSeries& series = s.candles.series(i);
    put_i64(out, series.watermark());
    put_u64(out, series.late());
    put_u64(out, series.candles().size());
    for (const Candle& c : series.candles()) {
      put_i64(out, c.start_ns);
      for (ob::Price p : {c.open, c.high, c.low, c.close}) put_i64(out, p.ticks());
      put_i64(out, c.volume.lots());
      put_u64(out, c.trades);
      put_u64(out, static_cast<std::uint64_t>(c.notional >> 64));
      put_u64(out, static_cast<std::uint64_t>(c.notional));
      put_i64(out, c.open_ns);
      put_i64(out, c.close_ns);
    }
  }
  put_u64(out, s.recent_trades.all().size());
  for (const TradeRecord& t : s.recent_trades.all()) {
    put_u64(out, t.seq);
    put_i64(out, t.price.ticks());
    put_i64(out, t.size.lots());
    put_enum(out, t.side);
    put_i64(out, t.ts_ns);
  }
  return out;
}

rt::Result<BookSnapshot, std::string> decode_book_snapshot(std::string_view bytes) {
  ByteReader in(bytes);
  BookSnapshot s;
  const std::uint8_t version = in.u8();
  if (version != 1 && version != kBookSnapshotVersion && !in.failed()) {
    return rt::Err{fmt::format("snapshot format version {} (this marketd reads 1 to {})", version,
                               kBookSnapshotVersion)};
  }
  if (version >= 2) s.last_record_ns = in.i64();
  const std::string tick = in.str();
  const std::string lot = in.str();
  const ob::Mode mode = in.enumerated(ob::Mode::l2);
  const std::string image = in.str();
  const std::uint64_t api = in.count(kMinApiOrderBytes, "api orders");
  s.api_orders.reserve(api);
  for (std::uint64_t i = 0; i < api && !in.failed(); ++i) {
    BookSnapshot::ApiOrder& o = s.api_orders.emplace_back();
    o.id = in.u64();
    o.owner = in.str();
    o.client_order_id = in.str();
    o.type = in.enumerated(ob::OrderType::market);
    o.tif = in.enumerated(ob::TimeInForce::fok);
    o.qty = ob::Qty(in.i64());
  }
  const std::uint64_t clients = in.count(kMinRequestBytes + kMinReportBytes, "client orders");
  s.client_orders.reserve(clients);
  for (std::uint64_t i = 0; i < clients && !in.failed(); ++i) {
    BookSnapshot::ClientOrder& c = s.client_orders.emplace_back();
    c.fields = read_request(in);
    c.last = read_report(in);
  }
  s.last_upstream_seq = in.u64();
  s.top_ts_ns = in.i64();
  s.book_ts_ns = in.i64();
  if (version >= 2) {
    wire::Ticker& k = s.ticker;
    k.seq = in.u64();
    for (ob::Price* p : {&k.last_price, &k.high, &k.low, &k.open}) *p = ob::Price(in.i64());
    k.last_size = ob::Qty(in.i64());
    k.volume = ob::Qty(in.i64());
    k.last_side = in.enumerated(ob::Side::sell);
    k.ts_ns = in.i64();
    k.tick_count = in.u64();
    for (CandleInterval i : kCandleIntervals) {
      const std::int64_t watermark = in.i64();
      const std::uint64_t late = in.u64();
      const std::uint64_t n = in.count(kCandleBytes, "candles");
      std::deque<Candle> candles;
      for (std::uint64_t j = 0; j < n && !in.failed(); ++j) {
        Candle& c = candles.emplace_back();
        c.start_ns = in.i64();
        for (ob::Price* p : {&c.open, &c.high, &c.low, &c.close}) *p = ob::Price(in.i64());
        c.volume = ob::Qty(in.i64());
        c.trades = in.u64();
        c.notional = static_cast<Notional>(in.u64()) << 64;
        c.notional |= in.u64();
        c.open_ns = in.i64();
        c.close_ns = in.i64();
      }
      if (!in.failed() && !s.candles.series(i).restore(std::move(candles), watermark, late)) {
        return rt::Err{
            fmt::format("{} candles: out of order, off their grid or too many", to_string(i))};
      }
    }
    const std::uint64_t m = in.count(kTradeBytes, "recent trades");
    std::deque<TradeRecord> trades;
    for (std::uint64_t j = 0; j < m && !in.failed(); ++j) {
      TradeRecord& t = trades.emplace_back();
      t.seq = in.u64();
      t.price = ob::Price(in.i64());
      t.size = ob::Qty(in.i64());
      t.side = in.enumerated(ob::Side::sell);
      t.ts_ns = in.i64();
    }
    if (!in.failed() && !s.recent_trades.restore(std::move(trades))) {
      return rt::Err{std::string("recent trades: too many")};
    }
  }
  if (auto e = in.error()) return rt::Err{std::move(*e)};
  auto spec = SymbolSpec::parse(tick, lot, mode);
  if (!spec) return rt::Err{fmt::format("spec: tick '{}' or lot '{}' is not valid", tick, lot)};
  s.spec = *spec;
  auto book = ob::decode_book_image(image);
  if (!book) return rt::Err{fmt::format("book image: {}", ob::to_string(book.error()))};
  s.book = std::move(*book);
  return s;
}

std::optional<std::int64_t> snapshot_record_time(std::string_view bytes) {
  ByteReader in(bytes);
  const std::uint8_t version = in.u8();
  const std::int64_t t = in.i64();
  if (in.failed() || version < 2 || version > kBookSnapshotVersion) return std::nullopt;
  return t;
}

}  // namespace services
