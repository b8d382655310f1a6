#pragma once
// Process identity. A Pid is a handle that stays valid after its process dies:
// sends to it are dropped and calls return `noproc`, as in Erlang.
// Thread-safety: a value type; copies may be used from any thread.

#include <boost/smart_ptr/intrusive_ptr.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace rt {

class Process;
void intrusive_ptr_add_ref(Process* p) noexcept;
void intrusive_ptr_release(Process* p) noexcept;

class Pid {
 public:
  Pid() = default;
  explicit Pid(Process* p) noexcept : p_(p) {}

  /// The process's unique number (0 for a default-constructed Pid).
  std::uint64_t id() const noexcept;
  /// True while the process has not exited.
  bool alive() const noexcept;
  explicit operator bool() const noexcept { return p_ != nullptr; }

  /// `<0.ID.0>`, Erlang's spelling.
  std::string to_string() const;

  /// The control block; for the runtime's own use.
  Process* get() const noexcept { return p_.get(); }

  friend bool operator==(const Pid& a, const Pid& b) noexcept { return a.p_ == b.p_; }

 private:
  boost::intrusive_ptr<Process> p_;
};

}  // namespace rt

template <>
struct std::hash<rt::Pid> {
  std::size_t operator()(const rt::Pid& p) const noexcept {
    return std::hash<const void*>{}(p.get());
  }
};
