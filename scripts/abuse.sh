#!/usr/bin/env bash
# Abuse test (issue 15): starts the real marketd binary on 127.0.0.1 with small
# limits, runs each attack of scripts/abuse_client.py for a few seconds while
# timing /healthz and GET /top, and fails if any attack hurt: an answer
# missing, a p99 over 50 ms, RSS over its bound. Stops what it started.
#   scripts/abuse.sh [path/to/marketd] [seconds per attack]
set -euo pipefail
source "$(dirname "$0")/serving_port.sh"
bin=${1:-build/release/api/marketd}
seconds=${2:-3}
log=$(mktemp)
keys=$(mktemp)
data=$(mktemp -d)  # the attacks are journaled like any change
# The prober and the attacker have keys of their own, so each has its own
# rate budget; the attacker's rotating unknown keys count against the address.
printf 'abuse-prober-key read\nabuse-attacker-key admin\n' >"$keys"
# Limits small enough that the attacks reach them in seconds.
"$bin" --listen 127.0.0.1:0 --rate 200 --api-keys "$keys" --max-symbols 200 \
  --max-connections 256 --data-dir "$data" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$log" "$keys" "$data"' EXIT
fail() { echo "abuse: $*" >&2; tail -50 "$log" >&2; exit 1; }

port=$(serving_port "$log" "$pid")

/usr/bin/python3 "$(dirname "$0")/abuse_client.py" "$port" "$pid" "$seconds" ||
  fail "an attack hurt the service"
kill -0 $pid 2>/dev/null || fail "marketd died"
kill -TERM $pid
wait $pid || fail "marketd exited $? on SIGTERM"
trap - EXIT
rm -rf "$log" "$keys" "$data"
echo "abuse: ok (port $port)"
