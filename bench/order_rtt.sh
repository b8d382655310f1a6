#!/usr/bin/env bash
# Order placement round trip over REST under each --fsync policy (issue 16):
# wrk POSTs limit orders (bench/rest/orders.lua: alternately buy and sell, so
# half of them trade) to a marketd journaling to a fresh data directory on
# $TMPDIR's disk, interleaved policy by policy, round by round.
#   bench/order_rtt.sh [path/to/marketd] [rounds]
# One line per run: "<fsync> c<connections> WRK requests=… p50_us=… p99_us=…"
# (orders/s = requests / duration). Environment: PORT (18092), DURATION (8s),
# POLICIES ("always batch never none"; none = no journal).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/api/marketd}
rounds=${2:-3}
PORT=${PORT:-18092}
DURATION=${DURATION:-8s}
POLICIES=${POLICIES:-always batch never none}
command -v wrk >/dev/null || { echo "order_rtt: wrk missing (apt-get install wrk)" >&2; exit 1; }
export REPORT_LUA=$PWD/../shared/peers/nginx/report.lua

pid="" data=""
stop() {
  if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pid=""
  if [[ -n $data ]]; then rm -rf "$data"; fi
  data=""
}
trap stop EXIT

run() {  # run POLICY
  data=$(mktemp -d)
  local journal=(--data-dir "$data" --fsync "$1")
  [[ $1 == none ]] && journal=(--data-dir '')
  "$bin" --listen "127.0.0.1:$PORT" --no-simulator --symbols BENCH-USD:0.01:0.0001 \
    --rate-limit 0 --log-level warn "${journal[@]}" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.05; done
  for c in 1 16; do
    line=$(wrk -t1 -c"$c" -d"$DURATION" --latency -s bench/rest/orders.lua \
      "http://127.0.0.1:$PORT/api/v1/symbols/BENCH-USD/orders" | grep '^WRK ')
    echo "$1 c$c $line"
  done
  stop
}

for _ in $(seq 1 "$rounds"); do
  for p in $POLICIES; do run "$p"; done
done
