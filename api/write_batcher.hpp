#pragma once
// WriteBatcher: gives the writers of many WebSocket connections their turn
// together. A connection with frames queued asks for a turn; at most every
// `interval` (0: as soon as the io thread gets to it) every connection that
// asked gets one. That is one post and one timer for all connections instead
// of a post per frame, and it leaves a connection's frames time to gather
// into one socket write — which is what both the server and its clients pay
// for per message (docs/decisions/011-ws-fast-lane.md).
// Thread-safety: request() from any thread; turns run on the writers' own
// executors (each writer dispatches to its strand).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace api {

class WriteBatcher : public std::enable_shared_from_this<WriteBatcher> {
 public:
  /// Something that writes when given its turn.
  class Writer {
   public:
    /// Called on the batcher's strand; hand the work to your own executor.
    virtual void on_turn() = 0;

   protected:
    ~Writer() = default;
  };

  /// `executor` must be a strand (or a single-threaded io_context).
  static std::shared_ptr<WriteBatcher> create(boost::asio::any_io_executor executor,
                                              std::chrono::microseconds interval);

  /// Asks for a turn for `writer`; ask once per wake-up (the Outbox remembers it asked).
  void request(std::weak_ptr<Writer> writer);

 private:
  struct Key {};  // construction goes through create(): the batcher is always shared

 public:
  WriteBatcher(Key, boost::asio::any_io_executor executor, std::chrono::microseconds interval);

 private:
  void arm();
  void run();

  boost::asio::any_io_executor executor_;
  boost::asio::steady_timer timer_;
  const std::chrono::microseconds interval_;
  std::mutex m_;
  std::vector<std::weak_ptr<Writer>> waiting_;  // guarded by m_
  bool armed_ = false;                          // guarded by m_: a round is scheduled
  std::vector<std::weak_ptr<Writer>> turn_;     // on the strand only
};

}  // namespace api
