#include "feeds/ndjson.hpp"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <cstring>
#include <deque>
#include <utility>

#include "feeds/json_skim.hpp"
#include "feeds/symbol.hpp"
#include "feeds/unique_keys.hpp"
#include "orderbook/decimal.hpp"

namespace feeds {

static_assert(kNdjsonPadding == simdjson::SIMDJSON_PADDING);

namespace detail {

/// What a batch's views point into. Shared by the batches split from one parse.
struct BatchStorage {
  std::string text;
  std::deque<std::string> arena;  // unescaped strings; a deque never moves its elements
};

struct NdjsonState {
  simdjson::ondemand::parser parser;
};

}  // namespace detail

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

/// The keys marketd reads.
enum Key : std::uint8_t {
  k_type,
  k_symbol,
  k_side,
  k_order_id,
  k_new_order_id,
  k_price,
  k_qty,
  k_size,
  k_ts_ns,
  k_seq,
  kKeyCount,
  k_unknown = kKeyCount,
};

constexpr std::array<std::string_view, kKeyCount> kKeyNames = {
    "type", "symbol", "side", "order_id", "new_order_id", "price", "qty", "size", "ts_ns", "seq"};

/// One known key of a line as read: its JSON kind and, for strings, the text.
struct Slot {
  std::uint8_t count = 0;  // occurrences (at most 1: read_object refuses duplicates)
  od::json_type kind = od::json_type::null;
  std::string_view text;  // string content, unescaped
  std::int64_t number = 0;
  bool int64 = false;  // a JSON integer within int64
};

using Slots = std::array<Slot, kKeyCount>;

bool is_blank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// `raw` points just past a key's opening quote; the key is known to be closed
// and the buffer padded, so reading a name's length + 1 bytes is safe.
bool key_is(const char* raw, std::string_view name) {
  return std::memcmp(raw, name.data(), name.size()) == 0 && raw[name.size()] == '"';
}

Key match_raw_key(const char* raw) {
  switch (raw[0]) {
    case 't':
      return key_is(raw, "type") ? k_type : key_is(raw, "ts_ns") ? k_ts_ns : k_unknown;
    case 's':
      return key_is(raw, "symbol") ? k_symbol
             : key_is(raw, "side") ? k_side
             : key_is(raw, "size") ? k_size
             : key_is(raw, "seq")  ? k_seq
                                   : k_unknown;
    case 'o':
      return key_is(raw, "order_id") ? k_order_id : k_unknown;
    case 'n':
      return key_is(raw, "new_order_id") ? k_new_order_id : k_unknown;
    case 'p':
      return key_is(raw, "price") ? k_price : k_unknown;
    case 'q':
      return key_is(raw, "qty") ? k_qty : k_unknown;
    default:
      return k_unknown;
  }
}

Key match_key(std::string_view key) {
  for (std::size_t i = 0; i < kKeyCount; ++i) {
    if (kKeyNames[i] == key) return static_cast<Key>(i);
  }
  return k_unknown;
}

// Scans a raw key (after its opening quote): whether it needs unescaping and
// its raw length, or UNESCAPED_CHARS for a raw control character (stage 1
// does not check them).
error_code scan_raw_key(const char* raw, bool& escaped, std::size_t& length) {
  const char* const begin = raw;
  for (escaped = false;; ++raw) {
    const auto c = static_cast<unsigned char>(*raw);
    if (c < 0x20) return simdjson::UNESCAPED_CHARS;
    if (c == '"') {
      length = static_cast<std::size_t>(raw - begin);
      return simdjson::SUCCESS;
    }
    if (c == '\\') {
      escaped = true;
      ++raw;  // the escaped character; unescaping validates it
    }
  }
}

/// Reads one line's object into Slots; owns nothing, writes unescaped strings to the arena.
class LineReader {
 public:
  explicit LineReader(std::deque<std::string>& arena) : arena_(arena) {}

  /// Reads the line's object into `slots`. A key seen twice: `duplicate` names it.
  error_code read_object(od::document& doc, Slots& slots, std::string& duplicate) {
    od::object obj;
    SIMDJSON_TRY(doc.get_object().get(obj));
    UniqueKeys keys;
    for (auto field_result : obj) {
      od::field field;
      SIMDJSON_TRY(std::move(field_result).get(field));
      const char* raw = field.key().raw();
      Key k = match_raw_key(raw);
      std::string_view key = k == k_unknown ? std::string_view{} : kKeyNames[k];
      if (k == k_unknown) {
        bool escaped = false;
        std::size_t length = 0;
        SIMDJSON_TRY(scan_raw_key(raw, escaped, length));
        key = std::string_view(raw, length);
        if (escaped) {
          SIMDJSON_TRY(field.unescaped_key().get(key));
          k = match_key(key);
        }
      }
      if (!keys.add(key)) {
        duplicate = key;
        return simdjson::SUCCESS;
      }
      od::value v = field.value();
      if (k == k_unknown) {
        SIMDJSON_TRY(skim_json_value(v));
        continue;
      }
      Slot& s = slots[k];
      if (s.count < 2) ++s.count;
      SIMDJSON_TRY(v.type().get(s.kind));
      if (s.kind == od::json_type::string) {
        SIMDJSON_TRY(read_string(v, s.text));
      } else if ((k == k_ts_ns || k == k_seq) && s.kind == od::json_type::number) {
        SIMDJSON_TRY(read_integer(v, s));
      } else {
        SIMDJSON_TRY(skim_json_value(v));
      }
    }
    // current_location() is OUT_OF_BOUNDS exactly when nothing follows the object.
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      return simdjson::TRAILING_CONTENT;
    }
    return simdjson::SUCCESS;
  }

 private:
  // The raw token when it needs no unescaping, else a copy unescaped into the arena.
  error_code read_string(od::value& v, std::string_view& out) {
    std::string_view tok = v.raw_json_token();
    while (!tok.empty() &&
           (tok.back() == ' ' || tok.back() == '\t' || tok.back() == '\r' || tok.back() == '\n')) {
      tok.remove_suffix(1);
    }
    if (tok.size() < 2 || tok.front() != '"' || tok.back() != '"') return simdjson::STRING_ERROR;
    const std::string_view body = tok.substr(1, tok.size() - 2);
    bool escaped = false;
    for (char c : body) {
      if (static_cast<unsigned char>(c) < 0x20) return simdjson::UNESCAPED_CHARS;
      escaped |= c == '\\';
    }
    if (!escaped) {
      out = body;
      return simdjson::SUCCESS;
    }
    std::string_view unescaped;
    SIMDJSON_TRY(v.get_string().get(unescaped));
    out = arena_.emplace_back(unescaped);
    return simdjson::SUCCESS;
  }

  static error_code read_integer(od::value& v, Slot& s) {
    od::number n;
    const error_code e = v.get_number().get(n);
    if (e != simdjson::SUCCESS) return feeds::is_big_integer(v, e) ? simdjson::SUCCESS : e;
    if (n.is_int64()) {
      s.int64 = true;
      s.number = n.get_int64();
    }
    return simdjson::SUCCESS;
  }

  std::deque<std::string>& arena_;
};

std::string json_message(error_code e) {
  switch (e) {
    case simdjson::INCORRECT_TYPE:
      return "expected one JSON object per line";
    case simdjson::TRAILING_CONTENT:
      return "unexpected characters after the JSON object";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:  // simdjson's check of a root's last character
      return "malformed JSON: an unterminated object or array, or characters after the object";
    case simdjson::UTF8_ERROR:
      return "not valid UTF-8";
    case simdjson::UNESCAPED_CHARS:
      return "control character inside a string";
    case simdjson::DEPTH_ERROR:
      return "nested too deeply";
    default:
      return std::string("malformed JSON: ") + simdjson::error_message(e);
  }
}

bool is_decimal(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0) return false;
  if (i == s.size()) return true;
  if (s[i] != '.' || ++i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

std::optional<EventType> type_named(std::string_view s) {
  for (EventType t : {EventType::tick, EventType::add, EventType::cancel, EventType::reduce,
                      EventType::execute, EventType::replace, EventType::level}) {
    if (to_string(t) == s) return t;
  }
  return std::nullopt;
}

FieldError fail(EventError code, Key k, std::string_view what) {
  std::string m(kKeyNames[k]);
  m += ": ";
  m += what;
  return FieldError{code, std::move(m)};
}

/// Checks the captured fields against one event type's needs (API.md's list).
class EventBuilder {
 public:
  explicit EventBuilder(const Slots& s) : s_(s) {}

  std::optional<FieldError> build(ParsedEvent& e) {
    const Slot& type = s_[k_type];
    if (type.count == 0) return fail(EventError::missing_field, k_type, "missing");
    if (type.kind != od::json_type::string) {
      return fail(EventError::invalid_field, k_type, "expected a string");
    }
    const std::optional<EventType> t = type_named(type.text);
    if (!t) {
      return fail(EventError::unknown_type, k_type,
                  "unknown event type (expected tick, add, cancel, reduce, execute, replace or "
                  "level)");
    }
    e.type = *t;
    std::optional<FieldError> err = symbol(e.symbol);
    switch (*t) {
      case EventType::tick:
        if (!err) err = decimal(k_price, e.price, true);
        if (!err) err = decimal(k_size, e.qty, true);
        if (!err) err = side(e.side);
        break;
      case EventType::add:
        if (!err) err = order_id(k_order_id, e.order_id);
        if (!err) err = side(e.side);
        if (!err) err = decimal(k_price, e.price, true);
        if (!err) err = decimal(k_qty, e.qty, true);
        break;
      case EventType::cancel:
        if (!err) err = order_id(k_order_id, e.order_id);
        break;
      case EventType::reduce:
        if (!err) err = order_id(k_order_id, e.order_id);
        if (!err) err = decimal(k_qty, e.qty, true);
        break;
      case EventType::execute:
        if (!err) err = order_id(k_order_id, e.order_id);
        if (!err) err = decimal(k_qty, e.qty, true);
        if (!err) err = decimal(k_price, e.price, false);
        break;
      case EventType::replace:
        if (!err) err = order_id(k_order_id, e.order_id);
        if (!err) err = order_id(k_new_order_id, e.new_order_id);
        if (!err) err = decimal(k_price, e.price, true);
        if (!err) err = decimal(k_qty, e.qty, true);
        break;
      case EventType::level:
        if (!err) err = side(e.side);
        if (!err) err = decimal(k_price, e.price, true);
        if (!err) err = decimal(k_qty, e.qty, true);
        break;
    }
    if (!err) err = ts_ns(e.ts_ns);
    if (!err) err = upstream_seq(e.seq);
    return err;
  }

 private:
  // Common check: present (or optional). Returns the slot to read, or null.
  const Slot* present(Key k, bool required, std::optional<FieldError>& err) const {
    const Slot& s = s_[k];
    if (s.count == 0) {
      if (required) err = fail(EventError::missing_field, k, "missing");
      return nullptr;
    }
    return &s;
  }

  std::optional<FieldError> symbol(std::string_view& out) const {
    std::optional<FieldError> err;
    const Slot* s = present(k_symbol, true, err);
    if (!s) return err;
    if (s->kind != od::json_type::string) {
      return fail(EventError::invalid_symbol, k_symbol, "expected a string");
    }
    if (!is_valid_symbol(s->text)) {
      return fail(EventError::invalid_symbol, k_symbol,
                  "expected 1 to 32 of A-Z 0-9 . _ - starting with A-Z or 0-9");
    }
    out = s->text;
    return std::nullopt;
  }

  std::optional<FieldError> order_id(Key k, std::string_view& out) const {
    std::optional<FieldError> err;
    const Slot* s = present(k, true, err);
    if (!s) return err;
    if (s->kind != od::json_type::string) {
      return fail(EventError::invalid_field, k, "expected a string");
    }
    if (s->text.empty()) return fail(EventError::invalid_field, k, "must not be empty");
    out = s->text;
    return std::nullopt;
  }

  std::optional<FieldError> side(std::optional<ob::Side>& out) const {
    std::optional<FieldError> err;
    const Slot* s = present(k_side, true, err);
    if (!s) return err;
    if (s->kind == od::json_type::string && s->text == "buy") {
      out = ob::Side::buy;
    } else if (s->kind == od::json_type::string && s->text == "sell") {
      out = ob::Side::sell;
    } else {
      return fail(EventError::invalid_field, k_side, "expected \"buy\" or \"sell\"");
    }
    return std::nullopt;
  }

  std::optional<FieldError> decimal(Key k, std::string_view& out, bool required) const {
    std::optional<FieldError> err;
    const Slot* s = present(k, required, err);
    if (!s) return err;
    const EventError code = k == k_price ? EventError::invalid_price : EventError::invalid_quantity;
    if (s->kind == od::json_type::number) {
      return fail(code, k, "expected a decimal string, not a JSON number");
    }
    if (s->kind != od::json_type::string) return fail(code, k, "expected a decimal string");
    if (!is_decimal(s->text)) {
      return fail(code, k, "expected digits with an optional fraction, as \"100.5\"");
    }
    out = s->text;
    return std::nullopt;
  }

  std::optional<FieldError> ts_ns(std::optional<std::int64_t>& out) const {
    std::optional<FieldError> err;
    const Slot* s = present(k_ts_ns, false, err);
    if (!s) return err;
    if (s->kind != od::json_type::number || !s->int64 || s->number < 0) {
      return fail(EventError::invalid_field, k_ts_ns,
                  "expected a non-negative integer (nanoseconds since the Unix epoch)");
    }
    out = s->number;
    return std::nullopt;
  }

  std::optional<FieldError> upstream_seq(std::optional<std::int64_t>& out) const {
    std::optional<FieldError> err;
    const Slot* s = present(k_seq, false, err);
    if (!s) return err;
    if (s->kind != od::json_type::number || !s->int64 || s->number <= 0) {
      return fail(EventError::invalid_field, k_seq,
                  "expected a positive integer (upstream sequence)");
    }
    out = s->number;
    return std::nullopt;
  }

  const Slots& s_;
};

// ---- resolve ---------------------------------------------------------------------

std::string grid_message(Key k, std::string_view text, const ob::BookSpec& spec, bool allow_zero) {
  const bool price = k == k_price;
  const int decimals = price ? spec.price_decimals : spec.qty_decimals;
  const std::int64_t unit = price ? spec.tick_units : spec.lot_units;
  std::string m(kKeyNames[k]);
  std::int64_t scaled = 0;
  bool off_grid = false;
  if (!ob::parse_scaled(text, decimals, scaled, off_grid)) {
    m += is_decimal(text) ? ": beyond the 64-bit fixed-point range"
                          : ": expected digits with an optional fraction, as \"100.5\"";
  } else if (off_grid || scaled % unit != 0) {
    m += price ? ": not a multiple of the tick " : ": not a multiple of the lot ";
    if (price) {
      ob::append_price(m, ob::Price(1), spec);
    } else {
      ob::append_qty(m, ob::Qty(1), spec);
    }
  } else if (scaled == 0 && !allow_zero) {
    m += ": must be greater than zero";
  } else {
    m += ": beyond the largest price (2^62 ticks)";
  }
  return m;
}

}  // namespace

// ---- ParsedBatch -------------------------------------------------------------------

ParsedBatch ParsedBatch::rejected_line(LineError error) {
  ParsedBatch b;
  b.first_line_ = error.line;
  b.end_line_ = error.line + 1;
  b.errors_.push_back(std::move(error));
  return b;
}

std::size_t ParsedBatch::rejected_count() const noexcept {
  std::size_t n = errors_.size();
  for (std::size_t c : unlisted_) n += c;
  return n;
}

ParsedBatch ParsedBatch::split_front(std::size_t n) {
  ParsedBatch front;
  front.storage_ = storage_;
  front.first_line_ = first_line_;
  const bool all = n >= events_.size();
  const std::size_t cut_line = all ? end_line_ : lines_[n];
  const auto ev_end = events_.begin() + static_cast<std::ptrdiff_t>(all ? events_.size() : n);
  front.events_.assign(events_.begin(), ev_end);
  events_.erase(events_.begin(), ev_end);
  const auto line_end = lines_.begin() + static_cast<std::ptrdiff_t>(front.events_.size());
  front.lines_.assign(lines_.begin(), line_end);
  lines_.erase(lines_.begin(), line_end);
  auto err_end = errors_.begin();
  while (err_end != errors_.end() && err_end->line < cut_line) ++err_end;
  front.errors_.assign(std::make_move_iterator(errors_.begin()), std::make_move_iterator(err_end));
  errors_.erase(errors_.begin(), err_end);
  if (all) front.unlisted_ = std::exchange(unlisted_, {});
  front.end_line_ = cut_line;
  first_line_ = cut_line;
  return front;
}

// ---- NdjsonParser ------------------------------------------------------------------

NdjsonParser::NdjsonParser() : state_(std::make_unique<detail::NdjsonState>()) {}
NdjsonParser::~NdjsonParser() = default;
NdjsonParser::NdjsonParser(NdjsonParser&&) noexcept = default;
NdjsonParser& NdjsonParser::operator=(NdjsonParser&&) noexcept = default;

ParsedBatch NdjsonParser::parse(std::string text, std::size_t first_line,
                                std::size_t max_error_records) {
  auto storage = std::make_shared<detail::BatchStorage>();
  storage->text = std::move(text);
  std::string& buf = storage->text;
  if (buf.capacity() < buf.size() + kNdjsonPadding) buf.reserve(buf.size() + kNdjsonPadding);

  ParsedBatch batch;
  batch.first_line_ = first_line;
  LineReader reader(storage->arena);
  od::parser& parser = state_->parser;
  const char* const base = buf.data();
  const std::size_t size = buf.size();
  std::size_t line = first_line;
  std::size_t pos = 0;
  while (pos < size) {
    const void* nl = std::memchr(base + pos, '\n', size - pos);
    const std::size_t end =
        nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - base) : size;
    const std::string_view text_line(base + pos, end - pos);
    if (!is_blank(text_line)) {
      Slots slots{};
      od::document doc;
      std::string duplicate;
      error_code e = parser.iterate(base + pos, end - pos, buf.capacity() - pos).get(doc);
      if (e == simdjson::SUCCESS) e = reader.read_object(doc, slots, duplicate);
      const bool listing = batch.errors_.size() < max_error_records;
      if (e != simdjson::SUCCESS || !duplicate.empty()) {
        if (!listing) {
          ++batch.unlisted_[static_cast<std::size_t>(EventError::invalid_json)];
        } else if (e != simdjson::SUCCESS) {
          batch.errors_.push_back(LineError{line, EventError::invalid_json, json_message(e)});
        } else {
          batch.errors_.push_back(
              LineError{line, EventError::invalid_json, "duplicate key \"" + duplicate + "\""});
        }
      } else {
        ParsedEvent ev;
        if (std::optional<FieldError> err = EventBuilder(slots).build(ev)) {
          if (listing) {
            batch.errors_.push_back(LineError{line, err->code, std::move(err->message)});
          } else {
            ++batch.unlisted_[static_cast<std::size_t>(err->code)];
          }
        } else {
          batch.events_.push_back(ev);
          batch.lines_.push_back(line);
        }
      }
    }
    ++line;
    pos = end + 1;
  }
  batch.end_line_ = line;
  batch.storage_ = std::move(storage);
  return batch;
}

ParsedBatch parse_ndjson(std::string text, std::size_t first_line) {
  NdjsonParser parser;
  return parser.parse(std::move(text), first_line);
}

// ---- resolve -----------------------------------------------------------------------

rt::Result<Event, FieldError> resolve(const ParsedEvent& p, const ob::BookSpec& spec) {
  Event e;
  e.type = p.type;
  e.side = p.side.value_or(ob::Side::buy);
  e.order_id = p.order_id;
  e.new_order_id = p.new_order_id;
  e.ts_ns = p.ts_ns.value_or(0);
  e.upstream_seq = static_cast<std::uint64_t>(p.seq.value_or(0));

  const bool needs_price =
      p.type != EventType::cancel && p.type != EventType::reduce && p.type != EventType::execute;
  const bool needs_qty = p.type != EventType::cancel;
  const Key qty_key = p.type == EventType::tick ? k_size : k_qty;
  if (needs_price && p.price.empty()) {
    return rt::Err{fail(EventError::missing_field, k_price, "missing")};
  }
  if (needs_qty && p.qty.empty()) {
    return rt::Err{fail(EventError::missing_field, qty_key, "missing")};
  }
  if (!p.price.empty()) {
    ob::Result<ob::Price> price = ob::parse_price(p.price, spec);
    if (!price) {
      return rt::Err{
          FieldError{EventError::invalid_price, grid_message(k_price, p.price, spec, false)}};
    }
    e.price = *price;
  }
  if (!p.qty.empty()) {
    const bool level = p.type == EventType::level;
    ob::Result<ob::Qty> qty = level ? ob::parse_level_qty(p.qty, spec) : ob::parse_qty(p.qty, spec);
    if (!qty) {
      return rt::Err{
          FieldError{EventError::invalid_quantity, grid_message(qty_key, p.qty, spec, level)}};
    }
    e.qty = *qty;
  }
  return e;
}

// ---- encoder -----------------------------------------------------------------------

void append_ndjson(std::string& out, std::string_view symbol, const Event& e,
                   const ob::BookSpec& spec) {
  JsonWriter w(out);
  w.begin_object().member("type", to_string(e.type)).member("symbol", symbol);
  switch (e.type) {
    case EventType::tick:
      w.key("price").price(e.price, spec).key("size").qty(e.qty, spec);
      w.member("side", ob::to_string(e.side));
      break;
    case EventType::add:
      w.member("order_id", e.order_id).member("side", ob::to_string(e.side));
      w.key("price").price(e.price, spec).key("qty").qty(e.qty, spec);
      break;
    case EventType::cancel:
      w.member("order_id", e.order_id);
      break;
    case EventType::reduce:
      w.member("order_id", e.order_id).key("qty").qty(e.qty, spec);
      break;
    case EventType::execute:
      w.member("order_id", e.order_id).key("qty").qty(e.qty, spec);
      if (e.price.ticks() != 0) w.key("price").price(e.price, spec);
      break;
    case EventType::replace:
      w.member("order_id", e.order_id).member("new_order_id", e.new_order_id);
      w.key("price").price(e.price, spec).key("qty").qty(e.qty, spec);
      break;
    case EventType::level:
      w.member("side", ob::to_string(e.side));
      w.key("price").price(e.price, spec).key("qty").qty(e.qty, spec);
      break;
  }
  if (e.ts_ns > 0) w.member("ts_ns", e.ts_ns);
  if (e.upstream_seq > 0) w.member("seq", e.upstream_seq);
  w.end_object();
  out += '\n';
}

}  // namespace feeds
