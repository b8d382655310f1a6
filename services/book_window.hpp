#pragma once
// BookWindow: what a depth-limited `book` subscription sees of a book (API.md
// "Book depth", Kraken's model) - the best `depth` levels per side - kept up to
// date change by change, so publishing costs O(log depth) plus a memmove per
// delta instead of re-reading `depth` levels:
//   - a delta at or better than the window's worst level (or any delta while
//     the window holds the whole side) updates, inserts or erases it;
//   - an insert into a full window pushes its worst level out (sent with 0);
//   - an erase from a full window pulls in the book's next level (sent with
//     its quantity), found with OrderBook::next_worse in O(1)/O(log n);
//   - deltas beyond the window change nothing and send nothing.
// docs/decisions/018-book-depth-window.md.
// Thread-safety: not thread-safe: owned by the book server.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "orderbook/book_spec.hpp"
#include "orderbook/events.hpp"
#include "orderbook/order_book.hpp"

namespace services {

/// API.md: the checksum covers this many levels per side of the window.
inline constexpr std::size_t kChecksumLevels = 10;

class BookWindow {
 public:
  /// The best `depth` (>= 1) levels per side of `book`.
  BookWindow(const ob::OrderBook& book, std::uint32_t depth);

  std::uint32_t depth() const { return depth_; }

  /// Follows one book change: `deltas` as in its ChangeSet, `book` already
  /// holding its result. `out` (cleared first) gets what the window's
  /// subscribers must be sent, one entry per level (its final state).
  void apply(const ob::OrderBook& book, std::span<const ob::LevelDelta> deltas,
             std::vector<ob::LevelDelta>& out);

  /// One side's window, best first.
  std::span<const ob::LevelView> levels(ob::Side side) const {
    return sides_[static_cast<std::size_t>(side)];
  }
  /// API.md's checksum over the best kChecksumLevels levels per side of the window.
  std::uint32_t checksum(const ob::BookSpec& spec) const;

 private:
  void apply_one(const ob::OrderBook& book, const ob::LevelDelta& d,
                 std::vector<ob::LevelDelta>& out);

  std::uint32_t depth_;
  std::array<std::vector<ob::LevelView>, 2> sides_;  // indexed by ob::Side
};

}  // namespace services
