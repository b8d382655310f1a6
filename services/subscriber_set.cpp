#include "services/subscriber_set.hpp"

#include <algorithm>

namespace services {

std::optional<Channel> parse_channel(std::string_view text) {
  for (std::size_t i = 0; i < kChannelCount; ++i) {
    auto c = static_cast<Channel>(i);
    if (to_string(c) == text) return c;
  }
  return std::nullopt;
}

Channels SubscriberSet::add(rt::Process& owner, const Subscriber& who, Channels channels,
                            BookStream book) {
  auto it = index_.find(who.pid());
  if (it == index_.end()) {
    index_.emplace(who.pid(), entries_.size());
    entries_.push_back(Entry{who, owner.monitor(who.pid()), channels, book});
    tally(entries_.back(), +1);
    return channels;
  }
  Entry& e = entries_[it->second];
  Channels fresh = channels;
  fresh.remove(e.channels);
  tally(e, -1);
  e.who = who;  // the latest address wins (a new fast lane after an unsubscribe)
  e.channels = e.channels | channels;
  if (channels.has(Channel::book)) e.book = book;
  tally(e, +1);
  return fresh;
}

void SubscriberSet::remove(rt::Process& owner, const rt::Pid& pid, Channels channels) {
  auto it = index_.find(pid);
  if (it == index_.end()) return;
  Entry& e = entries_[it->second];
  tally(e, -1);
  e.channels.remove(channels);
  tally(e, +1);
  if (!e.channels.empty()) return;
  owner.demonitor(e.monitor);
  erase_at(it->second);
}

bool SubscriberSet::on_down(const rt::Down& down) {
  auto it = index_.find(down.pid);
  if (it == index_.end() || entries_[it->second].monitor != down.ref) return false;
  erase_at(it->second);
  return true;
}

void SubscriberSet::tally(const Entry& e, int delta) {
  for (std::size_t c = 0; c < kChannelCount; ++c) {
    if (e.channels.has(static_cast<Channel>(c))) counts_[c] += static_cast<std::size_t>(delta);
  }
  if (!e.channels.has(Channel::book)) return;
  auto it = std::find_if(book_streams_.begin(), book_streams_.end(),
                         [&](const auto& d) { return d.first == e.book; });
  if (it == book_streams_.end()) it = book_streams_.emplace(it, e.book, 0);
  it->second += static_cast<std::size_t>(delta);
  if (it->second == 0) book_streams_.erase(it);
}

std::size_t SubscriberSet::book_count(BookStream stream) const {
  for (const auto& [s, n] : book_streams_) {
    if (s == stream) return n;
  }
  return 0;
}

void SubscriberSet::erase_at(std::size_t i) {
  tally(entries_[i], -1);
  index_.erase(entries_[i].who.pid());
  if (i + 1 != entries_.size()) {
    entries_[i] = std::move(entries_.back());
    index_[entries_[i].who.pid()] = i;
  }
  entries_.pop_back();
}

void SubscriberSet::post(const Entry& e, const FramePtr& frame, Outcome& out) {
  switch (e.who.deliver(frame)) {
    case rt::SendStatus::ok:
      ++out.delivered;
      break;
    case rt::SendStatus::overloaded:
      ++out.overloaded;
      if (frame->channel == Channel::trades) {
        rt::exit(e.who.pid(), rt::ExitReason::shutdown("slow_consumer"));
      }
      break;
    case rt::SendStatus::noproc:
      break;  // its Down is on the way
  }
}

SubscriberSet::Outcome SubscriberSet::publish(const FramePtr& frame) {
  Outcome out;
  for (const Entry& e : entries_) {
    if (e.channels.has(frame->channel)) post(e, frame, out);
  }
  return out;
}

SubscriberSet::Outcome SubscriberSet::publish_book(const FramePtr& frame, BookStream stream) {
  Outcome out;
  for (const Entry& e : entries_) {
    if (e.channels.has(Channel::book) && e.book == stream) post(e, frame, out);
  }
  return out;
}

SubscriberSet::Outcome SubscriberSet::publish_to_all(const FramePtr& frame) {
  Outcome out;
  for (const Entry& e : entries_) post(e, frame, out);
  return out;
}

}  // namespace services
