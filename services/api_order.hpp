#pragma once
// An API order (venue mode) in and out: OrderRequest as the REST edge
// validated it, with the principal that places it; OrderReport, API.md's Order.
// Thread-safety: value types.

#include <optional>
#include <string>
#include <vector>

#include "orderbook/events.hpp"
#include "orderbook/price.hpp"
#include "orderbook/side.hpp"

namespace services {

/// An order entered through the API (venue mode), validated and in ticks/lots.
struct OrderRequest {
  ob::Side side = ob::Side::buy;
  ob::OrderType type = ob::OrderType::limit;
  ob::TimeInForce tif = ob::TimeInForce::gtc;
  ob::Price price;  ///< limit orders only
  ob::Qty qty;
  std::string client_order_id;
  /// Who places it (the request's principal): only the owner can read or
  /// cancel it. Opaque.
  std::string owner;

  /// The fields that make two orders "the same" for client_order_id idempotency.
  bool same_order(const OrderRequest& o) const {
    return side == o.side && type == o.type && tif == o.tif && price == o.price && qty == o.qty;
  }
  friend bool operator==(const OrderRequest&, const OrderRequest&) = default;
};

/// One fill of an API order, at the resting (maker) order's price.
struct OrderFill {
  ob::TradeId trade_id = 0;
  ob::Price price;
  ob::Qty qty;
  std::string maker_order_id;
  friend bool operator==(const OrderFill&, const OrderFill&) = default;
};

/// API.md's Order.
struct OrderReport {
  std::string order_id;
  std::string client_order_id;
  ob::Side side = ob::Side::buy;
  ob::OrderType type = ob::OrderType::limit;
  ob::TimeInForce tif = ob::TimeInForce::gtc;
  std::optional<ob::Price> price;
  ob::Qty qty;
  ob::OrderStatus status = ob::OrderStatus::resting;
  ob::Qty filled;
  ob::Qty remaining;
  std::vector<OrderFill> trades;
  /// An idempotent repeat (same owner, client_order_id and fields): this is
  /// the order placed the first time, as last known (REST: 200, not 201).
  bool repeated = false;
  friend bool operator==(const OrderReport&, const OrderReport&) = default;
};

}  // namespace services
