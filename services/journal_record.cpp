#include "services/journal_record.hpp"

#include <fmt/format.h>

#include <limits>
#include <optional>
#include <type_traits>

#include "services/byte_codec.hpp"

namespace services::journal {

namespace {

enum class Kind : std::uint8_t { spec = 1, events, order, cancel, ids };

// The kind byte of each alternative, in the variant's order.
constexpr Kind kKinds[] = {Kind::spec, Kind::events, Kind::order, Kind::cancel, Kind::ids};
static_assert(std::size(kKinds) == std::variant_size_v<Record>);

using detail::ByteReader;
using detail::put_i64;
using detail::put_str;
using detail::put_u32;
using detail::put_u64;
using detail::put_u8;

void put(std::string& out, const SpecRecord& r) {
  put_str(out, r.spec.tick_size());
  put_str(out, r.spec.lot_size());
  put_u8(out, static_cast<std::uint8_t>(r.spec.mode));
  put_u64(out, r.first_order_id);
}
void put(std::string& out, const EventsRecord& r) {
  put_i64(out, r.receipt_ns);
  put_u64(out, r.max_orders_per_book);
  put_u32(out, static_cast<std::uint32_t>(r.events.size()));
  for (const feeds::Event& e : r.events) {
    put_u8(out, static_cast<std::uint8_t>(e.type));
    put_u8(out, static_cast<std::uint8_t>(e.side));
    put_i64(out, e.price.ticks());
    put_i64(out, e.qty.lots());
    put_i64(out, e.ts_ns);
    put_u64(out, e.upstream_seq);
    put_str(out, e.order_id);
    put_str(out, e.new_order_id);
  }
}
void put(std::string& out, const OrderRecord& r) {
  const OrderRequest& o = r.order;
  put_u8(out, static_cast<std::uint8_t>(o.side));
  put_u8(out, static_cast<std::uint8_t>(o.type));
  put_u8(out, static_cast<std::uint8_t>(o.tif));
  put_i64(out, o.price.ticks());
  put_i64(out, o.qty.lots());
  put_str(out, o.client_order_id);
  put_str(out, o.owner);
  put_i64(out, r.ts_ns);
}
void put(std::string& out, const CancelRecord& r) {
  put_str(out, r.order_id);
  put_str(out, r.owner);
  put_i64(out, r.ts_ns);
}
void put(std::string& out, const IdsRecord& r) {
  put_u64(out, r.next_order_id);
}

// The least an encoded event can take: two bytes, four 8-byte fields, two empty strings.
constexpr std::size_t kMinEventBytes = 2 + 4 * 8 + 2 * 4;

Record read_spec(ByteReader& in) {
  const std::string tick = in.str();
  const std::string lot = in.str();
  const ob::Mode mode = in.enumerated(ob::Mode::l2);
  SpecRecord r;
  r.first_order_id = in.u64();
  if (in.error()) return r;
  auto spec = SymbolSpec::parse(tick, lot, mode);
  if (!spec) {
    in.fail(fmt::format("spec: tick '{}' or lot '{}' is not valid", tick, lot));
    return r;
  }
  r.spec = *spec;
  return r;
}

Record read_events(ByteReader& in) {
  EventsRecord r;
  r.receipt_ns = in.i64();
  r.max_orders_per_book = in.u64();
  const std::uint32_t n = in.u32();
  // A count the bytes cannot hold is damage: check before reserving for it.
  if (n > in.left() / kMinEventBytes) {
    in.fail(fmt::format("{} events claimed in {} bytes", n, in.left()));
    return r;
  }
  r.events.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    feeds::Event& e = r.events.emplace_back();
    e.type = in.enumerated(feeds::EventType::level);
    e.side = in.enumerated(ob::Side::sell);
    e.price = ob::Price(in.i64());
    e.qty = ob::Qty(in.i64());
    e.ts_ns = in.i64();
    e.upstream_seq = in.u64();
    e.order_id = in.str();
    e.new_order_id = in.str();
  }
  return r;
}

Record read_order(ByteReader& in) {
  OrderRecord r;
  OrderRequest& o = r.order;
  o.side = in.enumerated(ob::Side::sell);
  o.type = in.enumerated(ob::OrderType::market);
  o.tif = in.enumerated(ob::TimeInForce::fok);
  o.price = ob::Price(in.i64());
  o.qty = ob::Qty(in.i64());
  o.client_order_id = in.str();
  o.owner = in.str();
  r.ts_ns = in.i64();
  return r;
}

Record read_cancel(ByteReader& in) {
  CancelRecord r;
  r.order_id = in.str();
  r.owner = in.str();
  r.ts_ns = in.i64();
  return r;
}

// The index of alternative T in Record.
template <class T, std::size_t I = 0>
constexpr std::size_t index_of() {
  if constexpr (std::is_same_v<std::variant_alternative_t<I, Record>, T>) {
    return I;
  } else {
    return index_of<T, I + 1>();
  }
}

template <class T>
std::string encode_kind(const T& r) {
  std::string out;
  put_u8(out, static_cast<std::uint8_t>(kKinds[index_of<T>()]));
  put(out, r);
  return out;
}

}  // namespace

std::string encode(const SpecRecord& r) {
  return encode_kind(r);
}
std::string encode(const EventsRecord& r) {
  return encode_kind(r);
}
std::string encode(const OrderRecord& r) {
  return encode_kind(r);
}
std::string encode(const CancelRecord& r) {
  return encode_kind(r);
}
std::string encode(const IdsRecord& r) {
  return encode_kind(r);
}
std::string encode(const Record& r) {
  return std::visit([](const auto& x) { return encode(x); }, r);
}

rt::Result<Record, std::string> decode(std::string_view payload) {
  ByteReader in(payload);
  const std::uint8_t kind = in.u8();
  Record r;
  switch (static_cast<Kind>(kind)) {
    case Kind::spec:
      r = read_spec(in);
      break;
    case Kind::events:
      r = read_events(in);
      break;
    case Kind::order:
      r = read_order(in);
      break;
    case Kind::cancel:
      r = read_cancel(in);
      break;
    case Kind::ids:
      r = IdsRecord{in.u64()};
      break;
    default:
      in.fail(fmt::format("unknown record kind {}", kind));
  }
  if (auto e = in.error()) return rt::Err{std::move(*e)};
  return r;
}

namespace {

struct ReceivedNs {
  std::optional<std::int64_t> operator()(const EventsRecord& e) const { return e.receipt_ns; }
  std::optional<std::int64_t> operator()(const OrderRecord& o) const { return o.ts_ns; }
  std::optional<std::int64_t> operator()(const CancelRecord& c) const { return c.ts_ns; }
  std::optional<std::int64_t> operator()(const auto&) const { return std::nullopt; }
};

}  // namespace

std::optional<std::int64_t> received_ns(const Record& r) {
  return std::visit(ReceivedNs{}, r);
}

}  // namespace services::journal
