#pragma once
// Access control at the edge (API.md "Access, limits and safety";
// docs/decisions/016-access-control.md): API keys and their roles, the
// principal a request acts as, and the browser rules (Origin, Host).
//
//   auto access = api::AccessControl::load_keys_file("keys.txt");  // or parse_keys(text)
//   RequestContext who = access->identify(req, remote, /*websocket=*/false);
//   if (who.failure != AuthFailure::none) -> 401 (rate limited as who.principal)
//   if (!who.may(Role::trade)) -> 403
//
// - A keys file holds `KEY ROLE` per line (`#` starts a comment, blank lines
//   skipped); ROLE is read, trade or admin, each including the ones before.
// - With no keys configured every request has every role and is known by its
//   remote address; presented keys are then ignored.
// - Keys are compared in constant time over all configured keys, and never
//   appear in a principal, a metric label or a log line.
// Thread-safety: immutable after construction; share it freely.

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/result.hpp"

namespace api {

/// What a client may do: each role includes those before it.
enum class Role : unsigned char { read, trade, admin };

/// "read", "trade", "admin" into a Role.
std::optional<Role> parse_role(std::string_view text);

/// Why a request is not authenticated.
enum class AuthFailure : unsigned char {
  none,     ///< authenticated, or access control is off
  missing,  ///< no key presented
  unknown,  ///< a key that is not configured (or too long, or two different ones)
};

/// Who a request acts as, and whether the browser rules let it in: what the
/// server hands every route handler (RestApi::handle).
struct RequestContext {
  /// The one value naming the client: "key:<fingerprint>" for an authenticated
  /// key (a hash prefix, stable across restarts and edits of the keys file,
  /// never the key itself), else "ip:<remote address>" (access control off, or
  /// authentication failed). Keys the rate limit and owns orders; safe to log.
  std::string principal;
  Role role = Role::admin;  ///< meaningful only when failure == none
  AuthFailure failure = AuthFailure::none;

  /// Why the browser rules refuse the request (403 forbidden); empty: they do not.
  std::string browser_refusal;

  /// True when authenticated with `needed` or a stronger role.
  bool may(Role needed) const { return failure == AuthFailure::none && role >= needed; }
};

/// The browser rules' configuration (--allow-origin, --allow-host, the listen host).
struct BrowserRules {
  std::vector<std::string> allow_origins;  ///< exact scheme://host[:port]; "null" only if listed
  std::vector<std::string> allow_hosts;    ///< extra Host names (port ignored)
  std::string listen_host;                 ///< the address marketd listens on
};

class AccessControl {
 public:
  /// Longest key accepted; a longer one is unknown (401) without being compared.
  static constexpr std::size_t kMaxKeyBytes = 256;

  /// Access control off: every request has every role.
  AccessControl() = default;
  /// Keys from the text of a keys file; the error names the line.
  static rt::Result<AccessControl, std::string> parse_keys(std::string_view text);
  /// Keys from a keys file; the error names the file and the line.
  static rt::Result<AccessControl, std::string> load_keys_file(const std::string& path);

  /// True when keys are configured.
  bool enabled() const { return !keys_.empty(); }
  /// Configured keys.
  std::size_t key_count() const { return keys_.size(); }

  /// Who `req` (from `remote`) acts as. Keys come from `Authorization: Bearer`
  /// or `X-Api-Key`, and for a WebSocket upgrade also from `?key=` on the target.
  RequestContext identify(const boost::beast::http::request<boost::beast::http::string_body>& req,
                          const boost::asio::ip::address& remote, bool websocket) const;

  /// The principal of an authenticated key: "key:" + the first 12 hex digits of its SHA-1.
  static std::string fingerprint(std::string_view key);

 private:
  struct Key {
    std::string text;
    Role role;
    std::string principal;
  };
  std::vector<Key> keys_;
};

/// Why a request breaks the browser rules (empty: it does not). `keys_enabled`
/// turns the Host rule off; the Origin rule holds for every method but GET and
/// HEAD, and for WebSocket upgrades (`websocket`).
std::string browser_refusal(const boost::beast::http::request<boost::beast::http::string_body>& req,
                            const BrowserRules& rules, bool keys_enabled, bool websocket);

/// True for a loopback listen address (127.0.0.0/8, ::1, "localhost").
bool is_loopback_host(std::string_view host);

/// `target` with the value of every `key=` query parameter replaced by "***", for logs.
std::string redact_target(std::string_view target);

/// The percent-decoded value of query parameter `name` in `target`
/// ("/ws?key=K&x=1"), if present ('+' stays '+'). In a target that is not a
/// valid origin-form (RFC 9112) the value is returned as it stands.
std::optional<std::string> query_value(std::string_view target, std::string_view name);

}  // namespace api
