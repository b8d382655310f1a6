#!/usr/bin/env bash
# Sets up, builds and runs every test: the whole suite under AddressSanitizer +
# UndefinedBehaviorSanitizer, then the concurrent suites (labels runtime,
# feeds, storage, services, api) under ThreadSanitizer. Idempotent; build trees live in build/asan, build/tsan.
#   scripts/test.sh            both passes
#   scripts/test.sh --asan     ASan+UBSan pass only
#   scripts/test.sh --tsan     TSan pass only
# The ASan pass ends with the black-box smoke test (scripts/smoke.sh) of the
# real marketd binary, built with the sanitizers, the browser test of its
# built-in page (scripts/browser_test.sh: headless Chromium, screenshot in
# build/browser/page.png), the abuse test (scripts/abuse.sh), the
# crash-consistency test (scripts/crash_test.sh) and the fuzzers' short form
# (scripts/fuzz.sh, clang + libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

jobs=$(nproc)
mode=${1:-all}

build() {  # build <dir> <sanitizers> [targets...]
  local dir=$1 san=$2
  shift 2
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMARKETD_SANITIZE="$san" \
    -DCMAKE_CXX_FLAGS="-O1" -DMARKETD_BUILD_BENCH=OFF >/dev/null
  cmake --build "$dir" -j "$jobs" ${@:+--target "$@"}
}

if [[ $mode == all || $mode == --asan ]]; then
  build build/asan address,undefined
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan --output-on-failure -j "$jobs" --timeout 300
  ASAN_OPTIONS=detect_leaks=1 bash scripts/smoke.sh build/asan/api/marketd
  # The built-in page in headless Chromium (README "The page").
  ASAN_OPTIONS=detect_leaks=0 bash scripts/browser_test.sh build/asan/api/marketd
  # Issue 15's attacks against the real binary (a small quarantine: RSS is measured).
  ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=8 bash scripts/abuse.sh build/asan/api/marketd 3
  # Issue 16's crash consistency, short form (docs/durability.md has the long one).
  ASAN_OPTIONS=detect_leaks=0 bash scripts/crash_test.sh build/asan/api/marketd 20 always
  ASAN_OPTIONS=detect_leaks=0 bash scripts/crash_test.sh build/asan/api/marketd 20 batch
  # The short form of the fuzzers (docs/fuzzing.md): 60 s per target.
  bash scripts/fuzz.sh 60
fi
if [[ $mode == all || $mode == --tsan ]]; then
  build build/tsan thread marketd_runtime_tests marketd_feeds_tests marketd_storage_tests \
    marketd_services_tests marketd_api_tests
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    ctest --test-dir build/tsan --output-on-failure -L 'runtime|feeds|storage|services|api' \
    -j "$jobs" --timeout 300
fi
