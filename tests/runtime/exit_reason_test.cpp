#include "runtime/exit_reason.hpp"

#include <gtest/gtest.h>

namespace rt {
namespace {

TEST(ExitReason, NormalShutdownAndShutdownTermAreNormal) {
  EXPECT_TRUE(ExitReason::normal().is_normal());
  EXPECT_TRUE(ExitReason::shutdown().is_normal());
  EXPECT_TRUE(ExitReason::shutdown("reconfigure").is_normal());
  EXPECT_FALSE(ExitReason::error("boom").is_normal());
  EXPECT_FALSE(ExitReason::kill().is_normal());
  EXPECT_FALSE(ExitReason::killed().is_normal());
  EXPECT_FALSE(ExitReason::noproc().is_normal());
}

TEST(ExitReason, PrintsLikeErlangTerms) {
  EXPECT_EQ(ExitReason::shutdown("reconfigure").to_string(), "{shutdown,reconfigure}");
  EXPECT_EQ(ExitReason::error("boom").to_string(), "{error,\"boom\"}");
  EXPECT_EQ(ExitReason().to_string(), "normal");
}

TEST(ExitReason, EqualityComparesKindAndDetail) {
  EXPECT_EQ(ExitReason::error("a"), ExitReason::error("a"));
  EXPECT_NE(ExitReason::error("a"), ExitReason::error("b"));
  EXPECT_NE(ExitReason::shutdown(), ExitReason::shutdown("x"));
}

}  // namespace
}  // namespace rt
