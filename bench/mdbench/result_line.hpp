#pragma once
// One benchmark result line in the peers' format: `W<n> <name> key=value ... valid=0|1`.
// Values are numbers only (integers, or decimals with 2 places; never exponents).

#include <cstdint>
#include <string>
#include <string_view>

namespace mdbench {

class ResultLine {
 public:
  ResultLine(std::string_view id, std::string_view name);

  /// Appends an integer value.
  ResultLine& add(std::string_view key, std::int64_t value);
  /// Appends a decimal value with two places.
  ResultLine& add_decimal(std::string_view key, double value);
  /// Records the workload's own validation; `valid=` is appended last by str().
  ResultLine& set_valid(bool valid);

  bool valid() const { return valid_; }
  std::string str() const;

 private:
  std::string text_;
  bool valid_ = false;
};

}  // namespace mdbench
