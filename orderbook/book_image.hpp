#pragma once
// BookImage: everything that determines an OrderBook's future behaviour, as a
// value, for durability snapshots (issue 16; docs/decisions/024-book-image.md).
//
//   OrderBook::image()         takes one in O(orders);
//   OrderBook::from_image()    rebuilds a book that answers every query and
//                              every later operation exactly as the original;
//   encode / decode_book_image write and read it as bytes (format below).
//
// Not in an image, so not restored: last_change() (a restored book's is empty
// at the image's seq), the upstream ids of orders removed by the operation
// before the image (external_id() of those), and the pools' layout and
// capacity (not observable).
//
// Decoding checks the bytes only (lengths, enum values, canonical form); what
// the values mean (ids against their counters, prices, priority order, a
// crossed venue book ...) is checked by OrderBook::from_image, so an image
// written by a buggy version is refused there even when its bytes are fine.
//
// Format, version 1. Every integer little-endian, fixed width:
//   u8  version (1)          u8  mode (0 venue, 1 mirror, 2 l2)
//   u64 seq                  u64 next_id
//   u64 next_external        u64 next_trade
//   u64 N: resting orders, then one run per level, until N orders are read:
//     u8 side (0 buy, 1 sell), i64 price (ticks), u32 n (>= 1) orders:
//       n x { u64 id, i64 qty (lots), u32 length, the upstream id's bytes }
//     a run's (side, price) differs from the previous run's (runs are maximal)
//   u64 L: levels, then L x { u8 side, i64 price, u64 qty low word, i64 qty high word }
// and nothing after. So every image has exactly one encoding, and bytes that
// decode re-encode to themselves. An order costs 20 bytes + its upstream id;
// a count is refused unless the bytes left can hold that many minimal records.
//
// Thread-safety: value types and pure functions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "orderbook/order_id.hpp"
#include "orderbook/price.hpp"
#include "orderbook/result.hpp"
#include "orderbook/side.hpp"

namespace ob {

/// The format version encode() writes and decode_book_image() reads.
inline constexpr std::uint8_t kBookImageVersion = 1;

/// An exact image of an OrderBook: its mode, counters and resting orders (or
/// L2 levels) in priority order.
struct BookImage {
  /// A resting order.
  struct Order {
    OrderId id;               ///< book-assigned, or with OrderId::kExternalBit for upstream orders
    Side side = Side::buy;    ///< (runs of the same side and price form a level)
    Price price;              ///< the level's price
    Qty qty;                  ///< remaining
    std::string external_id;  ///< the upstream id; empty exactly when !id.external()
    friend bool operator==(const Order&, const Order&) = default;
  };
  /// An aggregated level of an l2 book.
  struct Level {
    Side side = Side::buy;
    Price price;
    LevelQty qty;
    friend bool operator==(const Level&, const Level&) = default;
  };

  Mode mode = Mode::venue;
  std::uint64_t seq = 0;                                    ///< OrderBook::seq()
  std::uint64_t next_id = 1;                                ///< the id the next add() takes
  std::uint64_t next_external = OrderId::kExternalBit | 1;  ///< the next upstream order's id
  TradeId next_trade = 1;                                   ///< the id the next trade takes
  /// venue / mirror: the bids best first (FIFO within a level), then the asks best first.
  std::vector<Order> orders;
  /// l2: the bid levels best first, then the ask levels best first.
  std::vector<Level> levels;

  friend bool operator==(const BookImage&, const BookImage&) = default;
};

/// The bytes of `image` (format above). Enum values out of range are written
/// as they are (and refused by decoding); upstream ids of 4 GiB or more and
/// runs of 2^32 orders, which no book holds, cannot be written (asserted).
std::string encode(const BookImage& image);

/// The image in `bytes`; invalid_field unless they are exactly one encoding.
/// Never reads outside `bytes`; allocates at most a small multiple of their size.
Result<BookImage> decode_book_image(std::string_view bytes);

}  // namespace ob
