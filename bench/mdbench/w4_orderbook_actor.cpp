// W4 orderbook_actor: the 1,000,000-operation W4 stream (generated before
// timing) cast through the Registry to one OrderBook server, then one
// top-of-book call, which is queued behind every cast and so marks the end.
// The figures and validation are W4b's (w4_book_figures.hpp).

#include <optional>

#include "bench/common/w4_generator.hpp"
#include "bench/mdbench/bench_support.hpp"
#include "bench/mdbench/w4_book_figures.hpp"
#include "bench/mdbench/workloads.hpp"
#include "runtime/registry.hpp"

namespace mdbench {
namespace {

using Names = rt::Registry<std::string>;

/// The peer's OrderBook GenServer: casts apply operations, calls query.
class BookServer : public rt::GenServer<BookServer> {
 public:
  struct TopOfBook {
    using Reply = std::optional<ob::LevelView>;
  };
  struct Finish {
    W4Figures* figures;
    std::optional<ob::OrderBook>* book;
    using Reply = rt::Ok;
  };

  Action handle_cast(const w4::Op& op) {
    figures_.apply(book_, op);
    return noreply();
  }
  CallAction<std::optional<ob::LevelView>> handle_call(const TopOfBook&,
                                                       From<std::optional<ob::LevelView>>&) {
    return reply(book_.best(ob::Side::buy));
  }
  // Untimed: hands the final state to the coordinator for validation.
  CallAction<rt::Ok> handle_call(const Finish& f, From<rt::Ok>&) {
    *f.figures = figures_;
    f.book->emplace(std::move(book_));
    return reply(rt::Ok{});
  }

 private:
  ob::OrderBook book_{ob::Mode::venue, std::size_t{1} << 19};
  W4Figures figures_;
};

}  // namespace

ResultLine run_w4_orderbook_actor() {
  constexpr std::size_t kOps = 1'000'000;
  const std::vector<w4::Op> ops = w4::generate(kOps);
  rt::Runtime runtime;
  Names names;
  auto server =
      rt::start<BookServer>(runtime, {.name = "BOOK0", .register_as = names.via("BOOK0")});
  if (!server) return ResultLine("W4", "orderbook_actor").set_valid(false);
  auto addr = rt::via<BookServer>(names, std::string_view("BOOK0"));

  const auto t0 = Clock::now();
  for (const w4::Op& op : ops) rt::cast(addr, op);
  const auto top = rt::call(addr, BookServer::TopOfBook{}, std::chrono::seconds(60));
  const double ms = elapsed_ms(t0, Clock::now());

  W4Figures figures;
  std::optional<ob::OrderBook> book;
  if (!top || !rt::call(*server, BookServer::Finish{&figures, &book}).ok() || !book) {
    return ResultLine("W4", "orderbook_actor").set_valid(false);
  }
  return w4_line("W4", "orderbook_actor", static_cast<std::int64_t>(kOps), ms, figures, *book);
}

}  // namespace mdbench
