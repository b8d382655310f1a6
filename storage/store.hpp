#pragma once
// Store: a data directory of per-symbol journals, and what can be done to
// one without a writer: list, read, snapshot, retain, quarantine, remove.
//
//   <data-dir>/<SYMBOL>/<first seq>.log          the open segment (newest), plain
//   <data-dir>/<SYMBOL>/<first seq>.log[.zst]    closed segments, zstd once compressed
//   <data-dir>/<SYMBOL>/<seq>.snap               snapshots: the state after record <seq>
//   <data-dir>/<SYMBOL>/damaged-<seq>-<offset>/  what quarantine() moved aside
//   <anything>.tmp                               an atomic write in progress (ignored)
//   <data-dir>/.deleted-<SYMBOL>-<n>/            a remove() in progress (ignored)
//
// Seqs in names have 20 digits so names sort as numbers. Symbols are checked
// against API.md's syntax before they become paths.
//
// Thread-safety: a Store is an immutable value (a path and options); copy it
// freely. Reading (segments, snapshots, latest_snapshot, JournalReader) and
// write_snapshot are safe at any time, concurrently with anything.
// apply_retention, quarantine and remove change a symbol's segments: call
// them only while no JournalWriter is running on the data directory — a
// running writer offers the same operations, run on its own thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/error.hpp"
#include "storage/file_ops.hpp"
#include "storage/record.hpp"
#include "storage/retention.hpp"
#include "storage/segment.hpp"
#include "storage/snapshot.hpp"

namespace storage {

/// Options shared by a Store and the writer built on it.
struct StoreOptions {
  /// The durability-deciding system calls (tests substitute their own); null = the real ones.
  FileOps* file_ops = nullptr;
  /// The largest record length field accepted when reading.
  std::uint32_t max_record_length = kMaxRecordLength;
  /// The largest decompressed segment image read (a zip bomb is damage).
  std::uint64_t max_segment_image = std::uint64_t{1} << 30;
};

/// A data directory of per-symbol journals.
class Store {
 public:
  /// Opens `data_dir`, creating it when missing, and clears what crashed
  /// operations left (tmp files, half-done removes, plain segments already compressed).
  /// Call it once at start-up, before any JournalWriter runs on the directory.
  static Result<Store> open(std::filesystem::path data_dir, StoreOptions options = {});
  /// A data directory another process may be writing, for reading only: it
  /// must exist, and nothing in it is cleaned up or created (not_found
  /// when it is missing). Use it for readers only (JournalReader, segments).
  static Result<Store> open_for_reading(std::filesystem::path data_dir, StoreOptions options = {});

  const std::filesystem::path& data_dir() const noexcept { return dir_; }
  const StoreOptions& options() const noexcept { return options_; }
  FileOps& file_ops() const noexcept { return *options_.file_ops; }

  /// `<data-dir>/<symbol>`; invalid_argument unless `symbol` has API.md's syntax.
  Result<std::filesystem::path> symbol_dir(std::string_view symbol) const;
  /// The symbols that have a journal directory, sorted.
  Result<std::vector<std::string>> symbols() const;
  /// A symbol's segments by first seq; empty when it has none.
  Result<std::vector<SegmentInfo>> segments(std::string_view symbol) const;
  /// A symbol's snapshot files by seq (not checked; see latest_snapshot()).
  Result<std::vector<SnapshotInfo>> snapshots(std::string_view symbol) const;

  /// Writes the state after record `seq` as a snapshot, atomically and durably
  /// (tmp, fdatasync, rename, fsync dir). Write it only once `seq` is durable:
  /// a snapshot must never hold what the journal may still lose.
  Status write_snapshot(std::string_view symbol, std::uint64_t seq, std::string_view bytes) const;
  /// The newest snapshot whose checks pass; damaged newer ones are passed over
  /// and listed, and an older one is used: a damaged snapshot costs replay time, not state.
  Result<SnapshotLookup> latest_snapshot(std::string_view symbol) const;

  /// Deletes whole closed segments and old snapshots per `policy` at time `now`
  /// (retention.hpp says what is never deleted).
  Result<RetentionReport> apply_retention(std::string_view symbol, const RetentionPolicy& policy,
                                          std::chrono::system_clock::time_point now) const;

  /// Moves the damage a reader reported out of the journal so it ends at the
  /// last good record again: later segments and the damaged file go to
  /// `damaged-<seq>-<offset>/`, the file's good prefix stays in its place.
  /// Appending can then continue after `corruption.last_good_seq`. Crash-safe
  /// and idempotent; invalid_argument if the journal no longer matches the report.
  Status quarantine(std::string_view symbol, const Corruption& corruption) const;

  /// Deletes a symbol's journal and snapshots (DELETE /symbols): the directory
  /// is renamed away first, so a crash never leaves half a journal that looks whole.
  Status remove(std::string_view symbol) const;

 private:
  Store(std::filesystem::path dir, StoreOptions options);
  std::filesystem::path dir_;
  StoreOptions options_;
};

}  // namespace storage
