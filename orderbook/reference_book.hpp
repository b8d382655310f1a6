#pragma once
// ReferenceBook: the naive order book, written for obviousness rather than
// speed (std::map of price -> std::list of orders), with exactly the same
// interface and semantics as OrderBook. Differential tests drive both with
// the same operations and compare every result, trade, delta and query;
// benchmarks run it side by side to show what OrderBook's design buys.
// Thread-safety: not thread-safe: owned by one thread.

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orderbook/events.hpp"
#include "orderbook/order_id.hpp"
#include "orderbook/price.hpp"
#include "orderbook/result.hpp"
#include "orderbook/side.hpp"

namespace ob {

class ReferenceBook {
 public:
  explicit ReferenceBook(Mode mode = Mode::venue, std::size_t expected_orders = 0);

  Mode mode() const { return mode_; }

  // The operations and queries of OrderBook, with the same contracts.
  Result<AddResult> add(const NewOrder& order);
  Result<AddResult> add_external(std::string_view external_id, Side side, Price price, Qty qty);
  Result<OrderId> resolve(std::string_view external_id) const;
  std::string_view external_id(OrderId id) const;
  Status cancel(OrderId id);
  Result<Qty> reduce(OrderId id, Qty by);
  Result<Qty> execute(OrderId id, Qty qty, std::optional<Price> price = std::nullopt);
  Result<AddResult> modify(OrderId id, Price price, Qty qty);
  Result<AddResult> replace(OrderId id, Price price, Qty qty);
  Result<AddResult> replace_external(OrderId id, std::string_view new_external_id, Price price,
                                     Qty qty);
  Status set_level(Side side, Price price, Qty qty);
  Status apply_snapshot(std::span<const LevelView> bids, std::span<const LevelView> asks);

  std::optional<LevelView> best(Side side) const;
  void depth(Side side, std::size_t n, std::vector<LevelView>& out) const;
  std::optional<OrderView> order(OrderId id) const;
  void level_orders(Side side, Price price, std::vector<OrderView>& out) const;
  std::size_t order_count() const { return where_.size(); }
  std::size_t level_count(Side side) const { return levels(side).size(); }
  std::uint64_t seq() const { return seq_; }
  const ChangeSet& last_change() const { return change_; }
  OrderId next_order_id() const { return OrderId(next_id_); }

 private:
  struct RestingOrder {
    std::uint64_t id;
    Qty qty;
  };
  struct Level {
    std::list<RestingOrder> orders;  // time priority: front is oldest
    LevelQty total;
  };
  using Levels = std::map<Price, Level>;  // ascending on both sides
  struct Where {
    Side side;
    Price price;
    std::list<RestingOrder>::iterator it;  // list iterators stay valid
  };

  Levels& levels(Side s) { return s == Side::buy ? bids_ : asks_; }
  const Levels& levels(Side s) const { return s == Side::buy ? bids_ : asks_; }
  std::optional<Price> best_price(Side s) const;
  std::list<RestingOrder>::iterator find_in_level(std::uint64_t id);

  void begin();
  void touch(Side s, Price p);
  void finish();
  AddResult place(std::uint64_t id, Side side, Price price, Qty qty, bool market, TimeInForce tif);
  void rest(std::uint64_t id, Side side, Price price, Qty qty);
  void remove(std::uint64_t id);
  void take(std::uint64_t id, Qty qty);
  Result<AddResult> replace_impl(OrderId id, std::string_view new_ext, bool external, Price price,
                                 Qty qty);

  Mode mode_;
  Levels bids_, asks_;
  std::map<std::uint64_t, Where> where_;
  std::map<std::string, std::uint64_t, std::less<>> external_;
  std::map<std::uint64_t, std::string> names_;
  std::vector<std::pair<std::uint64_t, std::string>> retired_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_external_ = OrderId::kExternalBit | 1;
  TradeId next_trade_ = 1;
  std::uint64_t seq_ = 0;
  ChangeSet change_;
  std::vector<std::pair<Side, Price>> touched_;
  std::optional<LevelView> top_before_[2];
};

}  // namespace ob
