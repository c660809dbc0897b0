#!/usr/bin/env python3
"""Medians per system, scenario and connection count, and ratios to direct and to HAProxy."""
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) != 7:
        continue
    system, scenario, conns = parts[0], parts[1], int(parts[2])
    rps, p50, p99, err = float(parts[3]), float(parts[4]), float(parts[5]), int(parts[6])
    runs[(scenario, conns, system)].append((rps, p50, p99, err))

def med(key, i):
    return statistics.median(r[i] for r in runs[key])

print(f"{'scenario':8} {'conns':>5} {'system':8} {'runs':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs direct':>9} {'vs haproxy':>10}")
for scenario, conns in sorted({(k[0], k[1]) for k in runs}):
    for system in ["direct", "haproxy", "nginx", "sluice", "sluice-2t"]:
        key = (scenario, conns, system)
        if key not in runs:
            continue
        rps = med(key, 0)
        d = (scenario, conns, "direct")
        h = (scenario, conns, "haproxy")
        vs_d = f"{rps / med(d, 0):.2f}" if d in runs else "-"
        vs_h = f"{rps / med(h, 0):.2f}" if h in runs else "-"
        errors = sum(r[3] for r in runs[key])
        print(f"{scenario:8} {conns:5d} {system:8} {len(runs[key]):4d} {rps:9.0f} {med(key, 1):8.2f} {med(key, 2):8.2f} {errors:7d} {vs_d:>9} {vs_h:>10}")
