#pragma once
// Log lines: `text` is `<UTC time> level=<level> <key=value message>`;
// `json` is one object per line, {"ts","level","msg"}, the message escaped.
// Thread-safety: configure before the threads that log start.

#include <spdlog/formatter.h>

#include <memory>
#include <string_view>

namespace api {

/// The formatter of `format` ("text" or "json").
std::unique_ptr<spdlog::formatter> make_log_formatter(std::string_view format);

/// Sets spdlog's default logger's level ("trace".."error") and format.
void configure_logging(std::string_view level, std::string_view format);

}  // namespace api
