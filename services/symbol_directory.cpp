#include "services/symbol_directory.hpp"

#include <fmt/format.h>

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

SymbolDirectory::SymbolDirectory(ContextPtr ctx, rt::PartitionSupervisor partitions)
    : ctx_(std::move(ctx)), partitions_(std::move(partitions)) {}

SymbolDirectory::Action SymbolDirectory::init() {
  // After a restart of the directory alone, the symbols it created still run:
  // learn them back from the books registry.
  for (auto& [symbol, entry] : ctx_->books.select([](const auto&, const auto&) { return true; })) {
    symbols_.emplace(symbol, entry.value);
  }
  return ok();
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
    if (it->second->spec == e.spec || e.adopt_existing) return reply(R(Ensured{it->second, false}));
    return reply(R(rt::Err{DirectoryError{DirectoryError::Code::conflict, it->second,
                                          "the symbol exists with another spec"}}));
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
