#include "storage/snapshot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "storage/record.hpp"
#include "storage/store.hpp"

namespace storage {

namespace {

constexpr std::string_view kSnapshotSuffix = ".snap";
constexpr std::size_t kSeqDigits = 20;

}  // namespace

std::string snapshot_file_name(std::uint64_t seq) {
  return fmt::format("{:020}{}", seq, kSnapshotSuffix);
}

std::optional<std::uint64_t> parse_snapshot_name(std::string_view name) {
  if (name.size() != kSeqDigits + kSnapshotSuffix.size() || !name.ends_with(kSnapshotSuffix)) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(0, kSeqDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t seq = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return seq;
}

Result<std::string> encode_snapshot(std::uint64_t seq, std::string_view bytes) {
  if (bytes.size() > std::numeric_limits<std::uint32_t>::max() - kMinRecordLength) {
    return fail(Errc::invalid_argument, "snapshot larger than 4 GiB");
  }
  std::string out(kSnapshotMagic);
  append_record(out, seq, bytes);
  return out;
}

Result<std::string> decode_snapshot(std::string_view file, std::uint64_t expected_seq) {
  if (!file.starts_with(kSnapshotMagic)) return fail(Errc::corrupt, "bad snapshot magic");
  const std::string_view rest = file.substr(kSnapshotMagic.size());
  const Decoded d = decode_record(rest, std::numeric_limits<std::uint32_t>::max());
  switch (d.status) {
    case DecodeStatus::ok:
      break;
    case DecodeStatus::truncated:
      return fail(Errc::corrupt, "snapshot truncated");
    case DecodeStatus::bad_length:
      return fail(Errc::corrupt, "snapshot length out of range");
    case DecodeStatus::bad_crc:
      return fail(Errc::corrupt, "snapshot CRC mismatch");
  }
  if (d.size != rest.size()) return fail(Errc::corrupt, "bytes after the snapshot record");
  if (d.record.seq != expected_seq) {
    return fail(Errc::corrupt,
                fmt::format("snapshot holds seq {}, its name says {}", d.record.seq, expected_seq));
  }
  return std::string(d.record.payload);
}

Status Store::write_snapshot(std::string_view symbol, std::uint64_t seq,
                             std::string_view bytes) const {
  Result<std::filesystem::path> dir = symbol_dir(symbol);
  if (!dir) return rt::Err{dir.error()};
  Result<std::string> file = encode_snapshot(seq, bytes);
  if (!file) return rt::Err{file.error()};
  if (Status s = ensure_directory(file_ops(), *dir); !s) return s;
  return write_file_atomically(file_ops(), *dir / snapshot_file_name(seq), *file);
}

Result<std::string> read_snapshot(const SnapshotInfo& info) {
  Result<std::string> file = read_file(info.path);
  if (!file) return file;
  return decode_snapshot(*file, info.seq);
}

Result<SnapshotLookup> Store::latest_snapshot(std::string_view symbol) const {
  Result<std::vector<SnapshotInfo>> list = snapshots(symbol);
  if (!list) return rt::Err{list.error()};
  SnapshotLookup out;
  std::vector<std::string>& skipped = out.skipped;
  for (auto it = list->rbegin(); it != list->rend(); ++it) {
    Result<std::string> bytes = read_snapshot(*it);
    if (!bytes) {
      if (bytes.error().code == Errc::not_found) continue;  // retention took it meanwhile
      skipped.push_back(it->path.string() + ": " + bytes.error().message);
      continue;
    }
    out.snapshot = Snapshot{it->seq, std::move(*bytes), it->path};
    return out;
  }
  return out;
}

}  // namespace storage
