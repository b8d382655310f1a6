#include "runtime/event_manager.hpp"

#include <fmt/format.h>

namespace rt {

std::string EventError::to_string() const {
  switch (code) {
    case Code::not_found:
      return fmt::format("not_found: {}", detail);
    case Code::already_added:
      return fmt::format("already_added: {}", detail);
    case Code::wrong_type:
      return fmt::format("wrong_type: {}", detail);
    case Code::handler_crashed:
      return fmt::format("handler_crashed: {}", detail);
    case Code::call_failed:
      return fmt::format("call_failed: {}", call.to_string());
  }
  return "unknown";
}

}  // namespace rt
