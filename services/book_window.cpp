#include "services/book_window.hpp"

#include <algorithm>
#include <optional>

#include "orderbook/checksum.hpp"

namespace services {
namespace {

// True when `a` is a better price than `b` on `side` (bids: higher, asks: lower).
bool better(ob::Side side, ob::Price a, ob::Price b) {
  return side == ob::Side::buy ? a > b : a < b;
}

}  // namespace

BookWindow::BookWindow(const ob::OrderBook& book, std::uint32_t depth) : depth_(depth) {
  for (ob::Side side : {ob::Side::buy, ob::Side::sell}) {
    auto& w = sides_[static_cast<std::size_t>(side)];
    w.reserve(std::min<std::size_t>(depth, book.level_count(side)) + 1);
    book.depth(side, depth, w);
  }
}

void BookWindow::apply(const ob::OrderBook& book, std::span<const ob::LevelDelta> deltas,
                       std::vector<ob::LevelDelta>& out) {
  out.clear();
  for (const ob::LevelDelta& d : deltas) apply_one(book, d, out);
  if (out.size() < 2) return;
  // One entry per level, its last state: a level may be sent twice within one
  // change (pulled in by a refill, then pushed out by an insert).
  std::stable_sort(out.begin(), out.end(), [](const ob::LevelDelta& a, const ob::LevelDelta& b) {
    return a.side != b.side ? a.side < b.side : a.price < b.price;
  });
  std::size_t kept = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool last_of_level =
        i + 1 == out.size() || out[i + 1].side != out[i].side || out[i + 1].price != out[i].price;
    if (last_of_level) out[kept++] = out[i];
  }
  out.resize(kept);
}

void BookWindow::apply_one(const ob::OrderBook& book, const ob::LevelDelta& d,
                           std::vector<ob::LevelDelta>& out) {
  auto& w = sides_[static_cast<std::size_t>(d.side)];
  const bool full = w.size() >= depth_;
  // Beyond a full window's worst level: not ours, nothing to send.
  if (full && better(d.side, w.back().price, d.price)) return;
  auto at = std::lower_bound(w.begin(), w.end(), d.price, [&](const ob::LevelView& l, ob::Price p) {
    return better(d.side, l.price, p);
  });
  const bool found = at != w.end() && at->price == d.price;
  if (d.qty.lots() > 0) {
    if (found) {
      at->qty = d.qty;
    } else {
      w.insert(at, ob::LevelView{d.price, d.qty, 0});
    }
    out.push_back(d);
    if (w.size() > depth_) {
      out.push_back(ob::LevelDelta{d.side, w.back().price, ob::Qty(0)});
      w.pop_back();
    }
    return;
  }
  if (!found) return;  // a level the window never held
  w.erase(at);
  out.push_back(d);
  // A window that had all `depth` levels takes in the book's next one. A
  // window holding the whole side may still gain a level added by this same
  // change (the book already holds it): look for it too.
  std::optional<ob::LevelView> next =
      w.empty() ? book.best(d.side) : book.next_worse(d.side, w.back().price);
  if (next) {
    w.push_back(ob::LevelView{next->price, next->qty, 0});
    out.push_back(ob::LevelDelta{d.side, next->price, next->qty});
  }
}

std::uint32_t BookWindow::checksum(const ob::BookSpec& spec) const {
  return ob::book_checksum(levels(ob::Side::buy), levels(ob::Side::sell), spec, kChecksumLevels);
}

}  // namespace services
