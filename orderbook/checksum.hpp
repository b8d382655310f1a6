#pragma once
// Book checksum in Kraken's scheme (WebSocket v2 "book" channel), so a client
// can verify its copy of the top of the book:
//   for the top N asks (best = lowest first), then the top N bids (best =
//   highest first): format price and qty as decimal strings at the symbol's
//   scale (API.md "Decimals"), delete the '.', strip leading zeros, append
//   price then qty to one string; the checksum is the CRC32 (IEEE 802.3,
//   zlib's crc32) of that string, as an unsigned 32-bit integer.
// Kraken uses N = 10; an empty side contributes nothing.
// Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "orderbook/book_spec.hpp"
#include "orderbook/events.hpp"

namespace ob {

class OrderBook;

/// CRC32 (polynomial 0xEDB88320, reflected, init/xorout 0xFFFFFFFF).
std::uint32_t crc32(std::string_view bytes);

/// The checksum over given levels (each best first; only the first `n` of each are used).
std::uint32_t book_checksum(std::span<const LevelView> bids, std::span<const LevelView> asks,
                            const BookSpec& spec, std::size_t n = 10);

/// The checksum over the top `n` levels of a book.
std::uint32_t book_checksum(const OrderBook& book, const BookSpec& spec, std::size_t n = 10);

}  // namespace ob
