#include "services/symbol_directory.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "feeds/symbol.hpp"
#include "runtime/dynamic_supervisor.hpp"

namespace services {

namespace {

template <class Impl>
std::optional<std::pair<rt::Ref<Impl>, SymbolInfoPtr>> find_in(const SymbolRegistry& reg,
                                                               std::string_view symbol) {
  std::optional<std::pair<rt::Ref<Impl>, SymbolInfoPtr>> out;
  reg.dispatch(symbol, [&](const SymbolRegistry::Entry& e) {
    if (auto ref = rt::Ref<Impl>::from(e.pid)) out.emplace(std::move(*ref), e.value);
  });
  return out;
}

}  // namespace

std::optional<BookHandle> find_book(const ServiceContext& ctx, std::string_view symbol) {
  auto f = find_in<OrderBookServer>(ctx.books, symbol);
  if (!f) return std::nullopt;
  return BookHandle{std::move(f->first), std::move(f->second)};
}

std::optional<FeedHandle> find_feed(const ServiceContext& ctx, std::string_view symbol) {
  auto f = find_in<PriceFeedHandler>(ctx.feeds, symbol);
  if (!f) return std::nullopt;
  return FeedHandle{std::move(f->first), std::move(f->second)};
}

bool book_behind(const ServiceContext& ctx, BookHandle& book, std::int64_t max_backlog) {
  if (!book.server.alive()) {
    if (auto fresh = find_book(ctx, book.info->symbol)) book = std::move(*fresh);
  }
  rt::Process* p = book.server.pid().get();
  return p == nullptr || p->mailbox_depth() >= max_backlog;
}

std::string feed_child_id(std::string_view symbol) {
  return fmt::format("feed {}", symbol);
}
std::string book_child_id(std::string_view symbol) {
  return fmt::format("book {}", symbol);
}

namespace {
/// How long a Remove waits for the feed handler to tell its subscribers.
constexpr std::chrono::seconds kRemoveNoticeTimeout{5};
/// Retry pace while a partition's successor is not there yet / refuses.
constexpr std::chrono::milliseconds kPartitionRetry{20};
constexpr std::chrono::milliseconds kStartRetry{200};

bool servers_running(const ServiceContext& ctx, std::string_view symbol) {
  return find_book(ctx, symbol).has_value() && find_feed(ctx, symbol).has_value();
}
}  // namespace

SymbolDirectory::SymbolDirectory(ContextPtr ctx, rt::PartitionSupervisor partitions,
                                 std::shared_ptr<DirectoryHealth> health)
    : ctx_(std::move(ctx)), partitions_(std::move(partitions)), health_(std::move(health)) {}

SymbolDirectory::Action SymbolDirectory::init() {
  // After a restart of the directory alone, the symbols it created still run:
  // learn them back from the books registry.
  for (auto& [symbol, entry] : ctx_->books.select([](const auto&, const auto&) { return true; })) {
    symbols_.emplace(symbol, entry.value);
  }
  watched_.resize(partitions_.partitions());
  for (std::size_t i = 0; i < watched_.size(); ++i) {
    if (!watch(i)) restore_later(i, kPartitionRetry);
  }
  update_health();
  return ok();
}

bool SymbolDirectory::watch(std::size_t i) {
  auto pid = partitions_.whereis(i);
  if (!pid) return false;
  if (watched_[i]) demonitor(watched_[i]);
  watched_[i] = monitor(*pid);
  return true;
}

void SymbolDirectory::restore_later(std::size_t partition, std::chrono::milliseconds after) {
  restoring_.insert(partition);
  rt::send_after(ref(), RestorePartition{partition}, after);
}

void SymbolDirectory::update_health() {
  std::size_t down = 0;
  if (!restoring_.empty()) {
    for (const auto& [symbol, info] : symbols_) {
      if (restoring_.contains(partitions_.partition_for(std::string_view(symbol)))) ++down;
    }
  }
  health_->set_unavailable(down);
}

SymbolDirectory::Action SymbolDirectory::handle_info(const rt::Down& d) {
  for (std::size_t i = 0; i < watched_.size(); ++i) {
    if (watched_[i] != d.ref) continue;
    watched_[i] = {};
    // Every server of the partition went with it; its successor starts empty.
    spdlog::warn("event=partition_down partition={} reason={}", i, d.reason.to_string());
    restore_later(i, std::chrono::milliseconds(0));
    update_health();
    break;
  }
  return noreply();
}

SymbolDirectory::Action SymbolDirectory::handle_info(const RestorePartition& r) {
  if (!restoring_.contains(r.partition)) return noreply();  // a duplicate retry
  if (!watch(r.partition)) {
    rt::send_after(ref(), r, kPartitionRetry);  // its supervisor is restarting it
    return noreply();
  }
  std::size_t started = 0;
  std::string failure;
  for (const auto& [symbol, info] : symbols_) {
    if (partitions_.partition_for(std::string_view(symbol)) != r.partition) continue;
    if (servers_running(*ctx_, symbol)) continue;
    if (auto s = start_servers(info); !s) {
      failure = s.error();
      continue;
    }
    ++started;
  }
  if (!failure.empty()) {
    spdlog::warn("event=partition_restore_failed partition={} error=\"{}\"", r.partition, failure);
    rt::send_after(ref(), r, kStartRetry);
    return noreply();
  }
  restoring_.erase(r.partition);
  update_health();
  spdlog::warn("event=partition_restored partition={} symbols={}", r.partition, started);
  return noreply();
}

rt::Result<rt::Ok, std::string> SymbolDirectory::start_servers(const SymbolInfoPtr& info) {
  auto sup = partitions_.whereis_ref<rt::DynamicSupervisor>(std::string_view(info->symbol));
  if (!sup) return rt::Err{std::string("symbol partition is restarting")};
  rt::ChildSpec feed = rt::child<PriceFeedHandler>(feed_child_id(info->symbol), info, ctx_);
  feed.options.register_as = ctx_->feeds.via(info->symbol, info);
  feed.shutdown = rt::Shutdown::after(std::chrono::milliseconds(1000));
  rt::ChildSpec book = rt::child<OrderBookServer>(book_child_id(info->symbol), info, ctx_);
  book.options.register_as = ctx_->books.via(info->symbol, info);
  book.shutdown = rt::Shutdown::after(std::chrono::milliseconds(1000));
  auto f = rt::start_child(*sup, std::move(feed));
  // already_started: a previous attempt got this far; the running server is right.
  if (!f && f.error().code != rt::SupervisorError::Code::already_started) {
    return rt::Err{f.error().to_string()};
  }
  auto b = rt::start_child(*sup, std::move(book));
  if (!b && b.error().code != rt::SupervisorError::Code::already_started) {
    return rt::Err{b.error().to_string()};
  }
  return rt::Ok{};
}

SymbolDirectory::CallAction<rt::Result<SymbolDirectory::Ensured, DirectoryError>>
SymbolDirectory::handle_call(const Ensure& e, From<rt::Result<Ensured, DirectoryError>>&) {
  using R = rt::Result<Ensured, DirectoryError>;
  if (!feeds::is_valid_symbol(e.symbol)) {
    return reply(R(rt::Err{DirectoryError{DirectoryError::Code::invalid_symbol, nullptr,
                                          "symbol must match ^[A-Z0-9][A-Z0-9._-]{0,31}$"}}));
  }
  if (auto it = symbols_.find(e.symbol); it != symbols_.end()) {
    if (it->second->spec != e.spec && !e.adopt_existing) {
      return reply(R(rt::Err{DirectoryError{DirectoryError::Code::conflict, it->second,
                                            "the symbol exists with another spec"}}));
    }
    // Listed but not running (its partition died): start it now rather than
    // answer with a symbol nobody can reach.
    if (!servers_running(*ctx_, e.symbol)) {
      if (auto started = start_servers(it->second); !started) {
        return reply(R(
            rt::Err{DirectoryError{DirectoryError::Code::unavailable, nullptr, started.error()}}));
      }
    }
    return reply(R(Ensured{it->second, false}));
  }
  if (symbols_.size() >= ctx_->limits.max_symbols) {
    return reply(R(rt::Err{DirectoryError{
        DirectoryError::Code::limit_exceeded, nullptr,
        fmt::format("at most {} symbols (--max-symbols)", ctx_->limits.max_symbols)}}));
  }
  auto info = std::make_shared<const SymbolInfo>(SymbolInfo{e.symbol, e.spec});
  if (auto started = start_servers(info); !started) {
    return reply(
        R(rt::Err{DirectoryError{DirectoryError::Code::unavailable, nullptr, started.error()}}));
  }
  symbols_.emplace(e.symbol, info);
  ctx_->events.notify({SystemEvent::Kind::symbol_created, e.symbol,
                       fmt::format("mode={} tick_size={} lot_size={}", ob::to_string(e.spec.mode),
                                   e.spec.tick_size(), e.spec.lot_size())});
  return reply(R(Ensured{std::move(info), true}));
}

rt::Result<rt::Ok, std::string> SymbolDirectory::stop_servers(std::string_view symbol) {
  auto sup = partitions_.whereis_ref<rt::DynamicSupervisor>(symbol);
  if (!sup) return rt::Ok{};  // a partition being restarted runs nothing
  const std::string ids[] = {feed_child_id(symbol), book_child_id(symbol)};
  for (const rt::ChildInfo& c : rt::which_children(*sup)) {
    if (!c.pid || (c.id != ids[0] && c.id != ids[1])) continue;
    auto stopped = rt::terminate_child(*sup, c.pid);
    if (!stopped && stopped.error().code != rt::SupervisorError::Code::not_found) {
      return rt::Err{stopped.error().to_string()};
    }
  }
  return rt::Ok{};
}

SymbolDirectory::CallAction<rt::Result<SymbolDirectory::Removed, DirectoryError>>
SymbolDirectory::handle_call(const Remove& r, From<rt::Result<Removed, DirectoryError>>&) {
  using R = rt::Result<Removed, DirectoryError>;
  auto it = symbols_.find(r.symbol);
  if (it == symbols_.end()) {
    return reply(R(
        rt::Err{DirectoryError{DirectoryError::Code::unknown_symbol, nullptr, "no such symbol"}}));
  }
  Removed out{it->second, std::nullopt};
  // Subscribers first: the feed handler tells each of them, then refuses new ones.
  if (auto feed = find_feed(*ctx_, r.symbol)) {
    if (auto last = rt::call(feed->server, PriceFeedHandler::Remove{}, kRemoveNoticeTimeout)) {
      out.last = std::move(*last);
    }
  }
  if (auto stopped = stop_servers(r.symbol); !stopped) {
    return reply(R(rt::Err{DirectoryError{DirectoryError::Code::unavailable, nullptr,
                                          "stopping its servers: " + stopped.error()}}));
  }
  // Its journal goes too, or a restart would bring the symbol back. Should
  // that fail, the symbol stays listed (its servers start again on demand).
  if (ctx_->journals) {
    if (storage::Status s = ctx_->journals->remove(r.symbol); !s) {
      return reply(R(rt::Err{DirectoryError{DirectoryError::Code::unavailable, nullptr,
                                            "deleting its journal: " + s.error().to_string()}}));
    }
  }
  symbols_.erase(it);
  update_health();
  // Only now: no server holds the series any more, and no new one can be
  // created for this name before this call returns.
  ctx_->metrics->remove_symbol(r.symbol);
  ctx_->events.notify({SystemEvent::Kind::symbol_removed, r.symbol, {}});
  return reply(R(std::move(out)));
}

SymbolDirectory::CallAction<std::vector<SymbolInfoPtr>> SymbolDirectory::handle_call(
    const List&, From<std::vector<SymbolInfoPtr>>&) {
  std::vector<SymbolInfoPtr> out;
  out.reserve(symbols_.size());
  for (const auto& [name, info] : symbols_) out.push_back(info);
  return reply(std::move(out));
}

SymbolDirectory::CallAction<SymbolInfoPtr> SymbolDirectory::handle_call(const Get& g,
                                                                        From<SymbolInfoPtr>&) {
  auto it = symbols_.find(g.symbol);
  return reply(it == symbols_.end() ? SymbolInfoPtr{} : it->second);
}

}  // namespace services
