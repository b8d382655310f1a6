// Book images (orderbook/book_image.hpp): a book rebuilt from its image -
// through the bytes - answers every query and every later operation exactly
// as the original, in all three modes; images no book can have are refused;
// bytes that are not exactly one encoding are refused without crashing.
#include "orderbook/book_image.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "orderbook/order_book.hpp"
#include "tests/orderbook/op_stream.hpp"

namespace {

using namespace ob;
using obtest::Op;
using obtest::OpStream;
using obtest::Outcome;

constexpr std::uint64_t kExt = OrderId::kExternalBit;

std::string hex(std::string_view b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (const char c : b) {
    s += kDigits[static_cast<unsigned char>(c) >> 4];
    s += kDigits[static_cast<unsigned char>(c) & 15];
  }
  return s;
}

// Names the first difference (images of big books print badly whole).
::testing::AssertionResult same_image(const BookImage& a, const BookImage& b) {
  auto fail = [] { return ::testing::AssertionFailure(); };
  if (a.mode != b.mode) return fail() << "mode differs";
  if (a.seq != b.seq) return fail() << "seq " << a.seq << " vs " << b.seq;
  if (a.next_id != b.next_id) return fail() << "next_id " << a.next_id << " vs " << b.next_id;
  if (a.next_external != b.next_external) return fail() << "next_external differs";
  if (a.next_trade != b.next_trade) return fail() << "next_trade differs";
  if (a.orders.size() != b.orders.size()) {
    return fail() << a.orders.size() << " vs " << b.orders.size() << " orders";
  }
  for (std::size_t i = 0; i < a.orders.size(); ++i) {
    const BookImage::Order& x = a.orders[i];
    const BookImage::Order& y = b.orders[i];
    if (!(x == y)) {
      return fail() << "order " << i << ": id " << x.id.value() << "/" << y.id.value() << " side "
                    << to_string(x.side) << "/" << to_string(y.side) << " price " << x.price.ticks()
                    << "/" << y.price.ticks() << " qty " << x.qty.lots() << "/" << y.qty.lots()
                    << " upstream '" << x.external_id << "'/'" << y.external_id << "'";
    }
  }
  if (a.levels.size() != b.levels.size()) {
    return fail() << a.levels.size() << " vs " << b.levels.size() << " levels";
  }
  for (std::size_t i = 0; i < a.levels.size(); ++i) {
    if (!(a.levels[i] == b.levels[i])) return fail() << "level " << i << " differs";
  }
  return ::testing::AssertionSuccess();
}

// Exactly the same ChangeSet: deltas in the same order too.
::testing::AssertionResult same_change(const ChangeSet& a, const ChangeSet& b) {
  auto fail = [] { return ::testing::AssertionFailure(); };
  if (a.seq != b.seq) return fail() << "seq " << a.seq << " vs " << b.seq;
  if (a.changed != b.changed) return fail() << "changed differs";
  if (a.top_changed != b.top_changed) return fail() << "top_changed differs";
  if (a.deltas != b.deltas) return fail() << "deltas differ";
  if (a.trades != b.trades) return fail() << "trades differ";
  return ::testing::AssertionSuccess();
}

// image -> bytes -> image -> book, checking each step; the book.
OrderBook through_bytes(const OrderBook& original) {
  const BookImage im = original.image();
  const std::string bytes = encode(im);
  Result<BookImage> decoded = decode_book_image(bytes);
  EXPECT_TRUE(decoded.ok());
  if (!decoded.ok()) return OrderBook(original.mode());
  EXPECT_TRUE(same_image(*decoded, im));
  EXPECT_EQ(encode(*decoded), bytes);
  Result<OrderBook> book = OrderBook::from_image(*decoded);
  EXPECT_TRUE(book.ok()) << to_string(book.error());
  if (!book.ok()) return OrderBook(original.mode());
  EXPECT_EQ(book->check_invariants(), std::nullopt);
  EXPECT_TRUE(same_image(book->image(), im));
  return std::move(*book);
}

// A small mirror book: two bid levels (one with an upstream order behind a
// book-assigned one), a crossed ask level, trades and a modify behind it.
OrderBook small_mirror() {
  OrderBook b(Mode::mirror);
  EXPECT_TRUE(b.add(NewOrder{Side::buy, Price(100), Qty(5)}).ok());        // id 1
  EXPECT_TRUE(b.add_external("A-1", Side::buy, Price(100), Qty(7)).ok());  // kExt | 1
  EXPECT_TRUE(b.add(NewOrder{Side::buy, Price(98), Qty(2)}).ok());         // id 2
  EXPECT_TRUE(b.add_external("B-2", Side::sell, Price(99), Qty(4)).ok());  // kExt | 2: crossed
  EXPECT_TRUE(b.add(NewOrder{Side::sell, Price(99), Qty(3)}).ok());        // id 3
  EXPECT_TRUE(b.add(NewOrder{Side::sell, Price(104), Qty(1)}).ok());       // id 4
  EXPECT_TRUE(b.execute(OrderId(2), Qty(1)).ok());                         // trade 1
  EXPECT_TRUE(b.modify(OrderId(kExt | 2), Price(99), Qty(3)).ok());        // keeps priority
  EXPECT_TRUE(b.add_external("gone", Side::sell, Price(120), Qty(1)).ok());
  EXPECT_TRUE(b.cancel(OrderId(kExt | 3)).ok());
  return b;
}

BookImage small_venue_image() {
  OrderBook b(Mode::venue);
  EXPECT_TRUE(b.add(NewOrder{Side::buy, Price(99), Qty(5)}).ok());  // 1
  EXPECT_TRUE(b.add(NewOrder{Side::buy, Price(99), Qty(6)}).ok());  // 2
  EXPECT_TRUE(b.add(NewOrder{Side::buy, Price(97), Qty(7)}).ok());  // 3
  EXPECT_TRUE(b.add(NewOrder{Side::sell, Price(101), Qty(8)}).ok());
  EXPECT_TRUE(b.add(NewOrder{Side::sell, Price(103), Qty(9)}).ok());
  EXPECT_TRUE(b.add_external("U", Side::sell, Price(103), Qty(2)).ok());
  return b.image();
}

BookImage small_l2_image() {
  OrderBook b(Mode::l2);
  EXPECT_TRUE(b.set_level(Side::buy, Price(99), Qty(10)).ok());
  EXPECT_TRUE(b.set_level(Side::buy, Price(98), Qty(20)).ok());
  EXPECT_TRUE(b.set_level(Side::sell, Price(97), Qty(30)).ok());  // l2 books may cross
  return b.image();
}

ErrorCode refusal(const BookImage& im) {
  const Result<OrderBook> b = OrderBook::from_image(im);
  EXPECT_FALSE(b.ok());
  return b.ok() ? ErrorCode{} : b.error();
}

// ---- images ------------------------------------------------------------------------

TEST(BookImage, ListsOrdersInPriorityOrderWithTheirUpstreamIds) {
  const BookImage im = small_mirror().image();
  EXPECT_EQ(im.mode, Mode::mirror);
  EXPECT_EQ(im.seq, 10u);
  EXPECT_EQ(im.next_id, 5u);
  EXPECT_EQ(im.next_external, kExt | 4);
  EXPECT_EQ(im.next_trade, 2u);
  const std::vector<BookImage::Order> want = {
      {OrderId(1), Side::buy, Price(100), Qty(5), ""},
      {OrderId(kExt | 1), Side::buy, Price(100), Qty(7), "A-1"},
      {OrderId(2), Side::buy, Price(98), Qty(1), ""},
      {OrderId(kExt | 2), Side::sell, Price(99), Qty(3), "B-2"},
      {OrderId(3), Side::sell, Price(99), Qty(3), ""},
      {OrderId(4), Side::sell, Price(104), Qty(1), ""},
  };
  EXPECT_EQ(im.orders, want);
  EXPECT_TRUE(im.levels.empty());
}

TEST(BookImage, EmptyBooksOfEveryModeRoundTrip) {
  for (Mode mode : {Mode::venue, Mode::mirror, Mode::l2}) {
    const OrderBook seeded(mode, 0, std::uint64_t{3} << 40 | 1);  // an incarnation's id block
    const OrderBook copy = through_bytes(seeded);
    EXPECT_EQ(copy.mode(), mode);
    EXPECT_EQ(copy.next_order_id(), seeded.next_order_id());
    EXPECT_EQ(copy.order_count(), 0u);
  }
}

TEST(BookImage, RestoredBookAnswersEveryQueryAsTheOriginal) {
  OrderBook original = small_mirror();
  OrderBook copy = through_bytes(original);
  EXPECT_EQ(copy.seq(), original.seq());
  EXPECT_EQ(copy.next_order_id(), original.next_order_id());
  EXPECT_EQ(copy.order_count(), original.order_count());
  std::vector<LevelView> a, b;
  std::vector<OrderView> oa, ob;
  for (Side s : {Side::buy, Side::sell}) {
    EXPECT_EQ(copy.order_count(s), original.order_count(s));
    EXPECT_EQ(copy.level_count(s), original.level_count(s));
    EXPECT_EQ(copy.best(s), original.best(s));
    copy.depth(s, 100, a);
    original.depth(s, 100, b);
    EXPECT_EQ(a, b);
    for (const LevelView& l : b) {
      copy.level_orders(s, l.price, oa);
      original.level_orders(s, l.price, ob);
      EXPECT_EQ(oa, ob);
      EXPECT_EQ(copy.next_worse(s, l.price), original.next_worse(s, l.price));
    }
  }
  // (kExt | 3 was cancelled by the last operation: see the next test but one.)
  for (std::uint64_t id : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{9},
                           kExt | 1, kExt | 2, kExt | 4}) {
    EXPECT_EQ(copy.order(OrderId(id)), original.order(OrderId(id))) << id;
    EXPECT_EQ(copy.external_id(OrderId(id)), original.external_id(OrderId(id))) << id;
  }
  for (const char* name : {"A-1", "B-2", "gone", "nobody"}) {
    const Result<OrderId> x = copy.resolve(name);
    const Result<OrderId> y = original.resolve(name);
    ASSERT_EQ(x.ok(), y.ok()) << name;
    if (x.ok()) {
      EXPECT_EQ(*x, *y);
    }
  }
  // The same next operations, the same results.
  const auto r1 = copy.add_external("C-3", Side::buy, Price(101), Qty(2));
  const auto r2 = original.add_external("C-3", Side::buy, Price(101), Qty(2));
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(*r1, *r2);
  EXPECT_TRUE(same_change(copy.last_change(), original.last_change()));
  const auto e1 = copy.execute(OrderId(kExt | 2), Qty(3));
  const auto e2 = original.execute(OrderId(kExt | 2), Qty(3));
  ASSERT_TRUE(e1.ok() && e2.ok());
  EXPECT_TRUE(same_change(copy.last_change(), original.last_change()));
  EXPECT_EQ(copy.external_id(OrderId(kExt | 2)), "B-2");  // named for the trade
}

TEST(BookImage, RestoredBookStartsWithNoChangeAtTheImagesSeq) {
  const OrderBook copy = through_bytes(small_mirror());
  EXPECT_EQ(copy.last_change().seq, 10u);
  EXPECT_FALSE(copy.last_change().changed);
  EXPECT_TRUE(copy.last_change().deltas.empty());
  EXPECT_TRUE(copy.last_change().trades.empty());
}

TEST(BookImage, UpstreamIdsOfOrdersTheLastOperationRemovedAreNotKept) {
  OrderBook original(Mode::mirror);
  ASSERT_TRUE(original.add_external("X", Side::buy, Price(10), Qty(1)).ok());
  ASSERT_TRUE(original.execute(OrderId(kExt | 1), Qty(1)).ok());
  EXPECT_EQ(original.external_id(OrderId(kExt | 1)), "X");  // until the next operation
  EXPECT_EQ(through_bytes(original).external_id(OrderId(kExt | 1)), "");
}

TEST(BookImage, FromImageSizesThePoolsForExpectedOrders) {
  const BookImage im = small_venue_image();
  const Result<OrderBook> small = OrderBook::from_image(im);
  const Result<OrderBook> big = OrderBook::from_image(im, 100'000);
  ASSERT_TRUE(small.ok() && big.ok());
  EXPECT_GE(big->memory_bytes(), 100'000 * 32u);
  EXPECT_LT(small->memory_bytes(), big->memory_bytes());
  EXPECT_TRUE(same_image(big->image(), im));
}

TEST(BookImage, TenThousandOrdersAtOneLevelKeepTheirQueue) {
  OrderBook original(Mode::venue);
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(original.add(NewOrder{Side::sell, Price(1000), Qty(1 + i % 7)}).ok());
    ASSERT_TRUE(original.add(NewOrder{Side::buy, Price(990 - i % 50), Qty(1 + i % 3)}).ok());
  }
  OrderBook copy = through_bytes(original);
  std::vector<OrderView> a, b;
  copy.level_orders(Side::sell, Price(1000), a);
  original.level_orders(Side::sell, Price(1000), b);
  EXPECT_EQ(a.size(), 10'000u);
  EXPECT_EQ(a, b);
  // A sweep fills the queue front to back on both.
  const NewOrder sweep{Side::buy, Price(1000), Qty(20'000)};
  ASSERT_EQ(*copy.add(sweep), *original.add(sweep));
  EXPECT_TRUE(same_change(copy.last_change(), original.last_change()));
}

// ---- a snapshot in the middle of random streams ------------------------------------

// Drives an original book with a random stream; at chosen steps rebuilds a
// copy from an image (of the original, or of the copy itself) and from then
// on applies every operation to both, requiring the same results and
// ChangeSets, and the same image every 256 steps and at the end. Records the
// largest book snapshotted (orders, levels).
class SnapshotDifferential {
 public:
  SnapshotDifferential(Mode mode, std::uint64_t seed, OpStream::Knobs k = {})
      : original_(mode), stream_(mode, seed, k), rng_(seed) {}

  void run(std::size_t n, int snapshots) {
    std::vector<std::size_t> at;
    for (int i = 0; i < snapshots; ++i) at.push_back(rng_() % n);
    std::sort(at.begin(), at.end());
    std::size_t next = 0;
    for (step_ = 0; step_ < n && !::testing::Test::HasFailure(); ++step_) {
      while (next < at.size() && at[next] == step_) {
        snapshot(next % 2 == 1 && copy_ ? *copy_ : original_);
        ++next;
      }
      one();
      if (copy_ && step_ % 256 == 0) {
        ASSERT_TRUE(same_image(copy_->image(), original_.image())) << "at step " << step_;
      }
    }
    ASSERT_TRUE(copy_.has_value());
    EXPECT_TRUE(same_image(copy_->image(), original_.image()));
    EXPECT_EQ(copy_->check_invariants(), std::nullopt);
    ::testing::Test::RecordProperty("snapshots", std::to_string(snapshots_));
    ::testing::Test::RecordProperty("max_orders", std::to_string(max_orders_));
    ::testing::Test::RecordProperty("max_levels", std::to_string(max_levels_));
    ::testing::Test::RecordProperty("ops_compared", std::to_string(compared_));
  }

  OrderBook& original() { return original_; }
  OpStream& stream() { return stream_; }

 private:
  void snapshot(const OrderBook& from) {
    copy_.emplace(through_bytes(from));
    ++snapshots_;
    max_orders_ = std::max(max_orders_, from.order_count());
    max_levels_ = std::max(max_levels_, from.level_count(Side::buy) + from.level_count(Side::sell));
  }

  void one() {
    const OpStream::Step s = stream_.next(original_);
    const Outcome a = both(s.op);
    stream_.forget_if_gone(original_);
    stream_.learn(s.op, a);
    if (s.then) stream_.learn(*s.then, both(*s.then));
  }

  Outcome both(const Op& op) {
    const Outcome a = obtest::apply(original_, op);
    if (!copy_) return a;
    const Outcome b = obtest::apply(*copy_, op);
    ++compared_;
    EXPECT_EQ(a, b) << "at step " << step_ << ": " << to_string(a) << " vs " << to_string(b);
    // A refused operation (or a query) leaves last_change() as it was: on
    // the copy, perhaps still the restored book's empty one.
    if (a.ok && op.kind != Op::Kind::resolve) {
      EXPECT_TRUE(same_change(original_.last_change(), copy_->last_change()))
          << "at step " << step_;
    }
    EXPECT_EQ(original_.seq(), copy_->seq()) << "at step " << step_;
    for (const Trade& t : original_.last_change().trades) {
      EXPECT_EQ(original_.external_id(t.maker), copy_->external_id(t.maker)) << "at step " << step_;
    }
    EXPECT_EQ(original_.order(op.id), copy_->order(op.id)) << "at step " << step_;
    EXPECT_EQ(original_.next_order_id(), copy_->next_order_id()) << "at step " << step_;
    return a;
  }

  OrderBook original_;
  std::optional<OrderBook> copy_;
  OpStream stream_;
  std::mt19937_64 rng_;
  std::size_t step_ = 0;
  std::size_t snapshots_ = 0, max_orders_ = 0, max_levels_ = 0, compared_ = 0;
};

class BookImageStreams : public ::testing::TestWithParam<std::tuple<Mode, int>> {};

TEST_P(BookImageStreams, RestoredBookBehavesAsTheOriginalForTheRestOfTheStream) {
  const auto [mode, seed] = GetParam();
  SnapshotDifferential d(mode, 0xB00C + static_cast<std::uint64_t>(seed) * 104729);
  d.run(40'000, 4);
}

INSTANTIATE_TEST_SUITE_P(Seeds, BookImageStreams,
                         ::testing::Combine(::testing::Values(Mode::venue, Mode::mirror, Mode::l2),
                                            ::testing::Values(1, 2, 3)),
                         [](const ::testing::TestParamInfo<std::tuple<Mode, int>>& p) {
                           return std::string(to_string(std::get<0>(p.param))) + "_seed" +
                                  std::to_string(std::get<1>(p.param));
                         });

TEST(BookImageStreams, DeepQueueThenWideJumpsAndSweeps) {
  for (Mode mode : {Mode::venue, Mode::mirror}) {
    SnapshotDifferential d(mode, 99, OpStream::Knobs{200, 60, 10, 80});
    for (int i = 0; i < 5'000; ++i) {
      Op op;
      op.order = NewOrder{i % 2 == 0 ? Side::sell : Side::buy, Price(i % 2 == 0 ? 100001 : 99999),
                          d.stream().small_qty()};
      d.stream().learn(op, obtest::apply(d.original(), op));
    }
    d.run(30'000, 5);
  }
}

// ---- refused images ----------------------------------------------------------------

TEST(BookImageValidation, AcceptsTheImagesBooksHave) {
  EXPECT_TRUE(OrderBook::from_image(small_mirror().image()).ok());
  EXPECT_TRUE(OrderBook::from_image(small_venue_image()).ok());
  EXPECT_TRUE(OrderBook::from_image(small_l2_image()).ok());
}

TEST(BookImageValidation, RefusesDuplicateIds) {
  BookImage im = small_venue_image();
  im.orders[2].id = im.orders[0].id;
  EXPECT_EQ(refusal(im), ErrorCode::duplicate_order);
  im = small_venue_image();
  im.orders[3].id = im.orders[5].id;  // an upstream order's id twice, under another name
  im.orders[3].external_id = "V";
  EXPECT_EQ(refusal(im), ErrorCode::duplicate_order);
}

TEST(BookImageValidation, RefusesAnUpstreamIdTwice) {
  BookImage im = small_mirror().image();
  im.orders[3].external_id = "A-1";
  EXPECT_EQ(refusal(im), ErrorCode::duplicate_order);
}

TEST(BookImageValidation, RefusesQuantitiesAndPricesAnAddWould) {
  for (std::int64_t q : {std::int64_t{0}, std::int64_t{-1}}) {
    BookImage im = small_venue_image();
    im.orders[1].qty = Qty(q);
    EXPECT_EQ(refusal(im), ErrorCode::invalid_quantity);
  }
  for (std::int64_t p : {std::int64_t{0}, std::int64_t{-5}, Price::kMaxTicks + 1}) {
    BookImage im = small_venue_image();
    im.orders[0].price = Price(p);
    im.orders[1].price = Price(p);
    EXPECT_EQ(refusal(im), ErrorCode::invalid_price);
  }
}

TEST(BookImageValidation, RefusesIdsTheBookHasNotHandedOut) {
  BookImage im = small_venue_image();
  im.orders[0].id = OrderId(im.next_id);
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im.orders[0].id = OrderId(0);
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = small_venue_image();
  im.orders.back().id = OrderId(im.next_external);
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im.orders.back().id = OrderId(kExt);
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
}

TEST(BookImageValidation, RefusesUpstreamIdsMissingOrStray) {
  BookImage im = small_venue_image();
  im.orders.back().external_id.clear();
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = small_venue_image();
  im.orders[0].external_id = "stray";
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
}

TEST(BookImageValidation, RefusesOrdersOutOfPriorityOrder) {
  BookImage im = small_venue_image();
  std::swap(im.orders[0], im.orders[2]);  // a worse bid level first
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = small_venue_image();
  std::rotate(im.orders.begin(), im.orders.begin() + 3, im.orders.end());  // asks before bids
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = small_venue_image();
  std::swap(im.orders[1], im.orders[2]);  // the 99 level split by the 97 one
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = small_venue_image();
  im.orders[3].side = Side::buy;  // an ask level among the bids' worst
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = small_venue_image();
  im.orders[0].side = static_cast<Side>(2);
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
}

TEST(BookImageValidation, RefusesACrossedOrLockedVenueBookButNotAMirror) {
  BookImage im = small_venue_image();
  for (std::size_t i = 0; i < 2; ++i) im.orders[i].price = Price(101);  // locked
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  for (std::size_t i = 0; i < 2; ++i) im.orders[i].price = Price(102);  // crossed
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im.mode = Mode::mirror;
  const Result<OrderBook> mirror = OrderBook::from_image(im);
  ASSERT_TRUE(mirror.ok());
  EXPECT_EQ(mirror->best(Side::buy)->price, Price(102));
}

TEST(BookImageValidation, RefusesCountersNoBookCanReach) {
  const BookImage good = small_venue_image();
  BookImage im = good;
  im.next_id = 0;
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = good;
  im.next_id = kExt;
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = good;
  im.next_external = kExt;
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = good;
  im.next_trade = 0;
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = good;
  im.seq = im.orders.size() - 1;  // more resting orders than operations
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = good;
  im.mode = static_cast<Mode>(3);
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  BookImage l2 = small_l2_image();
  l2.next_trade = 2;  // l2 books never trade
  EXPECT_EQ(refusal(l2), ErrorCode::invalid_field);
  l2 = small_l2_image();
  l2.next_external = kExt | 2;
  EXPECT_EQ(refusal(l2), ErrorCode::invalid_field);
  l2 = small_l2_image();
  l2.seq = 0;
  EXPECT_EQ(refusal(l2), ErrorCode::invalid_field);
}

TEST(BookImageValidation, RefusesWhatTheModeCannotHold) {
  BookImage im = small_venue_image();
  im.levels = small_l2_image().levels;
  EXPECT_EQ(refusal(im), ErrorCode::mode_mismatch);
  BookImage l2 = small_l2_image();
  l2.orders = small_venue_image().orders;
  l2.seq = 100;
  EXPECT_EQ(refusal(l2), ErrorCode::mode_mismatch);
}

TEST(BookImageValidation, RefusesL2LevelsAsApplySnapshotWould) {
  BookImage im = small_l2_image();
  im.levels[1].price = im.levels[0].price;  // a price twice on a side
  EXPECT_EQ(refusal(im), ErrorCode::invalid_price);
  im = small_l2_image();
  std::swap(im.levels[0], im.levels[1]);
  EXPECT_EQ(refusal(im), ErrorCode::invalid_field);
  im = small_l2_image();
  im.levels[2].qty = LevelQty(Qty(0));
  EXPECT_EQ(refusal(im), ErrorCode::invalid_quantity);
  im = small_l2_image();
  im.levels[0].price = Price(0);
  EXPECT_EQ(refusal(im), ErrorCode::invalid_price);
  // Totals up to what a level holds (2^95 - 1) are fine, beyond are not.
  im = small_l2_image();
  im.levels[0].qty = LevelQty((LevelQty::Rep{1} << 95) - 1);
  const Result<OrderBook> big = OrderBook::from_image(im);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->best(Side::buy)->qty, im.levels[0].qty);
  im.levels[0].qty = LevelQty(LevelQty::Rep{1} << 95);
  EXPECT_EQ(refusal(im), ErrorCode::invalid_quantity);
}

// ---- the bytes ---------------------------------------------------------------------

TEST(BookImageCodec, WritesTheDocumentedFormat) {
  BookImage im;
  im.mode = Mode::mirror;
  im.seq = 3;
  im.next_id = 2;
  im.next_external = kExt | 2;
  im.orders = {{OrderId(1), Side::buy, Price(100), Qty(5), ""},
               {OrderId(kExt | 1), Side::buy, Price(100), Qty(7), "AB"},
               {OrderId(1), Side::sell, Price(-1), Qty(-2), ""}};
  im.levels = {{Side::sell, Price(9), LevelQty(-(LevelQty::Rep{1} << 64))}};
  const std::string want =
      "0101"                        // version 1, mirror
      "0300000000000000"            // seq
      "0200000000000000"            // next_id
      "0200000000000080"            // next_external
      "0100000000000000"            // next_trade
      "0300000000000000"            // 3 orders
      "00640000000000000002000000"  // buy 100: 2 orders
      "01000000000000000500000000000000"
      "00000000"
      "01000000000000800700000000000000"
      "02000000"
      "4142"
      "01ffffffffffffffff01000000"  // sell -1: 1 order
      "0100000000000000feffffffffffffff"
      "00000000"
      "0100000000000000"  // 1 level: sell 9, -2^64
      "01"
      "0900000000000000"
      "0000000000000000"
      "ffffffffffffffff";
  EXPECT_EQ(hex(encode(im)), want);
  const Result<BookImage> back = decode_book_image(encode(im));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, im);
}

// A valid encoding with several runs, upstream ids and l2-like levels (decoding
// does not check meaning, only form).
std::string sample_bytes() {
  BookImage im = small_mirror().image();
  im.levels = small_l2_image().levels;
  return encode(im);
}

TEST(BookImageCodec, EveryTruncationIsRefused) {
  for (const std::string& bytes : {sample_bytes(), encode(small_l2_image()), encode(BookImage{})}) {
    ASSERT_TRUE(decode_book_image(bytes).ok());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      const std::string cut = bytes.substr(0, n);  // its own allocation: ASan sees overreads
      const Result<BookImage> r = decode_book_image(cut);
      ASSERT_FALSE(r.ok()) << "a prefix of " << n << " of " << bytes.size() << " bytes decoded";
      EXPECT_EQ(r.error(), ErrorCode::invalid_field);
    }
  }
}

TEST(BookImageCodec, RefusesTrailingBytesAndUnknownVersionsOrEnums) {
  const std::string good = sample_bytes();
  EXPECT_FALSE(decode_book_image(good + '\0').ok());
  std::string b = good;
  b[0] = 2;  // version
  EXPECT_FALSE(decode_book_image(b).ok());
  b = good;
  b[1] = 3;  // mode
  EXPECT_FALSE(decode_book_image(b).ok());
  b = good;
  b[42] = 2;  // the first run's side
  EXPECT_FALSE(decode_book_image(b).ok());
  b = good;
  b[good.size() - 25] = 2;  // the last level's side
  EXPECT_FALSE(decode_book_image(b).ok());
}

TEST(BookImageCodec, RefusesRunsThatAreEmptyOrNotMaximal) {
  BookImage im;
  im.seq = 2;
  im.next_id = 3;
  im.orders = {{OrderId(1), Side::buy, Price(7), Qty(1), ""},
               {OrderId(2), Side::buy, Price(7), Qty(1), ""}};
  const std::string good = encode(im);
  ASSERT_EQ(good.size(), 42u + 13 + 2 * 20 + 8);
  // The same two orders as two runs of one: a second encoding, refused.
  std::string split = good.substr(0, 42 + 9) + std::string("\x01\0\0\0", 4) +
                      good.substr(42 + 13, 20) + good.substr(42, 9) + std::string("\x01\0\0\0", 4) +
                      good.substr(42 + 13 + 20);
  ASSERT_EQ(split.size(), good.size() + 13);
  EXPECT_FALSE(decode_book_image(split).ok());
  // Prices differing by a tick make it valid again.
  split[42 + 13 + 20 + 1] = 8;
  EXPECT_TRUE(decode_book_image(split).ok());
  // A run of no orders.
  std::string empty = good;
  empty.replace(42 + 9, 4, std::string("\0\0\0\0", 4));
  EXPECT_FALSE(decode_book_image(empty).ok());
}

TEST(BookImageCodec, RefusesCountsTheBytesCannotHold) {
  const std::string good = encode(small_venue_image());
  auto with_u64 = [&](std::size_t at, std::uint64_t v) {
    std::string b = good;
    for (int i = 0; i < 8; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
    return b;
  };
  auto with_u32 = [&](std::size_t at, std::uint32_t v) {
    std::string b = good;
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
    return b;
  };
  // Orders claimed: all bits, 2^40, one more than there are. ASan would
  // report an allocation of that size; the decoder must refuse first.
  for (std::uint64_t n : {~std::uint64_t{0}, std::uint64_t{1} << 40, std::uint64_t{7}}) {
    EXPECT_FALSE(decode_book_image(with_u64(34, n)).ok()) << n;
  }
  // The level count at the end.
  for (std::uint64_t n : {~std::uint64_t{0}, std::uint64_t{1} << 59, std::uint64_t{1}}) {
    EXPECT_FALSE(decode_book_image(with_u64(good.size() - 8, n)).ok()) << n;
  }
  // The first run's order count, and the first upstream id's length.
  for (std::uint32_t n : {~std::uint32_t{0}, std::uint32_t{3}}) {
    EXPECT_FALSE(decode_book_image(with_u32(42 + 9, n)).ok()) << n;
  }
  EXPECT_FALSE(decode_book_image(with_u32(42 + 13 + 16, ~std::uint32_t{0})).ok());
  EXPECT_FALSE(decode_book_image(with_u32(42 + 13 + 16, 1)).ok());
}

// Random damage: decoding never crashes; what decodes re-encodes to the same
// bytes; what from_image accepts is a sound book whose image is what it got.
TEST(BookImageCodec, DamagedBytesAreRefusedOrRestoreSoundBooks) {
  const std::vector<std::string> seeds = {sample_bytes(), encode(small_mirror().image()),
                                          encode(small_venue_image()), encode(small_l2_image())};
  std::mt19937_64 rng(2026);
  std::size_t decoded = 0, restored = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string b = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      const std::size_t at = rng() % b.size();
      switch (rng() % 4) {
        case 0:
          b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8)));
          break;
        case 1:
          b[at] = static_cast<char>(rng());
          break;
        case 2:
          b.erase(at, 1 + rng() % 4);
          break;
        default:
          b.insert(at, 1 + rng() % 4, static_cast<char>(rng()));
      }
    }
    const Result<BookImage> im = decode_book_image(b);
    if (!im.ok()) continue;
    ++decoded;
    ASSERT_EQ(encode(*im), b);
    const Result<OrderBook> book = OrderBook::from_image(*im);
    if (!book.ok()) continue;
    ++restored;
    ASSERT_EQ(book->check_invariants(), std::nullopt);
    ASSERT_TRUE(same_image(book->image(), *im));
  }
  ::testing::Test::RecordProperty("decoded", std::to_string(decoded));
  ::testing::Test::RecordProperty("restored", std::to_string(restored));
  EXPECT_GT(decoded, 0u);
  EXPECT_GT(restored, 0u);
}

}  // namespace
