// libFuzzer target over the NDJSON ingest parser (API.md "Normalized events").
//
// The input is a body. Every non-blank physical line must come out as exactly
// one accepted event or one error, in line order; every accepted event that
// resolves for a spec must print (append_ndjson) and parse back to itself.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "feeds/ndjson.hpp"
#include "orderbook/book_spec.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static feeds::NdjsonParser parser;  // reused, as ingest does: its buffers grow
  static const ob::BookSpec spec = *ob::BookSpec::parse("0.01", "0.0001");
  std::string body(reinterpret_cast<const char*>(data), size);
  const feeds::ParsedBatch batch = parser.parse(body);

  require(batch.first_line() == 1 && batch.end_line() >= batch.first_line());
  require(batch.events().size() == batch.lines().size());
  require(batch.events().size() + batch.errors().size() <= batch.line_count());
  std::size_t last = 0;
  for (std::size_t line : batch.lines()) {
    require(line > last && line < batch.end_line());
    last = line;
  }
  last = 0;
  for (const feeds::LineError& e : batch.errors()) {
    require(e.line > last && e.line < batch.end_line());
    last = e.line;
  }

  for (const feeds::ParsedEvent& parsed : batch.events()) {
    auto event = feeds::resolve(parsed, spec);
    if (!event) continue;
    std::string line;
    feeds::append_ndjson(line, parsed.symbol, *event, spec);
    const feeds::ParsedBatch again = feeds::parse_ndjson(line);
    require(again.errors().empty() && again.events().size() == 1);
    auto back = feeds::resolve(again.events()[0], spec);
    require(back.ok() && again.events()[0].symbol == parsed.symbol);
    // Fields the type does not use are not written: compare what it uses.
    std::string reprinted;
    feeds::append_ndjson(reprinted, again.events()[0].symbol, *back, spec);
    require(reprinted == line);
  }
  return 0;
}
