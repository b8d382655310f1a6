#include "services/journal_record.hpp"

#include <fmt/format.h>

#include <limits>
#include <optional>
#include <type_traits>

#include "storage/record.hpp"

namespace services::journal {

namespace {

enum class Kind : std::uint8_t { spec = 1, events, order, cancel, ids };

// The kind byte of each alternative, in the variant's order.
constexpr Kind kKinds[] = {Kind::spec, Kind::events, Kind::order, Kind::cancel, Kind::ids};
static_assert(std::size(kKinds) == std::variant_size_v<Record>);

void put_u8(std::string& out, std::uint8_t v) {
  out.push_back(static_cast<char>(v));
}
void put_i64(std::string& out, std::int64_t v) {
  storage::put_u64(out, static_cast<std::uint64_t>(v));
}
void put_str(std::string& out, std::string_view s) {
  storage::put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void put(std::string& out, const SpecRecord& r) {
  put_str(out, r.spec.tick_size());
  put_str(out, r.spec.lot_size());
  put_u8(out, static_cast<std::uint8_t>(r.spec.mode));
  storage::put_u64(out, r.first_order_id);
}
void put(std::string& out, const EventsRecord& r) {
  put_i64(out, r.receipt_ns);
  storage::put_u64(out, r.max_orders_per_book);
  storage::put_u32(out, static_cast<std::uint32_t>(r.events.size()));
  for (const feeds::Event& e : r.events) {
    put_u8(out, static_cast<std::uint8_t>(e.type));
    put_u8(out, static_cast<std::uint8_t>(e.side));
    put_i64(out, e.price.ticks());
    put_i64(out, e.qty.lots());
    put_i64(out, e.ts_ns);
    storage::put_u64(out, e.upstream_seq);
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
  storage::put_u64(out, r.next_order_id);
}

// Reads a payload front to back; every read checks what is left, and the
// first failure sticks (later reads return zeros), so a decoder reads all its
// fields and asks once at the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  std::uint8_t u8() { return take(1) ? static_cast<std::uint8_t>(last_[0]) : 0; }
  std::uint32_t u32() { return take(4) ? storage::get_u32(last_.data()) : 0; }
  std::uint64_t u64() { return take(8) ? storage::get_u64(last_.data()) : 0; }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::string str() {
    const std::uint32_t n = u32();
    return take(n) ? std::string(last_) : std::string();
  }
  /// An enum whose values are 0..max.
  template <class E>
  E enumerated(E max) {
    const std::uint8_t v = u8();
    if (v > static_cast<std::uint8_t>(max)) fail("an enumeration out of range");
    return static_cast<E>(v);
  }
  void fail(std::string why) {
    if (!error_) error_ = std::move(why);
  }
  /// What went wrong, including bytes left over.
  std::optional<std::string> error() const {
    if (error_) return error_;
    if (!rest_.empty()) return fmt::format("{} bytes after the record", rest_.size());
    return std::nullopt;
  }
  std::size_t left() const { return rest_.size(); }

 private:
  bool take(std::size_t n) {
    if (error_) return false;
    if (rest_.size() < n) {
      fail(fmt::format("truncated: {} bytes wanted, {} left", n, rest_.size()));
      return false;
    }
    last_ = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }

  std::string_view rest_;
  std::string_view last_;
  std::optional<std::string> error_;
};

// The least an encoded event can take: two bytes, four 8-byte fields, two empty strings.
constexpr std::size_t kMinEventBytes = 2 + 4 * 8 + 2 * 4;

Record read_spec(Reader& in) {
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

Record read_events(Reader& in) {
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

Record read_order(Reader& in) {
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

Record read_cancel(Reader& in) {
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
  Reader in(payload);
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

}  // namespace services::journal
