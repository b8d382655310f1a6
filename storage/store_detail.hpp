#pragma once
// Helpers shared by the Store's files; not part of the interface.
// Thread-safety: pure functions.

#include <sys/stat.h>

#include <chrono>

namespace storage::detail {

/// A stat's modification time on the system clock.
std::chrono::system_clock::time_point mtime_of(const struct stat& st);

}  // namespace storage::detail
