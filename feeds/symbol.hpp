#pragma once
// Symbol syntax (API.md "Symbols"): ^[A-Z0-9][A-Z0-9._-]{0,31}$.
// Thread-safety: pure functions.

#include <string_view>

namespace feeds {

/// Longest accepted symbol, in bytes.
inline constexpr std::size_t kMaxSymbolLength = 32;

/// True when `s` matches ^[A-Z0-9][A-Z0-9._-]{0,31}$ (ASCII only, no regex engine).
constexpr bool is_valid_symbol(std::string_view s) {
  if (s.empty() || s.size() > kMaxSymbolLength) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

}  // namespace feeds
