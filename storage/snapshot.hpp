#pragma once
// Snapshots: the state of a symbol after record <seq>, so recovery replays
// only the journal after it. One file per snapshot, `<seq, 20 digits>.snap`:
// the 8-byte magic "MDSNAP01", then one record (record.hpp) whose seq is the
// snapshot's and whose payload is the caller's bytes — the same CRC32C
// framing as the journal, with lengths up to 4 GiB. A file with anything
// after that record, or whose seq disagrees with its name, is damaged.
// Written atomically (tmp, fdatasync, rename, fsync dir) by Store::write_snapshot;
// Store::latest_snapshot falls back to an older one when the newest is damaged.
// Thread-safety: pure functions and value types.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/error.hpp"

namespace storage {

/// The magic (and format version) every snapshot file starts with.
inline constexpr std::string_view kSnapshotMagic{"MDSNAP01", 8};

/// A snapshot file as the directory listing shows it (not yet checked).
struct SnapshotInfo {
  std::uint64_t seq = 0;
  std::filesystem::path path;
  std::uint64_t bytes = 0;
  std::chrono::system_clock::time_point modified;
};

/// A checked snapshot: the caller's bytes and the seq they are the state after.
struct Snapshot {
  std::uint64_t seq = 0;
  std::string bytes;
  std::filesystem::path path;
};

/// What latest_snapshot() found: the newest valid snapshot, and the newer ones it passed over.
struct SnapshotLookup {
  std::optional<Snapshot> snapshot;  ///< nullopt when no snapshot passes its checks
  /// Newer snapshot files that failed their checks, each "<file>: <why>" (for logs).
  std::vector<std::string> skipped;
};

/// "00000000000000000042.snap".
std::string snapshot_file_name(std::uint64_t seq);
/// The seq of a snapshot file name; nullopt for anything else.
std::optional<std::uint64_t> parse_snapshot_name(std::string_view file_name);

/// A listed snapshot's caller bytes, read and checked (decode_snapshot); the
/// read's error (not_found: retention deleted it since the listing) or corrupt.
Result<std::string> read_snapshot(const SnapshotInfo& info);

/// A snapshot file's content for (seq, bytes).
Result<std::string> encode_snapshot(std::uint64_t seq, std::string_view bytes);
/// The caller's bytes from a snapshot file's content; corrupt unless every check
/// passes (magic, length, CRC32C, seq == `expected_seq`, nothing trailing).
Result<std::string> decode_snapshot(std::string_view file, std::uint64_t expected_seq);

}  // namespace storage
