#!/usr/bin/env python3
"""Closed-loop load for bench/priority.sh: priority classes and tenant shares through Sluice.

    priority_load.py --port 18080 --seconds S --warmup W [--revision default/slow]
                     [--batch CONNS] [--interactive-every SECONDS]
                     [--tenant NAME:CONNS ...]

--batch CONNS: CONNS keep-alive clients send GET /batch with Sluice-Priority: batch, each as
soon as its previous answer is read, so about CONNS - pods requests wait in Sluice's queue.
--interactive-every T: GET /interactive with Sluice-Priority: interactive every T seconds
(open loop: each on a connection of its own, whether or not the last was answered), each
answer timed from before its connect.
--tenant NAME:CONNS: CONNS keep-alive clients send GET /t with Sluice-Tenant: NAME.

Runs W seconds unrecorded (the queue fills), then S seconds recorded; then every client
finishes the request it has out (none is abandoned) and one JSON line is printed: per
client kind the answers in the recorded window, the failures over the whole run (a non-200
status, or a connection that broke: nothing may be lost), and for the interactive client its
latencies (p50, p99, max, ms; its wait in the queue is the latency less the pod's 20 ms).
"""
import argparse
import asyncio
import json
import time


class Stats:
    def __init__(self):
        self.ok = 0          # answered 200 inside the recorded window
        self.total_ok = 0    # answered 200 over the whole run
        self.failed = 0
        self.latencies = []  # seconds, interactive only, recorded window


async def request(reader, writer, path, headers):
    writer.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (path, headers)).encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line[15:].strip())
    if length:
        await reader.readexactly(length)
    return status


async def closed_loop(port, path, headers, stats, window, stop):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        stats.failed += 1
        return
    try:
        while time.monotonic() < stop:
            try:
                status = await request(reader, writer, path, headers)
            except (OSError, asyncio.IncompleteReadError):
                stats.failed += 1
                return
            if status != 200:
                stats.failed += 1
                continue
            stats.total_ok += 1
            if window[0] <= time.monotonic() < window[1]:
                stats.ok += 1
    finally:
        writer.close()


async def one_interactive(port, headers, stats, window):
    start = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            status = await request(reader, writer, "/interactive", headers)
        finally:
            writer.close()
    except (OSError, asyncio.IncompleteReadError):
        stats.failed += 1
        return
    took = time.monotonic() - start
    if status != 200:
        stats.failed += 1
        return
    stats.total_ok += 1
    if window[0] <= start < window[1]:
        stats.ok += 1
        stats.latencies.append(took)


async def interactive(port, headers, every, stats, window, stop):
    """Open loop: a request every EVERY seconds on a connection of its own, whether or not the last was answered."""
    pending = []
    next_at = time.monotonic()
    while next_at < stop:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        pending.append(asyncio.ensure_future(one_interactive(port, headers, stats, window)))
        next_at += every
    await asyncio.gather(*pending)


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return round(1000 * xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))], 1)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--revision", default="default/slow")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--interactive-every", type=float, default=0)
    ap.add_argument("--tenant", action="append", default=[])
    a = ap.parse_args()
    rev = "Sluice-Revision: %s\r\n" % a.revision
    now = time.monotonic()
    window = (now + a.warmup, now + a.warmup + a.seconds)
    stop = window[1]
    kinds = {}
    tasks = []
    if a.batch:
        kinds["batch"] = Stats()
        h = rev + "Sluice-Priority: batch\r\nSluice-Tenant: batch\r\n"
        tasks += [closed_loop(a.port, "/batch", h, kinds["batch"], window, stop) for _ in range(a.batch)]
    if a.interactive_every:
        kinds["interactive"] = Stats()
        h = rev + "Sluice-Priority: interactive\r\nSluice-Tenant: web\r\n"
        tasks.append(interactive(a.port, h, a.interactive_every, kinds["interactive"], window, stop))
    for t in a.tenant:
        name, conns = t.split(":")
        kinds[name] = Stats()
        h = rev + "Sluice-Tenant: %s\r\n" % name
        tasks += [closed_loop(a.port, "/t", h, kinds[name], window, stop) for _ in range(int(conns))]
    await asyncio.gather(*tasks)
    served = sum(s.ok for n, s in kinds.items() if n != "interactive")
    out = {}
    for n, s in kinds.items():
        o = {"ok": s.ok, "all_ok": s.total_ok, "failed": s.failed}
        if n != "interactive" and served:
            o["share"] = round(s.ok / served, 4)
        if s.latencies:
            o.update(n_timed=len(s.latencies), p50_ms=pct(s.latencies, 50), p99_ms=pct(s.latencies, 99),
                     max_ms=round(1000 * max(s.latencies), 1))
        out[n] = o
    print(json.dumps(out))


asyncio.run(main())
