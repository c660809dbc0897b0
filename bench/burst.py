#!/usr/bin/env python3
"""Opens N connections at once, sends one request on each, and reports how they were answered.

    burst.py PORT N [--revision ns/name] [--timeout S] [--hold]

Prints one line: "answered=A ok=O failed=F first_ms=X last_ms=Y statuses={...}". With --hold it
only sends and then waits until stdin closes (to keep N requests waiting in Sluice's queue).
Loopback only; every connection is bounded by --timeout.
"""
import argparse
import asyncio
import collections
import resource
import sys
import time


async def one(port, revision, timeout, t0, results):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        w.write(f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nSluice-Revision: {revision}\r\nConnection: close\r\n\r\n".encode())
        await w.drain()
        line = await asyncio.wait_for(r.readline(), timeout)
        status = int(line.split()[1]) if line else 0
        await asyncio.wait_for(r.read(), timeout)
        w.close()
        results.append((status, (time.monotonic() - t0) * 1000))
    except Exception as e:  # counted, never hidden
        results.append((f"error:{type(e).__name__}", (time.monotonic() - t0) * 1000))


async def hold(port, revision, n):
    conns = []
    for i in range(n):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nSluice-Revision: {revision}\r\n\r\n".encode())
        conns.append(w)
        if i % 500 == 499:
            await asyncio.gather(*(c.drain() for c in conns[-500:]))
    print(f"holding={n}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for w in conns:
        w.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("n", type=int)
    p.add_argument("--revision", default="default/burst")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--hold", action="store_true")
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, a.n + 1024)), hard))
    if a.hold:
        await hold(a.port, a.revision, a.n)
        return
    results = []
    t0 = time.monotonic()
    await asyncio.gather(*(one(a.port, a.revision, a.timeout, t0, results) for _ in range(a.n)))
    statuses = collections.Counter(s for s, _ in results)
    ok = statuses.get(200, 0)
    times = [t for _, t in results]
    print(f"answered={len(results)} ok={ok} failed={len(results) - ok} first_ms={min(times):.0f} "
          f"last_ms={max(times):.0f} statuses={dict(statuses)}")


asyncio.run(main())
