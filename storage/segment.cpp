#include "storage/segment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace storage {

namespace {

constexpr std::size_t kSeqDigits = 20;  // UINT64_MAX has 20 digits: names sort as numbers
constexpr std::string_view kPlainSuffix = ".log";
constexpr std::string_view kCompressedSuffix = ".log.zst";

const char* describe(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::ok:
      return "ok";
    case DecodeStatus::truncated:
      return "record runs past the end of the segment";
    case DecodeStatus::bad_length:
      return "record length out of range";
    case DecodeStatus::bad_crc:
      return "record CRC mismatch";
  }
  return "bad record";
}

// Is there a record that decodes, with a seq above `after_seq`, anywhere in
// (from, end)? That is what tells a torn tail (no) from damage in the middle
// (yes). nullopt when the search would cost more than what is left of the
// cursor's budget of CRC'd bytes — adversarial bytes can make it quadratic —
// which counts as "can't tell", hence corruption: the cautious answer never
// truncates data.
std::optional<std::uint64_t> find_valid_record_after(std::string_view image, std::uint64_t from,
                                                     std::uint64_t after_seq,
                                                     std::uint32_t max_length,
                                                     std::uint64_t& budget) {
  for (std::uint64_t y = from + 1; y + kRecordOverhead <= image.size(); ++y) {
    const char* p = image.data() + y;
    const std::uint32_t length = get_u32(p);
    if (length < kMinRecordLength || length > max_length) continue;
    if (length > image.size() - y - kFrameHeaderSize) continue;
    if (get_u64(p + kFrameHeaderSize) <= after_seq) continue;
    if (length > budget) return std::nullopt;
    budget -= length;
    if (decode_record(image.substr(y), max_length).status == DecodeStatus::ok) return y;
  }
  return 0;  // searched everything: nothing valid (0 is never a record offset)
}

}  // namespace

std::string segment_file_name(std::uint64_t first_seq, bool compressed) {
  return fmt::format("{:020}{}", first_seq, compressed ? kCompressedSuffix : kPlainSuffix);
}

std::optional<SegmentName> parse_segment_name(std::string_view name) {
  if (name.size() <= kSeqDigits) return std::nullopt;
  const std::string_view digits = name.substr(0, kSeqDigits);
  const std::string_view suffix = name.substr(kSeqDigits);
  SegmentName out;
  if (suffix == kCompressedSuffix) {
    out.compressed = true;
  } else if (suffix != kPlainSuffix) {
    return std::nullopt;
  }
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const auto [ptr, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), out.first_seq);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return out;
}

SegmentCursor::SegmentCursor(std::string_view image, SegmentCheck check)
    : image_(image),
      check_(check),
      last_seq_(check.after_seq),
      resync_budget_(64 * std::uint64_t{image.size()} + (1u << 20)) {
  const std::string_view head = image_.substr(0, kSegmentHeaderSize);
  if (head.size() < kSegmentHeaderSize) {
    // A crash between creating the file and writing its magic leaves a prefix of it.
    const bool torn = check_.tail == TailMode::open_segment && kSegmentMagic.starts_with(head);
    stop(torn ? SegmentEnd::Kind::torn_tail : SegmentEnd::Kind::corrupt,
         "segment shorter than its header");
    end_.offset = 0;
    return;
  }
  if (head != kSegmentMagic) {
    // Never "repair" a file we do not recognise: it may be a newer format.
    stop(SegmentEnd::Kind::corrupt, "bad segment magic");
    end_.offset = 0;
    return;
  }
  pos_ = kSegmentHeaderSize;
}

std::optional<RecordView> SegmentCursor::next() {
  while (!done_) {
    if (pos_ == image_.size()) {
      stop(SegmentEnd::Kind::clean, {});
      break;
    }
    const Decoded d = decode_record(image_.substr(pos_), check_.max_length);
    if (d.status != DecodeStatus::ok) {
      if (skip_bad_record(d.status)) continue;
      stop_at_bad_record(d.status);
      break;
    }
    // A record that checks out but is out of place is damage, not a torn write.
    // (Unless damage in front of it was passed over: the first record may be what it cost.)
    if (records_ == 0 && !skipped_ && check_.first_seq && d.record.seq != *check_.first_seq) {
      stop(SegmentEnd::Kind::corrupt,
           fmt::format("first record has seq {}, the segment's name says {}", d.record.seq,
                       *check_.first_seq));
      break;
    }
    if (d.record.seq <= last_seq_) {
      stop(SegmentEnd::Kind::corrupt,
           fmt::format("seq {} does not follow seq {}", d.record.seq, last_seq_));
      break;
    }
    RecordView r = d.record;
    r.offset = pos_;
    pos_ += d.size;
    last_seq_ = r.seq;
    ++records_;
    return r;
  }
  return std::nullopt;
}

void SegmentCursor::stop(SegmentEnd::Kind kind, std::string reason) {
  done_ = true;
  end_.kind = kind;
  end_.offset = pos_;
  end_.reason = std::move(reason);
}

bool SegmentCursor::skip_bad_record(DecodeStatus status) {
  if (last_seq_ >= check_.skip_damage_below) return false;
  const std::optional<std::uint64_t> valid =
      find_valid_record_after(image_, pos_, last_seq_, check_.max_length, resync_budget_);
  if (!valid || *valid == 0) return false;
  // Everything lost in between has a seq below the next valid one's.
  if (get_u64(image_.data() + *valid + kFrameHeaderSize) > check_.skip_damage_below) return false;
  if (!skipped_) {
    skipped_ = SegmentEnd{SegmentEnd::Kind::corrupt, pos_,
                          fmt::format("{}, passed over to offset {}", describe(status), *valid)};
  }
  pos_ = *valid;
  return true;
}

void SegmentCursor::stop_at_bad_record(DecodeStatus status) {
  if (check_.tail == TailMode::closed) {
    stop(SegmentEnd::Kind::corrupt, describe(status));
    return;
  }
  const std::optional<std::uint64_t> valid =
      find_valid_record_after(image_, pos_, last_seq_, check_.max_length, resync_budget_);
  if (!valid) {
    stop(SegmentEnd::Kind::corrupt,
         fmt::format("{}; too much damage after it to tell a torn tail", describe(status)));
  } else if (*valid != 0) {
    stop(SegmentEnd::Kind::corrupt,
         fmt::format("{}, followed by a valid record at offset {}", describe(status), *valid));
  } else {
    stop(SegmentEnd::Kind::torn_tail, describe(status));
  }
}

SegmentScan scan_segment(std::string_view image, const SegmentCheck& check) {
  SegmentCursor cursor(image, check);
  while (cursor.next()) {
  }
  return SegmentScan{cursor.end(), cursor.records(), cursor.last_seq(), cursor.skipped()};
}

}  // namespace storage
