#!/usr/bin/env bash
# WS fan-out (BENCH/API issue 6): marketd measured by the node-ws peer's own
# client (load.js), with the same clients, symbols and windows as the peer's
# run.sh, so the two WS1 lines compare directly.
#   bench/fanout.sh RATE [RATE...]        one WS1 line per rate (ticks/s in total)
# Environment: PORT (18096), CLIENTS (1000), PER_CLIENT (10), WARMUP (2),
# DURATION (6), MARKETD (build/release/api/marketd), MARKETD_ARGS (extra
# options, e.g. "--workers 1").
# The peer, same machine, same session: cd ../shared/peers/node-ws && RATE=R ./run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18096}
CLIENTS=${CLIENTS:-1000}
PER_CLIENT=${PER_CLIENT:-10}
WARMUP=${WARMUP:-2}
DURATION=${DURATION:-6}
MARKETD=${MARKETD:-build/release/api/marketd}
MARKETD_ARGS=${MARKETD_ARGS:-}
PEER=../shared/peers/node-ws
[[ -x $MARKETD ]] || { cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build/release --target marketd; }
(cd "$PEER" && node -e "require('ws')" 2>/dev/null) || (cd "$PEER" && npm ci --no-audit --no-fund >&2)

symbols=()
for i in $(seq 0 99); do symbols+=(--symbols "$(printf 'SYM%03d-USD:0.01:0.0001' "$i")"); done

pid=""
data=$(mktemp -d)  # each run journals to a fresh directory, never the checkout's ./var
stop() { if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; pid=""; }
trap 'stop; rm -rf "$data"' EXIT

for rate in "$@"; do
  # shellcheck disable=SC2086
  "$MARKETD" --listen "127.0.0.1:$PORT" --no-simulator --rate-limit 0 --log-level warn \
    --tick-feed "$rate" "${symbols[@]}" --data-dir "$data/$rate" $MARKETD_ARGS &
  pid=$!
  for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.05; done
  offered=$((rate * CLIENTS * PER_CLIENT / 100))
  (cd "$PEER" && node load.js --url "ws://127.0.0.1:$PORT/ws" --clients "$CLIENTS" \
    --per-client "$PER_CLIENT" --warmup "$WARMUP" --duration "$DURATION" --server-pid "$pid" --quiet \
    --extra "rate=$rate offered_per_s=$offered") || true
  stop
done
