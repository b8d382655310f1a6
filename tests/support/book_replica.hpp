#pragma once
// A client's copy of a `book` subscription, as API.md tells a client to keep
// one: it replays book_snapshot / book_update frames (strict JSON, simdjson
// DOM), checks seq continuity with `merged`, and verifies every `checksum`
// against ob::book_checksum over its own copy.

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "orderbook/checksum.hpp"
#include "orderbook/decimal.hpp"
#include "orderbook/events.hpp"

namespace testing_support {

class BookReplica {
 public:
  explicit BookReplica(ob::BookSpec spec) : spec_(spec) {}

  /// Applies one book frame; "" or what a client would find wrong with it.
  std::string apply(std::string_view json) {
    simdjson::dom::element root;
    if (parser_.parse(json.data(), json.size()).get(root)) return "not JSON: " + std::string(json);
    std::string_view type;
    std::uint64_t seq = 0, checksum = 0, merged = 1;
    if (root["type"].get(type) || root["seq"].get(seq) || root["checksum"].get(checksum)) {
      return "no type, seq or checksum: " + std::string(json);
    }
    if (type == "book_snapshot") {
      bids_.clear();
      asks_.clear();
      if (auto e = read_levels(root["bids"], bids_); !e.empty()) return e;
      if (auto e = read_levels(root["asks"], asks_); !e.empty()) return e;
      synced_ = true;
    } else if (type == "book_update") {
      if (!synced_) return "an update before any snapshot";
      if (root["merged"].get(merged) == simdjson::SUCCESS) {
        if (merged < 2) return "merged below 2: " + std::string(json);
        ++merged_updates_;
      }
      if (seq - merged != seq_) {
        return "seq " + std::to_string(seq) + " merged " + std::to_string(merged) +
               " does not follow " + std::to_string(seq_);
      }
      simdjson::dom::array changes;
      if (root["changes"].get(changes)) return "no changes";
      for (simdjson::dom::element c : changes) {
        std::string_view side, price, qty;
        if (c.at(0).get(side) || c.at(1).get(price) || c.at(2).get(qty)) return "bad change";
        auto p = ob::parse_price(price, spec_);
        // Zero (at lot scale) removes the level; parse_qty takes order sizes (> 0) only.
        const bool zero = qty.find_first_not_of("0.") == std::string_view::npos;
        auto q = ob::parse_qty(zero ? std::string_view("1") : qty, spec_);
        if (!p || !q) return "bad decimal in a change: " + std::string(json);
        const std::int64_t lots = zero ? 0 : q->lots();
        if (side == "buy") {
          set(bids_, p->ticks(), lots);
        } else {
          set(asks_, p->ticks(), lots);
        }
      }
      ++updates_;
    } else {
      return "not a book frame: " + std::string(json);
    }
    seq_ = seq;
    const std::uint32_t mine =
        ob::book_checksum(levels(ob::Side::buy), levels(ob::Side::sell), spec_);
    if (mine != checksum) {
      return "checksum " + std::to_string(checksum) + " != the copy's " + std::to_string(mine) +
             " at seq " + std::to_string(seq);
    }
    return {};
  }

  /// One side of the copy, best first.
  std::vector<ob::LevelView> levels(ob::Side side) const {
    std::vector<ob::LevelView> out;
    auto add = [&](const auto& m) {
      for (const auto& [p, q] : m) out.push_back(ob::LevelView{ob::Price(p), ob::Qty(q), 0});
    };
    if (side == ob::Side::buy) {
      add(bids_);
    } else {
      add(asks_);
    }
    return out;
  }
  std::uint64_t seq() const { return seq_; }
  std::uint64_t updates() const { return updates_; }
  std::uint64_t merged_updates() const { return merged_updates_; }

 private:
  template <class Map>
  static void set(Map& m, std::int64_t price, std::int64_t qty) {
    if (qty == 0) {
      m.erase(price);
    } else {
      m[price] = qty;
    }
  }
  template <class Map>
  std::string read_levels(simdjson::simdjson_result<simdjson::dom::element> v, Map& m) {
    simdjson::dom::array levels;
    if (v.get(levels)) return "levels missing";
    for (simdjson::dom::element l : levels) {
      std::string_view price, qty;
      if (l.at(0).get(price) || l.at(1).get(qty)) return "bad level";
      auto p = ob::parse_price(price, spec_);
      auto q = ob::parse_qty(qty, spec_);
      if (!p || !q || q->lots() <= 0) return "bad level decimal";
      m[p->ticks()] = q->lots();
    }
    return {};
  }

  ob::BookSpec spec_;
  simdjson::dom::parser parser_;
  std::map<std::int64_t, std::int64_t, std::greater<>> bids_;  // best (highest) first
  std::map<std::int64_t, std::int64_t> asks_;
  std::uint64_t seq_ = 0;
  bool synced_ = false;
  std::uint64_t updates_ = 0, merged_updates_ = 0;
};

}  // namespace testing_support
