#pragma once
// RatePacer: turns "N events per second" into whole events per timer step
// for the synthetic feeds (simulator, tick feed): what is due since the last
// step, carrying fractions over, and never more than a second's worth at
// once however late a step ran.
// Thread-safety: a value owned by one process.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace services {

class RatePacer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RatePacer(double rate) : rate_(rate) {}

  /// Starts counting from `now`.
  void start(Clock::time_point now) { last_ = now; }
  /// The whole events due at `now`.
  std::uint64_t due(Clock::time_point now) {
    budget_ += rate_ * std::chrono::duration<double>(now - last_).count();
    last_ = now;
    budget_ = std::min(budget_, std::max(rate_, 1.0));
    const auto n = static_cast<std::uint64_t>(std::floor(budget_));
    budget_ -= static_cast<double>(n);
    return n;
  }

 private:
  double rate_;
  double budget_ = 0;
  Clock::time_point last_;
};

}  // namespace services
