#include "feeds/ndjson.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace feeds {
namespace {

using namespace std::string_literals;

// The batches the returned views point into, kept for the test's duration.
std::vector<ParsedBatch>& kept() {
  static thread_local std::vector<ParsedBatch> batches;
  return batches;
}

ParsedEvent parse_one(const std::string& line) {
  ParsedBatch& b = kept().emplace_back(parse_ndjson(line));
  EXPECT_EQ(b.errors().size(), 0u)
      << line << " -> " << (b.errors().empty() ? "" : b.errors()[0].message);
  EXPECT_EQ(b.events().size(), 1u) << line;
  return b.events().empty() ? ParsedEvent{} : b.events()[0];
}

LineError reject_one(const std::string& line) {
  ParsedBatch b = parse_ndjson(line);
  EXPECT_EQ(b.events().size(), 0u) << line;
  EXPECT_EQ(b.errors().size(), 1u) << line;
  return b.errors().empty() ? LineError{} : b.errors()[0];
}

// ---- every type, as in API.md -----------------------------------------------------

TEST(NdjsonParse, TickAsInTheApi) {
  ParsedEvent e = parse_one(
      R"({"type":"tick","symbol":"BTC-USD","price":"64000.50","size":"0.0100","side":"buy","ts_ns":1790000000000000000})");
  EXPECT_EQ(e.type, EventType::tick);
  EXPECT_EQ(e.symbol, "BTC-USD");
  EXPECT_EQ(e.price, "64000.50");
  EXPECT_EQ(e.qty, "0.0100");
  EXPECT_EQ(e.side, ob::Side::buy);
  EXPECT_EQ(e.ts_ns, 1790000000000000000);
}

TEST(NdjsonParse, AnUpstreamSequenceNumberIsKeptWhenGiven) {
  ParsedEvent e = parse_one(
      R"({"type":"tick","symbol":"BTC-USD","price":"1","size":"1","side":"buy","seq":42})");
  EXPECT_EQ(e.seq, 42);
  EXPECT_FALSE(parse_one(R"({"type":"cancel","symbol":"S","order_id":"1"})").seq.has_value());
}

TEST(NdjsonParse, L3MessagesAndLevelAsInTheApi) {
  ParsedEvent add = parse_one(
      R"({"type":"add","symbol":"BTC-USD","order_id":"A1","side":"sell","price":"64001.00","qty":"0.5000"})");
  EXPECT_EQ(add.type, EventType::add);
  EXPECT_EQ(add.order_id, "A1");
  EXPECT_EQ(add.side, ob::Side::sell);
  EXPECT_EQ(add.price, "64001.00");
  EXPECT_EQ(add.qty, "0.5000");
  EXPECT_FALSE(add.ts_ns.has_value());

  ParsedEvent cancel = parse_one(R"({"type":"cancel","symbol":"BTC-USD","order_id":"A1"})");
  EXPECT_EQ(cancel.type, EventType::cancel);
  EXPECT_EQ(cancel.order_id, "A1");

  ParsedEvent reduce =
      parse_one(R"({"type":"reduce","symbol":"BTC-USD","order_id":"A1","qty":"0.1000"})");
  EXPECT_EQ(reduce.type, EventType::reduce);
  EXPECT_EQ(reduce.qty, "0.1000");

  ParsedEvent exec =
      parse_one(R"({"type":"execute","symbol":"BTC-USD","order_id":"A1","qty":"0.2000"})");
  EXPECT_EQ(exec.type, EventType::execute);
  EXPECT_TRUE(exec.price.empty());
  ParsedEvent exec_px = parse_one(
      R"({"type":"execute","symbol":"BTC-USD","order_id":"A1","qty":"0.2000","price":"64000.5"})");
  EXPECT_EQ(exec_px.price, "64000.5");

  ParsedEvent replace = parse_one(
      R"({"type":"replace","symbol":"BTC-USD","order_id":"A1","new_order_id":"A2","price":"64000.50","qty":"0.3000"})");
  EXPECT_EQ(replace.type, EventType::replace);
  EXPECT_EQ(replace.new_order_id, "A2");

  ParsedEvent level = parse_one(
      R"({"type":"level","symbol":"BTC-USD","side":"buy","price":"63999.00","qty":"1.2500"})");
  EXPECT_EQ(level.type, EventType::level);
  EXPECT_EQ(parse_one(R"({"type":"level","symbol":"X","side":"sell","price":"1","qty":"0"})").qty,
            "0");
}

TEST(NdjsonParse, FieldOrderWhitespaceAndUnknownFieldsDoNotMatter) {
  ParsedEvent e = parse_one(
      " \t{ \"qty\" : \"2\" , \"extra\": {\"a\":[1,2,{\"b\":null}],\"c\":true}, \"order_id\":\"Z\","
      "\"price\":5, \"type\":\"reduce\",\"symbol\":\"S\"}  \r");
  EXPECT_EQ(e.type, EventType::reduce);  // price is not a reduce field: ignored, even as a number
  EXPECT_EQ(e.qty, "2");
  EXPECT_EQ(e.order_id, "Z");
}

TEST(NdjsonParse, EscapedStringsAreUnescapedAndStayValid) {
  ParsedBatch b = parse_ndjson(R"({"type":"cancel","symbol":"S","order_id":"a\"b\\c\u00e9\n"})"
                               "\n"
                               R"({"type":"cancel","symbol":"S","order_id":"plain"})"
                               "\n"
                               R"({"type":"cancel","symbol":"S","order_id":"\ud83d\ude00"})");
  ASSERT_EQ(b.events().size(), 3u);
  EXPECT_EQ(b.events()[0].order_id, "a\"b\\c\xc3\xa9\n");
  EXPECT_EQ(b.events()[1].order_id, "plain");
  EXPECT_EQ(b.events()[2].order_id, "\xf0\x9f\x98\x80");
  ParsedBatch moved = std::move(b);  // views survive moving the batch
  EXPECT_EQ(moved.events()[0].order_id, "a\"b\\c\xc3\xa9\n");
}

TEST(NdjsonParse, EscapedKeysAreMatched) {
  ParsedEvent e = parse_one(R"({"ty\u0070e":"cancel","symbol":"S","order\u005fid":"1"})");
  EXPECT_EQ(e.type, EventType::cancel);
  EXPECT_EQ(e.order_id, "1");
}

TEST(NdjsonParse, ViewsPointIntoTheBatchText) {
  ParsedBatch b = parse_ndjson(R"({"type":"cancel","symbol":"S","order_id":"ID"})");
  ParsedBatch copy = b;  // copies share the text
  b = ParsedBatch{};
  EXPECT_EQ(copy.events().at(0).order_id, "ID");
  EXPECT_EQ(copy.events().at(0).symbol, "S");
}

// ---- lines, blank lines, CRLF ----------------------------------------------------

TEST(NdjsonParse, LineNumbersArePhysicalAndBlankLinesAreSkipped) {
  const std::string text =
      "\n"  // 1 blank
      R"({"type":"cancel","symbol":"S","order_id":"1"})"
      "\r\n"        // 2
      "   \t \r\n"  // 3 blank
      "{nope\n"     // 4 error
      R"({"type":"cancel","symbol":"S","order_id":"2"})"
      "\n"   // 5
      "\n";  // 6 blank, trailing
  ParsedBatch b = parse_ndjson(text, 10);
  ASSERT_EQ(b.events().size(), 2u);
  EXPECT_EQ(b.lines(), (std::vector<std::size_t>{11, 14}));
  ASSERT_EQ(b.errors().size(), 1u);
  EXPECT_EQ(b.errors()[0].line, 13u);
  EXPECT_EQ(b.errors()[0].code, EventError::invalid_json);
  EXPECT_EQ(b.first_line(), 10u);
  EXPECT_EQ(b.end_line(), 16u);  // six lines: the final newline starts no seventh
}

TEST(NdjsonParse, EmptyAndBlankInputHaveNothing) {
  for (const char* text : {"", "\n", "\r\n\r\n", "  \n\t"}) {
    ParsedBatch b = parse_ndjson(text);
    EXPECT_TRUE(b.empty()) << text;
  }
}

TEST(NdjsonParse, LastLineWithoutNewline) {
  ParsedBatch b = parse_ndjson(
      "\n"
      R"({"type":"cancel","symbol":"S","order_id":"1"})");
  ASSERT_EQ(b.lines().size(), 1u);
  EXPECT_EQ(b.lines()[0], 2u);
  EXPECT_EQ(b.line_count(), 2u);
}

TEST(NdjsonParse, AHugeLineParses) {
  const std::string id(3 << 20, 'x');  // 3 MiB order id: the parser grows for it
  std::string text = R"({"type":"cancel","symbol":"S","order_id":")" + id + "\"}\n";
  text += R"({"type":"cancel","symbol":"S","order_id":"after"})";
  NdjsonParser parser;
  ParsedBatch b = parser.parse(text);
  ASSERT_EQ(b.events().size(), 2u);
  EXPECT_EQ(b.events()[0].order_id.size(), id.size());
  EXPECT_EQ(b.events()[1].order_id, "after");
  ParsedBatch again = parser.parse(R"({"type":"cancel","symbol":"S","order_id":"small"})");
  EXPECT_EQ(again.events().at(0).order_id, "small");
}

TEST(NdjsonParse, ParserIsReusable) {
  NdjsonParser parser;
  ParsedBatch a = parser.parse(R"({"type":"cancel","symbol":"S","order_id":"a\u0041"})");
  ParsedBatch b = parser.parse(R"({"type":"cancel","symbol":"S","order_id":"b\u0042"})");
  EXPECT_EQ(a.events().at(0).order_id, "aA");  // a's arena is its own
  EXPECT_EQ(b.events().at(0).order_id, "bB");
}

// ---- rejections: every code the parser gives --------------------------------------

struct Bad {
  std::string line;
  EventError code;
  std::string message;  // substring
};

void PrintTo(const Bad& b, std::ostream* os) {
  *os << b.line.substr(0, 120);
}

class NdjsonReject : public ::testing::TestWithParam<Bad> {};

TEST_P(NdjsonReject, WithCodeAndMessage) {
  const Bad& c = GetParam();
  LineError e = reject_one(c.line);
  EXPECT_EQ(e.code, c.code) << c.line << " -> " << e.message;
  EXPECT_NE(e.message.find(c.message), std::string::npos) << c.line << " -> " << e.message;
  EXPECT_EQ(e.line, 1u);
}

const std::string kAdd = R"("type":"add","symbol":"BTC-USD","order_id":"A1","side":"sell")";

INSTANTIATE_TEST_SUITE_P(
    Corpus, NdjsonReject,
    ::testing::Values(
        // invalid_json
        Bad{"{", EventError::invalid_json, ""}, Bad{"nope", EventError::invalid_json, ""},
        Bad{"[1,2]", EventError::invalid_json, "object"},
        Bad{R"("str")", EventError::invalid_json, "object"},
        Bad{"42", EventError::invalid_json, "object"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1"} x)", EventError::invalid_json,
            "after"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1"}{})", EventError::invalid_json,
            "after"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1",})", EventError::invalid_json, ""},
        Bad{R"({"type":"cancel" "symbol":"S"})", EventError::invalid_json, ""},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","x":tru})", EventError::invalid_json,
            ""},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","x":nul})", EventError::invalid_json,
            ""},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","x":[1,}])", EventError::invalid_json,
            ""},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","x":1.2.3})", EventError::invalid_json,
            ""},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","x":"\q"})", EventError::invalid_json,
            ""},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"\u12"})", EventError::invalid_json, ""},
        Bad{"{\"type\":\"cancel\",\"symbol\":\"S\",\"order_id\":\"a\tb\"}",
            EventError::invalid_json, "control"},
        Bad{"{\"type\":\"cancel\",\"symbol\":\"S\",\"order_id\":\"\xff\xfe\"}",
            EventError::invalid_json, "UTF-8"},
        Bad{"{\"type\":\"cancel\",\"symbol\":\"S\",\"order_id\":\"\xc3\"}",
            EventError::invalid_json, "UTF-8"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"unterminated})", EventError::invalid_json,
            ""},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","x":)" + std::string(100, '[') +
                std::string(100, ']') + "}",
            EventError::invalid_json, "deep"},
        // type
        Bad{R"({"symbol":"S","order_id":"1"})", EventError::missing_field, "type: missing"},
        Bad{R"({"type":7,"symbol":"S"})", EventError::invalid_field, "type: expected a string"},
        Bad{R"({"type":"trade","symbol":"S"})", EventError::unknown_type, "type: unknown"},
        Bad{R"({"type":"TICK","symbol":"S"})", EventError::unknown_type, "type: unknown"},
        // symbol
        Bad{R"({"type":"cancel","order_id":"1"})", EventError::missing_field, "symbol: missing"},
        Bad{R"({"type":"cancel","symbol":"btc-usd","order_id":"1"})", EventError::invalid_symbol,
            "symbol:"},
        Bad{R"({"type":"cancel","symbol":")" + std::string(33, 'A') + R"(","order_id":"1"})",
            EventError::invalid_symbol, "symbol:"},
        Bad{R"({"type":"cancel","symbol":"","order_id":"1"})", EventError::invalid_symbol,
            "symbol:"},
        Bad{R"({"type":"cancel","symbol":42,"order_id":"1"})", EventError::invalid_symbol,
            "symbol: expected a string"},
        // order ids
        Bad{R"({"type":"cancel","symbol":"S"})", EventError::missing_field, "order_id: missing"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":""})", EventError::invalid_field,
            "order_id: must not be empty"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":17})", EventError::invalid_field,
            "order_id: expected a string"},
        Bad{R"({"type":"replace","symbol":"S","order_id":"1","price":"1","qty":"1"})",
            EventError::missing_field, "new_order_id: missing"},
        // side
        Bad{R"({"type":"add","symbol":"S","order_id":"1","price":"1","qty":"1"})",
            EventError::missing_field, "side: missing"},
        Bad{R"({"type":"add","symbol":"S","order_id":"1","side":"BUY","price":"1","qty":"1"})",
            EventError::invalid_field, "side: expected"},
        Bad{R"({"type":"level","symbol":"S","side":true,"price":"1","qty":"1"})",
            EventError::invalid_field, "side: expected"},
        // decimals
        Bad{"{" + kAdd + R"(,"qty":"1"})", EventError::missing_field, "price: missing"},
        Bad{"{" + kAdd + R"(,"price":"1"})", EventError::missing_field, "qty: missing"},
        Bad{R"({"type":"tick","symbol":"S","price":"1","side":"buy"})", EventError::missing_field,
            "size: missing"},
        Bad{R"({"type":"tick","symbol":"S","price":"1","qty":"1","side":"buy"})",
            EventError::missing_field, "size: missing"},
        Bad{"{" + kAdd + R"(,"price":64001.5,"qty":"1"})", EventError::invalid_price,
            "price: expected a decimal string, not a JSON number"},
        Bad{"{" + kAdd + R"(,"price":"1","qty":0.5})", EventError::invalid_quantity,
            "qty: expected a decimal string, not a JSON number"},
        Bad{R"({"type":"tick","symbol":"S","price":"1","size":1,"side":"buy"})",
            EventError::invalid_quantity, "size: expected a decimal string"},
        Bad{"{" + kAdd + R"(,"price":null,"qty":"1"})", EventError::invalid_price,
            "price: expected a decimal string"},
        Bad{"{" + kAdd + R"(,"price":"-1","qty":"1"})", EventError::invalid_price, "price:"},
        Bad{"{" + kAdd + R"(,"price":"+1","qty":"1"})", EventError::invalid_price, "price:"},
        Bad{"{" + kAdd + R"(,"price":"1e3","qty":"1"})", EventError::invalid_price, "price:"},
        Bad{"{" + kAdd + R"(,"price":"1.","qty":"1"})", EventError::invalid_price, "price:"},
        Bad{"{" + kAdd + R"(,"price":".5","qty":"1"})", EventError::invalid_price, "price:"},
        Bad{"{" + kAdd + R"(,"price":" 1","qty":"1"})", EventError::invalid_price, "price:"},
        Bad{"{" + kAdd + R"(,"price":"","qty":"1"})", EventError::invalid_price, "price:"},
        Bad{"{" + kAdd + R"(,"price":"1","qty":"-0.5"})", EventError::invalid_quantity, "qty:"},
        Bad{"{" + kAdd + R"(,"price":"1","qty":"5E-1"})", EventError::invalid_quantity, "qty:"},
        Bad{R"({"type":"execute","symbol":"S","order_id":"1","qty":"1","price":"x"})",
            EventError::invalid_price, "price:"},
        // ts_ns
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","ts_ns":-1})",
            EventError::invalid_field, "ts_ns:"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","ts_ns":1.5})",
            EventError::invalid_field, "ts_ns:"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","ts_ns":1e9})",
            EventError::invalid_field, "ts_ns:"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","ts_ns":"1"})",
            EventError::invalid_field, "ts_ns:"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","ts_ns":99999999999999999999})",
            EventError::invalid_field, "ts_ns:"},
        // seq (optional upstream sequence number)
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","seq":0})", EventError::invalid_field,
            "seq:"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","seq":"7"})", EventError::invalid_field,
            "seq:"},
        // duplicate keys (API.md: invalid_json), read, ignored or escaped alike
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","order_id":"2"})",
            EventError::invalid_json, R"(duplicate key "order_id")"},
        Bad{R"({"type":"cancel","type":"cancel","symbol":"S","order_id":"1"})",
            EventError::invalid_json, R"(duplicate key "type")"},
        Bad{R"({"type":"cancel","symbol":"S","order_id":"1","x":1,"x":2})",
            EventError::invalid_json, R"(duplicate key "x")"},
        Bad{R"({"type":"add","symbol":"S","order_id":"1","side":"buy","s\u0069de":"sell",)"
            R"("price":"1","qty":"1"})",
            EventError::invalid_json, R"(duplicate key "side")"}),
    [](const ::testing::TestParamInfo<Bad>& p) { return "Line" + std::to_string(p.index); });

TEST(NdjsonParse, ManyDistinctKeysAreFineAndADuplicateAmongThemIsNot) {
  std::string line = R"({"type":"cancel","symbol":"S","order_id":"1")";
  for (int i = 0; i < 100; ++i) line += ",\"k" + std::to_string(i) + "\":1";
  EXPECT_EQ(parse_one(line + "}").order_id, "1");
  EXPECT_EQ(reject_one(line + R"(,"k50":2})").code, EventError::invalid_json);
}

TEST(NdjsonParse, FirstFailureInApiOrderWins) {
  // Both symbol and price are wrong: symbol comes first.
  EXPECT_EQ(
      reject_one(R"({"type":"add","symbol":"bad","order_id":"1","side":"buy","price":1,"qty":"1"})")
          .code,
      EventError::invalid_symbol);
  // JSON damage anywhere beats field errors.
  EXPECT_EQ(reject_one(R"({"type":"nope","symbol":"S","x":[})").code, EventError::invalid_json);
}

TEST(NdjsonParse, OneBadLineDoesNotSpoilTheOthers) {
  const std::string text =
      "{\"type\":\"cancel\",\"symbol\":\"S\",\"order_id\":\"1\"}\n"
      "{\"type\":\"cancel\",\"symbol\":\"S\",\"order_id\":\"unterminated}\n"
      "\xff\xff\n"
      "{\"type\":\"cancel\",\"symbol\":\"S\",\"order_id\":\"2\"}\n";
  ParsedBatch b = parse_ndjson(text);
  ASSERT_EQ(b.events().size(), 2u);
  EXPECT_EQ(b.events()[1].order_id, "2");
  EXPECT_EQ(b.lines(), (std::vector<std::size_t>{1, 4}));
  ASSERT_EQ(b.errors().size(), 2u);
  EXPECT_EQ(b.errors()[0].line, 2u);
  EXPECT_EQ(b.errors()[1].line, 3u);
}

TEST(NdjsonParse, ZeroTimestampAndLargestTimestamp) {
  EXPECT_EQ(parse_one(R"({"type":"cancel","symbol":"S","order_id":"1","ts_ns":0})").ts_ns, 0);
  EXPECT_EQ(
      parse_one(R"({"type":"cancel","symbol":"S","order_id":"1","ts_ns":9223372036854775807})")
          .ts_ns,
      INT64_MAX);
}

// ---- split_front ---------------------------------------------------------------------

TEST(ParsedBatchSplit, MovesEventsErrorsAndLinesInOrder) {
  const std::string text =
      "{\"type\":\"cancel\",\"symbol\":\"S\",\"order_id\":\"1\"}\n"  // 1
      "bad\n"                                                        // 2
      "{\"type\":\"cancel\",\"symbol\":\"S\",\"order_id\":\"2\"}\n"  // 3
      "bad\n"                                                        // 4
      "\n";                                                          // 5
  ParsedBatch rest = parse_ndjson(text);
  ParsedBatch first = rest.split_front(1);
  EXPECT_EQ(first.events().size(), 1u);
  ASSERT_EQ(first.errors().size(), 1u);
  EXPECT_EQ(first.errors()[0].line, 2u);
  EXPECT_EQ(first.first_line(), 1u);
  EXPECT_EQ(first.end_line(), 3u);
  EXPECT_EQ(rest.first_line(), 3u);
  ParsedBatch second = rest.split_front(1);
  EXPECT_EQ(second.events().at(0).order_id, "2");
  EXPECT_EQ(second.errors().size(), 1u);  // all events split off: all errors go too
  EXPECT_EQ(second.end_line(), 6u);
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(rest.line_count(), 0u);
  first = {};
  EXPECT_EQ(second.events().at(0).symbol, "S");  // the shared text outlives the first slice
}

TEST(ParsedBatchSplit, RejectedLine) {
  ParsedBatch b = ParsedBatch::rejected_line({7, EventError::invalid_json, "too long"});
  EXPECT_EQ(b.first_line(), 7u);
  EXPECT_EQ(b.line_count(), 1u);
  EXPECT_EQ(b.errors().at(0).message, "too long");
}

TEST(NdjsonParse, ABodyOfBadLinesListsOnlyTheErrorsAskedForAndCountsTheRest) {
  std::string body;
  for (int i = 0; i < 10'000; ++i) body += i % 2 == 0 ? "{\n" : "{\"type\":\"nope\"}\n";
  NdjsonParser parser;
  ParsedBatch b = parser.parse(std::move(body), 1, 100);
  ASSERT_EQ(b.errors().size(), 100u);
  EXPECT_EQ(b.errors().front().line, 1u);
  EXPECT_EQ(b.errors().back().line, 100u);
  EXPECT_EQ(b.rejected_count(), 10'000u);
  const auto& unlisted = b.unlisted_errors();
  EXPECT_EQ(unlisted[static_cast<std::size_t>(EventError::invalid_json)], 4'950u);
  EXPECT_EQ(unlisted[static_cast<std::size_t>(EventError::unknown_type)], 4'950u);
  // Handing the whole batch on hands on what was only counted too.
  ParsedBatch front = b.split_front(0);
  EXPECT_EQ(front.rejected_count(), 10'000u);
  EXPECT_TRUE(b.empty());
}

TEST(NdjsonParse, EveryErrorIsListedByDefault) {
  std::string body;
  for (int i = 0; i < 500; ++i) body += "[]\n";
  ParsedBatch b = parse_ndjson(std::move(body));
  EXPECT_EQ(b.errors().size(), 500u);
  EXPECT_EQ(b.rejected_count(), 500u);
}

}  // namespace
}  // namespace feeds
