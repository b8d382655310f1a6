#pragma once
// Errors of the storage layer: what failed (a code the caller can act on), the
// errno behind it when there is one, and a message naming the file and offset.
// Every fallible function returns Status or Result<T>; nothing here logs.
// Thread-safety: value types.

#include <cstdint>
#include <string>

#include "runtime/result.hpp"

namespace storage {

/// What went wrong, coarse enough to decide on (503, stale, retry, bug).
enum class Errc : std::uint8_t {
  io,                ///< a system call failed (EIO, EACCES, ...): see Error::sys_errno
  no_space,          ///< ENOSPC, EDQUOT or EFBIG: the disk (or a limit) is full
  corrupt,           ///< bytes on disk fail their checks (CRC, magic, sequence)
  not_found,         ///< no such symbol, snapshot or segment
  invalid_argument,  ///< a bad symbol name, an empty or oversized record, ...
  out_of_order,      ///< an append whose seq is not above the symbol's last one
  overloaded,        ///< the writer's queue is full; try later
  stopped,           ///< the writer is shutting down and accepts nothing
  earlier_failed,    ///< not attempted: an earlier record of the same symbol failed
};

/// The name of `c` ("no_space"), for messages and tests.
const char* to_string(Errc c) noexcept;

/// A failure: code, errno (0 if none) and a message naming the file and offset.
struct Error {
  Errc code = Errc::io;
  int sys_errno = 0;
  std::string message;

  /// An error from a failed system call: ENOSPC/EDQUOT/EFBIG map to no_space.
  static Error from_errno(int err, std::string what);
  /// "<code>: <message>", for logs and /readyz.
  std::string to_string() const;
};

/// A value or the Error saying why there is none.
template <class T>
using Result = rt::Result<T, Error>;
/// Success (rt::Ok) or an Error.
using Status = rt::Result<rt::Ok, Error>;

/// The error alternative, for `return fail(Errc::corrupt, "...")`.
inline rt::Err<Error> fail(Errc code, std::string message) {
  return rt::Err{Error{code, 0, std::move(message)}};
}
/// The error alternative for a failed system call (`errno` or an explicit value).
inline rt::Err<Error> fail_errno(int err, std::string what) {
  return rt::Err{Error::from_errno(err, std::move(what))};
}

}  // namespace storage
