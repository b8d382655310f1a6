#!/usr/bin/env bash
# Browser test of the built-in page (README "The page"): starts the real
# marketd binary on a free 127.0.0.1 port with the simulator, loads / in
# headless Debian Chromium driven by playwright-core (tests/browser/, pinned
# by its package-lock.json) and checks: no console error, page error or failed
# request; the simulator's 8 symbols listed; candles drawn on the chart; the
# depth ladder's checksum verified ok for 20 updates, also after choosing
# another symbol, 1s candles and depth 20 (tests/browser/page_test.mjs). Saves
# a screenshot to build/browser/page.png. Then the same with --api-keys, the
# page opened as /#key=KEY. Fails after about 60 s each.
# Installs what is missing first: chromium and Node.js through
# scripts/bootstrap.sh, playwright-core with `npm ci` (again only when the
# lock file changed).
#   scripts/browser_test.sh [path/to/marketd]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/serving_port.sh"
bin=${1:-build/release/api/marketd}
log=$(mktemp)
data=$(mktemp -d)
pid=""
fail() { echo "browser_test: $*" >&2; cat "$log" >&2; exit 1; }
trap 'if [[ -n $pid ]]; then kill $pid 2>/dev/null || true; fi; rm -rf "$log" "$data"' EXIT

bash "$root/scripts/bootstrap.sh"
browser="$root/tests/browser"
if ! cmp -s "$browser/package-lock.json" "$browser/node_modules/.marketd-lock"; then
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci"
  cp "$browser/package-lock.json" "$browser/node_modules/.marketd-lock"
fi

# A brisk simulator: book updates and trades every few milliseconds per symbol.
"$bin" --listen 127.0.0.1:0 --rate 1000 --data-dir "$data/plain" >"$log" 2>&1 &  # port 0: any free port
pid=$!
port=$(serving_port "$log" "$pid")

mkdir -p "$root/build/browser"
timeout 90 node "$browser/page_test.mjs" "http://127.0.0.1:$port/" "$root/build/browser/page.png" 20 ||
  fail "the page test failed (above)"

kill -TERM $pid
wait $pid || fail "marketd exited $? on SIGTERM"
pid=""

# With --api-keys: the page opened as /#key=KEY sends it on every request
# and on /ws (a key-less request would be a 401, which the test fails on).
key=browser-test-read-key
printf '%s read\n' "$key" >"$data/keys"
"$bin" --listen 127.0.0.1:0 --rate 1000 --data-dir "$data/keyed" --api-keys "$data/keys" \
  >"$log" 2>&1 &
pid=$!
port=$(serving_port "$log" "$pid")
timeout 90 node "$browser/page_test.mjs" "http://127.0.0.1:$port/#key=$key" \
  "$root/build/browser/page-with-key.png" 5 || fail "the page test with an API key failed (above)"
kill -TERM $pid
wait $pid || fail "marketd exited $? on SIGTERM"
pid=""
echo "browser_test: ok (port $port, screenshot build/browser/page.png)"
