#pragma once
// CRC32C (Castagnoli, the iSCSI/ext4/LevelDB checksum) from Boost.CRC: a
// well-kept library instead of hand-rolled tables (Debian has no libcrc32c).
// Check value: crc32c("123456789") == 0xE3069283.
// Thread-safety: Crc32c is a value type; crc32c() is pure.

#include <boost/crc.hpp>

#include <cstdint>
#include <string_view>

namespace storage {

/// An incremental CRC32C: feed bytes in pieces, read the checksum at any point.
class Crc32c {
 public:
  /// Adds `bytes` to the checksummed stream.
  void update(std::string_view bytes) noexcept { crc_.process_bytes(bytes.data(), bytes.size()); }
  /// The CRC32C of everything fed so far.
  std::uint32_t value() const noexcept { return crc_.checksum(); }

 private:
  // Polynomial 0x1EDC6F41, reflected in and out, all-ones initial value and final XOR.
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc_;
};

/// The CRC32C of `bytes`.
inline std::uint32_t crc32c(std::string_view bytes) noexcept {
  Crc32c c;
  c.update(bytes);
  return c.value();
}

}  // namespace storage
