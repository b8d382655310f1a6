#include "orderbook/checksum.hpp"

#include <array>
#include <string>
#include <vector>

#include "orderbook/decimal.hpp"
#include "orderbook/order_book.hpp"

namespace ob {
namespace {

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kTable = make_table();

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
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes) c = kTable[(c ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
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
