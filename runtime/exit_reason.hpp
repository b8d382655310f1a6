#pragma once
// Why a process ended: OTP's exit reasons as a value type.
// Thread-safety: a value type; const access from any thread.

#include <memory>
#include <string>
#include <string_view>

namespace rt {

/// An exit reason: `normal`, `shutdown`, `{shutdown, term}`, `kill` (the
/// untrappable signal), `killed` (what a killed process's links/monitors
/// see), `noproc`, or an error carrying the exception's text.
class ExitReason {
 public:
  enum class Kind : unsigned char { normal, shutdown, shutdown_term, kill, killed, noproc, error };

  ExitReason() = default;  // normal

  static ExitReason normal() { return ExitReason(Kind::normal, {}); }
  static ExitReason shutdown() { return ExitReason(Kind::shutdown, {}); }
  /// `{shutdown, term}`: an orderly stop with a detail, still "normal" for supervisors.
  static ExitReason shutdown(std::string term) {
    return ExitReason(Kind::shutdown_term, std::move(term));
  }
  static ExitReason kill() { return ExitReason(Kind::kill, {}); }
  static ExitReason killed() { return ExitReason(Kind::killed, {}); }
  static ExitReason noproc() { return ExitReason(Kind::noproc, {}); }
  static ExitReason error(std::string what) { return ExitReason(Kind::error, std::move(what)); }

  Kind kind() const { return kind_; }
  /// The term of `{shutdown, term}` or the text of an error; empty otherwise.
  std::string_view detail() const {
    return detail_ ? std::string_view(*detail_) : std::string_view();
  }

  /// True for `normal`, `shutdown` and `{shutdown, _}`: no error report, no transient restart.
  bool is_normal() const {
    return kind_ == Kind::normal || kind_ == Kind::shutdown || kind_ == Kind::shutdown_term;
  }
  bool is(Kind k) const { return kind_ == k; }

  /// Erlang-like text: `normal`, `shutdown`, `{shutdown,term}`, `{error,"..."}`.
  std::string to_string() const;

  friend bool operator==(const ExitReason& a, const ExitReason& b) {
    return a.kind_ == b.kind_ && a.detail() == b.detail();
  }

 private:
  ExitReason(Kind k, std::string detail);

  Kind kind_ = Kind::normal;
  // Shared so that fanning one reason out to many links and monitors never copies the text.
  std::shared_ptr<const std::string> detail_;
};

}  // namespace rt
