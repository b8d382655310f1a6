#include "storage/store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <system_error>

#include "feeds/symbol.hpp"
#include "storage/compression.hpp"
#include "storage/segment.hpp"
#include "storage/store_detail.hpp"

namespace storage {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDeletedPrefix = ".deleted-";

// Of a plain segment and its compressed copy (a compression cut short
// between rename and unlink), the one to drop: the plain one when the copy
// holds the same bytes, else the copy — never the only good version.
fs::path redundant_copy(const fs::path& plain, const fs::path& packed, std::uint64_t max_image) {
  Result<std::string> a = read_file(plain);
  Result<std::string> b = read_file(packed);
  if (!a || !b) return {};
  const Decompressed d = zstd_decompress(*b, max_image);
  return !d.error && d.bytes == *a ? plain : packed;
}

// Removes what crashed operations leave in a symbol's directory: tmp files,
// and a plain segment next to its compressed copy.
void clean_symbol_dir(const fs::path& dir, std::uint64_t max_image) {
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(kTmpSuffix)) {
      doomed.push_back(e.path());
      continue;
    }
    const std::optional<SegmentName> seg = parse_segment_name(name);
    const fs::path packed = seg ? dir / segment_file_name(seg->first_seq, true) : fs::path();
    if (seg && !seg->compressed && fs::exists(packed, ec)) {
      if (fs::path p = redundant_copy(e.path(), packed, max_image); !p.empty()) {
        doomed.push_back(std::move(p));
      }
    }
  }
  for (const fs::path& p : doomed) fs::remove(p, ec);
}

}  // namespace

namespace detail {

std::chrono::system_clock::time_point mtime_of(const struct stat& st) {
  using namespace std::chrono;
  return system_clock::time_point(duration_cast<system_clock::duration>(
      seconds(st.st_mtim.tv_sec) + nanoseconds(st.st_mtim.tv_nsec)));
}

}  // namespace detail

std::string Corruption::to_string() const {
  return fmt::format("{} at offset {}: {}", segment.string(), offset, reason);
}

Store::Store(fs::path dir, StoreOptions options) : dir_(std::move(dir)), options_(options) {
  if (options_.file_ops == nullptr) options_.file_ops = &system_file_ops();
}

Result<Store> Store::open(fs::path data_dir, StoreOptions options) {
  Store store(std::move(data_dir), options);
  if (Status s = ensure_directory(store.file_ops(), store.dir_); !s) return rt::Err{s.error()};
  std::error_code ec;
  std::vector<fs::path> deleted;
  std::vector<fs::path> symbol_dirs;
  for (const fs::directory_entry& e : fs::directory_iterator(store.dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(kDeletedPrefix)) {
      deleted.push_back(e.path());
    } else if (feeds::is_valid_symbol(name) && e.is_directory(ec)) {
      symbol_dirs.push_back(e.path());
    }
  }
  if (ec) return fail_errno(ec.value(), "list " + store.dir_.string());
  for (const fs::path& p : deleted) fs::remove_all(p, ec);  // a remove() cut short by a crash
  for (const fs::path& p : symbol_dirs) clean_symbol_dir(p, store.options_.max_segment_image);
  return store;
}

Result<Store> Store::open_for_reading(fs::path data_dir, StoreOptions options) {
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) {
    return fail(Errc::not_found, "no data directory at " + data_dir.string());
  }
  return Store(std::move(data_dir), options);
}

Result<fs::path> Store::symbol_dir(std::string_view symbol) const {
  if (!feeds::is_valid_symbol(symbol)) {
    return fail(Errc::invalid_argument, fmt::format("invalid symbol \"{}\"", symbol));
  }
  return dir_ / std::string(symbol);
}

Result<std::vector<std::string>> Store::symbols() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (feeds::is_valid_symbol(name) && e.is_directory(ec)) out.push_back(std::move(name));
  }
  if (ec) return fail_errno(ec.value(), "list " + dir_.string());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<SegmentInfo>> Store::segments(std::string_view symbol) const {
  Result<fs::path> dir = symbol_dir(symbol);
  if (!dir) return rt::Err{dir.error()};
  // Names first, from two passes. Compression renames `<seq>.log.zst` in and
  // then unlinks `<seq>.log`; one readdir can pass the `.zst`'s slot before
  // the rename and reach the plain slot after the unlink, and see neither. A
  // segment whose pair completed during the first pass has its `.zst` from the
  // second pass's start, so the union of two passes has no hole.
  struct Names {
    bool plain = false;
    bool zst = false;
  };
  std::map<std::uint64_t, Names> names;
  for (int pass = 0; pass < 2; ++pass) {
    std::error_code ec;
    fs::directory_iterator it(*dir, ec);
    if (ec == std::errc::no_such_file_or_directory) return std::vector<SegmentInfo>{};
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::optional<SegmentName> name = parse_segment_name(it->path().filename().string());
      if (!name) continue;
      Names& n = names[name->first_seq];
      (name->compressed ? n.zst : n.plain) = true;
    }
    if (ec) return fail_errno(ec.value(), "list " + dir->string());
  }
  std::vector<SegmentInfo> out;
  out.reserve(names.size());
  for (const auto& [seq, n] : names) {
    SegmentInfo info{.first_seq = seq};
    // Prefer the plain file while it exists: the same records, cheaper to read.
    // A plain name gone since listed was compressed; its `.zst` stands in.
    for (const bool compressed : {false, true}) {
      const bool listed = compressed ? n.zst : n.plain;
      const bool stands_in = compressed && info.path.empty();
      if (!listed && !stands_in) continue;
      fs::path path = *dir / segment_file_name(seq, compressed);
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) continue;  // compressed or retained since listed
      info.bytes += static_cast<std::uint64_t>(st.st_size);
      if (info.path.empty()) {
        info.path = std::move(path);
        info.compressed = compressed;
        info.modified = detail::mtime_of(st);
      }
    }
    if (!info.path.empty()) out.push_back(std::move(info));  // else retained whole
  }
  return out;
}

Result<std::vector<SnapshotInfo>> Store::snapshots(std::string_view symbol) const {
  Result<fs::path> dir = symbol_dir(symbol);
  if (!dir) return rt::Err{dir.error()};
  std::vector<SnapshotInfo> out;
  std::error_code ec;
  fs::directory_iterator it(*dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::optional<std::uint64_t> seq = parse_snapshot_name(it->path().filename().string());
    if (!seq) continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0) continue;
    out.push_back(SnapshotInfo{*seq, it->path(), static_cast<std::uint64_t>(st.st_size),
                               detail::mtime_of(st)});
  }
  if (ec) return fail_errno(ec.value(), "list " + dir->string());
  std::sort(out.begin(), out.end(),
            [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.seq < b.seq; });
  return out;
}

Status Store::remove(std::string_view symbol) const {
  Result<fs::path> dir = symbol_dir(symbol);
  if (!dir) return rt::Err{dir.error()};
  std::error_code ec;
  if (!fs::exists(*dir, ec)) return rt::Ok{};
  // Rename first: one atomic step takes the whole journal out of sight, and
  // the slow recursive delete after it can be cut short by a crash harmlessly.
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  const fs::path doomed =
      dir_ / fmt::format("{}{}-{}-{}", kDeletedPrefix, symbol, ::getpid(), stamp);
  if (::rename(dir->c_str(), doomed.c_str()) != 0) {
    return fail_errno(errno, "rename " + dir->string());
  }
  if (Status s = sync_directory(file_ops(), dir_); !s) return s;
  fs::remove_all(doomed, ec);
  if (ec) return fail_errno(ec.value(), "remove " + doomed.string());
  return rt::Ok{};
}

}  // namespace storage
