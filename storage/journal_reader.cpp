#include "storage/journal_reader.hpp"

#include "storage/compression.hpp"
#include "storage/file_ops.hpp"
#include "storage/store.hpp"

namespace storage {

Result<SegmentImage> read_segment_image(const SegmentInfo& segment, const StoreOptions& options) {
  std::filesystem::path path = segment.path;
  bool compressed = segment.compressed;
  Result<std::string> file = read_file(path);
  if (!file && file.error().code == Errc::not_found && !compressed) {
    // Compressed since it was listed: the `.zst` holds the same records.
    path.replace_filename(segment_file_name(segment.first_seq, true));
    compressed = true;
    file = read_file(path);
  }
  if (!file) return rt::Err{file.error()};
  SegmentImage image;
  if (!compressed) {
    image.bytes = std::move(*file);
    return image;
  }
  Decompressed d = zstd_decompress(*file, options.max_segment_image);
  image.bytes = std::move(d.bytes);
  image.zstd_error = std::move(d.error);
  return image;
}

Result<JournalReader> JournalReader::open(const Store& store, std::string_view symbol,
                                          std::uint64_t from_seq) {
  Result<std::vector<SegmentInfo>> segments = store.segments(symbol);
  if (!segments) return rt::Err{segments.error()};
  // Start in the last segment that begins at or before from_seq.
  std::size_t first = 0;
  for (std::size_t i = 0; i < segments->size(); ++i) {
    if ((*segments)[i].first_seq <= from_seq) first = i;
  }
  return JournalReader(store.options(), std::move(*segments), first, from_seq);
}

JournalReader::JournalReader(const StoreOptions& options, std::vector<SegmentInfo> segments,
                             std::size_t first, std::uint64_t from_seq)
    : max_record_length_(options.max_record_length),
      max_segment_image_(options.max_segment_image),
      segments_(std::move(segments)),
      index_(first),
      from_seq_(from_seq),
      image_(std::make_unique<SegmentImage>()) {}

std::optional<RecordView> JournalReader::next() {
  while (end_.kind == ReadEnd::Kind::reading) {
    if (!cursor_) {
      if (index_ >= segments_.size()) {
        finish(ReadEnd::Kind::clean);
        break;
      }
      if (!load(index_)) break;
    }
    std::optional<RecordView> r = cursor_->next();
    if (cursor_->skipped() && !passed_over_) {
      const SegmentInfo& seg = segments_[index_];
      passed_over_ = Corruption{seg.path, seg.first_seq, cursor_->skipped()->offset, 0,
                                cursor_->skipped()->reason};
    }
    if (r) {
      last_seq_ = r->seq;
      if (r->seq < from_seq_) continue;
      return r;
    }
    const SegmentEnd& e = cursor_->end();
    const bool last = index_ + 1 == segments_.size();
    if (e.kind == SegmentEnd::Kind::corrupt) {
      // A decompression that stopped early explains a record cut short.
      finish(ReadEnd::Kind::corrupt,
             image_->zstd_error ? e.reason + " (" + *image_->zstd_error + ")" : e.reason);
    } else if (e.kind == SegmentEnd::Kind::torn_tail) {
      finish(ReadEnd::Kind::torn_tail, e.reason);
    } else if (image_->zstd_error) {
      finish(ReadEnd::Kind::corrupt, *image_->zstd_error);  // records before it were good
    } else if (!last && cursor_->records() == 0) {
      // Only the open segment can be empty; a closed one always got a record.
      finish(ReadEnd::Kind::corrupt, "closed segment holds no records");
    } else {
      ++index_;
      cursor_.reset();
    }
  }
  return std::nullopt;
}

bool JournalReader::load(std::size_t index) {
  const SegmentInfo& seg = segments_[index];
  Result<SegmentImage> image =
      read_segment_image(seg, StoreOptions{nullptr, max_record_length_, max_segment_image_});
  if (!image) {
    end_.kind = ReadEnd::Kind::io_error;
    end_.error = image.error();
    return false;
  }
  *image_ = std::move(*image);
  const bool open_segment = index + 1 == segments_.size() && !seg.compressed;
  cursor_.emplace(image_->bytes,
                  SegmentCheck{open_segment ? TailMode::open_segment : TailMode::closed,
                               seg.first_seq, last_seq_, max_record_length_, from_seq_});
  return true;
}

void JournalReader::finish(ReadEnd::Kind kind, std::string reason) {
  end_.kind = kind;
  if (kind == ReadEnd::Kind::corrupt || kind == ReadEnd::Kind::torn_tail) {
    const SegmentInfo& seg = segments_[index_];
    end_.corruption = Corruption{seg.path, seg.first_seq, cursor_->end().offset,
                                 cursor_->last_seq(), std::move(reason)};
  }
}

}  // namespace storage
