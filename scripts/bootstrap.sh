#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of marketd from Debian
# packages. Idempotent: installs only what is missing, and runs apt-get update
# at most once per invocation, only when something must be installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang-14 libclang-rt-14-dev clang-format
  libboost1.81-dev libboost-url1.81-dev  # Boost.URL: query parameters, percent-decoded
  libsimdjson-dev
  prometheus-cpp-dev
  libspdlog-dev libfmt-dev
  libcli11-dev
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev
  libgoogle-perftools-dev
  zlib1g-dev
  libzstd-dev  # zstd for closed journal segments (storage/)
  libhowardhinnant-date-dev  # RFC 3339 parsing of ?at= (date::parse)
  curl
  prometheus  # promtool, for the black-box smoke test of /metrics
  python3 python3-websockets  # the smoke test's strict WebSocket client
  chromium fonts-dejavu-core  # the browser test of the built-in page (scripts/browser_test.sh)
)
# Node.js and npm drive that browser test (tests/browser/, playwright-core).
# Debian's only when there are none: a machine may have them from elsewhere
# (NodeSource's nodejs carries its own npm, which Debian's npm would conflict with).
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "bootstrap: all dependencies present" >&2
fi
