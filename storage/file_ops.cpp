#include "storage/file_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace storage {

namespace fs = std::filesystem;

int FileOps::write_at(int fd, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return 0;
}

int FileOps::sync_data(int fd) {
  return ::fdatasync(fd) == 0 ? 0 : errno;
}

int FileOps::sync_filesystem(int fd) {
  return ::syncfs(fd) == 0 ? 0 : errno;
}

int FileOps::sync(int fd) {
  return ::fsync(fd) == 0 ? 0 : errno;
}

int FileOps::truncate(int fd, std::uint64_t size) {
  return ::ftruncate(fd, static_cast<off_t>(size)) == 0 ? 0 : errno;
}

FileOps& system_file_ops() {
  static FileOps ops;  // stateless
  return ops;
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = o.release();
  }
  return *this;
}

int UniqueFd::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);  // errors of close are not actionable after a sync
  fd_ = -1;
}

Result<UniqueFd> open_file(const fs::path& path, int flags, unsigned mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return fail_errno(errno, "open " + path.string());
  return UniqueFd(fd);
}

Result<std::string> read_fd(int fd, const fs::path& path) {
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  std::uint64_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, "read " + path.string());
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return out;
}

Result<std::string> read_file(const fs::path& path) {
  Result<UniqueFd> fd = open_file(path, O_RDONLY);
  if (!fd) return rt::Err{fd.error()};
  return read_fd(fd->get(), path);
}

Status sync_directory(FileOps& ops, const fs::path& dir) {
  Result<UniqueFd> fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return rt::Err{fd.error()};
  if (const int err = ops.sync(fd->get())) return fail_errno(err, "fsync " + dir.string());
  return rt::Ok{};
}

Status ensure_directory(FileOps& ops, const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return rt::Ok{};
  const fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) {
    if (Status s = ensure_directory(ops, parent); !s) return s;
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail_errno(errno, "mkdir " + dir.string());
  }
  // The new name lives in the parent: sync the parent, or a crash may lose it.
  return sync_directory(ops, parent.empty() ? fs::path(".") : parent);
}

Status write_file_atomically(FileOps& ops, const fs::path& path, std::string_view bytes) {
  fs::path tmp = path;
  tmp += kTmpSuffix;
  {
    Result<UniqueFd> fd = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!fd) return rt::Err{fd.error()};
    if (const int err = ops.write_at(fd->get(), bytes, 0)) {
      ::unlink(tmp.c_str());
      return fail_errno(err, "write " + tmp.string());
    }
    if (const int err = ops.sync_data(fd->get())) {
      ::unlink(tmp.c_str());
      return fail_errno(err, "fdatasync " + tmp.string());
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail_errno(err, "rename " + tmp.string());
  }
  return sync_directory(ops, path.parent_path());
}

}  // namespace storage
