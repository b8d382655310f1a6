#pragma once
// Timed wait/wake on a 32-bit word (Linux futex). std::atomic::wait has no
// timeout, and call timeouts and worker parking need one.
// Thread-safety: both functions may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace rt::detail {

/// Blocks while `*word == expected`, at most `timeout` (negative = forever).
/// May return spuriously; callers re-check their condition.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1));

/// Wakes up to `count` threads blocked in futex_wait on `word`.
void futex_wake(std::atomic<std::uint32_t>& word, int count);

/// A CPU relax hint for spin loops.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace rt::detail
