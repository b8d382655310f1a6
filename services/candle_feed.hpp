#pragma once
// CandleFeed: what a book server sends its candles:I subscribers (API.md
// "Candles"). On each tick of a once-a-second timer, per interval somebody
// follows: the candle last sent, once its interval has ended (by wall-clock
// time) or a newer one began, in its final state with closed:true; then the
// newest candle if it changed since it was sent (closed when its interval has
// already ended: a late trade within the grace window updates it again). A
// subscriber gets the newest candle on subscribing (current()), then these.
// Late trades into older candles are not re-sent; REST has them.
// Thread-safety: not thread-safe; owned by the book server.

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "services/candles.hpp"
#include "services/publication.hpp"

namespace services {

class CandleFeed {
 public:
  /// One candle message to publish.
  struct Due {
    std::size_t interval = 0;  ///< its index in kCandleIntervals
    Candle candle;
    bool closed = false;
  };

  /// Appends to `out` what is due at `now_ns` for the channels in `followed`
  /// (candles:I channels; others are ignored), and remembers it as sent.
  /// Intervals nobody follows are forgotten.
  void tick(const Candles& candles, Channels followed, std::int64_t now_ns, std::vector<Due>& out);

  /// The newest candle of interval `i` as a new subscriber gets it, if any.
  static std::optional<Due> current(const Candles& candles, std::size_t i, std::int64_t now_ns);

 private:
  struct Sent {
    std::optional<Candle> candle;
    bool closed = false;
  };
  std::array<Sent, kCandleIntervals.size()> sent_{};
};

}  // namespace services
