// A symbol's journal on disk: written by the JournalWriter, read back by the
// JournalReader across segments, compressed or not; torn tails repaired on
// open, damage in the middle reported with file and offset, then quarantined.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "storage/compression.hpp"
#include "storage/journal_reader.hpp"
#include "storage/journal_writer.hpp"
#include "storage/store.hpp"
#include "tests/storage/storage_fixture.hpp"
#include "tests/support/eventually.hpp"

namespace {

using namespace storage;
using namespace storage_test;

WriterOptions small_segments(std::uint64_t bytes, bool compress = false) {
  return WriterOptions{.fsync = FsyncPolicy::never, .segment_bytes = bytes, .compress = compress};
}

// Record offsets of a plain segment file.
std::vector<std::uint64_t> record_offsets(const fs::path& segment) {
  const std::string img = slurp(segment);
  std::vector<std::uint64_t> out;
  SegmentCursor c(img, SegmentCheck{TailMode::open_segment, std::nullopt, 0, kMaxRecordLength});
  while (auto r = c.next()) out.push_back(r->offset);
  return out;
}

TEST(Journal, ReadsBackWhatWasWritten) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 50);
  const ReadBack rb = read_all(store, "BTC-USD");
  EXPECT_EQ(rb.records, expected(1, 50));
  EXPECT_EQ(rb.end.kind, ReadEnd::Kind::clean);
  EXPECT_EQ(*store.symbols(), std::vector<std::string>{"BTC-USD"});
}

TEST(Journal, AnUnknownSymbolReadsEmpty) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  const ReadBack rb = read_all(store, "NOPE");
  EXPECT_TRUE(rb.records.empty());
  EXPECT_EQ(rb.end.kind, ReadEnd::Kind::clean);
  EXPECT_FALSE(JournalReader::open(store, "../etc", 0).ok());  // never a path
}

TEST(Journal, RotatesAtTheSizeBoundAndNamesSegmentsByFirstSeq) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "ETH-USD", 1, 200, small_segments(1024));
  const auto segs = *store.segments("ETH-USD");
  ASSERT_GT(segs.size(), 5u);
  EXPECT_EQ(segs.front().first_seq, 1u);
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    EXPECT_LE(segs[i].bytes, 1024u) << segs[i].path;
    EXPECT_LT(segs[i].first_seq, segs[i + 1].first_seq);
  }
  // Each segment starts with the record its name says.
  for (const SegmentInfo& s : segs) {
    const std::string img = slurp(s.path);
    EXPECT_EQ(decode_record(std::string_view(img).substr(kSegmentHeaderSize)).record.seq,
              s.first_seq);
  }
  EXPECT_EQ(read_all(store, "ETH-USD").records, expected(1, 200));
}

TEST(Journal, ReadsFromAGivenSeqAcrossSegments) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "ETH-USD", 1, 200, small_segments(1024));
  const auto segs = *store.segments("ETH-USD");
  // From the start of a segment, from its middle, from its last record, past the end.
  for (std::uint64_t from : {segs[2].first_seq, segs[2].first_seq + 1, segs[3].first_seq - 1,
                             std::uint64_t{1}, std::uint64_t{0}, std::uint64_t{200}}) {
    const ReadBack rb = read_all(store, "ETH-USD", from);
    EXPECT_EQ(rb.records, expected(std::max<std::uint64_t>(from, 1), 200)) << "from " << from;
    EXPECT_EQ(rb.end.kind, ReadEnd::Kind::clean);
  }
  EXPECT_TRUE(read_all(store, "ETH-USD", 201).records.empty());
}

TEST(Journal, SeqsNeedNotBeConsecutive) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  {
    JournalWriter w(store, small_segments(256));
    for (std::uint64_t s = 10; s <= 1000; s += 10) {
      ASSERT_TRUE(append_sync(w, "SOL-USD", s, payload_for(s)).ok());
    }
  }
  const ReadBack rb = read_all(store, "SOL-USD", 255);
  ASSERT_FALSE(rb.records.empty());
  EXPECT_EQ(rb.records.front().seq, 260u);
  EXPECT_EQ(rb.records.back().seq, 1000u);
}

TEST(Journal, ATornTailAtEveryByteOfTheLastRecordIsCutAndAppendingContinues) {
  TempDir tmp;
  const Store written = open_store(tmp.path() / "orig");
  write_records(written, "BTC-USD", 1, 6);
  const fs::path seg = written.segments("BTC-USD")->back().path;
  const std::string img = slurp(seg);
  const std::uint64_t last = record_offsets(seg).back();
  for (bool zeroes : {false, true}) {
    for (std::uint64_t cut = last; cut < img.size(); ++cut) {
      SCOPED_TRACE(testing::Message() << "cut at " << cut << (zeroes ? " + zeroes" : ""));
      const fs::path dir = tmp.path() / ("cut" + std::to_string(cut) + (zeroes ? "z" : ""));
      fs::create_directories(dir / "BTC-USD");
      std::string torn = img.substr(0, cut);
      if (zeroes) torn += std::string(img.size() - cut + 100, '\0');
      spit(dir / "BTC-USD" / seg.filename(), torn);
      const Store store = open_store(dir);

      // A reader stops before the torn record and says so; it changes nothing.
      const ReadBack before = read_all(store, "BTC-USD");
      EXPECT_EQ(before.records, expected(1, 5));
      if (cut == last && !zeroes) {
        EXPECT_EQ(before.end.kind, ReadEnd::Kind::clean);  // nothing of seq 6 got there
      } else {
        EXPECT_EQ(before.end.kind, ReadEnd::Kind::torn_tail);
        ASSERT_TRUE(before.end.corruption);
        EXPECT_EQ(before.end.corruption->offset, last);
      }
      EXPECT_EQ(fs::file_size(dir / "BTC-USD" / seg.filename()), torn.size());

      // The writer cuts the tail and continues after seq 5: 6 again, then 7.
      {
        JournalWriter w(store, {.fsync = FsyncPolicy::always});
        EXPECT_TRUE(append_sync(w, "BTC-USD", 6, payload_for(6)).ok());
        EXPECT_TRUE(append_sync(w, "BTC-USD", 7, payload_for(7)).ok());
      }
      const ReadBack after = read_all(store, "BTC-USD");
      EXPECT_EQ(after.records, expected(1, 7));
      EXPECT_EQ(after.end.kind, ReadEnd::Kind::clean);
    }
  }
}

TEST(Journal, AFlippedByteInTheMiddleIsReportedWithFileAndOffset) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 10);
  const fs::path seg = store.segments("BTC-USD")->back().path;
  const std::vector<std::uint64_t> offsets = record_offsets(seg);
  std::string img = slurp(seg);
  const std::uint64_t at = offsets[4] + 17;  // inside seq 5's payload
  img[at] = static_cast<char>(img[at] ^ 0xFF);
  spit(seg, img);

  const ReadBack rb = read_all(store, "BTC-USD");
  EXPECT_EQ(rb.records, expected(1, 4));
  ASSERT_EQ(rb.end.kind, ReadEnd::Kind::corrupt);
  ASSERT_TRUE(rb.end.corruption);
  EXPECT_EQ(rb.end.corruption->segment, seg);
  EXPECT_EQ(rb.end.corruption->offset, offsets[4]);
  EXPECT_EQ(rb.end.corruption->last_good_seq, 4u);
  EXPECT_NE(rb.end.corruption->to_string().find(seg.string()), std::string::npos);
  EXPECT_NE(rb.end.corruption->to_string().find("offset " + std::to_string(offsets[4])),
            std::string::npos);
  // Nothing was "repaired" behind the caller's back.
  EXPECT_EQ(slurp(seg), img);
}

TEST(Journal, CorruptionInAClosedSegmentStopsTheReadThere) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 100, small_segments(512));
  const auto segs = *store.segments("BTC-USD");
  ASSERT_GE(segs.size(), 4u);
  std::string img = slurp(segs[1].path);
  img[img.size() - 2] ^= 0x01;  // its last record
  spit(segs[1].path, img);
  const ReadBack rb = read_all(store, "BTC-USD");
  ASSERT_EQ(rb.end.kind, ReadEnd::Kind::corrupt);
  EXPECT_EQ(rb.end.corruption->segment, segs[1].path);
  EXPECT_EQ(rb.records.back().seq + 1, segs[2].first_seq - 1);  // the last one of segs[1] is lost
}

TEST(Journal, DamageBeforeTheStartSeqIsPassedOver) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 100, small_segments(512));
  const auto segs = *store.segments("BTC-USD");
  const auto offsets = record_offsets(segs[1].path);
  ASSERT_GE(offsets.size(), 5u);
  std::string img = slurp(segs[1].path);
  img[offsets[1] + 12] ^= 0x04;  // the segment's second record
  spit(segs[1].path, img);
  const std::uint64_t damaged_seq = segs[1].first_seq + 1;
  // Recovery from a snapshot taken after the damage does not need what it cost.
  for (std::uint64_t from : {damaged_seq + 1, damaged_seq + 3}) {
    auto reader = JournalReader::open(store, "BTC-USD", from).value();
    std::vector<Rec> got;
    while (auto r = reader.next()) got.push_back(Rec{r->seq, std::string(r->payload)});
    EXPECT_EQ(got, expected(from, 100));
    EXPECT_EQ(reader.end().kind, ReadEnd::Kind::clean);
    ASSERT_TRUE(reader.passed_over());
    EXPECT_EQ(reader.passed_over()->segment, segs[1].path);
    EXPECT_EQ(reader.passed_over()->offset, offsets[1]);
  }
  // A read that needs the damaged record stops there.
  const ReadBack rb = read_all(store, "BTC-USD", damaged_seq);
  EXPECT_TRUE(rb.records.empty());
  EXPECT_EQ(rb.end.kind, ReadEnd::Kind::corrupt);
  EXPECT_EQ(rb.end.corruption->offset, offsets[1]);
}

// A symbol's journal whose open segment has at least 3 records.
std::uint64_t write_with_open_segment_of_three(const Store& store) {
  std::uint64_t n = 100;
  write_records(store, "BTC-USD", 1, n, small_segments(512));
  while (record_offsets(store.segments("BTC-USD")->back().path).size() < 3) {
    ++n;
    write_records(store, "BTC-USD", n, n, small_segments(512));
  }
  return n;
}

TEST(Journal, TheWriterLeavesAnOpenSegmentDamagedInTheMiddleAndAppendsElsewhere) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  const std::uint64_t n = write_with_open_segment_of_three(store);
  const SegmentInfo open_seg = store.segments("BTC-USD")->back();
  const auto offsets = record_offsets(open_seg.path);
  std::string img = slurp(open_seg.path);
  img[offsets[1] + 9] ^= 0x10;  // the seq of its second record
  spit(open_seg.path, img);

  JournalWriter w(store, {.fsync = FsyncPolicy::batch, .segment_bytes = 512, .compress = false});
  ASSERT_TRUE(append_sync(w, "BTC-USD", n + 1, payload_for(n + 1)).ok());
  EXPECT_EQ(w.stats().damaged_segments, 1u);
  EXPECT_EQ(slurp(open_seg.path), img);  // left as it was, closed
  EXPECT_EQ(store.segments("BTC-USD")->back().first_seq, n + 1);
  // Readers see the damage where it matters, and only there.
  const ReadBack all = read_all(store, "BTC-USD");
  ASSERT_EQ(all.end.kind, ReadEnd::Kind::corrupt);
  EXPECT_EQ(all.end.corruption->segment, open_seg.path);
  EXPECT_EQ(all.end.corruption->offset, offsets[1]);
  EXPECT_EQ(all.records, expected(1, open_seg.first_seq));
  EXPECT_EQ(read_all(store, "BTC-USD", open_seg.first_seq + 2).records,
            expected(open_seg.first_seq + 2, n + 1));

  // A caller whose state stops at the damage quarantines; the journal then
  // ends at the last good record and continues from there.
  std::promise<Status> q;
  ASSERT_TRUE(
      w.quarantine("BTC-USD", *all.end.corruption, [&q](const Status& s) { q.set_value(s); }).ok());
  ASSERT_TRUE(q.get_future().get().ok());
  const std::uint64_t good = all.end.corruption->last_good_seq;
  ASSERT_TRUE(append_sync(w, "BTC-USD", good + 1, payload_for(good + 1)).ok());
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, good + 1));
  // The damaged bytes are kept aside, unchanged.
  const fs::path damaged =
      tmp.path() / "BTC-USD" / fmt::format("damaged-{:020}-{}", open_seg.first_seq, offsets[1]);
  EXPECT_EQ(slurp(damaged / open_seg.path.filename()), img);
  EXPECT_TRUE(fs::exists(damaged / segment_file_name(n + 1, false)));
}

TEST(Journal, TheWriterRefusesAJournalWhoseEndItCannotFindUntilQuarantined) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  const std::uint64_t n = write_with_open_segment_of_three(store);
  const auto segs = *store.segments("BTC-USD");
  std::string img = slurp(segs.back().path);
  img[2] = 'X';  // not our format (or a newer one): never "repaired"
  spit(segs.back().path, img);

  JournalWriter w(store, {.fsync = FsyncPolicy::batch, .segment_bytes = 512, .compress = false});
  const Status refused = append_sync(w, "BTC-USD", n + 1, "x");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::corrupt);
  EXPECT_NE(refused.error().message.find("magic"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(w.health().healthy);

  const ReadBack rb = read_all(store, "BTC-USD");
  ASSERT_EQ(rb.end.kind, ReadEnd::Kind::corrupt);
  EXPECT_EQ(rb.end.corruption->offset, 0u);
  const std::uint64_t good = rb.records.back().seq;
  EXPECT_EQ(good, segs.back().first_seq - 1);
  std::promise<Status> q;
  ASSERT_TRUE(
      w.quarantine("BTC-USD", *rb.end.corruption, [&q](const Status& s) { q.set_value(s); }).ok());
  ASSERT_TRUE(q.get_future().get().ok());
  ASSERT_TRUE(append_sync(w, "BTC-USD", good + 1, payload_for(good + 1)).ok());
  EXPECT_TRUE(w.health().healthy);
  const ReadBack after = read_all(store, "BTC-USD");
  EXPECT_EQ(after.records, expected(1, good + 1));
  EXPECT_EQ(after.end.kind, ReadEnd::Kind::clean);
}

TEST(Journal, QuarantineMovesLaterSegmentsAsideAndKeepsTheGoodPrefix) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 100, small_segments(512));
  const auto segs = *store.segments("BTC-USD");
  ASSERT_GE(segs.size(), 4u);
  const auto offsets = record_offsets(segs[1].path);
  std::string img = slurp(segs[1].path);
  img[offsets[2] + 3] ^= 0x40;
  spit(segs[1].path, img);
  const ReadBack rb = read_all(store, "BTC-USD");
  ASSERT_EQ(rb.end.kind, ReadEnd::Kind::corrupt);
  const std::uint64_t good = rb.records.back().seq;
  ASSERT_TRUE(store.quarantine("BTC-USD", *rb.end.corruption).ok());
  EXPECT_EQ(store.segments("BTC-USD")->size(), 2u);
  const ReadBack after = read_all(store, "BTC-USD");
  EXPECT_EQ(after.records, expected(1, good));
  EXPECT_EQ(after.end.kind, ReadEnd::Kind::clean);
  // Appending continues after the last good record, in a new segment.
  write_records(store, "BTC-USD", good + 1, good + 30, small_segments(512));
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, good + 30));
  // A stale report (the journal changed since) is refused: it would move good records aside.
  const Status stale = store.quarantine("BTC-USD", *rb.end.corruption);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::invalid_argument);
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, good + 30));
}

TEST(Journal, AnEmptyOpenSegmentLeftByACrashIsDropped) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 20, small_segments(256));
  // A crash right after a segment was created for seq 21, before its record landed.
  spit(tmp.path() / "BTC-USD" / segment_file_name(21, false), kSegmentMagic.substr(0, 5));
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 20));
  write_records(store, "BTC-USD", 21, 30, small_segments(256));
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 30));
}

TEST(Journal, AppendsMustGoForward) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 5);
  JournalWriter w(store, {.fsync = FsyncPolicy::batch});
  const Status s = append_sync(w, "BTC-USD", 5, "again");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::out_of_order);
  EXPECT_TRUE(w.health().healthy);  // a caller's mistake, not the disk's
  EXPECT_TRUE(append_sync(w, "BTC-USD", 6, payload_for(6)).ok());
}

// --- zstd ---------------------------------------------------------------

TEST(Compression, RoundTripsBytes) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += std::to_string(i % 977);
  auto packed = zstd_compress(data);
  ASSERT_TRUE(packed.ok());
  EXPECT_LT(packed->size(), data.size() / 3);
  const Decompressed d = zstd_decompress(*packed, data.size());
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.bytes, data);
  // Frames back to back decode as one stream.
  const std::string twice = *packed + *zstd_compress("tail");
  EXPECT_EQ(zstd_decompress(twice, 1 << 30).bytes, data + "tail");
  // One byte below the size limit is refused, not allocated.
  EXPECT_TRUE(zstd_decompress(*packed, data.size() - 1).error);
  EXPECT_TRUE(zstd_decompress("", 100).error);
  EXPECT_TRUE(
      zstd_decompress(std::string_view(*packed).substr(0, packed->size() - 1), 1 << 30).error);
}

TEST(Compression, ClosedSegmentsReadBackIdentically) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 300, small_segments(2048));
  const auto plain = *store.segments("BTC-USD");
  const ReadBack before = read_all(store, "BTC-USD");
  for (std::size_t i = 0; i + 1 < plain.size(); ++i) {
    ASSERT_TRUE(compress_segment(store.file_ops(), plain[i].path).ok());
  }
  const auto segs = *store.segments("BTC-USD");
  ASSERT_EQ(segs.size(), plain.size());
  std::uint64_t plain_bytes = 0, packed_bytes = 0;
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    EXPECT_TRUE(segs[i].compressed);
    EXPECT_FALSE(fs::exists(plain[i].path));
    EXPECT_EQ(segs[i].modified, plain[i].modified);  // retention's age survives compression
    plain_bytes += plain[i].bytes;
    packed_bytes += segs[i].bytes;
  }
  EXPECT_FALSE(segs.back().compressed);  // the open segment stays plain
  EXPECT_LT(packed_bytes, plain_bytes);
  const ReadBack after = read_all(store, "BTC-USD");
  EXPECT_EQ(after.records, before.records);
  EXPECT_EQ(after.end.kind, ReadEnd::Kind::clean);
  EXPECT_EQ(read_all(store, "BTC-USD", 150).records, expected(150, 300));
  // And appending continues after compressed segments.
  write_records(store, "BTC-USD", 301, 310, small_segments(2048));
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 310));
}

TEST(Compression, TheWriterCompressesSegmentsItCloses) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  JournalWriter w(store, {.fsync = FsyncPolicy::batch,
                          .segment_bytes = 1024,
                          .compress = true,
                          .compress_step_bytes = 100});
  for (std::uint64_t s = 1; s <= 200; ++s)
    ASSERT_TRUE(w.append("BTC-USD", s, payload_for(s), {}).ok());
  flush_sync(w, "BTC-USD");
  const std::size_t closed = store.segments("BTC-USD")->size() - 1;
  ASSERT_GT(closed, 3u);
  ASSERT_TRUE(testing_support::eventually([&] { return w.stats().segments_compressed == closed; }));
  const std::vector<SegmentInfo> segs = *store.segments("BTC-USD");
  for (const SegmentInfo& s : segs) EXPECT_EQ(s.compressed, s.first_seq != segs.back().first_seq);
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 200));
}

TEST(Compression, AListingWhileSegmentsAreCompressedHasNoHole) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 4000, small_segments(1024));
  const auto plain = *store.segments("BTC-USD");
  ASSERT_GT(plain.size(), 100u);
  std::atomic<bool> done{false};
  std::thread compressor([&] {
    for (std::size_t i = 0; i + 1 < plain.size(); ++i) {
      EXPECT_TRUE(compress_segment(store.file_ops(), plain[i].path).ok());
    }
    done = true;
  });
  // Readdir may pass a `.zst` position before its rename and reach the plain
  // name after its unlink; every listing must still hold every segment.
  std::size_t listings = 0;
  while (!done) {
    if (const std::size_t n = store.segments("BTC-USD")->size(); n != plain.size()) {
      ADD_FAILURE() << "listing " << listings << " has " << n << " of " << plain.size();
      break;
    }
    ++listings;
  }
  compressor.join();
  EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 4000));
}

TEST(Compression, ADamagedCompressedSegmentIsCorruptionNotACrash) {
  TempDir tmp;
  const Store store = open_store(tmp.path());
  write_records(store, "BTC-USD", 1, 300, small_segments(2048));
  const auto plain = *store.segments("BTC-USD");
  ASSERT_TRUE(compress_segment(store.file_ops(), plain[1].path).ok());
  const fs::path zst = store.segments("BTC-USD")->at(1).path;
  const std::string packed = slurp(zst);
  for (std::size_t at : {packed.size() / 2, packed.size() - 2, std::size_t{5}}) {
    std::string bad = packed;
    bad[at] ^= 0x21;
    spit(zst, bad);
    const ReadBack rb = read_all(store, "BTC-USD");
    EXPECT_EQ(rb.end.kind, ReadEnd::Kind::corrupt) << "flip at " << at;
    ASSERT_TRUE(rb.end.corruption);
    EXPECT_EQ(rb.end.corruption->segment, zst);
    for (const Rec& r : rb.records) EXPECT_EQ(r.payload, payload_for(r.seq));  // never garbage
  }
  spit(zst, std::string_view(packed).substr(0, packed.size() / 2));  // cut short
  EXPECT_EQ(read_all(store, "BTC-USD").end.kind, ReadEnd::Kind::corrupt);
}

TEST(Compression, ACrashMidCompressionLeavesAReadableJournal) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  {
    const Store store = open_store(dir);
    write_records(store, "BTC-USD", 1, 300, small_segments(2048));
    const auto segs = *store.segments("BTC-USD");
    // Both names (the .zst renamed in, the plain not yet unlinked), and a stray tmp.
    const std::string packed = *zstd_compress(slurp(segs[0].path));
    spit(dir / "BTC-USD" / segment_file_name(segs[0].first_seq, true), packed);
    spit(dir / "BTC-USD" / (segment_file_name(segs[1].first_seq, true) + ".tmp"), "half");
    EXPECT_EQ(read_all(store, "BTC-USD").records, expected(1, 300));
  }
  {
    // A copy that does not match its plain segment is the one that goes.
    const Store store = open_store(dir);
    const auto segs = *store.segments("BTC-USD");
    spit(dir / "BTC-USD" / segment_file_name(segs[2].first_seq, true), "not zstd");
  }
  const Store reopened = open_store(dir);  // clears the leftovers
  const auto segs = *reopened.segments("BTC-USD");
  EXPECT_TRUE(segs[0].compressed);
  EXPECT_FALSE(
      fs::exists(segs[0].path.parent_path() / segment_file_name(segs[0].first_seq, false)));
  EXPECT_FALSE(fs::exists(dir / "BTC-USD" / (segment_file_name(segs[1].first_seq, true) + ".tmp")));
  EXPECT_FALSE(segs[2].compressed);
  EXPECT_FALSE(fs::exists(dir / "BTC-USD" / segment_file_name(segs[2].first_seq, true)));
  EXPECT_EQ(read_all(reopened, "BTC-USD").records, expected(1, 300));
}

}  // namespace
