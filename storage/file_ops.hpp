#pragma once
// FileOps: the system calls whose outcome decides what is durable — write,
// fdatasync, fsync, ftruncate — behind one small interface, so tests can count
// syncs and inject ENOSPC or EIO where the kernel would not on demand. The
// rest (open, rename, unlink) is plain POSIX/std::filesystem.
// Also the helpers every file of this layer shares: an owning fd, reading a
// whole file, syncing a directory, replacing a file atomically.
// Thread-safety: system_file_ops() is stateless and shared; a test's FileOps
// must be thread-safe if the JournalWriter using it runs alongside the test.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "storage/error.hpp"

namespace storage {

/// The durability-deciding system calls; each returns 0 or an errno value.
class FileOps {
 public:
  virtual ~FileOps() = default;
  /// pwrite(2) all of `data` at `offset` (short writes continued, EINTR retried).
  virtual int write_at(int fd, std::string_view data, std::uint64_t offset);
  /// fdatasync(2): the file's data and size are on disk.
  virtual int sync_data(int fd);
  /// fsync(2): for directories (a created, renamed or removed name is on disk).
  virtual int sync(int fd);
  /// syncfs(2): every file of `fd`'s filesystem is on disk (Linux >= 5.8
  /// reports writeback errors since `fd` was opened).
  virtual int sync_filesystem(int fd);
  /// ftruncate(2).
  virtual int truncate(int fd, std::uint64_t size);
};

/// The real system calls.
FileOps& system_file_ops();

/// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept;
  void reset() noexcept;

 private:
  int fd_ = -1;
};

/// open(2) with O_CLOEXEC; the error names `path`.
Result<UniqueFd> open_file(const std::filesystem::path& path, int flags, unsigned mode = 0644);
/// The whole content of `path` (not_found when it does not exist).
Result<std::string> read_file(const std::filesystem::path& path);
/// The whole content of an open file, from offset 0.
Result<std::string> read_fd(int fd, const std::filesystem::path& path_for_errors);
/// Makes the names in `dir` durable (created, renamed, removed entries).
Status sync_directory(FileOps& ops, const std::filesystem::path& dir);
/// Creates `dir` (and parents) if missing, making each new name durable in its parent.
Status ensure_directory(FileOps& ops, const std::filesystem::path& dir);
/// Replaces `path` by `bytes` all at once: writes `path`.tmp, syncs it, renames
/// it over `path`, syncs the directory. A crash leaves the old file or the new.
Status write_file_atomically(FileOps& ops, const std::filesystem::path& path,
                             std::string_view bytes);

/// The suffix of files being written for an atomic rename; leftovers are ignored and removed.
inline constexpr std::string_view kTmpSuffix = ".tmp";

}  // namespace storage
