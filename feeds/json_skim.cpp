#include "feeds/json_skim.hpp"

#include <string_view>

namespace feeds {

namespace od = simdjson::ondemand;

bool is_big_integer(od::value& v, simdjson::error_code e) {
  if (e != simdjson::NUMBER_ERROR && e != simdjson::NUMBER_OUT_OF_RANGE) return false;
  std::string_view tok = v.raw_json_token();
  while (!tok.empty() &&
         (tok.back() == ' ' || tok.back() == '\t' || tok.back() == '\r' || tok.back() == '\n')) {
    tok.remove_suffix(1);
  }
  if (!tok.empty() && tok.front() == '-') tok.remove_prefix(1);
  if (tok.size() < 20 || tok.front() == '0') return false;
  for (char c : tok) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

simdjson::error_code skim_json_value(od::value v, int depth) {
  if (depth > kMaxSkimDepth) return simdjson::DEPTH_ERROR;
  od::json_type type;
  SIMDJSON_TRY(v.type().get(type));
  switch (type) {
    case od::json_type::object: {
      od::object o;
      SIMDJSON_TRY(v.get_object().get(o));
      for (auto field : o) {
        od::field f;
        SIMDJSON_TRY(std::move(field).get(f));
        std::string_view key;
        SIMDJSON_TRY(f.unescaped_key().get(key));
        SIMDJSON_TRY(skim_json_value(f.value(), depth + 1));
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array a;
      SIMDJSON_TRY(v.get_array().get(a));
      for (auto element : a) {
        od::value e;
        SIMDJSON_TRY(std::move(element).get(e));
        SIMDJSON_TRY(skim_json_value(e, depth + 1));
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view ignored;  // unescaping checks the escapes
      return v.get_string().get(ignored);
    }
    case od::json_type::number: {
      od::number n;
      const simdjson::error_code e = v.get_number().get(n);
      return e == simdjson::SUCCESS || is_big_integer(v, e) ? simdjson::SUCCESS : e;
    }
    case od::json_type::boolean: {
      bool b = false;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      SIMDJSON_TRY(v.is_null().get(is_null));
      return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

}  // namespace feeds
