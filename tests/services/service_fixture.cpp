#include "tests/services/service_fixture.hpp"

#include "services/symbol_directory.hpp"

namespace services::test {

void Collector::subscribe(const Watch& w) {
  if (auto feed = find_feed(*ctx_, w.symbol)) {
    monitor(feed->server.pid());
    auto r = rt::call(feed->server, PriceFeedHandler::Subscribe{Subscriber::of(ref()), w.channels});
    if (r) {
      for (const FramePtr& f : r->current) inbox_->push(f->json);
    }
  }
  if (auto book = find_book(*ctx_, w.symbol)) {
    monitor(book->server.pid());
    auto r = rt::call(book->server, OrderBookServer::Subscribe{Subscriber::of(ref()), w.channels,
                                                               BookStream{w.book_depth}});
    if (r) {
      for (const FramePtr& f : r->current) inbox_->push(f->json);
    }
  }
}

Collector::Action Collector::handle_cast(const Watch& w) {
  watching_.push_back(w);
  subscribe(w);
  return noreply();
}

Collector::Action Collector::handle_info(const rt::Down& d) {
  if (d.reason.is_normal()) return noreply();  // the tree is stopping, or the symbol was deleted
  // A server went down: wait for its successor in the registry, then resubscribe.
  for (const Watch& w : watching_) {
    testing_support::eventually([&] {
      return find_feed(*ctx_, w.symbol).has_value() && find_book(*ctx_, w.symbol).has_value();
    });
    subscribe(w);
  }
  if (resubscribes_) resubscribes_->push("resubscribed");
  return noreply();
}

std::uint64_t seq_of(const std::string& json) {
  auto at = json.find("\"seq\":");
  if (at == std::string::npos) return 0;
  return std::stoull(json.substr(at + 6));
}

std::string type_of(const std::string& json) {
  auto at = json.find("\"type\":\"");
  if (at == std::string::npos) return {};
  at += 8;
  return json.substr(at, json.find('"', at) - at);
}

}  // namespace services::test
