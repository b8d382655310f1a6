#include <fmt/format.h>

#include "runtime/gen_server.hpp"

namespace rt {

std::string StartError::to_string() const {
  switch (code) {
    case Code::already_started:
      return fmt::format("already_started {}", existing.to_string());
    case Code::init_failed:
      return fmt::format("init_failed {}", reason.to_string());
    case Code::ignored:
      return "ignore";
  }
  return "unknown";
}

}  // namespace rt
