#pragma once
// SubscriberSet: a symbol server's subscribers by channel. The server
// monitors each subscriber once; a Down removes it (DESIGN.md: the session's
// end removes it from the subscriber set). Publishing walks a flat vector.
// A `book` subscriber also has a BookStream (depth and max rate): book frames
// go to one stream's subscribers at a time (docs/decisions/018, 029).
// Thread-safety: owned by one server process; call only from its callbacks.

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "runtime/process.hpp"
#include "services/publication.hpp"

namespace services {

class SubscriberSet {
 public:
  /// What one publish did: frames posted, and subscribers that could not take one.
  struct Outcome {
    std::size_t delivered = 0;
    std::size_t overloaded = 0;
  };

  /// Adds `channels` for `who`, monitoring it from `owner` if it is new; a
  /// known subscriber's address is replaced by `who`. With `book` among the
  /// channels, `book` becomes its book stream (else it is ignored).
  /// Returns the channels that were not subscribed before.
  Channels add(rt::Process& owner, const Subscriber& who, Channels channels, BookStream book = {});
  /// Removes `channels` for `pid`; forgets (and demonitors) it when none remain.
  void remove(rt::Process& owner, const rt::Pid& pid, Channels channels);
  /// Forgets a subscriber that went down. True if it was one of ours.
  bool on_down(const rt::Down& down);

  /// Posts `frame` to every subscriber of its channel. A subscriber whose
  /// mailbox is full misses the frame; for `trades`, which are never dropped
  /// silently, it is sent exit {shutdown, slow_consumer} instead.
  Outcome publish(const FramePtr& frame);
  /// Posts a book `frame` to the book subscribers of `stream`.
  Outcome publish_book(const FramePtr& frame, BookStream stream);
  /// Posts `frame` to every subscriber, whatever its channels (status).
  Outcome publish_to_all(const FramePtr& frame);

  std::size_t size() const { return entries_.size(); }
  /// Subscribers of channel `c`, in O(1) (servers skip encoding for no one).
  std::size_t count(Channel c) const { return counts_[static_cast<std::size_t>(c)]; }
  bool contains(const rt::Pid& pid) const { return index_.contains(pid); }
  /// Book subscribers of `stream`.
  std::size_t book_count(BookStream stream) const;

 private:
  struct Entry {
    Subscriber who;
    rt::MonitorRef monitor;
    Channels channels;
    BookStream book;  // meaningful while `channels` has book
  };
  void erase_at(std::size_t i);
  void post(const Entry& e, const FramePtr& frame, Outcome& out);
  // Counts `e`'s channels (and its book depth) in or out.
  void tally(const Entry& e, int delta);

  std::vector<Entry> entries_;
  std::unordered_map<rt::Pid, std::size_t> index_;
  std::array<std::size_t, kChannelCount> counts_{};
  // Book subscribers per stream: few distinct ones, so a flat list.
  std::vector<std::pair<BookStream, std::size_t>> book_streams_;
};

}  // namespace services
