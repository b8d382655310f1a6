#pragma once
// Record framing: how one journal record is laid out in a segment file.
//
//   offset  size  field
//   0       4     length   bytes that follow the 8-byte frame header: 8 + payload size
//   4       4     crc      CRC32C of the length field's 4 bytes, then of the `length` body bytes
//   8       8     seq      the symbol's journal position, strictly increasing
//   16      n     payload  opaque bytes (n = length - 8)
//
// All integers little-endian. The CRC covers the length as well as the body:
// a flipped bit in the length then fails the check instead of framing the
// wrong bytes, and a zero-filled region (what a crash can leave after a
// file's end) never decodes — its length 0 is below the minimum of 8.
// Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace storage {

/// Bytes before the seq: length + crc.
inline constexpr std::size_t kFrameHeaderSize = 8;
/// Bytes of framing around a payload: length + crc + seq.
inline constexpr std::size_t kRecordOverhead = 16;
/// The smallest valid length field (an empty payload).
inline constexpr std::uint32_t kMinRecordLength = 8;
/// The default largest length field a segment accepts: a bigger one is damage, not data.
inline constexpr std::uint32_t kMaxRecordLength = 64u << 20;

/// One decoded record: a view into the bytes it was decoded from.
struct RecordView {
  std::uint64_t seq = 0;
  std::string_view payload;  ///< opaque bytes, not text
  std::uint64_t offset = 0;  ///< where its frame starts in its segment (decompressed) image
};

/// The framed size of a record whose payload has `payload_size` bytes.
constexpr std::size_t framed_size(std::size_t payload_size) noexcept {
  return kRecordOverhead + payload_size;
}

/// Appends the framed record (seq, payload) to `out`.
/// Precondition: payload.size() <= UINT32_MAX - 8 (callers check against their own limit).
void append_record(std::string& out, std::uint64_t seq, std::string_view payload);

/// Why the bytes at a position are not a record.
enum class DecodeStatus : std::uint8_t {
  ok,
  truncated,   ///< fewer bytes than the header or than the length says
  bad_length,  ///< length below 8 or above the limit
  bad_crc,     ///< the CRC does not match the length and body
};

/// The outcome of decoding the record at the start of some bytes.
struct Decoded {
  DecodeStatus status = DecodeStatus::truncated;
  RecordView record;     ///< meaningful when status == ok (offset left 0)
  std::size_t size = 0;  ///< framed size when status == ok
};

/// Decodes the record at the start of `bytes`; lengths above `max_length` are damage.
Decoded decode_record(std::string_view bytes, std::uint32_t max_length = kMaxRecordLength) noexcept;

/// Little-endian helpers shared by the file formats of this layer.
void put_u32(std::string& out, std::uint32_t v);
void put_u64(std::string& out, std::uint64_t v);
std::uint32_t get_u32(const char* p) noexcept;
std::uint64_t get_u64(const char* p) noexcept;

}  // namespace storage
