#!/usr/bin/env python3
"""How evenly a load run spread its requests over the pods, measured at the pods' sockets.

Reads two snapshots of `ss -tinH state established` (before and after the run) and prints each
pod port's share of the bytes the pods received during the run, and the largest share over the
smallest. Every request of one system has the same size, so the byte shares are the request
shares, for any proxy (nothing is asked of the system under test).
    bench/podshare.py before.txt after.txt 18081 18082 18083 18084
"""
import re
import sys
from collections import defaultdict


def sockets(path, ports):
    """{(local, peer): bytes_received} for the established sockets whose local port is a pod's."""
    out, key = {}, None
    for line in open(path):
        if not line.startswith(("\t", " ")):
            addrs = [p for p in line.split() if re.fullmatch(r".*:\d+", p)]
            key = None
            if len(addrs) >= 2 and addrs[0].rsplit(":", 1)[-1] in ports:
                key = (addrs[0], addrs[1])
            continue
        m = re.search(r"bytes_received:(\d+)", line)
        if key and m:
            out[key] = int(m.group(1))
    return out


before_path, after_path, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
before, after = sockets(before_path, ports), sockets(after_path, ports)
received = defaultdict(int)
for key, n in after.items():
    received[key[0].rsplit(":", 1)[-1]] += n - before.get(key, 0)
total = sum(received.values())
if total == 0:
    print("spread n/a")
    sys.exit(0)
shares = [100.0 * received[p] / total for p in ports]
low = min(shares)
print("spread " + "/".join(f"{s:.1f}" for s in shares) + "%"
      + (f" max/min {max(shares) / low:.2f}" if low > 0 else " (a pod got nothing)"))
