#include "runtime/partition_supervisor.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "tests/runtime/probe_server.hpp"

namespace rt::test {
namespace {

// Routing is a pure function of the key and the partition count; 10
// partitions make abs(key) % N readable as the key's last digit.
class PartitionRoutingTest : public ::testing::Test {
 protected:
  Runtime runtime{Runtime::Options{Scheduler::Options{.workers = 2}}};
  PartitionSupervisor ps = *PartitionSupervisor::start(
      runtime,
      {.partitions = 10, .child = [](std::size_t) { return child<Probe>("", Probe::Config{}); }});
};

TEST_F(PartitionRoutingTest, EverySpellingOfAStringKeyRoutesByItsText) {
  // 64 keys: a spelling routed by anything but its text (the literal's
  // trailing NUL, the pointer's address) misses on most of them.
  for (int i = 0; i < 64; ++i) {
    const std::string text = "SYM" + std::to_string(i);
    const std::string copy = text;  // another buffer: a pointer hash would differ
    const char* pointer = copy.c_str();
    const std::size_t expected = ps.partition_for(std::string_view(text));
    EXPECT_EQ(ps.partition_for(text), expected) << text;
    EXPECT_EQ(ps.partition_for(pointer), expected) << text;
    EXPECT_EQ(ps.whereis(pointer), ps.whereis(std::string_view(text))) << text;
  }
  // Literals are arrays, NUL included: only their text may count.
  EXPECT_EQ(ps.partition_for("BTC-USD"), ps.partition_for(std::string_view("BTC-USD")));
  EXPECT_EQ(ps.partition_for("ETH-USD"), ps.partition_for(std::string("ETH-USD")));
  EXPECT_EQ(ps.partition_for("SOL-USD"), ps.partition_for(std::string_view("SOL-USD")));
  EXPECT_EQ(ps.partition_for("XRP-USD"), ps.partition_for(std::string_view("XRP-USD")));
  EXPECT_EQ(ps.partition_for("DOGE-USD"), ps.partition_for(std::string_view("DOGE-USD")));
  EXPECT_EQ(ps.partition_for("ADA-USD"), ps.partition_for(std::string_view("ADA-USD")));
  EXPECT_EQ(ps.partition_for("LTC-USD"), ps.partition_for(std::string_view("LTC-USD")));
  EXPECT_EQ(ps.partition_for("DOT-USD"), ps.partition_for(std::string_view("DOT-USD")));
  EXPECT_EQ(ps.whereis("BTC-USD"), ps.whereis(std::string("BTC-USD")));
  char buffer[] = "ETH-USD";  // a mutable array spells it too
  EXPECT_EQ(ps.partition_for(buffer), ps.partition_for(std::string_view("ETH-USD")));
  const char* none = nullptr;  // no text: routes as the empty string, not through strlen
  EXPECT_EQ(ps.partition_for(none), ps.partition_for(std::string_view()));
}

TEST_F(PartitionRoutingTest, SignedIntegerKeysRouteByAbsoluteValue) {
  EXPECT_EQ(ps.partition_for(0), 0u);
  EXPECT_EQ(ps.partition_for(7), 7u);
  EXPECT_EQ(ps.partition_for(-7), 7u);
  EXPECT_EQ(ps.partition_for(-13), 3u);
  EXPECT_EQ(ps.partition_for(static_cast<short>(-25)), 5u);
  EXPECT_EQ(ps.partition_for(INT32_MIN), 8u);  // 2147483648
  EXPECT_EQ(ps.partition_for(INT64_MAX), 7u);  // 9223372036854775807
  EXPECT_EQ(ps.partition_for(INT64_MIN + 1), 7u);
  // abs(INT64_MIN) is 2^63 = 9223372036854775808, which no int64 holds (UB
  // under std::llabs; UBSan stops the test there).
  EXPECT_EQ(ps.partition_for(std::numeric_limits<std::int64_t>::min()), 8u);
  EXPECT_EQ(ps.partition_for(LLONG_MIN), 8u);
}

TEST_F(PartitionRoutingTest, UnsignedIntegerKeysRouteByValue) {
  EXPECT_EQ(ps.partition_for(7u), 7u);
  EXPECT_EQ(ps.partition_for(static_cast<unsigned char>(255)), 5u);
  EXPECT_EQ(ps.partition_for(UINT32_MAX), 5u);  // 4294967295
  // Past 2^63: the value, not the value read as a negative int64.
  EXPECT_EQ(ps.partition_for(UINT64_MAX), 5u);  // 18446744073709551615
  EXPECT_EQ(ps.partition_for(std::size_t{18446744073709551604u}), 4u);
  EXPECT_EQ(ps.partition_for((std::uint64_t{1} << 63) + 1), 9u);  // 9223372036854775809
  EXPECT_EQ(ps.partition_for(std::uint64_t{1} << 63), 8u);        // ...808
  EXPECT_EQ(ps.whereis(UINT64_MAX), ps.whereis(5));
}

}  // namespace
}  // namespace rt::test
