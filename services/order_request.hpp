#pragma once
// OrderRequest: an API order as the REST edge validated it, in ticks and lots,
// with the principal that places it.
// Thread-safety: a value type.

#include <string>

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

}  // namespace services
