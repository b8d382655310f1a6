#include "feeds/symbol.hpp"

#include <gtest/gtest.h>

#include <string>

namespace feeds {
namespace {

TEST(Symbol, AcceptsTheApiSyntax) {
  for (const char* s :
       {"BTC-USD", "A", "0", "ES.Z26", "X_Y", "A-", "9.", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"}) {
    EXPECT_TRUE(is_valid_symbol(s)) << s;
  }
}

TEST(Symbol, RejectsEverythingElse) {
  for (const char* s : {"", "btc-usd", "Btc", "-A", ".A", "_A", "A B", "A/B", "A+", "ÄB", "A\n"}) {
    EXPECT_FALSE(is_valid_symbol(s)) << s;
  }
  EXPECT_FALSE(is_valid_symbol(std::string(33, 'A')));
  EXPECT_TRUE(is_valid_symbol(std::string(32, 'A')));
  EXPECT_FALSE(is_valid_symbol(std::string_view("A\0B", 3)));
}

static_assert(is_valid_symbol("BTC-USD") && !is_valid_symbol("btc"));

}  // namespace
}  // namespace feeds
