#pragma once
// Shared helpers of the storage tests: a scratch data directory, journals
// written through the real JournalWriter, and reading them back whole.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "storage/journal_reader.hpp"
#include "storage/journal_writer.hpp"
#include "storage/store.hpp"

namespace storage_test {

namespace fs = std::filesystem;

/// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "marketd-storage-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// The payload the helpers write for `seq`: varied lengths, binary bytes included.
inline std::string payload_for(std::uint64_t seq) {
  std::string s = "event-" + std::to_string(seq) + ":";
  for (std::uint64_t i = 0; i < seq % 23; ++i)
    s.push_back(static_cast<char>((seq * 31 + i) & 0xFF));
  return s;
}

/// One record as read back.
struct Rec {
  std::uint64_t seq;
  std::string payload;
  friend bool operator==(const Rec&, const Rec&) = default;
};

/// Everything a reader returns from `from`, and how it ended.
struct ReadBack {
  std::vector<Rec> records;
  storage::ReadEnd end;
};

inline ReadBack read_all(const storage::Store& store, std::string_view symbol,
                         std::uint64_t from = 0) {
  ReadBack out;
  auto reader = storage::JournalReader::open(store, symbol, from);
  EXPECT_TRUE(reader.ok()) << (reader.ok() ? "" : reader.error().to_string());
  if (!reader.ok()) return out;
  while (auto r = reader->next()) out.records.push_back(Rec{r->seq, std::string(r->payload)});
  out.end = reader->end();
  return out;
}

/// The records seqs [first, last] with payload_for(seq).
inline std::vector<Rec> expected(std::uint64_t first, std::uint64_t last) {
  std::vector<Rec> out;
  for (std::uint64_t s = first; s <= last; ++s) out.push_back(Rec{s, payload_for(s)});
  return out;
}

/// Appends and waits for the answer.
inline storage::Status append_sync(storage::JournalWriter& w, std::string_view symbol,
                                   std::uint64_t seq, std::string payload) {
  std::promise<storage::Status> done;
  auto f = done.get_future();
  storage::Status accepted = w.append(symbol, seq, std::move(payload),
                                      [&done](const storage::Status& s) { done.set_value(s); });
  if (!accepted) return accepted;
  return f.get();
}

/// Waits until everything accepted for `symbol` has been answered.
inline void flush_sync(storage::JournalWriter& w, std::string_view symbol) {
  std::promise<void> done;
  auto f = done.get_future();
  ASSERT_TRUE(w.flush(symbol, [&done](const storage::Status&) { done.set_value(); }).ok());
  f.get();
}

/// Writes records [first, last] of `symbol` (payload_for) and waits for them all.
inline void write_records(const storage::Store& store, std::string_view symbol, std::uint64_t first,
                          std::uint64_t last,
                          storage::WriterOptions options = {.fsync = storage::FsyncPolicy::never,
                                                            .compress = false}) {
  storage::JournalWriter w(store, std::move(options));
  for (std::uint64_t s = first; s <= last; ++s) {
    ASSERT_TRUE(w.append(symbol, s, payload_for(s), [s](const storage::Status& st) {
                   EXPECT_TRUE(st.ok()) << "seq " << s << ": " << st.error().to_string();
                 }).ok());
  }
  flush_sync(w, symbol);
}

/// The whole content of a file.
inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Replaces a file's content.
inline void spit(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline storage::Store open_store(const fs::path& dir, storage::StoreOptions options = {}) {
  auto s = storage::Store::open(dir, options);
  if (!s.ok()) throw std::runtime_error(s.error().to_string());
  return *s;
}

}  // namespace storage_test
