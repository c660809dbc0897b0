#!/usr/bin/env python3
"""The pods' own ceiling: one closed-loop keep-alive client per pod, straight to it.

    pods_ceiling.py --seconds S PORT [PORT...]

Each client sends GET / to its pod (127.0.0.1:PORT) as soon as the previous answer is read, so
every pod is busy all the time with nothing in between but this client's own turn-around:
the rate a perfect scheduler in front of cc-1 pods could reach, with the pods' real service
time (their timer's granularity and their own HTTP work included) instead of the nominal one.
Prints one line: "rps=R ok=N failed=F seconds=S".
"""
import argparse
import asyncio
import time


async def client(port, deadline, counts):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    try:
        while time.monotonic() < deadline:
            w.write(req)
            head = await r.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.lower().split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line[15:].strip())
            if length:
                await r.readexactly(length)
            counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
    finally:
        w.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("ports", type=int, nargs="+")
    a = ap.parse_args()
    counts = [0, 0]
    t0 = time.monotonic()
    await asyncio.gather(*(client(p, t0 + a.seconds, counts) for p in a.ports))
    took = time.monotonic() - t0
    print(f"rps={counts[0] / took:.0f} ok={counts[0]} failed={counts[1]} seconds={took:.1f}")


asyncio.run(main())
