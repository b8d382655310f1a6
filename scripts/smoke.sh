#!/usr/bin/env bash
# Black-box smoke test: starts the real marketd binary on a free port with the
# simulator, curls the service and REST endpoints, checks /metrics with
# promtool, reads every REST body and WebSocket frame through a strict JSON
# parser (scripts/smoke_client.py), and stops it with SIGTERM (it must exit 0);
# then starts it again on the same data directory: the book it journaled is back.
#   scripts/smoke.sh [path/to/marketd]
set -euo pipefail
source "$(dirname "$0")/serving_port.sh"
bin=${1:-build/release/api/marketd}
log=$(mktemp)
data=$(mktemp -d)
fail() { echo "smoke: $*" >&2; cat "$log" >&2; exit 1; }

# Access (API.md "Keys"): no keys on a non-loopback address, or a bad keys
# file, stop the start with the reason.
if timeout 10 "$bin" --listen 0.0.0.0:0 --no-simulator --data-dir "" >"$log" 2>&1; then
  fail "started on 0.0.0.0 without keys"
fi
grep -q -- "--insecure-no-auth" "$log" || fail "no reason for refusing 0.0.0.0"
printf 'k1 read\nk2 root\n' >"$log.keys"
status=0
timeout 10 "$bin" --api-keys "$log.keys" --no-simulator --data-dir "" >"$log" 2>&1 || status=$?
rm -f "$log.keys"
[[ $status == 2 ]] || fail "a bad keys file gave exit $status"
grep -q "line 2: unknown role" "$log" || fail "no reason for the bad keys file"

"$bin" --listen 127.0.0.1:0 --rate 2000 --data-dir "$data" >"$log" 2>&1 &  # port 0: any free port
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$log" "$data"' EXIT

port=$(serving_port "$log" "$pid")
base="http://127.0.0.1:$port"
curl -fsS "$base/readyz" >/dev/null || fail "readyz"
curl -fsS "$base/healthz" | grep -q '"ok"' || fail "healthz"
curl -fsS "$base/api/v1/symbols" | grep -q '"BTC-USD"' || fail "symbols"
curl -fsS "$base/api/v1/symbols/BTC-USD/top" | grep -q '"seq"' || fail "top"
curl -fsS "$base/api/v1/symbols/BTC-USD/depth?levels=5" | grep -q '"bids"' || fail "depth"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/symbols/NOPE/top")
[[ $code == 404 ]] || fail "unknown symbol gave $code"
/usr/bin/python3 "$(dirname "$0")/smoke_client.py" "$port" || fail "strict client"
# DELETE /symbols: gone from REST and from /metrics.
curl -fsS -X PUT "$base/api/v1/symbols/SMOKE-DEL" -d '{"tick_size":"0.01","lot_size":"1"}' \
  >/dev/null || fail "PUT SMOKE-DEL"
curl -fsS -X DELETE "$base/api/v1/symbols/SMOKE-DEL" | grep -q '"SMOKE-DEL"' || fail "DELETE"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/symbols/SMOKE-DEL")
[[ $code == 404 ]] || fail "a deleted symbol gave $code"
if curl -fsS "$base/metrics" | grep -q 'symbol="SMOKE-DEL"'; then fail "series left"; fi
curl -fsS "$base/metrics" >"$log.metrics" || fail "metrics"
promtool check metrics <"$log.metrics" || fail "promtool check metrics"
rm -f "$log.metrics"
# Durability: an order acknowledged before a kill -9 is there after it, with its seq.
curl -fsS -X PUT "$base/api/v1/symbols/SMOKE-DUR" -d '{"tick_size":"0.01","lot_size":"1"}' \
  >/dev/null || fail "PUT SMOKE-DUR"
curl -fsS -X POST "$base/api/v1/symbols/SMOKE-DUR/orders" \
  -d '{"side":"buy","type":"limit","price":"10.00","qty":"3"}' >/dev/null || fail "order"
before=$(curl -fsS "$base/api/v1/symbols/SMOKE-DUR/depth")
kill -KILL $pid
wait $pid 2>/dev/null || true
"$bin" --listen 127.0.0.1:0 --no-simulator --data-dir "$data" >"$log" 2>&1 &
pid=$!
port=$(serving_port "$log" "$pid")
base="http://127.0.0.1:$port"
after=$(curl -fsS "$base/api/v1/symbols/SMOKE-DUR/depth")
[[ $after == "$before" ]] || fail "after kill -9 and restart: $after, before: $before"
kill -TERM $pid
wait $pid || fail "marketd exited $? on SIGTERM"
trap - EXIT
rm -rf "$log" "$data"
echo "smoke: ok (port $port)"
