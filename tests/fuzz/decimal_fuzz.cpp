// libFuzzer target over the decimal codec (API.md "Decimals").
//
// Byte 0 picks a symbol spec, the rest is the text. Whatever parses must be
// valid, print at the spec's scale and re-parse to the same value; nothing may
// crash, overflow (UBSan) or read out of bounds (ASan).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "orderbook/decimal.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const ob::BookSpec specs[] = {
      ob::BookSpec::integer(), *ob::BookSpec::parse("0.01", "0.0001"),
      *ob::BookSpec::parse("0.05", "5"), *ob::BookSpec::parse("0.00000001", "0.00000001")};
  const ob::BookSpec& spec = specs[data[0] % 4];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (auto p = ob::parse_price(text, spec)) {
    require(p->valid());
    auto again = ob::parse_price(ob::format_price(*p, spec), spec);
    require(again.ok() && *again == *p);
  }
  if (auto q = ob::parse_qty(text, spec)) {
    require(q->lots() > 0);
    auto again = ob::parse_qty(ob::format_qty(*q, spec), spec);
    require(again.ok() && *again == *q);
  }
  if (auto q = ob::parse_level_qty(text, spec)) {
    require(q->lots() >= 0);
    auto again = ob::parse_level_qty(ob::format_qty(*q, spec), spec);
    require(again.ok() && *again == *q);
  }
  // Specs parse from the same text: tick and lot alike.
  if (auto s = ob::BookSpec::parse(text, text)) {
    require(s->tick_units > 0 && s->lot_units > 0 && s->price_decimals <= 18 &&
            s->qty_decimals <= 18);
  }
  return 0;
}
