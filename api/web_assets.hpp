#pragma once
// The built-in page (README "The page", ADR 027): the files of api/web/,
// embedded in the binary at build time by cmake/embed_files.cmake, which
// generates web_assets() from them (api/CMakeLists.txt lists the files).
// RestApi serves each at its path, GET and HEAD, with its Content-Type and
// ETag; the paths are also the assets' metrics `route` labels.
//
//   if (const api::WebAsset* a = api::find_web_asset("/app.js")) send(a->body);
//
// Thread-safety: immutable data, built at compile time.

#include <span>
#include <string_view>

namespace api {

/// One embedded file.
struct WebAsset {
  std::string_view path;          ///< where it is served: "/" for index.html, else "/" + name
  std::string_view content_type;  ///< its Content-Type, from its extension
  std::string_view etag;          ///< a strong ETag, quoted: part of the SHA-256 of its bytes
  std::string_view body;          ///< its bytes
};

/// The Content-Type of a file named `name`, from its extension.
constexpr std::string_view content_type_for(std::string_view name) {
  const auto ends_with = [name](std::string_view ext) { return name.ends_with(ext); };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "application/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  if (ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

/// Every embedded file (generated: cmake/embed_files.cmake).
std::span<const WebAsset> web_assets();

/// The file served at `path` (no query), or nullptr.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace api
