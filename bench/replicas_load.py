#!/usr/bin/env python3
"""Closed-loop load over several Sluice replicas, steered as a Service steers it.

    replicas_load.py --proxy P1,P2,P3 --control C1,C2,C3 [--conns 64] [--seconds S]
                     [--revision default/slow] [--timeline FILE] [--bucket 0.25]

CONNS keep-alive clients on 127.0.0.1, client i at home on replica i mod N (so 64 clients over 3
replicas are 22, 21, 21), each sending GET / as soon as the previous answer is read. A poller
asks every replica's /readyz every 100 ms; a client whose replica is not ready sends to the
next ready one instead, as kube-proxy or an ingress stops sending to a pod that fails its
readiness probe. So a replica draining on SIGTERM gets no new requests once it says so, and
the errors counted are Sluice's, not the harness's.

Runs for SECONDS, or until SIGTERM/SIGINT (then each client finishes the request it has out).
Prints one summary line: ok, failed (a request was sent and no 200 came back: a non-200
status, or the connection broke or timed out), refused (no connection could be opened: no
request was sent; the client waits 50 ms and tries again), requests/s, and each replica's
share. --timeline writes "wall_time ok failed refused" per bucket (wall clock, to lay beside
the script's events).
"""
import argparse
import asyncio
import collections
import signal
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--revision", default="default/slow")
    ap.add_argument("--timeline")
    ap.add_argument("--bucket", type=float, default=0.25)
    a = ap.parse_args()
    proxies = [int(p) for p in a.proxy.split(",")]
    controls = [int(p) for p in a.control.split(",")]
    n = len(proxies)
    request = ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nSluice-Revision: %s\r\n\r\n" % a.revision).encode()
    ready = [False] * n
    ok = [0] * n
    failed = [0] * n
    refused = [0] * n
    statuses = collections.Counter()
    buckets = collections.defaultdict(lambda: [0, 0, 0])  # bucket index -> ok, failed, refused
    t0 = time.time()
    stop = asyncio.Event()

    def bucket():
        return int((time.time() - t0) / a.bucket)

    async def poll():
        async def one(i):
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", controls[i]), 0.3)
                w.write(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                line = await asyncio.wait_for(r.readline(), 0.3)
                w.close()
                ready[i] = line.split()[1:2] == [b"200"]
            except (OSError, asyncio.TimeoutError, IndexError):
                ready[i] = False
        while not stop.is_set():
            await asyncio.gather(*(one(i) for i in range(n)))
            try:
                await asyncio.wait_for(stop.wait(), 0.1)
            except asyncio.TimeoutError:
                pass

    async def client(i):
        home = i % n
        conn = None
        while not stop.is_set():
            target = next((t for t in [(home + k) % n for k in range(n)] if ready[t]), None)
            if target is None:
                await asyncio.sleep(0.05)
                continue
            if conn is not None and conn[0] != target:
                conn[2].close()
                conn = None
            if conn is None:
                try:
                    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", proxies[target]), 1)
                    conn = (target, r, w)
                except (OSError, asyncio.TimeoutError):
                    refused[target] += 1
                    buckets[bucket()][2] += 1
                    await asyncio.sleep(0.05)
                    continue
            _, r, w = conn
            try:
                w.write(request)
                head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
                status = int(head.split(b" ", 2)[1])
                low = head.lower()
                length = 0
                for line in low.split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line[15:])
                if length:
                    await asyncio.wait_for(r.readexactly(length), 10)
                if b"connection: close" in low:
                    w.close()
                    conn = None
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ValueError, IndexError) as e:
                status = type(e).__name__
                w.close()
                conn = None
            statuses[status] += 1
            if status == 200:
                ok[target] += 1
                buckets[bucket()][0] += 1
            else:
                failed[target] += 1
                buckets[bucket()][1] += 1
        if conn is not None:
            conn[2].close()

    async def run():
        loop = asyncio.get_running_loop()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set)
        if a.seconds:
            loop.call_later(a.seconds, stop.set)
        poller = asyncio.ensure_future(poll())
        for _ in range(50):  # first sight of the replicas before any request, at most 5 s
            if all(ready):
                break
            await asyncio.sleep(0.1)
        start = time.time()
        await asyncio.gather(*(client(i) for i in range(a.conns)))
        await poller
        return time.time() - start

    elapsed = asyncio.run(run())
    total = sum(ok)
    print("ok=%d failed=%d refused=%d rps=%.0f seconds=%.1f per_replica_ok=%s per_replica_failed=%s "
          "per_replica_refused=%s statuses=%s" % (total, sum(failed), sum(refused), total / elapsed, elapsed,
                                                  ",".join(map(str, ok)), ",".join(map(str, failed)),
                                                  ",".join(map(str, refused)), dict(statuses)))
    if a.timeline:
        with open(a.timeline, "w") as f:
            for b in sorted(buckets):
                f.write("%.3f %d %d %d\n" % ((t0 + b * a.bucket), *buckets[b]))


main()
