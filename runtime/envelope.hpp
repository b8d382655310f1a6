#pragma once
// A message in a mailbox. Each message kind is an Envelope subclass that knows
// how to deliver itself to its target, so a mailbox holds any typed message
// without type erasure at the call site.
// Thread-safety: created by any thread, delivered and destroyed by the target.

#include <string>
#include <string_view>

#include "runtime/detail/mpsc_queue.hpp"
#include "runtime/exit_reason.hpp"

namespace rt {

class Process;

class Envelope : public detail::MpscNode {
 public:
  virtual ~Envelope() = default;

  /// Runs the message against its target; may throw (the target then crashes).
  virtual void deliver(Process& target) = 0;
  /// Called instead of deliver when the target is dead: a pending call learns why.
  virtual void abandon(const ExitReason& /*why*/) noexcept {}
  /// The message's type, for crash logs.
  virtual std::string_view type_name() const noexcept = 0;
  /// Appends the message's contents for a crash log (when its type can be
  /// formatted), as it stands after delivery.
  virtual void render(std::string& /*out*/) const {}
};

}  // namespace rt
