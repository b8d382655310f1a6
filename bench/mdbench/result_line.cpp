#include "bench/mdbench/result_line.hpp"

#include <fmt/format.h>

namespace mdbench {

ResultLine::ResultLine(std::string_view id, std::string_view name)
    : text_(fmt::format("{} {}", id, name)) {}

ResultLine& ResultLine::add(std::string_view key, std::int64_t value) {
  text_ += fmt::format(" {}={}", key, value);
  return *this;
}

ResultLine& ResultLine::add_decimal(std::string_view key, double value) {
  text_ += fmt::format(" {}={:.2f}", key, value);
  return *this;
}

ResultLine& ResultLine::set_valid(bool valid) {
  valid_ = valid;
  return *this;
}

std::string ResultLine::str() const {
  return fmt::format("{} valid={}", text_, valid_ ? 1 : 0);
}

}  // namespace mdbench
