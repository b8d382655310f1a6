#include "services/max_rate_stream.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <memory>
#include <vector>

#include "services/wire.hpp"

namespace services {

MaxRateStream::MaxRateStream(std::uint32_t max_hz)
    : max_hz_(std::max<std::uint32_t>(max_hz, 1)), period_ns_(1'000'000'000 / max_hz_) {}

FramePtr MaxRateStream::offer(FramePtr f, std::int64_t now_ns) {
  if (held_ == nullptr && now_ns >= due_ns()) {
    last_sent_ns_ = now_ns;
    return f;
  }
  if (f->channel == Channel::book) {
    for (const ob::LevelDelta& d : f->changes) levels_[{d.side, d.price.ticks()}] = d.qty;
    merged_ += f->merged;
  }
  held_ = std::move(f);
  return nullptr;
}

FramePtr MaxRateStream::take(const SymbolInfo& info, std::int64_t now_ns) {
  if (held_ == nullptr) return nullptr;
  last_sent_ns_ = now_ns;
  FramePtr out = std::exchange(held_, nullptr);
  if (out->channel != Channel::book || merged_ == out->merged) {
    levels_.clear();
    merged_ = 0;
    return out;  // one frame held: it is its own merge
  }
  // Bids best (highest) first, then asks best (lowest) first.
  std::vector<ob::LevelDelta> changes;
  changes.reserve(levels_.size());
  const auto asks = levels_.lower_bound({ob::Side::sell, std::numeric_limits<std::int64_t>::min()});
  for (auto it = std::make_reverse_iterator(asks); it != levels_.rend(); ++it) {
    changes.push_back(ob::LevelDelta{ob::Side::buy, ob::Price(it->first.second), it->second});
  }
  for (auto it = asks; it != levels_.end(); ++it) {
    changes.push_back(ob::LevelDelta{ob::Side::sell, ob::Price(it->first.second), it->second});
  }
  const std::uint64_t merged = std::exchange(merged_, 0);
  levels_.clear();
  return wire::book_update_frame(info, out->seq, std::move(changes), out->checksum, merged);
}

void MaxRateStream::restart(std::int64_t now_ns) {
  held_ = nullptr;
  levels_.clear();
  merged_ = 0;
  last_sent_ns_ = now_ns;
}

}  // namespace services
