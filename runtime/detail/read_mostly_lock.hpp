#pragma once
// A reader-writer lock for read-mostly data (Registry partitions): each reader
// increments a counter on a cache line chosen by its thread, so concurrent
// readers never contend; a writer raises a flag and waits for every counter to
// drain. Reads cost one uncontended atomic RMW each way; writes are slower
// and meant to be rare. Meets SharedLockable (std::shared_lock / unique_lock).
// Thread-safety: that is its purpose. Not recursive.

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>

#include "runtime/detail/futex.hpp"
#include "runtime/detail/spin_lock.hpp"

namespace rt::detail {

class ReadMostlyLock {
 public:
  void lock_shared() noexcept {
    Slot& s = my_slot();
    for (;;) {
      s.readers.fetch_add(1, std::memory_order_seq_cst);
      if (!writer_.load(std::memory_order_seq_cst)) return;
      s.readers.fetch_sub(1, std::memory_order_release);  // a writer is in: step back
      while (writer_.load(std::memory_order_acquire)) std::this_thread::yield();
    }
  }
  void unlock_shared() noexcept { my_slot().readers.fetch_sub(1, std::memory_order_release); }

  void lock() {
    writers_.lock();  // one writer at a time
    writer_.store(true, std::memory_order_seq_cst);
    for (std::size_t i = 0; i < slot_count_; ++i) {
      while (slots_[i].readers.load(std::memory_order_seq_cst) != 0) cpu_relax();
    }
  }
  void unlock() {
    writer_.store(false, std::memory_order_release);
    writers_.unlock();
  }

 private:
  // Two slots per hardware thread: readers rarely share one, and a writer
  // scans few cache lines.
  static constexpr std::size_t kMaxSlots = 64;
  static std::size_t slots_for_machine() noexcept {
    std::size_t n = 4;
    while (n < 2 * std::thread::hardware_concurrency() && n < kMaxSlots) n *= 2;
    return n;
  }
  struct alignas(64) Slot {
    std::atomic<int> readers{0};
  };
  Slot& my_slot() noexcept {
    thread_local const std::size_t index = std::hash<std::thread::id>{}(std::this_thread::get_id());
    return slots_[index & (slot_count_ - 1)];
  }

  std::size_t slot_count_ = slots_for_machine();
  std::array<Slot, kMaxSlots> slots_;
  alignas(64) std::atomic<bool> writer_{false};
  SpinLock writers_;  // writes are short: a futex sleep would cost more than the wait
};

}  // namespace rt::detail
