#pragma once
// A one-byte test-and-test-and-set lock for critical sections of a few
// instructions (run queues, a process's links). Meets BasicLockable.
// Thread-safety: that is its purpose.

#include <atomic>
#include <thread>

#include "runtime/detail/futex.hpp"

namespace rt::detail {

class SpinLock {
 public:
  void lock() noexcept {
    for (unsigned spins = 0;; ++spins) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          cpu_relax();
        } else {
          std::this_thread::yield();  // the holder may be descheduled on an oversubscribed core
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace rt::detail
