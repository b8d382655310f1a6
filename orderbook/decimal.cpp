#include "orderbook/decimal.hpp"

#include <limits>

namespace ob {
namespace {

__extension__ using i128 = __int128;
__extension__ using u128 = unsigned __int128;

constexpr std::int64_t kPow10[19] = {1,
                                     10,
                                     100,
                                     1000,
                                     10000,
                                     100000,
                                     1000000,
                                     10000000,
                                     100000000,
                                     1000000000,
                                     10000000000,
                                     100000000000,
                                     1000000000000,
                                     10000000000000,
                                     100000000000000,
                                     1000000000000000,
                                     10000000000000000,
                                     100000000000000000,
                                     1000000000000000000};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Parses a grid value: units must be a multiple of `unit`. Returns the count of units.
bool parse_grid(std::string_view text, int decimals, std::int64_t unit, std::int64_t& count) {
  std::int64_t scaled = 0;
  bool off_grid = false;
  if (!parse_scaled(text, decimals, scaled, off_grid) || off_grid) return false;
  if (scaled % unit != 0) return false;
  count = scaled / unit;
  return true;
}

// Parses one tick or lot size: the decimals are the fraction's, trailing zeros dropped.
bool parse_size(std::string_view text, std::int64_t& units, std::uint8_t& decimals) {
  std::size_t dot = text.find('.');
  int frac = 0;
  if (dot != std::string_view::npos) {
    std::size_t end = text.size();
    while (end > dot + 1 && text[end - 1] == '0') --end;
    frac = static_cast<int>(end - dot - 1);
  }
  if (frac > 18) return false;
  bool off_grid = false;
  if (!parse_scaled(text, frac, units, off_grid) || off_grid || units <= 0) return false;
  decimals = static_cast<std::uint8_t>(frac);
  return true;
}

}  // namespace

// Writes count * unit as a decimal with exactly `decimals` places. The
// product may exceed 128 bits (a level total of ~2^95 lots times a unit up to
// 2^63), so it is formed in base 10^18 limbs: hi * 10^18 + lo.
void append_scaled(std::string& out, Wide count, std::int64_t unit, int decimals) {
  if (count < 0) {
    out.push_back('-');
    count = -count;
  }
  constexpr u128 kE18 = static_cast<u128>(kPow10[18]);
  const u128 c = static_cast<u128>(count);
  const u128 u = static_cast<u128>(unit);
  const u128 low = (c % kE18) * u;  // < 2^60 * 2^63
  u128 hi = (c / kE18) * u + low / kE18;
  u128 lo = low % kE18;
  char digits[80];
  int n = 0;
  if (hi != 0) {
    for (int k = 0; k < 18; ++k, lo /= 10) digits[n++] = static_cast<char>('0' + lo % 10);
    lo = hi;
  }
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(lo % 10));
    lo /= 10;
  } while (lo != 0);
  while (n <= decimals) digits[n++] = '0';  // at least one integer digit
  for (int i = n - 1; i >= 0; --i) {
    out.push_back(digits[i]);
    if (i == decimals && decimals > 0) out.push_back('.');
  }
}

bool parse_scaled(std::string_view text, int decimals, std::int64_t& out, bool& off_grid) {
  off_grid = false;
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (n == 0 || !is_digit(text[0])) return false;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t v = 0;
  for (; i < n && is_digit(text[i]); ++i) {
    const int d = text[i] - '0';
    if (v > (kMax - d) / 10) return false;
    v = v * 10 + d;
  }
  // Scale the integer part.
  if (v > kMax / kPow10[decimals]) return false;
  v *= kPow10[decimals];
  if (i < n) {
    if (text[i] != '.') return false;
    ++i;
    if (i == n) return false;  // "1." is not a decimal here
    std::int64_t frac = 0;
    int digits = 0;
    for (; i < n; ++i) {
      if (!is_digit(text[i])) return false;
      if (digits < decimals) {
        frac = frac * 10 + (text[i] - '0');
        ++digits;
      } else if (text[i] != '0') {
        off_grid = true;  // keep scanning: malformed beats off-grid
      }
    }
    frac *= kPow10[decimals - digits];
    if (v > kMax - frac) return false;
    v += frac;
  }
  out = v;
  return true;
}

Result<BookSpec> BookSpec::parse(std::string_view tick_size, std::string_view lot_size) {
  BookSpec s;
  if (!parse_size(tick_size, s.tick_units, s.price_decimals)) return ErrorCode::invalid_price;
  if (!parse_size(lot_size, s.lot_units, s.qty_decimals)) return ErrorCode::invalid_quantity;
  return s;
}

Result<Price> parse_price(std::string_view text, const BookSpec& spec) {
  std::int64_t ticks = 0;
  if (!parse_grid(text, spec.price_decimals, spec.tick_units, ticks)) {
    return ErrorCode::invalid_price;
  }
  Price p(ticks);
  if (!p.valid()) return ErrorCode::invalid_price;
  return p;
}

Result<Qty> parse_level_qty(std::string_view text, const BookSpec& spec) {
  std::int64_t lots = 0;
  if (!parse_grid(text, spec.qty_decimals, spec.lot_units, lots)) {
    return ErrorCode::invalid_quantity;
  }
  return Qty(lots);
}

Result<Qty> parse_qty(std::string_view text, const BookSpec& spec) {
  Result<Qty> q = parse_level_qty(text, spec);
  if (q.ok() && !q->positive()) return ErrorCode::invalid_quantity;
  return q;
}

void append_price(std::string& out, Price p, const BookSpec& spec) {
  append_scaled(out, p.ticks(), spec.tick_units, spec.price_decimals);
}

void append_qty(std::string& out, LevelQty q, const BookSpec& spec) {
  append_scaled(out, q.lots(), spec.lot_units, spec.qty_decimals);
}

std::string format_price(Price p, const BookSpec& spec) {
  std::string s;
  append_price(s, p, spec);
  return s;
}

std::string format_qty(LevelQty q, const BookSpec& spec) {
  std::string s;
  append_qty(s, q, spec);
  return s;
}

std::string format_mid(Price bid, Price ask, const BookSpec& spec) {
  // (b + a) * tick / 2 == (b + a) * tick * 5 / 10: exact with one more decimal.
  std::string s;
  append_scaled(s, (i128{bid.ticks()} + ask.ticks()) * 5, spec.tick_units, spec.price_decimals + 1);
  return s;
}

std::string format_spread(Price bid, Price ask, const BookSpec& spec) {
  std::string s;
  append_scaled(s, i128{ask.ticks()} - bid.ticks(), spec.tick_units, spec.price_decimals);
  return s;
}

}  // namespace ob
