// libFuzzer target over book images as recovery reads them back from a
// snapshot (orderbook/book_image.hpp): arbitrary bytes to decode_book_image,
// and what decodes to OrderBook::from_image.
//
// Bytes that decode re-encode to exactly themselves (one encoding per image).
// A book from_image accepts has no broken invariant and its image is exactly
// the decoded one; every upstream id resolves to its order; and it comes apart
// cleanly: cancelling every order (l2: setting every level to 0) in image
// order, each operation accepted, leaves an empty book with no broken
// invariant.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "orderbook/book_image.hpp"
#include "orderbook/order_book.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ob::Result<ob::BookImage> image = ob::decode_book_image(bytes);
  if (!image.ok()) return 0;
  require(ob::encode(*image) == bytes);

  ob::Result<ob::OrderBook> restored = ob::OrderBook::from_image(*image);
  if (!restored.ok()) return 0;
  ob::OrderBook& book = *restored;
  require(!book.check_invariants());
  require(book.image() == *image);
  require(book.seq() == image->seq && book.next_order_id() == ob::OrderId(image->next_id));

  for (const ob::BookImage::Order& o : image->orders) {
    if (!o.id.external()) continue;
    const ob::Result<ob::OrderId> id = book.resolve(o.external_id);
    require(id.ok() && *id == o.id);
  }
  for (const ob::BookImage::Order& o : image->orders) require(book.cancel(o.id).ok());
  for (const ob::BookImage::Level& l : image->levels) {
    require(book.set_level(l.side, l.price, ob::Qty(0)).ok());
  }
  require(book.order_count() == 0);
  require(book.level_count(ob::Side::buy) == 0 && book.level_count(ob::Side::sell) == 0);
  require(!book.check_invariants());
  return 0;
}
