#include "api/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <string>

#include "feeds/ndjson.hpp"

namespace api {

namespace {

/// `%*` in a pattern: the log message as a JSON string (escaped).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string out;
    feeds::append_json_string(out, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_log_formatter(std::string_view format) {
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == "json") {
    f->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":%*})");
  } else {
    f->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l %v");
  }
  return f;
}

void configure_logging(std::string_view level, std::string_view format) {
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_formatter(make_log_formatter(format));
}

}  // namespace api
