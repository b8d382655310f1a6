// Checking a segment image: names, the header, torn tails (cut anywhere in
// the last record, or followed by zeroes) against damage in the middle.
#include "storage/segment.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace storage;

// An image with records seq first..last, payload "p<seq>", and the record offsets.
std::string image_of(std::uint64_t first, std::uint64_t last,
                     std::vector<std::uint64_t>* offsets = nullptr) {
  std::string img(kSegmentMagic);
  for (std::uint64_t s = first; s <= last; ++s) {
    if (offsets) offsets->push_back(img.size());
    append_record(img, s, "p" + std::to_string(s) + std::string(s % 5, '.'));
  }
  return img;
}

SegmentCheck open_check(std::uint64_t first) {
  return SegmentCheck{TailMode::open_segment, first, 0, kMaxRecordLength};
}

TEST(SegmentNames, AreTwentyDigitsAndParseBack) {
  EXPECT_EQ(segment_file_name(42, false), "00000000000000000042.log");
  EXPECT_EQ(segment_file_name(42, true), "00000000000000000042.log.zst");
  EXPECT_EQ(segment_file_name(UINT64_MAX, false), "18446744073709551615.log");
  auto n = parse_segment_name("00000000000000000042.log.zst");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->first_seq, 42u);
  EXPECT_TRUE(n->compressed);
  EXPECT_FALSE(parse_segment_name("42.log"));
  EXPECT_FALSE(parse_segment_name("00000000000000000042.log.tmp"));
  EXPECT_FALSE(parse_segment_name("0000000000000000004x.log"));
  EXPECT_FALSE(parse_segment_name("99999999999999999999.log"));  // above UINT64_MAX
  EXPECT_FALSE(parse_segment_name("00000000000000000042.snap"));
}

TEST(SegmentNames, SortAsNumbers) {
  EXPECT_LT(segment_file_name(9, false), segment_file_name(10, false));
  EXPECT_LT(segment_file_name(999, false), segment_file_name(1000, false));
}

TEST(SegmentCursor, ReadsEveryRecordOfACleanImage) {
  const std::string img = image_of(5, 12);
  SegmentCursor c(img, open_check(5));
  std::uint64_t expect = 5;
  while (auto r = c.next()) EXPECT_EQ(r->seq, expect++);
  EXPECT_EQ(expect, 13u);
  EXPECT_EQ(c.end().kind, SegmentEnd::Kind::clean);
  EXPECT_EQ(c.end().offset, img.size());
  EXPECT_EQ(c.last_seq(), 12u);
}

TEST(SegmentCursor, HeaderOnlyIsAnEmptyCleanSegment) {
  const SegmentScan s = scan_segment(kSegmentMagic, open_check(1));
  EXPECT_EQ(s.end.kind, SegmentEnd::Kind::clean);
  EXPECT_EQ(s.records, 0u);
}

TEST(SegmentCursor, APartialHeaderIsTornOnlyInTheOpenSegment) {
  for (std::size_t n = 0; n < kSegmentHeaderSize; ++n) {
    const std::string_view head = kSegmentMagic.substr(0, n);
    EXPECT_EQ(scan_segment(head, open_check(1)).end.kind, SegmentEnd::Kind::torn_tail) << n;
    EXPECT_EQ(scan_segment(head, SegmentCheck{}).end.kind, SegmentEnd::Kind::corrupt) << n;
  }
}

TEST(SegmentCursor, AForeignMagicIsCorruptNeverTorn) {
  std::string img = image_of(1, 3);
  img[3] = 'X';
  const SegmentScan s = scan_segment(img, open_check(1));
  EXPECT_EQ(s.end.kind, SegmentEnd::Kind::corrupt);
  EXPECT_EQ(s.end.offset, 0u);
}

TEST(SegmentCursor, ATailCutAnywhereInTheLastRecordIsTorn) {
  std::vector<std::uint64_t> offsets;
  const std::string img = image_of(1, 6, &offsets);
  const std::uint64_t last = offsets.back();
  for (std::uint64_t cut = last; cut < img.size(); ++cut) {
    const SegmentScan s = scan_segment(std::string_view(img).substr(0, cut), open_check(1));
    // Cut at the record's first byte, nothing of it was written: a clean end.
    EXPECT_EQ(s.end.kind, cut == last ? SegmentEnd::Kind::clean : SegmentEnd::Kind::torn_tail)
        << "cut at " << cut;
    EXPECT_EQ(s.end.offset, last) << "cut at " << cut;
    EXPECT_EQ(s.records, 5u);
    EXPECT_EQ(s.last_seq, 5u);
    // The same cut followed by zeroes (a file extended before its data landed).
    std::string zeroed = img.substr(0, cut) + std::string(img.size() - cut + 64, '\0');
    const SegmentScan z = scan_segment(zeroed, open_check(1));
    EXPECT_EQ(z.end.kind, SegmentEnd::Kind::torn_tail) << "zeroes from " << cut;
    EXPECT_EQ(z.end.offset, last);
  }
}

TEST(SegmentCursor, ATornTailInAClosedSegmentIsCorruption) {
  const std::string img = image_of(1, 4);
  const SegmentScan s = scan_segment(std::string_view(img).substr(0, img.size() - 3),
                                     SegmentCheck{TailMode::closed, 1, 0, kMaxRecordLength});
  EXPECT_EQ(s.end.kind, SegmentEnd::Kind::corrupt);
}

TEST(SegmentCursor, EveryFlippedByteOfAMiddleRecordIsCorruptionAtItsOffset) {
  std::vector<std::uint64_t> offsets;
  const std::string img = image_of(1, 8, &offsets);
  const std::uint64_t bad = offsets[3];  // seq 4
  const std::uint64_t bad_end = offsets[4];
  for (std::uint64_t i = bad; i < bad_end; ++i) {
    std::string damaged = img;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5A);
    const SegmentScan s = scan_segment(damaged, open_check(1));
    EXPECT_EQ(s.end.kind, SegmentEnd::Kind::corrupt) << "flip at " << i;
    EXPECT_EQ(s.end.offset, bad) << "flip at " << i;
    EXPECT_EQ(s.last_seq, 3u);
    EXPECT_NE(s.end.reason.find("followed by a valid record"), std::string::npos) << s.end.reason;
  }
}

TEST(SegmentCursor, ADamagedLastRecordWithNothingAfterItIsTorn) {
  // Indistinguishable from a torn write: nothing valid follows.
  std::vector<std::uint64_t> offsets;
  std::string img = image_of(1, 4, &offsets);
  img[offsets.back() + 20] ^= 1;
  const SegmentScan s = scan_segment(img, open_check(1));
  EXPECT_EQ(s.end.kind, SegmentEnd::Kind::torn_tail);
  EXPECT_EQ(s.end.offset, offsets.back());
}

TEST(SegmentCursor, DamageOnlyBelowSkipDamageBelowIsPassedOver) {
  std::vector<std::uint64_t> offsets;
  std::string img = image_of(1, 10, &offsets);
  img[offsets[3] + 17] ^= 0x01;  // seq 4 is lost
  for (std::uint64_t below : {5u, 9u}) {
    SegmentCursor c(img, SegmentCheck{TailMode::closed, 1, 0, kMaxRecordLength, below});
    std::vector<std::uint64_t> seqs;
    while (auto r = c.next()) seqs.push_back(r->seq);
    EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3, 5, 6, 7, 8, 9, 10})) << below;
    EXPECT_EQ(c.end().kind, SegmentEnd::Kind::clean);
    ASSERT_TRUE(c.skipped());
    EXPECT_EQ(c.skipped()->offset, offsets[3]);
  }
  // Damage to the very first record, passed over too.
  std::string first = image_of(1, 10, &offsets);
  first[kSegmentHeaderSize + 3] ^= 0x01;
  const SegmentScan f =
      scan_segment(first, SegmentCheck{TailMode::closed, 1, 0, kMaxRecordLength, 3});
  EXPECT_EQ(f.end.kind, SegmentEnd::Kind::clean);
  EXPECT_EQ(f.records, 9u);
  // Seq 4 is at or above the bound: the caller needs it, so the damage stops the walk.
  const SegmentScan s =
      scan_segment(img, SegmentCheck{TailMode::closed, 1, 0, kMaxRecordLength, 4});
  EXPECT_EQ(s.end.kind, SegmentEnd::Kind::corrupt);
  EXPECT_EQ(s.end.offset, offsets[3]);
  EXPECT_FALSE(s.skipped);
}

TEST(SegmentCursor, AValidRecordOutOfOrderIsCorruption) {
  std::string img(kSegmentMagic);
  append_record(img, 1, "a");
  append_record(img, 3, "b");
  const std::size_t third = img.size();
  append_record(img, 2, "c");  // goes backwards
  const SegmentScan s = scan_segment(img, open_check(1));
  EXPECT_EQ(s.end.kind, SegmentEnd::Kind::corrupt);
  EXPECT_EQ(s.end.offset, third);
  EXPECT_EQ(s.last_seq, 3u);
}

TEST(SegmentCursor, TheFirstSeqMustMatchTheName) {
  const std::string img = image_of(7, 9);
  const SegmentScan s = scan_segment(img, open_check(6));
  EXPECT_EQ(s.end.kind, SegmentEnd::Kind::corrupt);
  EXPECT_EQ(s.end.offset, kSegmentHeaderSize);
  EXPECT_EQ(s.records, 0u);
}

TEST(SegmentCursor, SeqsMustFollowThePreviousSegment) {
  const std::string img = image_of(7, 9);
  const SegmentScan s = scan_segment(img, SegmentCheck{TailMode::closed, 7, 7, kMaxRecordLength});
  EXPECT_EQ(s.end.kind, SegmentEnd::Kind::corrupt);
}

}  // namespace
