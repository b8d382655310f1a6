#include "api/access.hpp"

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>
#include <boost/uuid/detail/sha1.hpp>

#include <fstream>
#include <sstream>

namespace api {

namespace http = boost::beast::http;
using boost::beast::iequals;

namespace {

/// Equal in time that depends on neither content nor where they differ (only
/// on `b`'s length, which is bounded by kMaxKeyBytes).
bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned diff = a.size() ^ b.size();
  for (std::size_t i = 0; i < AccessControl::kMaxKeyBytes; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= x ^ y;
  }
  return diff == 0;
}

bool is_key_char(char c) {
  return c > ' ' && c < 0x7f;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// The host part of a Host header value ("[::1]:8080" → "[::1]", "a:80" → "a").
std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  return host.substr(0, host.find(':'));
}

}  // namespace

std::optional<Role> parse_role(std::string_view text) {
  if (text == "read") return Role::read;
  if (text == "trade") return Role::trade;
  if (text == "admin") return Role::admin;
  return std::nullopt;
}

std::string AccessControl::fingerprint(std::string_view key) {
  boost::uuids::detail::sha1 sha;
  sha.process_bytes(key.data(), key.size());
  boost::uuids::detail::sha1::digest_type digest;
  sha.get_digest(digest);
  return fmt::format("key:{:08x}{:04x}", digest[0], digest[1] >> 16);
}

rt::Result<AccessControl, std::string> AccessControl::parse_keys(std::string_view text) {
  AccessControl out;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++number;
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const auto space = line.find_first_of(" \t");
    const std::string_view key = line.substr(0, space);
    const std::string_view role_text =
        space == std::string_view::npos ? std::string_view{} : trim(line.substr(space));
    auto fail = [&](std::string_view why) {
      return rt::Err{
          fmt::format("line {}: {} (expected KEY ROLE, ROLE read, trade or admin)", number, why)};
    };
    if (key.size() > kMaxKeyBytes)
      return fail(fmt::format("key longer than {} bytes", kMaxKeyBytes));
    for (char c : key) {
      if (!is_key_char(c)) return fail("a key is printable ASCII without spaces");
    }
    auto role = parse_role(role_text);
    if (!role) return fail(role_text.empty() ? "no role" : "unknown role");
    for (const Key& k : out.keys_) {
      if (k.text == key) return fail("the key is listed twice");
    }
    out.keys_.push_back(Key{std::string(key), *role, fingerprint(key)});
  }
  if (out.keys_.empty()) return rt::Err{std::string("no keys in the file")};
  return out;
}

rt::Result<AccessControl, std::string> AccessControl::load_keys_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return rt::Err{"cannot read keys file '" + path + "'"};
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parse_keys(text.str());
  if (!parsed) return rt::Err{"keys file '" + path + "': " + parsed.error()};
  return parsed;
}

RequestContext AccessControl::identify(const http::request<http::string_body>& req,
                                       const boost::asio::ip::address& remote,
                                       bool websocket) const {
  RequestContext who;
  who.principal = "ip:" + remote.to_string();
  if (!enabled()) return who;  // every role, known by address

  // Every key presented, wherever; two different ones are refused.
  std::optional<std::string_view> presented;
  std::optional<std::string> query_key;  // what `presented` may view
  bool conflicting = false;
  auto present = [&](std::string_view k) {
    if (presented && *presented != k) conflicting = true;
    presented = k;
  };
  if (auto it = req.find(http::field::authorization); it != req.end()) {
    const std::string_view v(it->value().data(), it->value().size());
    constexpr std::string_view kBearer = "bearer ";
    if (v.size() > kBearer.size() && iequals(v.substr(0, kBearer.size()), kBearer)) {
      present(trim(v.substr(kBearer.size())));
    } else {
      conflicting = true;  // another scheme: not a key we can check
    }
  }
  if (auto it = req.find("X-Api-Key"); it != req.end()) {
    present(trim(std::string_view(it->value().data(), it->value().size())));
  }
  if (websocket) {
    const std::string_view target(req.target().data(), req.target().size());
    query_key = query_value(target, "key");
    if (query_key) present(*query_key);
  }
  if (!presented && !conflicting) {
    who.failure = AuthFailure::missing;
    return who;
  }
  const Key* match = nullptr;
  if (!conflicting && presented->size() <= kMaxKeyBytes) {
    for (const Key& k : keys_) {  // all of them, so the time does not say which matched
      if (equal_constant_time(*presented, k.text)) match = &k;
    }
  }
  if (match == nullptr) {
    who.failure = AuthFailure::unknown;
    return who;
  }
  who.principal = match->principal;
  who.role = match->role;
  return who;
}

std::string browser_refusal(const http::request<http::string_body>& req, const BrowserRules& rules,
                            bool keys_enabled, bool websocket) {
  const auto host_it = req.find(http::field::host);
  const std::string_view host_header =
      host_it == req.end() ? std::string_view{}
                           : std::string_view(host_it->value().data(), host_it->value().size());
  if (!keys_enabled) {  // DNS rebinding: only names that mean this machine
    const std::string_view host = host_without_port(host_header);
    bool ok = !host.empty() &&
              (iequals(host, "localhost") || host == "127.0.0.1" || host == "[::1]" ||
               iequals(host, rules.listen_host) || "[" + rules.listen_host + "]" == host);
    for (const std::string& h : rules.allow_hosts) ok = ok || iequals(host, h);
    if (!ok) return "Host is not an allowed name of this server";
  }
  const http::verb method = req.method();
  if (!websocket && (method == http::verb::get || method == http::verb::head)) return {};
  const auto origin_it = req.find(http::field::origin);
  if (origin_it == req.end()) return {};
  const std::string_view origin(origin_it->value().data(), origin_it->value().size());
  if (!host_header.empty() && origin.size() == 7 + host_header.size() &&
      origin.substr(0, 7) == "http://" && iequals(origin.substr(7), host_header)) {
    return {};  // same origin
  }
  for (const std::string& o : rules.allow_origins) {
    if (origin == o) return {};
  }
  return "Origin is neither this server nor an allowed origin";
}

bool is_loopback_host(std::string_view host) {
  if (iequals(host, "localhost")) return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

namespace {

// The raw value of `name` in the query of a target Boost.URL refuses (no
// decoding: its escapes cannot be trusted), so that a malformed value is
// still seen, and refused by its parameter's own parser, not taken as absent.
std::optional<std::string> raw_query_value(std::string_view target, std::string_view name) {
  const auto qmark = target.find('?');
  if (qmark == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(qmark + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    const auto eq = kv.find('=');
    if (kv.substr(0, eq) == name) {
      return std::string(eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> query_value(std::string_view target, std::string_view name) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return raw_query_value(target, name);
  // Decoded without turning '+' into a space: keys and RFC 3339 offsets keep theirs.
  for (const boost::urls::param_pct_view p : url->encoded_params()) {
    if (p.key.decode() == name) return p.has_value ? p.value.decode() : std::string();
  }
  return std::nullopt;
}

std::string redact_target(std::string_view target) {
  const auto qmark = target.find('?');
  if (qmark == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, qmark + 1));
  std::string_view query = target.substr(qmark + 1);
  for (bool first = true; !query.empty() || first; first = false) {
    const auto amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    if (!first) out += '&';
    if (kv.substr(0, kv.find('=')) == "key") {
      out += "key=***";
    } else {
      out += kv;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace api
