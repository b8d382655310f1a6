// Log formats: a JSON line is one valid object whatever the message holds
// (quotes, backslashes, newlines, control bytes); a text line is key=value.
#include "api/logging.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <spdlog/details/log_msg.h>

#include <string>

namespace {

std::string format(std::string_view format, std::string_view message) {
  auto f = api::make_log_formatter(format);
  spdlog::details::log_msg msg(spdlog::source_loc{}, "marketd", spdlog::level::warn, message);
  spdlog::memory_buf_t out;
  f->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(Logging, AJsonLineIsOneObjectWithTheMessageIntact) {
  const std::string message = "event=bad_line reason=\"quote \\\" backslash \\\\\"\nnext\x01 é";
  const std::string line = format("json", message);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line, whatever the message held
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
  std::string_view msg, level, ts;
  ASSERT_EQ(doc["msg"].get(msg), simdjson::SUCCESS);
  EXPECT_EQ(msg, message);
  ASSERT_EQ(doc["level"].get(level), simdjson::SUCCESS);
  EXPECT_EQ(level, "warning");
  ASSERT_EQ(doc["ts"].get(ts), simdjson::SUCCESS);
  EXPECT_EQ(ts.size(), std::string_view("2026-11-21T17:00:00.000000Z").size());
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(Logging, ATextLineCarriesTheLevelAsKeyValue) {
  const std::string line = format("text", "event=serving listen=127.0.0.1:8080");
  EXPECT_NE(line.find("Z level=warning event=serving listen=127.0.0.1:8080\n"), std::string::npos)
      << line;
}

}  // namespace
