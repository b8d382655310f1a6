#pragma once
// NDJSON codec for normalized events (API.md "Normalized events", POST /ingest).
//
//   feeds::NdjsonParser parser;                      // reuse: it keeps simdjson's buffers
//   feeds::ParsedBatch b = parser.parse(std::move(body));
//   for (std::size_t i = 0; i < b.events().size(); ++i) {
//     auto ev = feeds::resolve(b.events()[i], spec_of(b.events()[i].symbol));
//     if (!ev) report(b.lines()[i], ev.error());   // invalid_price / invalid_quantity
//   }
//   for (const feeds::LineError& e : b.errors()) report(e);
//
// Parsing (simdjson On-Demand, one pass per line, no DOM):
// - Lines are split on '\n'; line numbers are 1-based physical lines. Blank
//   lines (empty or only spaces, tabs, '\r') are skipped, counted neither as
//   events nor as errors. "\r\n" endings are fine.
// - Each line must be exactly one JSON object (else invalid_json, as are bad
//   UTF-8, bad escapes, raw control characters in strings and trailing bytes).
//   Every value is validated, including fields marketd ignores.
// - `type` missing: missing_field; not a string: invalid_field; unknown:
//   unknown_type. Then `symbol`, then the type's fields in API.md's order,
//   then `ts_ns`; the first failure is the line's error.
// - A field the type needs and lacks: missing_field. Order ids: non-empty
//   strings; `side`: "buy" | "sell"; `ts_ns`: a non-negative JSON integer;
//   all else invalid_field. `symbol` not a string or not matching the symbol
//   syntax: invalid_symbol. A decimal (price, qty, size) that is not a string
//   (a JSON number included) or not digits[.digits]: invalid_price for price,
//   invalid_quantity for qty and size. The tick/lot grid, zero and range
//   checks need the symbol's spec: resolve() does them.
// - Fields a type does not use, and unknown fields, are ignored (but must be
//   valid JSON). Keys are compared after unescaping.
// - Duplicate keys: any key that appears twice in the line's object, read or
//   ignored, rejects the line (invalid_json, `duplicate key "price"`; API.md):
//   which copy to apply is ambiguous, and JSON parsers disagree on it. Keys
//   inside nested (ignored) values are not checked. See feeds/unique_keys.hpp.
// - Zero-copy: a ParsedEvent's strings are views into the batch's own copy of
//   the text (the raw token when it has no backslash) or into a small per-batch
//   arena (unescaped strings). They stay valid while the batch, or any batch
//   split from it, lives.
// Thread-safety: NdjsonParser is not thread-safe (one per thread or process);
// ParsedBatch is a value type (const access from any thread); the free
// functions are pure.

#include <array>
#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/event.hpp"
#include "feeds/json_writer.hpp"
#include "orderbook/book_spec.hpp"
#include "runtime/result.hpp"

namespace feeds {

/// Spare bytes NDJSON text needs past its end for simdjson (SIMDJSON_PADDING).
/// Reserve them up front (text.reserve(size + kNdjsonPadding)) to spare parse() a copy.
inline constexpr std::size_t kNdjsonPadding = 64;

/// A failed field: the API.md code and a message naming the field.
struct FieldError {
  EventError code = EventError::invalid_field;
  std::string message;
  friend bool operator==(const FieldError&, const FieldError&) = default;
};

/// Parsed NDJSON: the accepted events and the rejected lines of some
/// consecutive physical lines [first_line(), end_line()), owning the text the
/// events' views point into.
class ParsedBatch {
 public:
  ParsedBatch() = default;
  /// A batch of one line rejected before parsing (e.g. longer than a reader's limit).
  static ParsedBatch rejected_line(LineError error);

  /// The accepted events, in line order.
  const std::vector<ParsedEvent>& events() const noexcept { return events_; }
  /// lines()[i] is the 1-based physical line of events()[i].
  const std::vector<std::size_t>& lines() const noexcept { return lines_; }
  /// The rejected lines the parser listed, in line order: every one, or the
  /// first `max_error_records` (NdjsonParser::parse).
  const std::vector<LineError>& errors() const noexcept { return errors_; }
  /// Rejected lines past the listed ones, by code (index: the EventError's value).
  using ErrorCounts = std::array<std::size_t, std::size(kEventErrors)>;
  const ErrorCounts& unlisted_errors() const noexcept { return unlisted_; }
  /// Every rejected line, listed or not.
  std::size_t rejected_count() const noexcept;
  /// The first physical line covered.
  std::size_t first_line() const noexcept { return first_line_; }
  /// One past the last physical line covered.
  std::size_t end_line() const noexcept { return end_line_; }
  /// Physical lines covered, blank ones included.
  std::size_t line_count() const noexcept { return end_line_ - first_line_; }
  /// True when the batch holds neither events nor errors.
  bool empty() const noexcept { return events_.empty() && rejected_count() == 0; }

  /// Moves the first `n` events (n <= events().size()), the errors of the
  /// lines before the next event and those lines into a new batch sharing this
  /// one's text; this batch keeps the rest. Splitting all events also moves all
  /// errors. Used to hand out a batch piecemeal (paced replay). Unlisted
  /// errors stay with this batch unless all events move.
  ParsedBatch split_front(std::size_t n);

 private:
  friend class NdjsonParser;
  std::shared_ptr<const void> storage_;  // the text and the arena, shared by split batches
  std::vector<ParsedEvent> events_;
  std::vector<std::size_t> lines_;
  std::vector<LineError> errors_;
  ErrorCounts unlisted_{};
  std::size_t first_line_ = 1;
  std::size_t end_line_ = 1;
};

/// Receives parsed batches in line order: replay's output (replay.hpp), and what
/// services implement to resolve symbols, convert with resolve() and route.
class EventSink {
 public:
  virtual ~EventSink() = default;
  /// Takes the next batch: its accepted events and the lines the parser
  /// rejected. Batches arrive in line order and never overlap. The sink may
  /// keep the batch (its views live as long as it does); memory it keeps is
  /// outside the pipeline's bound. An exception ends the replay (sink_failed).
  virtual void submit(ParsedBatch&& batch) = 0;
  /// The input ended: called once after the last submit (not when the replay
  /// fails or is cancelled). A sink that keeps batches in flight completes
  /// them here, so the replay ends once they are. An exception is sink_failed.
  virtual void finish() {}
};

namespace detail {
struct NdjsonState;
}

/// Parses NDJSON text into a ParsedBatch. Keeps one simdjson parser (and its
/// buffers, grown to the longest line seen) across calls: reuse it.
class NdjsonParser {
 public:
  NdjsonParser();
  ~NdjsonParser();
  NdjsonParser(NdjsonParser&&) noexcept;
  NdjsonParser& operator=(NdjsonParser&&) noexcept;

  /// Lists every rejected line (the default).
  static constexpr std::size_t kEveryError = static_cast<std::size_t>(-1);

  /// Parses `text`, whose first physical line is number `first_line`. Lists
  /// at most `max_error_records` rejected lines and only counts the rest, so
  /// that a body of bad lines costs no memory per line (POST /ingest).
  ParsedBatch parse(std::string text, std::size_t first_line = 1,
                    std::size_t max_error_records = kEveryError);

 private:
  std::unique_ptr<detail::NdjsonState> state_;
};

/// Parses `text` with a parser of its own (convenience; prefer a reused NdjsonParser).
ParsedBatch parse_ndjson(std::string text, std::size_t first_line = 1);

/// Converts a parsed event for its symbol's spec: prices on the tick grid and
/// > 0, quantities on the lot grid and > 0 (a level's may be 0: removes it),
/// within the 64-bit fixed-point range. Errors: invalid_price /
/// invalid_quantity naming the field and the tick or lot; missing_field if a
/// hand-built event lacks a decimal its type needs.
rt::Result<Event, FieldError> resolve(const ParsedEvent& e, const ob::BookSpec& spec);

/// Appends `e` as one NDJSON line (with its '\n') in API.md's field order:
/// decimals at the spec's scale, strings JSON-escaped, `ts_ns` only when > 0,
/// an execute's `price` only when set. parse + resolve gives `e` back for any
/// event whose fields unused by its type are default.
void append_ndjson(std::string& out, std::string_view symbol, const Event& e,
                   const ob::BookSpec& spec);

}  // namespace feeds
