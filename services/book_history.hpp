#pragma once
// The past of a symbol's book, rebuilt from its snapshots and journal
// (API.md "Durability": GET /symbols/{s}/depth?levels=N&at=T).
//
// The book at time T is the state after the longest prefix of the journal
// whose records were received at or before T (receipt time of an events
// record, time of an API order or cancel), replayed through BookState — the
// code that applied them first. The replay starts from the newest snapshot
// taken at or before T, else from the journal's first record, so it costs at
// most one snapshot interval when snapshots are kept that far back.
//
// T is out of range (404 not_found) when it is in the future, before the
// symbol's first recorded change, or before the oldest retained state (its
// journal's start deleted by --retain and no snapshot as old as T).
//
// BookHistory runs these replays on a thread of its own, a bounded number at
// once: they read files and may take a while, and neither an io thread nor a
// runtime worker may wait for that.
// Thread-safety: depth_at is a pure function of the files; BookHistory's
// members may be called from any thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/result.hpp"
#include "services/book_state.hpp"
#include "storage/store.hpp"

namespace services {

/// Why the past cannot be answered.
struct PastError {
  enum class Code : std::uint8_t {
    out_of_range,  ///< T is not within the retained, recorded past
    damaged,       ///< the journal is damaged before T
    io_error,      ///< a file could not be read
  };
  Code code = Code::out_of_range;
  std::string message;
};

/// The top `levels` of each side of `symbol`'s book (of `spec`) as it was at
/// `t_ns` (ns since the epoch), given that it is `now_ns` now. Reads files; blocks.
rt::Result<Depth, PastError> depth_at(const storage::Store& store, std::string_view symbol,
                                      const SymbolSpec& spec, std::int64_t t_ns, std::size_t levels,
                                      std::int64_t now_ns);

/// The most recent `limit` candles of `interval` starting in [from_ns, to_ns),
/// oldest first, rebuilt from the whole retained journal (for what the book's
/// ring no longer holds). When `--retain` deleted the journal's start, from
/// the oldest snapshot on (with the candles that snapshot's ring held).
/// Reads files; blocks.
rt::Result<std::vector<Candle>, PastError> candles_from_journal(
    const storage::Store& store, std::string_view symbol, const SymbolSpec& spec,
    CandleInterval interval, std::int64_t from_ns, std::int64_t to_ns, std::size_t limit);

/// Where past queries run, and how many at once.
class BookHistory {
 public:
  /// At most `max_running` queries at once, on one thread.
  explicit BookHistory(std::size_t max_running = 2);
  ~BookHistory();
  BookHistory(const BookHistory&) = delete;
  BookHistory& operator=(const BookHistory&) = delete;

  /// One query's place among the running ones, given back when destroyed.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : history_(std::exchange(other.history_, nullptr)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class BookHistory;
    explicit Slot(BookHistory* h) : history_(h) {}
    BookHistory* history_;
  };
  /// A slot, or nullopt when `max_running` queries are running (answer 503 overloaded).
  std::optional<Slot> try_begin();
  /// The executor to run a query on (a thread of the history's own).
  boost::asio::any_io_executor executor() { return pool_.get_executor(); }

 private:
  const std::size_t max_running_;
  std::atomic<std::size_t> running_{0};
  boost::asio::thread_pool pool_{1};
};

}  // namespace services
