#pragma once
// The marketd command line (and its optional --config file, TOML/INI with the
// flags' names): every option with its default in `marketd --help`, checked
// here, so main() only starts what the options describe.
// Thread-safety: plain functions and values.

#include <iosfwd>
#include <string>
#include <variant>
#include <vector>

#include "api/server.hpp"
#include "services/application.hpp"

namespace api {

/// Everything the command line sets.
struct Options {
  services::ApplicationConfig app;  ///< symbols, timing, rate limit, feeds
  ServerConfig server;              ///< listen address, limits, WebSocket options
  unsigned workers = 0;             ///< runtime scheduler threads (never 0 once parsed)
  unsigned io_threads = 1;
  std::string replay_path;  ///< NDJSON to ingest at start; "-" = stdin; empty = none
  /// Another marketd's data directory whose recorded feed to re-emit; empty = none.
  std::string replay_journal;
  std::vector<std::string> replay_symbols;  ///< of replay_journal; empty = all
  bool paced = false;                       ///< either replay at the recorded pace
  std::string log_level = "info";
  std::string log_format = "text";  ///< text (key=value) or json
};

/// `--retain`'s value: "7d", "10GiB" or "7d,10GiB"; nullopt (and why in `error`) if invalid.
std::optional<storage::RetentionPolicy> parse_retention(std::string_view text, std::string& error);

/// The scheduler threads when --workers is not given: the io threads get
/// cores of their own (ADR 011), and the runtime the rest, at least one.
unsigned default_workers(unsigned hardware_threads, unsigned io_threads);

/// Parses `argv`. On --help, or an error (printed to `err` with what was
/// expected), returns the exit status instead: 0 for --help, 2 otherwise.
std::variant<Options, int> parse_options(int argc, const char* const* argv, std::ostream& out,
                                         std::ostream& err);

}  // namespace api
