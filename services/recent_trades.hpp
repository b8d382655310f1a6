#pragma once
// RecentTrades: the last trades of a symbol's trade stream, newest last, at
// most kCapacity (API.md GET /symbols/{s}/trades answers up to 1,000).
// Thread-safety: a value type.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "orderbook/price.hpp"
#include "orderbook/side.hpp"

namespace services {

/// A trade as the trades channel and GET …/trades show it.
struct TradeRecord {
  std::uint64_t seq = 0;  ///< trade stream seq
  ob::Price price;
  ob::Qty size;
  ob::Side side = ob::Side::buy;  ///< the aggressor's
  std::int64_t ts_ns = 0;         ///< event time
  friend bool operator==(const TradeRecord&, const TradeRecord&) = default;
};

class RecentTrades {
 public:
  static constexpr std::size_t kCapacity = 1000;

  void add(const TradeRecord& t) {
    if (trades_.size() == kCapacity) trades_.pop_front();
    trades_.push_back(t);
  }
  /// The newest `limit`, newest first.
  std::vector<TradeRecord> newest(std::size_t limit) const {
    const std::size_t n = std::min(limit, trades_.size());
    return std::vector<TradeRecord>(trades_.rbegin(), trades_.rbegin() + static_cast<long>(n));
  }
  /// Oldest first.
  const std::deque<TradeRecord>& all() const noexcept { return trades_; }
  /// Takes a saved list (oldest first); false (nothing changes) beyond kCapacity.
  bool restore(std::deque<TradeRecord> trades) {
    if (trades.size() > kCapacity) return false;
    trades_ = std::move(trades);
    return true;
  }
  friend bool operator==(const RecentTrades&, const RecentTrades&) = default;

 private:
  std::deque<TradeRecord> trades_;
};

}  // namespace services
