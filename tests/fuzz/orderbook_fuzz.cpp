// libFuzzer target over the book's operation stream.
//
// Byte 0 picks the mode; the rest is a stream of 8-byte operations applied to
// OrderBook and ReferenceBook; any disagreement or broken invariant aborts.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "orderbook/order_book.hpp"
#include "orderbook/reference_book.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

namespace {

template <class T>
void same(const ob::Result<T>& a, const ob::Result<T>& b) {
  require(a.ok() == b.ok());
  if (!a.ok()) {
    require(a.error() == b.error());
  } else if constexpr (!std::is_void_v<T>) {
    require(*a == *b);
  }
}

std::int64_t le16(const std::uint8_t* p) {
  return p[0] | (p[1] << 8);
}

void fuzz_book(ob::Mode mode, const std::uint8_t* data, std::size_t size) {
  ob::OrderBook fast(mode);
  ob::ReferenceBook ref(mode);
  std::vector<ob::LevelView> bids, asks;
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint8_t* op = data + i;
    const ob::Side side = (op[0] & 0x80) != 0 ? ob::Side::sell : ob::Side::buy;
    const ob::Price price(1000 + le16(op + 1) % 600 - 300 + ((op[0] & 0x40) != 0 ? 5000 : 0));
    std::int64_t q = le16(op + 3) % 200 - 2;
    if (op[7] == 0xFF) q = INT64_MAX - op[6];
    const ob::Qty qty(q);
    const ob::OrderId id(op[5] % 64);
    switch (op[0] % 12) {
      case 0:
      case 1: {
        ob::NewOrder o{side, price, qty};
        o.type = op[6] % 7 == 0 ? ob::OrderType::market : ob::OrderType::limit;
        o.tif = static_cast<ob::TimeInForce>(op[6] % 3);
        same(fast.add(o), ref.add(o));
        break;
      }
      case 2: {
        const char name[2] = {static_cast<char>('A' + op[5] % 8), 0};
        same(fast.add_external(name, side, price, qty), ref.add_external(name, side, price, qty));
        break;
      }
      case 3:
        same(fast.cancel(id), ref.cancel(id));
        break;
      case 4:
        same(fast.reduce(id, qty), ref.reduce(id, qty));
        break;
      case 5: {
        std::optional<ob::Price> p;
        if (op[6] & 1) p = price;
        same(fast.execute(id, qty, p), ref.execute(id, qty, p));
        break;
      }
      case 6:
        same(fast.modify(id, price, qty), ref.modify(id, price, qty));
        break;
      case 7:
        same(fast.replace(id, price, qty), ref.replace(id, price, qty));
        break;
      case 8: {
        const char name[2] = {static_cast<char>('A' + op[6] % 8), 0};
        same(fast.replace_external(id, name, price, qty),
             ref.replace_external(id, name, price, qty));
        break;
      }
      case 9:
      case 10:
        same(fast.set_level(side, price, qty), ref.set_level(side, price, qty));
        break;
      default: {
        (side == ob::Side::buy ? bids : asks).push_back(ob::LevelView{price, qty, 0});
        if (op[6] & 1) {
          same(fast.apply_snapshot(bids, asks), ref.apply_snapshot(bids, asks));
          bids.clear();
          asks.clear();
        }
      }
    }
    const ob::ChangeSet& a = fast.last_change();
    const ob::ChangeSet& b = ref.last_change();
    require(a.seq == b.seq && a.changed == b.changed && a.top_changed == b.top_changed);
    require(a.trades == b.trades && a.deltas.size() == b.deltas.size());
    require(fast.best(ob::Side::buy) == ref.best(ob::Side::buy));
    require(fast.best(ob::Side::sell) == ref.best(ob::Side::sell));
    require(fast.order_count() == ref.order_count());
  }
  require(!fast.check_invariants());
  for (ob::Side s : {ob::Side::buy, ob::Side::sell}) {
    fast.depth(s, 1u << 20, bids);
    ref.depth(s, 1u << 20, asks);
    require(bids == asks);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  switch (data[0] % 3) {
    case 0:
      fuzz_book(ob::Mode::venue, data + 1, size - 1);
      break;
    case 1:
      fuzz_book(ob::Mode::mirror, data + 1, size - 1);
      break;
    default:
      fuzz_book(ob::Mode::l2, data + 1, size - 1);
      break;
  }
  return 0;
}
