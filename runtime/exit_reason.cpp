#include "runtime/exit_reason.hpp"

#include <fmt/format.h>

namespace rt {

ExitReason::ExitReason(Kind k, std::string detail) : kind_(k) {
  if (!detail.empty()) detail_ = std::make_shared<const std::string>(std::move(detail));
}

std::string ExitReason::to_string() const {
  switch (kind_) {
    case Kind::normal:
      return "normal";
    case Kind::shutdown:
      return "shutdown";
    case Kind::shutdown_term:
      return fmt::format("{{shutdown,{}}}", detail());
    case Kind::kill:
      return "kill";
    case Kind::killed:
      return "killed";
    case Kind::noproc:
      return "noproc";
    case Kind::error:
      return fmt::format("{{error,\"{}\"}}", detail());
  }
  return "unknown";
}

}  // namespace rt
