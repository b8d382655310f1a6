#!/usr/bin/env bash
# Runs marketd's mdbench and the Elixir and CAF peers side by side, interleaved
# round by round so that machine drift hits all three alike, then prints the
# medians and ratios (bench/summarize.py). Raw lines go to $OUT.
#   bench/compare_peers.sh [ROUNDS] [WORKLOADS...]     default: 3 rounds, W1 W2 W3 W5
#   MDBENCH_BEFORE=path/to/mdbench bench/compare_peers.sh ...   also runs an earlier
#     mdbench (labelled marketd-before) in every round: a change's before/after.
#   PEERS_OFF=1 ...   only marketd (and marketd-before), no CAF or Elixir.
# Needs: a Release build (scripts/run.sh builds one), elixir (apt-get install
# elixir erlang-dev erlang-xmerl); the CAF peer installs libcaf-dev itself.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
shift || true
WORKLOADS=${*:-W1 W2 W3 W5}
PEERS=../shared/peers
OUT=${OUT:-build/compare_peers.txt}
MDBENCH=build/release/bench/mdbench
[[ -x $MDBENCH ]] || { cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMARKETD_BUILD_TESTS=OFF >/dev/null && cmake --build build/release --target mdbench; }
mkdir -p "$(dirname "$OUT")"
{
  echo "# date: $(date -u +%FT%TZ)  nproc: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT"
caf_w=() elixir_w=()
for w in $WORKLOADS; do
  case $w in W1|W2|W3|W5) caf_w+=("$w") ;; esac
  case $w in W1|W2|W3|W4|W5|W6|W7) elixir_w+=("$w") ;; esac
done
for ((r = 1; r <= ROUNDS; r++)); do
  $MDBENCH $WORKLOADS | sed "s/^/marketd $r /" | tee -a "$OUT"
  if [[ -n ${MDBENCH_BEFORE:-} ]]; then
    "$MDBENCH_BEFORE" $WORKLOADS | sed "s/^/marketd-before $r /" | tee -a "$OUT"
  fi
  [[ -n ${PEERS_OFF:-} ]] && continue
  if ((${#caf_w[@]})); then
    "$PEERS/caf/run.sh" "${caf_w[@]}" 2>/dev/null | sed "s/^/caf $r /" | tee -a "$OUT"
  fi
  if ((${#elixir_w[@]})); then
    "$PEERS/elixir/run.sh" "${elixir_w[@]}" 2>/dev/null | sed "s/^/elixir $r /" | tee -a "$OUT"
  fi
done
python3 bench/summarize.py "$OUT"
