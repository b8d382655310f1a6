#pragma once
// A fresh directory under $TMPDIR for a benchmark's files (a real disk, not
// /dev/shm: what is measured may be its syncs), removed with everything in it.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace bench {

class ScratchDir {
 public:
  /// `prefix` names it (`<prefix>-XXXXXX`); path() is empty if it could not be made.
  explicit ScratchDir(std::string_view prefix) {
    std::string t =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(t.data()) != nullptr) path_ = t;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace bench
