#include "storage/record.hpp"

#include "storage/crc32c.hpp"

namespace storage {

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::uint32_t get_u32(const char* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint64_t get_u64(const char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

namespace {

std::uint32_t frame_crc(std::string_view length_field, std::string_view body) noexcept {
  Crc32c c;
  c.update(length_field);
  c.update(body);
  return c.value();
}

}  // namespace

void append_record(std::string& out, std::uint64_t seq, std::string_view payload) {
  const std::size_t start = out.size();
  out.reserve(start + framed_size(payload.size()));
  put_u32(out, static_cast<std::uint32_t>(kMinRecordLength + payload.size()));
  put_u32(out, 0);  // the CRC, filled in below once the body is in place
  put_u64(out, seq);
  out.append(payload);
  const std::string_view frame(out.data() + start, out.size() - start);
  const std::uint32_t crc = frame_crc(frame.substr(0, 4), frame.substr(kFrameHeaderSize));
  for (int i = 0; i < 4; ++i) out[start + 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
}

Decoded decode_record(std::string_view bytes, std::uint32_t max_length) noexcept {
  Decoded d;
  if (bytes.size() < kRecordOverhead) return d;  // truncated
  const std::uint32_t length = get_u32(bytes.data());
  if (length < kMinRecordLength || length > max_length) {
    d.status = DecodeStatus::bad_length;
    return d;
  }
  if (bytes.size() - kFrameHeaderSize < length) return d;  // truncated
  const std::string_view body = bytes.substr(kFrameHeaderSize, length);
  if (frame_crc(bytes.substr(0, 4), body) != get_u32(bytes.data() + 4)) {
    d.status = DecodeStatus::bad_crc;
    return d;
  }
  d.status = DecodeStatus::ok;
  d.record.seq = get_u64(body.data());
  d.record.payload = body.substr(8);
  d.size = kFrameHeaderSize + length;
  return d;
}

}  // namespace storage
