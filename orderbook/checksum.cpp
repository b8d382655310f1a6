#include "orderbook/checksum.hpp"

#include <zlib.h>

#include <string>
#include <vector>

#include "orderbook/decimal.hpp"
#include "orderbook/order_book.hpp"

namespace ob {
namespace {

// Appends a formatted decimal with the dot removed and leading zeros stripped.
void append_digits(std::string& out, std::string_view formatted) {
  bool leading = true;
  for (char c : formatted) {
    if (c == '.') continue;
    if (leading && c == '0') continue;
    leading = false;
    out.push_back(c);
  }
}

}  // namespace

std::uint32_t crc32(std::string_view bytes) {
  // zlib's: the same IEEE 802.3 CRC-32 Kraken's clients compute (zlib.crc32).
  return static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

std::uint32_t book_checksum(std::span<const LevelView> bids, std::span<const LevelView> asks,
                            const BookSpec& spec, std::size_t n) {
  std::string text;
  std::string tmp;
  auto add = [&](std::span<const LevelView> side) {
    for (std::size_t i = 0; i < side.size() && i < n; ++i) {
      tmp.clear();
      append_price(tmp, side[i].price, spec);
      append_digits(text, tmp);
      tmp.clear();
      append_qty(tmp, side[i].qty, spec);
      append_digits(text, tmp);
    }
  };
  add(asks);
  add(bids);
  return crc32(text);
}

std::uint32_t book_checksum(const OrderBook& book, const BookSpec& spec, std::size_t n) {
  std::vector<LevelView> bids, asks;
  book.depth(Side::buy, n, bids);
  book.depth(Side::sell, n, asks);
  return book_checksum(bids, asks, spec, n);
}

}  // namespace ob
