#pragma once
// Names the calling thread, so that top -H, perf and gdb say which thread is
// which (md-worker-0, md-journal, ...). Header-only: layers that use only
// the runtime's headers (storage) name their threads too.

#include <pthread.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace rt {

/// Sets the calling thread's name; Linux keeps its first 15 bytes.
inline void name_this_thread(std::string_view name) noexcept {
  std::array<char, 16> buf{};  // the kernel's limit, NUL included
  std::copy_n(name.data(), std::min(name.size(), buf.size() - 1), buf.data());
  (void)pthread_setname_np(pthread_self(), buf.data());  // a name is a courtesy
}

}  // namespace rt
