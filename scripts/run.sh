#!/usr/bin/env bash
# Sets up, builds (optimized) and runs marketd on its embedded default. Idempotent;
# arguments are passed to marketd (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMARKETD_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j "$(nproc)" --target marketd
exec build/release/api/marketd "$@"
