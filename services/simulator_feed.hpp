#pragma once
// SimulatorFeed: runs feeds::MarketSimulator as a feed source (a child of the
// application's `feeds` supervisor). At start it creates its symbols in venue
// mode through the directory (a symbol that exists with another spec is a
// start error); then every `period` it generates as many events as `rate`
// allows since the last step and casts them to the books, one batch per
// symbol. While any book's mailbox holds `max_backlog` messages, steps
// generate nothing: the simulator falls behind (counted and logged) rather
// than growing memory without bound.
// Thread-safety: a process.

#include <chrono>
#include <cstdint>
#include <vector>

#include "feeds/simulator.hpp"
#include "runtime/gen_server.hpp"
#include "services/context.hpp"
#include "services/ingest.hpp"
#include "services/rate_pacer.hpp"
#include "services/symbol_directory.hpp"

namespace services {

struct SimulatorFeedOptions {
  feeds::SimulatorOptions simulator;
  double rate = 200;                     ///< events per second, all symbols together
  std::chrono::milliseconds period{10};  ///< how often a step runs
  std::int64_t max_backlog = 64;         ///< book mailbox depth at which a step skips it
};

class SimulatorFeed : public rt::GenServer<SimulatorFeed> {
 public:
  struct Stats {
    std::uint64_t emitted = 0;  ///< events cast to books
    std::uint64_t skipped = 0;  ///< events not generated because a book was behind
  };
  struct GetStats {
    using Reply = Stats;
  };
  struct Step {};

  SimulatorFeed(ContextPtr ctx, DirectoryLookup directory, SimulatorFeedOptions options);

  Action init();
  Action handle_info(const Step&);
  CallAction<Stats> handle_call(const GetStats&, From<Stats>&);

 private:
  ContextPtr ctx_;
  DirectoryLookup directory_;
  SimulatorFeedOptions options_;
  feeds::MarketSimulator sim_;
  std::vector<BookHandle> books_;  // by simulator symbol index
  std::vector<std::vector<feeds::Event>> pending_;
  RatePacer pacer_;
  Stats stats_;
  std::int64_t last_warning_ms_ = 0;
};

}  // namespace services
