// libFuzzer target over what recovery decodes from a journal whose CRC passed
// (a buggy writer, not a torn disk): arbitrary bytes to journal::decode (a
// record's payload) and to decode_book_snapshot.
//
// Neither crashes nor reads out of bounds (ASan), and what decodes is stable
// under re-encoding: encode(decoded) decodes again, and encodes to the same
// bytes (the input itself may differ only where a decimal string had more
// than one spelling, e.g. "0.010" and "0.01").

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/book_snapshot.hpp"
#include "services/journal_record.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  if (auto record = services::journal::decode(bytes)) {
    const std::string once = services::journal::encode(*record);
    auto again = services::journal::decode(once);
    require(again.ok());
    require(services::journal::encode(*again) == once);
  }
  if (auto snapshot = services::decode_book_snapshot(bytes)) {
    const std::string once = services::encode(*snapshot);
    auto again = services::decode_book_snapshot(once);
    require(again.ok());
    require(services::encode(*again) == once);
  }
  return 0;
}
