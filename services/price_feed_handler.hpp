#pragma once
// PriceFeedHandler(symbol): the symbol's trade stream and freshness.
//
// Keeps the last trade, tick count, session open/high/low/volume and the
// trade `seq` (one per trade); publishes `trades` (every tick) and `ticker`
// frames, each encoded once for all subscribers; tracks freshness: idle until
// the first update, live on every update, stale after `stale_after` without
// one (checked every `heartbeat`), each transition sent as `status` to every
// subscriber, announced as a SystemEvent (log + marketd_feed_stale gauge).
// An update is a tick, or a Touch from the symbol's OrderBookServer.
//
// Upstream sequence numbers are judged before a tick gets here, by the
// symbol's OrderBookServer (which reports stale_seq to the ingest caller).
//
// Remove (from the SymbolDirectory, before it stops the symbol's servers)
// tells every subscriber that the symbol is gone (a `removed` frame) and
// answers any later Subscribe with that frame alone.
//
// On a crash the supervisor restarts it idle and it re-registers; it asks
// the symbol's book for the ticker (the book keeps it too, in its snapshots,
// so it also survives a restart of marketd) and the trade seq continues;
// subscribers monitor it and resubscribe.
// Thread-safety: a process; talk to it with the messages below.

#include <cstdint>
#include <optional>
#include <vector>

#include "orderbook/price.hpp"
#include "orderbook/side.hpp"
#include "runtime/gen_server.hpp"
#include "services/context.hpp"
#include "services/publication.hpp"
#include "services/subscriber_set.hpp"
#include "services/tick.hpp"
#include "services/wire.hpp"

namespace services {

class PriceFeedHandler : public rt::GenServer<PriceFeedHandler> {
 public:
  /// A trade (cast): from the feed, or from the symbol's book when orders match.
  using Tick = services::Tick;
  /// Several trades in order (cast): what one batch of a book's events made.
  struct Ticks {
    std::vector<Tick> ticks;
  };
  /// Some other update reached the symbol (cast, from its book).
  struct Touch {};
  /// The book recovered from a damaged journal (cast): stale until the next update.
  struct JournalDamaged {};
  /// The ticker the symbol's book keeps (cast, from the book: after it
  /// recovers, or when asked at this handler's start); taken when ahead.
  struct Resume {
    wire::Ticker ticker;
  };
  /// Adds channels (trades, ticker, status) for a subscriber (call); the
  /// answer holds the current ticker when `ticker` is asked for.
  using Subscribe = SubscribeRequest;
  /// Removes channels for a subscriber (cast).
  using Unsubscribe = UnsubscribeRequest;
  /// The ticker as REST shows it (call).
  struct Report {
    wire::Ticker ticker;
    wire::FeedState state = wire::FeedState::idle;
    std::optional<std::int64_t> last_update_age_ms;  ///< nullopt while idle
    std::size_t subscribers = 0;
  };
  struct GetTicker {
    using Reply = Report;
  };
  /// The symbol is being deleted (call): tell every subscriber; the last report.
  struct Remove {
    using Reply = Report;
  };

  PriceFeedHandler(SymbolInfoPtr info, ContextPtr ctx);

  Action init();
  Action handle_cast(const Tick& t);
  Action handle_cast(const Ticks& t);
  Action handle_cast(const Touch&);
  Action handle_cast(const JournalDamaged&);
  Action handle_cast(const Resume& r);
  Action handle_cast(const Unsubscribe& u);
  CallAction<Subscribed> handle_call(const Subscribe& s, From<Subscribed>&);
  CallAction<Report> handle_call(const GetTicker&, From<Report>&);
  CallAction<Report> handle_call(const Remove&, From<Report>&);
  Action handle_info(const rt::Down& d);
  /// The heartbeat timer's message.
  struct Heartbeat {};
  Action handle_info(const Heartbeat&);

 private:
  void on_tick(const Tick& t);
  void updated();
  void transition(wire::FeedState to, std::int64_t age_ms);
  FramePtr frame(Channel c, std::uint64_t seq, std::string json) const;
  Report report() const;

  SymbolInfoPtr info_;
  ContextPtr ctx_;
  SymbolMetrics metrics_;
  wire::Ticker ticker_;
  wire::FeedState state_ = wire::FeedState::idle;
  std::int64_t last_update_ms_ = 0;  // monotonic
  SubscriberSet subscribers_;
  FramePtr removed_;  // set by Remove: the symbol is being deleted
};

}  // namespace services
