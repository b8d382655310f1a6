#include "runtime/task.hpp"

#include <fmt/format.h>

namespace rt {

std::string TaskError::to_string() const {
  switch (code) {
    case Code::timeout:
      return "timeout";
    case Code::exited:
      return fmt::format("exited: {}", reason.to_string());
  }
  return "unknown";
}

}  // namespace rt
