#!/usr/bin/env bash
# Crash consistency (issue 16, docs/durability.md): kill -9 the real marketd
# at random moments under orders, cancels and ingest, restart it on the same
# data directory, and check that it recovered exactly what it acknowledged
# (scripts/crash_client.py says how).
#   scripts/crash_test.sh [path/to/marketd] [kills] [fsync] [seed]
# CI runs 20 kills with --fsync always; by hand: scripts/crash_test.sh
# build/release/api/marketd 200 always, and again with batch.
set -euo pipefail
bin=${1:-build/release/api/marketd}
kills=${2:-20}
fsync=${3:-always}
exec /usr/bin/python3 "$(dirname "$0")/crash_client.py" "$bin" "$kills" "$fsync" ${4:+"$4"}
