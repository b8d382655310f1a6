// The book image codec (OrderBook::image and from_image are in order_book.cpp).
#include "orderbook/book_image.hpp"

#include <boost/endian/conversion.hpp>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>

namespace ob {
namespace {

namespace endian = boost::endian;

constexpr ErrorCode kMalformed = ErrorCode::invalid_field;

// Fixed parts of the format (book_image.hpp): the header up to and including
// N, a run's header, an order without its upstream id, a level, a count.
constexpr std::size_t kHeaderBytes = 1 + 1 + 4 * 8 + 8;
constexpr std::size_t kRunBytes = 1 + 8 + 4;
constexpr std::size_t kOrderBytes = 8 + 8 + 4;
constexpr std::size_t kLevelBytes = 1 + 8 + 8 + 8;
constexpr std::size_t kCountBytes = 8;

bool same_level(const BookImage::Order& a, const BookImage::Order& b) {
  return a.side == b.side && a.price == b.price;
}

// Writes fixed-width little-endian fields into a buffer sized beforehand.
class Writer {
 public:
  explicit Writer(char* p) : p_(reinterpret_cast<unsigned char*>(p)) {}

  void u8(std::uint8_t v) { *p_++ = v; }
  void u32(std::uint32_t v) { put<std::uint32_t, 4>(v); }
  void u64(std::uint64_t v) { put<std::uint64_t, 8>(v); }
  void i64(std::int64_t v) { put<std::int64_t, 8>(v); }
  void bytes(std::string_view b) {
    if (!b.empty()) std::memcpy(p_, b.data(), b.size());
    p_ += b.size();
  }
  const char* pos() const { return reinterpret_cast<const char*>(p_); }

 private:
  template <class T, std::size_t N>
  void put(T v) {
    endian::endian_store<T, N, endian::order::little>(p_, v);
    p_ += N;
  }
  unsigned char* p_;
};

// Reads them from untrusted bytes. The readers of fields do not check: the
// caller asks need(n) once for a record's fixed part, then reads it.
class Reader {
 public:
  explicit Reader(std::string_view b)
      : p_(reinterpret_cast<const unsigned char*>(b.data())), left_(b.size()) {}

  std::size_t left() const { return left_; }
  bool need(std::size_t n) const { return left_ >= n; }

  std::uint8_t u8() {
    --left_;
    return *p_++;
  }
  std::uint32_t u32() { return get<std::uint32_t, 4>(); }
  std::uint64_t u64() { return get<std::uint64_t, 8>(); }
  std::int64_t i64() { return get<std::int64_t, 8>(); }
  /// The next n bytes (n <= left()).
  std::string_view bytes(std::size_t n) {
    const std::string_view b(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    left_ -= n;
    return b;
  }

 private:
  template <class T, std::size_t N>
  T get() {
    assert(left_ >= N);
    const T v = endian::endian_load<T, N, endian::order::little>(p_);
    p_ += N;
    left_ -= N;
    return v;
  }
  const unsigned char* p_;
  std::size_t left_;
};

}  // namespace

// ---- the codec -------------------------------------------------------------------

std::string encode(const BookImage& im) {
  const std::vector<BookImage::Order>& orders = im.orders;
  std::size_t size = kHeaderBytes + kCountBytes + im.levels.size() * kLevelBytes;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    size += kOrderBytes + orders[i].external_id.size();
    if (i == 0 || !same_level(orders[i], orders[i - 1])) size += kRunBytes;
  }
  std::string out(size, '\0');
  Writer w(out.data());
  w.u8(kBookImageVersion);
  w.u8(static_cast<std::uint8_t>(im.mode));
  w.u64(im.seq);
  w.u64(im.next_id);
  w.u64(im.next_external);
  w.u64(im.next_trade);
  w.u64(orders.size());
  for (std::size_t i = 0; i < orders.size();) {
    std::size_t end = i + 1;
    while (end < orders.size() && same_level(orders[end], orders[i])) ++end;
    assert(end - i <= std::numeric_limits<std::uint32_t>::max());
    w.u8(static_cast<std::uint8_t>(orders[i].side));
    w.i64(orders[i].price.ticks());
    w.u32(static_cast<std::uint32_t>(end - i));
    for (; i < end; ++i) {
      const BookImage::Order& o = orders[i];
      assert(o.external_id.size() <= std::numeric_limits<std::uint32_t>::max());
      w.u64(o.id.value());
      w.i64(o.qty.lots());
      w.u32(static_cast<std::uint32_t>(o.external_id.size()));
      w.bytes(o.external_id);
    }
  }
  w.u64(im.levels.size());
  for (const BookImage::Level& l : im.levels) {
    const LevelQty::Rep q = l.qty.lots();
    w.u8(static_cast<std::uint8_t>(l.side));
    w.i64(l.price.ticks());
    w.u64(static_cast<std::uint64_t>(q));
    w.i64(static_cast<std::int64_t>(q >> 64));
  }
  assert(w.pos() == out.data() + out.size());
  return out;
}

Result<BookImage> decode_book_image(std::string_view bytes) {
  Reader r(bytes);
  BookImage im;
  if (!r.need(kHeaderBytes)) return kMalformed;
  if (r.u8() != kBookImageVersion) return kMalformed;
  const std::uint8_t mode = r.u8();
  if (mode > static_cast<std::uint8_t>(Mode::l2)) return kMalformed;
  im.mode = static_cast<Mode>(mode);
  im.seq = r.u64();
  im.next_id = r.u64();
  im.next_external = r.u64();
  im.next_trade = r.u64();

  // Counts are believed only as far as the bytes left can hold that many records.
  const std::uint64_t n = r.u64();
  if (n > r.left() / kOrderBytes) return kMalformed;
  im.orders.reserve(n);
  while (im.orders.size() < n) {
    if (!r.need(kRunBytes)) return kMalformed;
    const std::uint8_t side = r.u8();
    const Price price(r.i64());
    const std::uint32_t count = r.u32();
    if (side > 1 || count == 0 || count > n - im.orders.size()) return kMalformed;
    BookImage::Order o{OrderId(), static_cast<Side>(side), price, Qty(), {}};
    if (!im.orders.empty() && same_level(im.orders.back(), o)) return kMalformed;  // not maximal
    for (std::uint32_t k = 0; k < count; ++k) {
      if (!r.need(kOrderBytes)) return kMalformed;
      o.id = OrderId(r.u64());
      o.qty = Qty(r.i64());
      const std::uint32_t length = r.u32();
      if (!r.need(length)) return kMalformed;
      o.external_id.assign(r.bytes(length));
      im.orders.push_back(o);
    }
  }

  if (!r.need(kCountBytes)) return kMalformed;
  const std::uint64_t levels = r.u64();
  if (levels > r.left() / kLevelBytes) return kMalformed;
  im.levels.reserve(levels);
  for (std::uint64_t k = 0; k < levels; ++k) {
    if (!r.need(kLevelBytes)) return kMalformed;
    const std::uint8_t side = r.u8();
    if (side > 1) return kMalformed;
    const Price price(r.i64());
    const std::uint64_t lo = r.u64();
    const auto hi = static_cast<std::uint64_t>(r.i64());
    const auto q = static_cast<LevelQty::Rep>((static_cast<LevelQty::URep>(hi) << 64) | lo);
    im.levels.push_back(BookImage::Level{static_cast<Side>(side), price, LevelQty(q)});
  }
  if (r.left() != 0) return kMalformed;  // trailing bytes
  return im;
}

}  // namespace ob
