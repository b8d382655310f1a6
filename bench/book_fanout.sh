#!/usr/bin/env bash
# Book fan-out at a max rate (issue 17): marketd's simulator changes SYMBOLS
# books at RATE events/s in total; CLIENTS WebSocket clients each follow
# `book` on PER_CLIENT of them at MAX_HZ (bench/book_fanout.js). One BOOKHZ
# line per run.
#   bench/book_fanout.sh               defaults below
# Environment: PORT (18097), SYMBOLS (100), RATE (100000), CLIENTS (1000),
# PER_CLIENT (10), MAX_HZ (10), WARMUP (2), DURATION (10),
# MARKETD (build/release/api/marketd).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18097}
SYMBOLS=${SYMBOLS:-100}
RATE=${RATE:-100000}
CLIENTS=${CLIENTS:-1000}
PER_CLIENT=${PER_CLIENT:-10}
MAX_HZ=${MAX_HZ:-10}
WARMUP=${WARMUP:-2}
DURATION=${DURATION:-10}
MARKETD=${MARKETD:-build/release/api/marketd}
PEER=../shared/peers/node-ws
[[ -x $MARKETD ]] || { cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build/release --target marketd; }
(cd "$PEER" && node -e "require('ws')" 2>/dev/null) || (cd "$PEER" && npm ci --no-audit --no-fund >&2)

data=$(mktemp -d)
"$MARKETD" --listen "127.0.0.1:$PORT" --sim-symbols "$SYMBOLS" --rate "$RATE" --rate-limit 0 \
  --max-connections 5000 --log-level warn --data-dir "$data" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.05; done
node bench/book_fanout.js --url "ws://127.0.0.1:$PORT/ws" --clients "$CLIENTS" \
  --per-client "$PER_CLIENT" --max-hz "$MAX_HZ" --warmup "$WARMUP" --duration "$DURATION" \
  --server-pid "$pid"
echo "BOOKHZ_SERVER rate=$RATE symbols=$SYMBOLS metrics: $(curl -s "http://127.0.0.1:$PORT/metrics" |
  grep -E '^marketd_ws_(messages_sent|messages_conflated|slow_client_disconnects)_total' | tr '\n' ' ')"
