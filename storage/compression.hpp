#pragma once
// zstd for closed segments: a segment that will never be appended to again is
// compressed into `<first seq>.log.zst` (one zstd frame with its content
// checksum) and the plain file removed; readers decompress it transparently.
// The compressor works in slices, so the JournalWriter's I/O thread can
// interleave it with group commits instead of stalling appends for a whole
// segment.
// Thread-safety: a SegmentCompressor is used by one thread; the free
// functions are reentrant.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/error.hpp"
#include "storage/file_ops.hpp"

namespace storage {

/// The zstd level for closed segments when none is given: fast, and text-like records shrink well.
inline constexpr int kDefaultZstdLevel = 3;

/// What decompressing an image gave: the bytes, and why it stopped early if it did.
struct Decompressed {
  std::string bytes;                 ///< everything decoded, even when `error` is set
  std::optional<std::string> error;  ///< damaged, truncated or oversized input
};

/// Decompresses a whole `.log.zst` image, decoding at most `max_size` bytes.
Decompressed zstd_decompress(std::string_view compressed, std::uint64_t max_size);

/// Compresses `bytes` into one zstd frame with its content checksum (tests, tools).
Result<std::string> zstd_compress(std::string_view bytes, int level = kDefaultZstdLevel);

/// Turns a closed plain segment into its `.log.zst` sibling, a slice at a time.
/// Done means: `.log.zst` written and synced, renamed into place, directory
/// synced, plain file removed. A crash at any point leaves a readable segment
/// (the plain file, or both — identical once decompressed — or the `.zst`).
class SegmentCompressor {
 public:
  /// Prepares to compress `plain` (a `<seq>.log` path) into `<seq>.log.zst`.
  static Result<SegmentCompressor> start(FileOps& ops, const std::filesystem::path& plain,
                                         int level = kDefaultZstdLevel);

  SegmentCompressor(SegmentCompressor&&) noexcept;
  SegmentCompressor& operator=(SegmentCompressor&&) noexcept;
  ~SegmentCompressor();  ///< abandons unfinished work (removes the tmp file)

  /// Compresses up to `budget` more input bytes; true once the segment is done.
  Result<bool> step(std::size_t budget);
  /// The plain segment being compressed.
  const std::filesystem::path& source() const noexcept;
  /// Stops and removes the tmp file; the plain segment stays as it was.
  void abandon() noexcept;

 private:
  struct State;
  explicit SegmentCompressor(std::unique_ptr<State> s) noexcept;
  std::unique_ptr<State> s_;
};

/// Compresses one closed plain segment in one go (SegmentCompressor to the end).
Status compress_segment(FileOps& ops, const std::filesystem::path& plain,
                        int level = kDefaultZstdLevel);

}  // namespace storage
