#pragma once
// What symbol servers publish to their subscribers: frames encoded once and
// shared immutable by every subscriber (DESIGN.md "Data rules"), and the
// type-erased address of a subscriber process.
// Thread-safety: Frame is immutable once published; Subscriber is a value.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orderbook/events.hpp"
#include "runtime/gen_server.hpp"

namespace services {

/// The WebSocket channels of API.md; trades/ticker/status come from the
/// PriceFeedHandler, top/book/candles:I from the OrderBookServer.
enum class Channel : std::uint8_t {
  trades,
  ticker,
  status,
  top,
  book,
  candles_1s,
  candles_1m,
  candles_5m,
  candles_15m,
  candles_1h,
  candles_1d,
};
inline constexpr std::size_t kChannelCount = 11;

/// "trades", "ticker", ..., "candles:1m" as on the wire.
constexpr std::string_view to_string(Channel c) {
  constexpr std::array<std::string_view, kChannelCount> names{
      "trades",     "ticker",     "status",      "top",        "book",      "candles:1s",
      "candles:1m", "candles:5m", "candles:15m", "candles:1h", "candles:1d"};
  return names[static_cast<std::size_t>(c)];
}
/// The channel named `text`, or nullopt.
std::optional<Channel> parse_channel(std::string_view text);

/// A set of channels as a bit mask.
class Channels {
 public:
  constexpr Channels() = default;
  constexpr Channels(std::initializer_list<Channel> cs) {
    for (Channel c : cs) add(c);
  }
  constexpr void add(Channel c) { bits_ = static_cast<std::uint16_t>(bits_ | bit(c)); }
  constexpr void remove(Channels cs) { bits_ = static_cast<std::uint16_t>(bits_ & ~cs.bits_); }
  constexpr bool has(Channel c) const { return (bits_ & bit(c)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr Channels operator|(Channels o) const {
    return from_bits(static_cast<std::uint16_t>(bits_ | o.bits_));
  }
  constexpr Channels operator&(Channels o) const {
    return from_bits(static_cast<std::uint16_t>(bits_ & o.bits_));
  }
  friend constexpr bool operator==(Channels, Channels) = default;

 private:
  static constexpr std::uint16_t bit(Channel c) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(c));
  }
  static constexpr Channels from_bits(std::uint16_t b) {
    Channels c;
    c.bits_ = b;
    return c;
  }
  std::uint16_t bits_ = 0;
};

/// The `candles:I` channel of the interval kCandleIntervals[i].
constexpr Channel candle_channel(std::size_t i) {
  return static_cast<Channel>(static_cast<std::size_t>(Channel::candles_1s) + i);
}
/// The `candles:I` channels, in kCandleIntervals order.
inline constexpr Channels kCandleChannels{Channel::candles_1s, Channel::candles_1m,
                                          Channel::candles_5m, Channel::candles_15m,
                                          Channel::candles_1h, Channel::candles_1d};

/// One encoded message for subscribers. `seq` is the stream seq the frame
/// ends at (trade seq for trades/ticker, book seq for top/book, 0 for status);
/// a session uses it for conflation and snapshot/delta continuity without
/// parsing the JSON.
struct Frame {
  /// `removed`: the symbol was deleted and the subscription ends; `json` is
  /// the client's error message (a status-channel frame, sent to everyone).
  enum class Kind : std::uint8_t { update, snapshot, removed };
  Channel channel = Channel::trades;
  Kind kind = Kind::update;
  std::uint64_t seq = 0;
  std::string symbol;
  std::string json;  ///< the complete WebSocket text message
  /// Book updates: the book seqs covered since the previous book frame (a
  /// depth window skips changes beyond it), so seq - merged is that frame's seq.
  std::uint64_t merged = 1;
  /// Book updates: `json`'s changes and checksum as data, so a subscriber
  /// with a max rate can merge several updates into one (API.md "Max rate").
  std::vector<ob::LevelDelta> changes{};
  std::uint32_t checksum = 0;
};
using FramePtr = std::shared_ptr<const Frame>;

/// The info message a subscriber receives for every frame.
struct Published {
  FramePtr frame;
};

/// A subscriber's fast lane: frames of some channels handed straight to the
/// subscriber's output (a WebSocket session's send queue) instead of through
/// its mailbox, for frames that need none of the process's state — as
/// Phoenix's channel fastlane does (docs/decisions/011-ws-fast-lane.md).
/// `deliver` runs on the publishing server's thread; it must be thread-safe,
/// short, and never call into a process.
class FastLane {
 public:
  virtual ~FastLane() = default;
  /// Takes `frame`; `overloaded` when the subscriber cannot keep up.
  virtual rt::SendStatus deliver(const FramePtr& frame) = 0;
};

/// The address of a subscriber process of any GenServer type that handles
/// `Published` in handle_info: a pid, how to post to it, and optionally a
/// fast lane for some channels.
class Subscriber {
 public:
  Subscriber() = default;
  /// The subscriber `ref`.
  template <class Impl>
  static Subscriber of(const rt::Ref<Impl>& ref) {
    return Subscriber(ref.pid(), [](const rt::Pid& pid, FramePtr f) {
      auto typed = rt::Ref<Impl>::from(pid);
      return typed ? rt::send(*typed, Published{std::move(f)}) : rt::SendStatus::noproc;
    });
  }
  /// The subscriber `ref`, with frames of `channels` going through `lane`.
  template <class Impl>
  static Subscriber of(const rt::Ref<Impl>& ref, Channels channels,
                       std::shared_ptr<FastLane> lane) {
    Subscriber s = of(ref);
    s.lane_channels_ = channels;
    s.lane_ = std::move(lane);
    return s;
  }
  const rt::Pid& pid() const { return pid_; }
  /// Posts `frame`; `overloaded` when the subscriber's bounded mailbox (or
  /// its fast lane) is full.
  rt::SendStatus deliver(const FramePtr& frame) const {
    if (lane_ && lane_channels_.has(frame->channel)) return lane_->deliver(frame);
    return post_(pid_, frame);
  }

 private:
  using PostFn = rt::SendStatus (*)(const rt::Pid&, FramePtr);
  Subscriber(rt::Pid pid, PostFn post) : pid_(std::move(pid)), post_(post) {}
  rt::Pid pid_;
  PostFn post_ = nullptr;
  Channels lane_channels_;
  std::shared_ptr<FastLane> lane_;
};

/// Subscribe/unsubscribe answers: the frames carrying the current state of
/// the channels asked for (ticker, top, book snapshot), to be sent to the
/// client before any update that follows in the mailbox.
struct Subscribed {
  std::vector<FramePtr> current;
};

/// API.md: a `book` subscription's `depth` when none is given, and its bounds.
inline constexpr std::uint32_t kDefaultBookDepth = 1000;
inline constexpr std::uint32_t kMinBookDepth = 1;
inline constexpr std::uint32_t kMaxBookDepth = 5000;
/// API.md "Max rate": the bounds of a subscription's `max_hz`.
inline constexpr std::uint32_t kMinMaxHz = 1;
inline constexpr std::uint32_t kMaxMaxHz = 1000;

/// What a `book` subscriber receives: its window's depth, and its max rate
/// (API.md "Max rate"; 0: every change). Subscribers of one BookStream share
/// every frame, merged by the book server itself (ADR 029).
struct BookStream {
  std::uint32_t depth = kDefaultBookDepth;
  std::uint32_t max_hz = 0;
  friend bool operator==(const BookStream&, const BookStream&) = default;
};

/// Adds channels for a subscriber (a call to a symbol server; each server
/// takes the channels it serves and answers with their current state).
struct SubscribeRequest {
  Subscriber who;
  Channels channels;
  /// `book`: the levels per side of the subscription's window (API.md "Book
  /// depth"; kMinBookDepth..kMaxBookDepth) and its max_hz (0 or
  /// kMinMaxHz..kMaxMaxHz), validated by the caller.
  BookStream book;
  using Reply = Subscribed;
};
/// Removes channels for a subscriber (a cast).
struct UnsubscribeRequest {
  rt::Pid who;
  Channels channels;
};

}  // namespace services
