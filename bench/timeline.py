#!/usr/bin/env python3
"""Per-request timeline of a closed-loop load, to tell late moments from slow requests.

wrk reports percentiles only; this records when each request started and how long it took,
so late requests can be laid beside a GC or safepoint log (-Xlog:...:timenanos: the JVM's
System.nanoTime, the same CLOCK_MONOTONIC as perf_counter_ns here).

  bench/timeline.py record HOST PORT CONNS SECONDS OUT [REVISION]   # e.g. ... 18080 32 20 /tmp/s.txt default/slow
  bench/timeline.py report FILE...

record: CONNS keep-alive connections, each sending GET / as soon as the previous answer is
read, for SECONDS; writes "start_ns latency_ns connection" per request.
report: percentiles, and the requests at or over the run's own p99 grouped into clusters of
completions less than 30 ms apart (start time of the cluster in seconds from the run's
start, and its size): a pause makes one large cluster, slow requests make many small ones.
"""
import asyncio
import sys
import time


async def _connection(host, port, request, end, index, out):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < end:
            start = time.perf_counter_ns()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.lower().split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            out.append((start, time.perf_counter_ns() - start, index))
    finally:
        writer.close()


def record(host, port, conns, seconds, path, revision="default/slow"):
    request = ("GET / HTTP/1.1\r\nHost: %s\r\nSluice-Revision: %s\r\n\r\n" % (host, revision)).encode()
    out = []

    async def run():
        end = time.monotonic() + seconds
        await asyncio.gather(*(_connection(host, port, request, end, i, out) for i in range(conns)))

    asyncio.run(run())
    with open(path, "w") as f:
        for start, latency, index in sorted(out):
            f.write("%d %d %d\n" % (start, latency, index))


def report(path):
    rows = sorted(tuple(map(int, line.split())) for line in open(path) if line.strip())
    if not rows:
        print("%s: no requests" % path)
        return
    t0 = rows[0][0]
    lat = sorted(r[1] / 1e6 for r in rows)
    n = len(lat)

    def pct(q):
        return lat[min(n - 1, int(q * n))]

    print("%s: n=%d p50=%.1f p90=%.1f p99=%.1f p99.9=%.1f max=%.1f ms"
          % (path, n, pct(.5), pct(.9), pct(.99), pct(.999), lat[-1]))
    ends = sorted((r[0] + r[1] - t0) / 1e9 for r in rows if r[1] / 1e6 >= pct(.99))
    clusters, current = [], []
    for e in ends:
        if current and e - current[-1] > 0.03:
            clusters.append(current)
            current = []
        current.append(e)
    if current:
        clusters.append(current)
    print("  late (>= p99) clusters (s, requests): " + ", ".join("%.2f %d" % (c[0], len(c)) for c in clusters))


if __name__ == "__main__":
    if len(sys.argv) >= 7 and sys.argv[1] == "record":
        record(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6], *sys.argv[7:8])
    elif len(sys.argv) >= 3 and sys.argv[1] == "report":
        for p in sys.argv[2:]:
            report(p)
    else:
        sys.exit(__doc__)
