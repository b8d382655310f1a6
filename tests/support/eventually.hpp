#pragma once
// Test synchronisation without sleeps: poll a condition until it holds or a
// deadline passes, and a thread-safe inbox that tests and processes share.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace testing_support {

/// Polls `pred` until true or `timeout`; returns the final value of pred.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::yield();
  }
  return true;
}

/// A thread-safe list of observations (strings) that tests can wait on.
class Inbox {
 public:
  void push(std::string s) {
    // Notify under the lock: a waiter that returns may destroy the inbox at
    // once, so the notify must be over before the lock is released.
    std::lock_guard g(m_);
    items_.push_back(std::move(s));
    cv_.notify_all();
  }
  /// Waits until at least `n` items arrived; returns a copy of them all.
  std::vector<std::string> wait_for(std::size_t n,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock g(m_);
    cv_.wait_for(g, timeout, [&] { return items_.size() >= n; });
    return items_;
  }
  std::vector<std::string> items() const {
    std::lock_guard g(m_);
    return items_;
  }
  std::size_t size() const {
    std::lock_guard g(m_);
    return items_.size();
  }

 private:
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::string> items_;
};

}  // namespace testing_support
