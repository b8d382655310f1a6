#include "services/symbol_spec.hpp"

#include "orderbook/decimal.hpp"

namespace services {

ob::Result<SymbolSpec> SymbolSpec::parse(std::string_view tick_size, std::string_view lot_size,
                                         ob::Mode mode) {
  ob::Result<ob::BookSpec> book = ob::BookSpec::parse(tick_size, lot_size);
  if (!book) return book.error();
  return SymbolSpec{*book, mode};
}

std::string SymbolSpec::tick_size() const {
  return ob::format_price(ob::Price(1), book);
}

std::string SymbolSpec::lot_size() const {
  return ob::format_qty(ob::Qty(1), book);
}

std::optional<ob::Mode> parse_mode(std::string_view text) {
  for (ob::Mode m : {ob::Mode::venue, ob::Mode::mirror, ob::Mode::l2}) {
    if (text == ob::to_string(m)) return m;
  }
  return std::nullopt;
}

}  // namespace services
