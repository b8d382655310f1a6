#pragma once
// TickFeed: a synthetic trade feed for load tests and demos — `rate` trade
// ticks per second spread uniformly over the symbols that exist when it
// starts (random-walk prices on each symbol's grid), cast to their books as
// `tick` events stamped at creation. Like the simulator it runs under the
// application's `feeds` supervisor, steps every `period`, and skips a step
// (counted) while a book's mailbox holds `max_backlog` messages.
// Thread-safety: a process.

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "runtime/gen_server.hpp"
#include "services/context.hpp"
#include "services/rate_pacer.hpp"
#include "services/symbol_directory.hpp"

namespace services {

struct TickFeedOptions {
  double rate = 1000;                   ///< ticks per second, all symbols together
  std::chrono::milliseconds period{1};  ///< how often a step runs
  std::int64_t max_backlog = 256;       ///< book mailbox depth at which a step is skipped
  std::uint64_t seed = 7;
};

class TickFeed : public rt::GenServer<TickFeed> {
 public:
  struct Stats {
    std::uint64_t emitted = 0;
    std::uint64_t skipped = 0;
  };
  struct GetStats {
    using Reply = Stats;
  };
  struct Step {};

  TickFeed(ContextPtr ctx, TickFeedOptions options);
  Action init();
  Action handle_info(const Step&);
  CallAction<Stats> handle_call(const GetStats&, From<Stats>&);

 private:
  struct Walk {
    BookHandle book;
    std::int64_t price = 0;  // ticks
    std::vector<feeds::Event> pending;
  };
  ContextPtr ctx_;
  TickFeedOptions options_;
  std::vector<Walk> symbols_;
  std::mt19937_64 rng_;
  RatePacer pacer_;
  Stats stats_;
};

}  // namespace services
