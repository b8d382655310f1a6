#!/usr/bin/env python3
"""Medians of interleaved benchmark rounds and marketd's ratio to each peer.

Input: lines "<system> <round> W<n> <name> key=value ..." (bench/compare_peers.sh).
Output: a Markdown table, one row per workload and figure.
"""
import statistics
import sys
from collections import defaultdict

# The figure that matters per workload, and whether higher is better.
FIGURES = {
    "M0": [("round_trip_ns", False)],
    "W1": [("msgs_per_s", True)],
    "W2": [("p50_us", False), ("p99_us", False), ("calls_per_s", True)],
    "W3": [("spawn_per_s", True), ("bytes_per_process", False), ("bytes_per_actor", False)],
    "W4": [("ops_per_s", True)],
    "W4b": [("ops_per_s", True)],
    "W5": [("deliveries_per_s", True)],
    "W6": [("restarts_per_s", True), ("first1k_per_s", True), ("last1k_per_s", True)],
    "W7": [("checks_per_s", True)],
}


def main(path):
    values = defaultdict(list)  # (system, workload, key) -> [float]
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        system, workload = parts[0], parts[2]
        for kv in parts[4:]:
            if "=" in kv:
                k, v = kv.split("=", 1)
                try:
                    values[(system, workload, k)].append(float(v))
                except ValueError:
                    pass
    systems = sorted({s for s, _, _ in values})
    peers = [s for s in systems if s != "marketd"]
    print("| workload | figure | marketd | " + " | ".join(peers) + " | " +
          " | ".join(f"ratio vs {p}" for p in peers) + " |")
    print("|" + "---|" * (3 + 2 * len(peers)))
    for workload in sorted({w for _, w, _ in values}, key=lambda w: (len(w), w)):
        for key, higher in FIGURES.get(workload, []):
            ours = values.get(("marketd", workload, key))
            key_peer = {p: values.get((p, workload, key)) for p in peers}
            if key == "bytes_per_process":  # CAF calls it bytes_per_actor
                key_peer = {p: key_peer[p] or values.get((p, workload, "bytes_per_actor")) for p in peers}
            if key == "bytes_per_actor" or not ours:
                continue
            med = statistics.median(ours)
            cells, ratios = [], []
            for p in peers:
                theirs = key_peer[p]
                if theirs:
                    pm = statistics.median(theirs)
                    cells.append(f"{pm:,.2f}")
                    ratio = (med / pm) if higher else (pm / med if med else float("inf"))
                    ratios.append(f"{ratio:.2f}x")
                else:
                    cells.append("-")
                    ratios.append("-")
            runs = len(ours)
            print(f"| {workload} | {key} ({'higher' if higher else 'lower'} is better, median of {runs}) | "
                  f"{med:,.2f} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/compare_peers.txt")
