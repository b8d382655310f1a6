#include "storage/error.hpp"

#include <cerrno>
#include <system_error>

namespace storage {

const char* to_string(Errc c) noexcept {
  switch (c) {
    case Errc::io:
      return "io";
    case Errc::no_space:
      return "no_space";
    case Errc::corrupt:
      return "corrupt";
    case Errc::not_found:
      return "not_found";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::out_of_order:
      return "out_of_order";
    case Errc::overloaded:
      return "overloaded";
    case Errc::stopped:
      return "stopped";
    case Errc::earlier_failed:
      return "earlier_failed";
  }
  return "unknown";
}

Error Error::from_errno(int err, std::string what) {
  // EFBIG (a file size limit) is "full" for the caller as much as ENOSPC is.
  const bool full = err == ENOSPC || err == EDQUOT || err == EFBIG;
  const Errc code = full ? Errc::no_space : err == ENOENT ? Errc::not_found : Errc::io;
  what += ": ";
  what += std::generic_category().message(err);  // strerror, but thread-safe
  return Error{code, err, std::move(what)};
}

std::string Error::to_string() const {
  std::string s = storage::to_string(code);
  s += ": ";
  s += message;
  return s;
}

}  // namespace storage
