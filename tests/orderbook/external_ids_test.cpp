// Upstream (string) order ids: the flat IdMap under repeated keys and
// backward-shift deletion, ExternalIds with forced hash collisions, and the
// OrderBook's upstream-id operations at scale (growth, long ids, retired
// names after fills, no allocation per operation once warm).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "orderbook/detail/external_ids.hpp"
#include "orderbook/detail/id_map.hpp"
#include "orderbook/order_book.hpp"

// Counts heap allocations so the steady-state test can assert none happen.
// Sanitizer runtimes own operator new, so the count is off under them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MARKETD_COUNT_ALLOCS 0
#else
#define MARKETD_COUNT_ALLOCS 1
namespace {
std::atomic<std::size_t> g_allocs{0};
}  // namespace
// These replacements pair new with malloc and delete with free on purpose;
// GCC 12 at -O2 sees the inlined free() under `delete` and misreports it.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
// Order nodes are 32-byte aligned: their pool goes through the aligned forms.
void* operator new(std::size_t n, std::align_val_t a) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  const auto al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
#endif

namespace {

using namespace ob;
using detail::ExternalIds;
using detail::IdMap;

// a + b; by append, as g++ 12 at -O3 reports a false -Wrestrict on
// operator+ of strings (GCC bug 105329).
std::string cat(std::string_view a, std::string_view b) {
  std::string s(a);
  s += b;
  return s;
}

// Every name hashes alike: every lookup walks one cluster and must compare names.
struct ConstantHash {
  std::size_t operator()(std::string_view) const { return 42; }
};
// Few distinct hashes (by length): long clusters of mixed keys.
struct LengthHash {
  std::size_t operator()(std::string_view s) const { return s.size(); }
};
// Hash 0 is IdMap's empty marker; ExternalIds must remap it.
struct ZeroHash {
  std::size_t operator()(std::string_view) const { return 0; }
};

TEST(IdMap, RepeatedKeysAreToldApartByValue) {
  IdMap m(16);
  for (std::uint32_t v = 0; v < 50; ++v) m.insert(7, v);  // grows past 16 with one key
  EXPECT_EQ(m.size(), 50u);
  EXPECT_GE(m.capacity(), 128u);
  for (std::uint32_t v = 0; v < 50; ++v) {
    EXPECT_EQ(m.find(7, [v](std::uint32_t x) { return x == v; }), v);
  }
  EXPECT_EQ(m.find(7, [](std::uint32_t x) { return x == 99; }), IdMap::kNone);
  for (std::uint32_t v = 0; v < 50; v += 2) m.erase(7, v);
  EXPECT_TRUE(m.chains_intact());
  for (std::uint32_t v = 0; v < 50; ++v) {
    EXPECT_EQ(m.find(7, [v](std::uint32_t x) { return x == v; }), v % 2 ? v : IdMap::kNone);
  }
}

// Random inserts and erases over few keys (long clusters that wrap around the
// table end) against a model: backward shift must leave every entry reachable.
TEST(IdMap, BackwardShiftKeepsClustersReachable) {
  IdMap m(16);
  std::multimap<std::uint64_t, std::uint32_t> model;
  std::mt19937_64 rng(5);
  std::uint32_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    if (model.empty() || rng() % 100 < 55) {
      const std::uint64_t key = 1 + rng() % 40;
      m.insert(key, next);
      model.emplace(key, next++);
    } else {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      m.erase(it->first, it->second);
      model.erase(it);
    }
    if (step % 997 == 0) {
      ASSERT_TRUE(m.chains_intact()) << "at step " << step;
    }
  }
  ASSERT_TRUE(m.chains_intact());
  ASSERT_EQ(m.size(), model.size());
  for (const auto& [k, v] : model) {
    const std::uint32_t want = v;
    ASSERT_EQ(m.find(k, [want](std::uint32_t x) { return x == want; }), want);
  }
  std::size_t seen = 0;
  m.for_each([&](std::uint64_t, std::uint32_t) { ++seen; });
  EXPECT_EQ(seen, model.size());
}

template <class Hash>
void exercise_collisions() {
  ExternalIds<Hash> x;
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) names.push_back(cat("N", std::to_string(i)));
  for (std::uint32_t s = 0; s < names.size(); ++s) {
    ASSERT_EQ(x.find(names[s]), x.kNone);
    x.attach(s, names[s], x.hash(names[s]));
  }
  auto all_ok = [](std::uint32_t) { return true; };
  ASSERT_TRUE(x.check(all_ok));
  for (std::uint32_t s = 0; s < names.size(); ++s) ASSERT_EQ(x.find(names[s]), s);
  EXPECT_EQ(x.find("N300"), x.kNone);
  EXPECT_EQ(x.find("N3000"), x.kNone);
  // Retire every third: the rest stay findable, retired names stay readable.
  for (std::uint32_t s = 0; s < names.size(); s += 3) x.retire(s, 1000 + s);
  ASSERT_TRUE(x.check(all_ok));
  EXPECT_EQ(x.size(), 200u);
  for (std::uint32_t s = 0; s < names.size(); ++s) {
    ASSERT_EQ(x.find(names[s]), s % 3 == 0 ? x.kNone : s) << names[s];
    ASSERT_EQ(x.name(s), s % 3 == 0 ? std::string_view() : std::string_view(names[s]));
  }
  EXPECT_EQ(x.retired_name(1000 + 3), "N3");
  x.clear_retired();
  EXPECT_EQ(x.retired_name(1000 + 3), "");
  // Retired slots take new names.
  for (std::uint32_t s = 0; s < names.size(); s += 3)
    x.attach(s, cat(names[s], "b"), x.hash(cat(names[s], "b")));
  ASSERT_TRUE(x.check(all_ok));
  EXPECT_EQ(x.find("N3b"), 3u);
  EXPECT_EQ(x.find("N3"), x.kNone);
}

TEST(ExternalIds, EqualHashesAreToldApartByName) {
  exercise_collisions<ConstantHash>();
}
TEST(ExternalIds, ClusteredHashes) {
  exercise_collisions<LengthHash>();
}
TEST(ExternalIds, HashZeroIsRemapped) {
  EXPECT_NE(ExternalIds<ZeroHash>::hash("A"), 0u);
  exercise_collisions<ZeroHash>();
}

TEST(ExternalIds, ReattachMovesARetiredNameToANewSlot) {
  ExternalIds<ConstantHash> x;
  x.attach(0, "A", x.hash("A"));
  x.attach(1, "B", x.hash("B"));
  x.retire(0, 77);
  EXPECT_FALSE(x.reattach(5, 78));  // not retired
  EXPECT_TRUE(x.reattach(5, 77));
  EXPECT_EQ(x.find("A"), 5u);
  EXPECT_EQ(x.name(5), "A");
  EXPECT_EQ(x.name(0), "");
  EXPECT_EQ(x.retired_name(77), "");  // resting again, no longer retired
  EXPECT_TRUE(x.check([](std::uint32_t) { return true; }));
}

// Upstream ids the way a feed sends them, many per book: the index grows
// several times, then churns (random cancels and executes by resolve).
TEST(OrderBookExternal, ManyIdsGrowAndChurn) {
  OrderBook b(Mode::mirror);
  std::vector<std::string> live;
  std::mt19937_64 rng(9);
  std::uint64_t seq = 0;
  auto add = [&] {
    std::string id = cat(cat(std::to_string(seq % 1000), "-"), std::to_string(seq));
    ++seq;
    const Side s = rng() % 2 ? Side::buy : Side::sell;
    const auto away = static_cast<std::int64_t>(1 + rng() % 50);
    ASSERT_TRUE(b.add_external(id, s, Price(s == Side::buy ? 1000 - away : 1000 + away),
                               Qty(static_cast<std::int64_t>(1 + rng() % 9)))
                    .ok());
    live.push_back(std::move(id));
  };
  for (int i = 0; i < 40000; ++i) add();
  ASSERT_EQ(b.check_invariants(), std::nullopt);
  for (const std::string& id : live) ASSERT_TRUE(b.resolve(id).ok()) << id;
  for (int i = 0; i < 60000; ++i) {
    if (rng() % 2 == 0) {
      add();
      continue;
    }
    const std::size_t k = rng() % live.size();
    const OrderId id = *b.resolve(live[k]);
    ASSERT_EQ(b.external_id(id), live[k]);
    if (rng() % 4 == 0) {
      const Qty q = b.order(id)->qty;
      ASSERT_TRUE(b.execute(id, q).ok());
      ASSERT_EQ(b.external_id(b.last_change().trades.at(0).maker), live[k]);
    } else {
      ASSERT_TRUE(b.cancel(id).ok());
    }
    EXPECT_EQ(b.resolve(live[k]).error(), ErrorCode::unknown_order);
    live[k] = std::move(live.back());
    live.pop_back();
    if (i % 10000 == 0) {
      ASSERT_EQ(b.check_invariants(), std::nullopt);
    }
  }
  ASSERT_EQ(b.check_invariants(), std::nullopt);
  ASSERT_EQ(b.order_count(), live.size());
  for (const std::string& id : live) {
    auto r = b.resolve(id);
    ASSERT_TRUE(r.ok()) << id;
    ASSERT_EQ(b.external_id(*r), id);
  }
}

TEST(OrderBookExternal, LongIdsThatDifferOnlyAtTheEnd) {
  OrderBook b(Mode::mirror);
  const std::string base(300, 'x');
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(cat(base, std::to_string(i)));
  for (const std::string& id : ids)
    ASSERT_TRUE(b.add_external(id, Side::buy, Price(10), Qty(1)).ok());
  EXPECT_EQ(b.add_external(ids[7], Side::buy, Price(10), Qty(1)).error(),
            ErrorCode::duplicate_order);
  EXPECT_EQ(b.resolve(base).error(), ErrorCode::unknown_order);  // a prefix of all of them
  for (const std::string& id : ids) EXPECT_EQ(b.external_id(*b.resolve(id)), id);
  for (std::size_t i = 0; i < ids.size(); i += 2) ASSERT_TRUE(b.cancel(*b.resolve(ids[i])).ok());
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(b.resolve(ids[i]).ok(), i % 2 == 1);
  // Freed slots take long names again (their buffers are reused).
  for (std::size_t i = 0; i < ids.size(); i += 2) {
    ASSERT_TRUE(b.add_external(cat(ids[i], "z"), Side::sell, Price(20), Qty(1)).ok());
  }
  EXPECT_EQ(b.check_invariants(), std::nullopt);
  EXPECT_EQ(b.external_id(*b.resolve(cat(ids[4], "z"))), cat(ids[4], "z"));
}

// A sweep removes many named makers in one operation: every trade still names
// its maker, and the names are forgotten by the next operation.
TEST(OrderBookExternal, RetiredNamesAfterAFill) {
  OrderBook b(Mode::venue);
  for (int i = 0; i < 20; ++i) {
    const std::string id = cat("M", std::to_string(i));
    ASSERT_TRUE(b.add_external(id, Side::sell, Price(100 + i % 4), Qty(2)).ok());
  }
  auto r = b.add(NewOrder{Side::buy, Price(103), Qty(39)});  // all but one lot
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(b.last_change().trades.size(), 20u);
  for (const Trade& t : b.last_change().trades) {
    const std::string_view name = b.external_id(t.maker);
    ASSERT_FALSE(name.empty());
    EXPECT_EQ(name[0], 'M');
  }
  // The partly filled maker still rests and resolves; the others do not.
  std::size_t resting = 0;
  for (int i = 0; i < 20; ++i) resting += b.resolve(cat("M", std::to_string(i))).ok();
  EXPECT_EQ(resting, 1u);
  // An upstream taker that fills at once is nameable in its own trades only.
  auto t = b.add_external("T1", Side::buy, Price(110), Qty(1));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->status, OrderStatus::filled);
  EXPECT_EQ(b.external_id(t->id), "T1");
  EXPECT_EQ(b.external_id(b.last_change().trades.at(0).maker), "M19");  // the rest of it
  EXPECT_EQ(b.resolve("T1").error(), ErrorCode::unknown_order);
  EXPECT_EQ(b.resolve("M19").error(), ErrorCode::unknown_order);
  ASSERT_TRUE(b.add(NewOrder{Side::buy, Price(1), Qty(1)}).ok());
  EXPECT_EQ(b.external_id(t->id), "");  // forgotten by the next operation
  // A name is free again once its order left the book.
  EXPECT_TRUE(b.add_external("T1", Side::buy, Price(2), Qty(1)).ok());
  EXPECT_EQ(b.check_invariants(), std::nullopt);
}

TEST(OrderBookExternal, ModifyKeepsTheNameAndReplaceMovesIt) {
  OrderBook b(Mode::venue);
  ASSERT_TRUE(b.add_external("A", Side::buy, Price(100), Qty(5)).ok());
  ASSERT_TRUE(b.add_external("B", Side::buy, Price(100), Qty(5)).ok());
  const OrderId a = *b.resolve("A");
  ASSERT_TRUE(b.modify(a, Price(101), Qty(6)).ok());  // back of a new level
  EXPECT_EQ(*b.resolve("A"), a);
  EXPECT_EQ(b.external_id(a), "A");
  // A modify that crosses and fills at once leaves the name readable once.
  ASSERT_TRUE(b.add_external("S", Side::sell, Price(105), Qty(6)).ok());
  ASSERT_TRUE(b.modify(a, Price(105), Qty(6)).ok());
  EXPECT_EQ(b.resolve("A").error(), ErrorCode::unknown_order);
  EXPECT_EQ(b.external_id(a), "A");
  EXPECT_EQ(b.external_id(b.last_change().trades.at(0).maker), "S");
  // replace_external: the old name goes, the new one comes; names must be new.
  const OrderId bid = *b.resolve("B");
  EXPECT_EQ(b.replace_external(bid, "B", Price(99), Qty(1)).error(), ErrorCode::duplicate_order);
  EXPECT_EQ(b.replace_external(bid, "", Price(99), Qty(1)).error(), ErrorCode::invalid_field);
  auto r = b.replace_external(bid, "B2", Price(99), Qty(1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(b.resolve("B").error(), ErrorCode::unknown_order);
  EXPECT_EQ(*b.resolve("B2"), r->id);
  EXPECT_EQ(b.check_invariants(), std::nullopt);
}

#if MARKETD_COUNT_ALLOCS
// Once the structures have grown, adds, resolves, cancels and sweeps by
// upstream id allocate nothing, for short (inline) and long ids alike.
void expect_no_allocation_once_warm(std::size_t id_len) {
  OrderBook b(Mode::venue, 4096);
  std::vector<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    std::string n = std::to_string(10000 + i);
    ids.push_back(cat(std::string(id_len - n.size(), 'L'), n));
  }
  auto cycle = [&] {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const Side s = i % 2 ? Side::buy : Side::sell;
      (void)b.add_external(ids[i], s, Price(s == Side::buy ? 90 + i % 5 : 110 - i % 5), Qty(1));
    }
    for (std::size_t i = 0; i < ids.size(); i += 3) (void)b.cancel(*b.resolve(ids[i]));
    // Sweep both sides (ioc: nothing rests).
    (void)b.add(NewOrder{Side::buy, Price(110), Qty(5000), OrderType::limit, TimeInForce::ioc});
    (void)b.add(NewOrder{Side::sell, Price(90), Qty(5000), OrderType::limit, TimeInForce::ioc});
  };
  const std::size_t start = g_allocs.load();
  cycle();
  cycle();
  ASSERT_GT(g_allocs.load(), start);  // the counter sees the book's growth
  ASSERT_EQ(b.order_count(), 0u);
  const std::size_t before = g_allocs.load();
  cycle();
  cycle();
  EXPECT_EQ(g_allocs.load() - before, 0u) << "id length " << id_len;
  EXPECT_EQ(b.check_invariants(), std::nullopt);
}

TEST(OrderBookExternal, NoAllocationPerOperationOnceWarm) {
  expect_no_allocation_once_warm(8);    // inline (SSO)
  expect_no_allocation_once_warm(120);  // heap buffers, reused
}
#endif

}  // namespace
