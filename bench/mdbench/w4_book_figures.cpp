#include "bench/mdbench/w4_book_figures.hpp"

namespace mdbench {

void W4Figures::apply(ob::OrderBook& book, const w4::Op& op) {
  if (op.kind == w4::Op::Kind::add) {
    const ob::NewOrder o{op.side == 0 ? ob::Side::buy : ob::Side::sell, ob::Price(op.price),
                         ob::Qty(op.qty)};
    auto r = book.add(o);
    ids_match &= r.ok() && r->id.value() == op.id;
    (op.crossing ? crossing_adds : passive_adds) += 1;
    for (const ob::Trade& t : book.last_change().trades) {
      ++trades;
      traded_qty += t.qty.lots();
      notional += t.qty.lots() * t.price.ticks();
    }
  } else {
    ++cancels;
    cancel_hits += book.cancel(ob::OrderId(op.id)).ok() ? 1 : 0;
  }
}

ResultLine w4_line(std::string_view id, std::string_view name, std::int64_t ops, double elapsed_ms,
                   const W4Figures& f, const ob::OrderBook& book) {
  const auto bid = book.best(ob::Side::buy);
  const auto ask = book.best(ob::Side::sell);
  const std::int64_t resting = static_cast<std::int64_t>(book.order_count());
  const bool valid = !book.check_invariants() && f.ids_match && f.passive_adds == 600164 &&
                     f.crossing_adds == 50139 && f.cancels == 349697 && f.cancel_hits == 300840 &&
                     f.trades == 90010 && f.traded_qty == 2301643 && f.notional == 23016445227 &&
                     resting == 258494 && book.level_count(ob::Side::buy) == 51 &&
                     book.level_count(ob::Side::sell) == 49 && bid && bid->price.ticks() == 10001 &&
                     bid->qty.lots() == 92 && ask && ask->price.ticks() == 10002 &&
                     ask->qty.lots() == 28;
  ResultLine line(id, name);
  line.add("ops", ops)
      .add_decimal("elapsed_ms", elapsed_ms)
      .add("ops_per_s", static_cast<std::int64_t>(static_cast<double>(ops) / (elapsed_ms / 1e3)))
      .add("passive_adds", f.passive_adds)
      .add("crossing_adds", f.crossing_adds)
      .add("cancels", f.cancels)
      .add("cancel_hits", f.cancel_hits)
      .add("trades", f.trades)
      .add("traded_qty", f.traded_qty)
      .add("notional", f.notional)
      .add("resting", resting)
      .add("bid_levels", static_cast<std::int64_t>(book.level_count(ob::Side::buy)))
      .add("ask_levels", static_cast<std::int64_t>(book.level_count(ob::Side::sell)))
      .add("best_bid", bid ? bid->price.ticks() : 0)
      .add("best_bid_qty", bid ? bid->qty.lots() : 0)
      .add("best_ask", ask ? ask->price.ticks() : 0)
      .add("best_ask_qty", ask ? ask->qty.lots() : 0)
      .set_valid(valid);
  return line;
}

}  // namespace mdbench
