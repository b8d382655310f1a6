// Record framing: the CRC32C is Castagnoli's, the layout is the documented
// little-endian one, and every way a frame can be wrong is told apart.
#include "storage/record.hpp"

#include <gtest/gtest.h>

#include "storage/crc32c.hpp"

namespace {

using namespace storage;

TEST(Crc32c, MatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  Crc32c c;  // incremental == one shot
  c.update("1234");
  c.update("56789");
  EXPECT_EQ(c.value(), 0xE3069283u);
}

TEST(RecordFraming, RoundTripsSeqAndPayload) {
  const std::string payloads[] = {"", "x", std::string("\0\1\2\xff", 4), std::string(70000, 'q')};
  std::uint64_t seq = 1;
  for (const std::string& p : payloads) {
    std::string buf;
    append_record(buf, seq, p);
    ASSERT_EQ(buf.size(), framed_size(p.size()));
    const Decoded d = decode_record(buf);
    ASSERT_EQ(d.status, DecodeStatus::ok);
    EXPECT_EQ(d.record.seq, seq);
    EXPECT_EQ(d.record.payload, p);
    EXPECT_EQ(d.size, buf.size());
    seq = seq * 1000 + 7;
  }
}

TEST(RecordFraming, LayoutIsLengthCrcSeqPayloadLittleEndian) {
  std::string buf;
  append_record(buf, 0x0102030405060708ull, "ab");
  ASSERT_EQ(buf.size(), 18u);
  EXPECT_EQ(get_u32(buf.data()), 10u);  // seq + payload
  EXPECT_EQ(std::string_view(buf).substr(8, 8),
            std::string_view("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(std::string_view(buf).substr(16), "ab");
  // The CRC covers the length field and the body, not itself.
  Crc32c c;
  c.update(std::string_view(buf).substr(0, 4));
  c.update(std::string_view(buf).substr(8));
  EXPECT_EQ(get_u32(buf.data() + 4), c.value());
}

TEST(RecordFraming, SeveralRecordsDecodeBackToBack) {
  std::string buf;
  for (std::uint64_t s = 1; s <= 5; ++s) append_record(buf, s, std::string(s, 'a'));
  std::string_view rest = buf;
  for (std::uint64_t s = 1; s <= 5; ++s) {
    const Decoded d = decode_record(rest);
    ASSERT_EQ(d.status, DecodeStatus::ok);
    EXPECT_EQ(d.record.seq, s);
    rest.remove_prefix(d.size);
  }
  EXPECT_TRUE(rest.empty());
}

TEST(RecordFraming, EveryShortPrefixIsTruncated) {
  std::string buf;
  append_record(buf, 9, "payload");
  for (std::size_t n = 0; n < buf.size(); ++n) {
    EXPECT_EQ(decode_record(std::string_view(buf).substr(0, n)).status, DecodeStatus::truncated)
        << "prefix of " << n;
  }
}

TEST(RecordFraming, EveryFlippedBitIsCaught) {
  std::string good;
  append_record(good, 42, "some payload");
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_NE(decode_record(bad).status, DecodeStatus::ok) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(RecordFraming, ZeroesAreNeverARecord) {
  // What a crash can leave past a file's end: the length 0 is below the minimum.
  EXPECT_EQ(decode_record(std::string(64, '\0')).status, DecodeStatus::bad_length);
}

TEST(RecordFraming, LengthAboveTheLimitIsBadLength) {
  std::string buf;
  append_record(buf, 1, std::string(100, 'z'));
  EXPECT_EQ(decode_record(buf, 50).status, DecodeStatus::bad_length);
  EXPECT_EQ(decode_record(buf, 108).status, DecodeStatus::ok);
}

}  // namespace
