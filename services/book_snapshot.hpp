#pragma once
// BookSnapshot: a symbol's book server as it was after journal record <seq>
// (API.md "Durability"), so recovery replays only the journal after it: the
// book's exact image, the API orders' owners, the remembered client orders
// (idempotent repeats), and the upstream tick seq — everything a replay of the
// records before it would have rebuilt. Written by the journal's thread
// (JournalWriter::snapshot) once that record is durable.
//
// Format, version 2, integers little-endian (services/byte_codec.hpp):
//   u8 version, i64 last record time (version 2 on; first, so
//   snapshot_record_time() reads it without decoding the rest),
//   spec (str tick, str lot, u8 mode), str book image
//   (ob::encode), u64 N api orders, u64 M client orders (oldest first),
//   u64 last upstream seq, i64 top ts, i64 book ts, then (version 2 on) the
//   ticker: u64 seq, i64 last price, high, low, open (ticks), i64 last size,
//   volume (lots), u8 last side, i64 ts, u64 tick count; the candles, per
//   interval (1s … 1d): i64 watermark, u64 late, u64 N, N × (i64 start,
//   i64 open, high, low, close, i64 volume, u64 trades, u64 notional high,
//   u64 notional low, i64 open time, i64 close time); u64 M recent trades,
//   M × (u64 seq, i64 price, i64 size, u8 side, i64 ts); nothing after.
// Thread-safety: value types and pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orderbook/book_image.hpp"
#include "runtime/result.hpp"
#include "services/api_order.hpp"
#include "services/candles.hpp"
#include "services/recent_trades.hpp"
#include "services/symbol_spec.hpp"
#include "services/wire.hpp"

namespace services {

/// The format version encode() writes.
inline constexpr std::uint8_t kBookSnapshotVersion = 2;

/// What a book server must have to go on exactly as it would have after a replay.
struct BookSnapshot {
  /// A resting order placed through the API: who owns it and how it was entered.
  struct ApiOrder {
    std::uint64_t id = 0;
    std::string owner;
    std::string client_order_id;
    ob::OrderType type = ob::OrderType::limit;
    ob::TimeInForce tif = ob::TimeInForce::gtc;
    ob::Qty qty;  ///< as entered
    friend bool operator==(const ApiOrder&, const ApiOrder&) = default;
  };
  /// An order remembered for client_order_id idempotency.
  struct ClientOrder {
    OrderRequest fields;  ///< with its owner
    OrderReport last;
    friend bool operator==(const ClientOrder&, const ClientOrder&) = default;
  };

  SymbolSpec spec;
  ob::BookImage book;
  std::vector<ApiOrder> api_orders;        ///< by id
  std::vector<ClientOrder> client_orders;  ///< oldest first
  std::uint64_t last_upstream_seq = 0;
  std::int64_t top_ts_ns = 0;
  std::int64_t book_ts_ns = 0;
  /// The time of the last timed record it includes (0: none, or a version 1 snapshot).
  std::int64_t last_record_ns = 0;
  /// The trade stream's ticker, candles and last trades (version 2 on; empty
  /// in a version 1 snapshot).
  wire::Ticker ticker;
  Candles candles;
  RecentTrades recent_trades;
  friend bool operator==(const BookSnapshot&, const BookSnapshot&) = default;
};

/// The snapshot's bytes.
std::string encode(const BookSnapshot& s);
/// A snapshot from its bytes; what is wrong when they are not one (the book
/// image's meaning is checked by OrderBook::from_image, not here).
rt::Result<BookSnapshot, std::string> decode_book_snapshot(std::string_view bytes);
/// The last record time of a snapshot's bytes without decoding the rest;
/// nullopt when they are not a snapshot that records it (version 1).
std::optional<std::int64_t> snapshot_record_time(std::string_view bytes);

}  // namespace services
