// libFuzzer target over the config file (`marketd --config FILE`, TOML/INI).
//
// The input is the file. parse_options must answer with Options or an exit
// status (2 with a message saying what was expected), never throw or crash.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <variant>

#include "api/options.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An in-memory file: no disk traffic per input.
  static const int fd = memfd_create("marketd-config", 0);
  require(fd >= 0);
  require(ftruncate(fd, 0) == 0);
  require(pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const char* argv[] = {"marketd", "--config", path.c_str()};
  std::ostringstream out;
  std::ostringstream err;
  const auto parsed = api::parse_options(3, argv, out, err);
  if (const int* status = std::get_if<int>(&parsed)) {
    require(*status == 0 || (*status == 2 && !err.str().empty()));
  }
  return 0;
}
