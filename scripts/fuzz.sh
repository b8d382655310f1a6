#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a while
# from its seed corpus in tests/fuzz/corpus/<name>. Idempotent; the build tree
# is build/fuzz and the grown corpora build/fuzz/corpus (never the repo's).
#   scripts/fuzz.sh                  every target, 60 s each (CI's short form)
#   scripts/fuzz.sh 3600 ndjson      one target for an hour (docs/fuzzing.md)
# Fails on the first crash, leak, timeout or sanitizer report; the input that
# caused it is left in build/fuzz/findings/<name>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(decimal ndjson orderbook book_image config keys_file ws_message rest_request
    journal_reader journal_record)
fi

# Line tables only: clang 14 fails on full debug info of Asio's coroutines
# ("cannot represent a difference across sections"); stacks still name lines.
CXX=clang++-14 CC=clang-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS=-gline-tables-only -DMARKETD_FUZZ=ON -DMARKETD_SANITIZE=address,undefined \
  -DMARKETD_BUILD_TESTS=OFF -DMARKETD_BUILD_BENCH=OFF >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target "${targets[@]/%/_fuzz}"

run_one() {  # run_one <name> <seconds>: prints "<name> <executions>"
  local name=$1 secs=$2
  local corpus=build/fuzz/corpus/$name findings=build/fuzz/findings/$name
  mkdir -p "$corpus" "$findings"
  local log=build/fuzz/$name.log
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "build/fuzz/tests/fuzz/${name}_fuzz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "tests/fuzz/corpus/$name" \
      >"$log" 2>&1; then
    echo "fuzz: $name FAILED (see $log and $findings/)" >&2
    tail -40 "$log" >&2
    return 1
  fi
  echo "$name $(awk '/stat::number_of_executed_units/ {print $2}' "$log")"
}
export -f run_one

# Two at a time: CI has two cores and nothing else to do meanwhile.
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c "run_one {} $seconds" | tee build/fuzz/summary.txt
awk '{n += $2} END {print "fuzz: " NR " targets, " n " executions, no finding"}' build/fuzz/summary.txt
