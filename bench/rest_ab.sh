#!/usr/bin/env bash
# REST A/B: two marketd binaries measured with the nginx peer's exact wrk
# command (peers/nginx/README.md), interleaved round by round, so a change
# is judged against the binary before it in the same session.
#   bench/rest_ab.sh A_BINARY B_BINARY [ROUNDS]
# One line per run: "<label> <route> WRK requests_per_s=… p50_us=… p99_us=…".
# Environment: PORT (18091), DURATION (8s). marketd runs with its defaults,
# the simulator on (BTC-USD's book is live) and --rate-limit 0 (every
# connection comes from 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2 rounds=${3:-3}
PORT=${PORT:-18091}
DURATION=${DURATION:-8s}
peer=../shared/peers/nginx
command -v wrk >/dev/null || { echo "rest_ab: wrk missing (apt-get install wrk)" >&2; exit 1; }

pid=""
stop() { if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; pid=""; }
trap stop EXIT

run() {  # run LABEL BINARY
  "$2" --listen "127.0.0.1:$PORT" --rate-limit 0 --log-level warn >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.05; done
  for route in top depth; do
    line=$(cd "$peer" && wrk -t1 -c64 -d"$DURATION" --latency -s report.lua \
      "http://127.0.0.1:$PORT/api/v1/symbols/BTC-USD/$route" | grep '^WRK ')
    echo "$1 $route $line"
  done
  stop
}

for r in $(seq 1 "$rounds"); do
  run A "$a"
  run B "$b"
done
