#!/usr/bin/env python3
"""Summarises bench/h2-alloc.sh's recording, from `jfr print` text in its directory.

Bytes per request: each I/O thread's allocated-bytes counter (jdk.ThreadAllocationStatistics,
every second) from its first to its last reading in the window, scaled to the requests of the
whole window. Where: allocation samples (jdk.ObjectAllocationSample, each weighted by the
bytes allocated since the thread's last sample; each thread's first one dropped) by class and
by the top frames of the site.

    jfr_alloc.py DIR REQUESTS SECONDS
"""
import collections
import re
import sys

IO_THREAD = re.compile(r"sluice-io|uring|epoll|nio")
UNITS = {"bytes": 1, "byte": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}


def events(path, name):
    text = open(path).read()
    return text.split(name + " {")[1:]


def size(block, field):
    m = re.search(field + r" = ([\d.,]+) (bytes|byte|kB|MB|GB)", block)
    return float(m.group(1).replace(",", "")) * UNITS[m.group(2)] if m else 0.0


def seconds(stamp):
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def main(d, requests, secs):
    per_second = requests / secs
    readings = collections.defaultdict(list)
    for b in events(d + "/threads.txt", "jdk.ThreadAllocationStatistics"):
        t = re.search(r'thread = "([^"]+)"', b)
        start = re.search(r"startTime = (\d\d:\d\d:[\d.]+)", b)
        if t and start:
            readings[t.group(1)].append((seconds(start.group(1)), size(b, "allocated")))
    print(f"{requests} requests in {secs} s; bytes allocated per request, by thread:")
    total = 0.0
    for name, rs in sorted(readings.items()):
        rs.sort()
        if len(rs) < 2 or rs[-1][0] <= rs[0][0]:
            continue
        rate = (rs[-1][1] - rs[0][1]) / (rs[-1][0] - rs[0][0])
        if rate / per_second < 1:
            continue
        total += rate / per_second
        print(f"  {rate / per_second:8.0f} B  {name}")
    print(f"  {total:8.0f} B  all threads")

    pauses = [size_ms(b) for b in events(d + "/gc.txt", "jdk.GarbageCollection")]
    if pauses:
        print(f"GC: {len(pauses)} collections, {sum(pauses):.1f} ms paused in all, "
              f"median {sorted(pauses)[len(pauses) // 2]:.2f} ms, longest {max(pauses):.2f} ms")

    by_class = collections.Counter()
    by_site = collections.Counter()
    seen = set()
    for b in events(d + "/samples.txt", "jdk.ObjectAllocationSample"):
        t = re.search(r'eventThread = "([^"]+)"', b)
        if not t or not IO_THREAD.search(t.group(1)):
            continue
        if t.group(1) not in seen:
            # A thread's first sample weighs everything it allocated since its last sample
            # before the recording began (since it started, if none): dropped.
            seen.add(t.group(1))
            continue
        cls = re.search(r"objectClass = (\S+)", b).group(1)
        w = size(b, "weight")
        stack = b.split("stackTrace = [", 1)[1]
        frames = [re.sub(r"\s+line:.*", "", f.strip()) for f in stack.split("\n")
                  if f.strip() and f.strip() not in ("...", "]") and not f.strip().startswith("}")]
        by_class[cls] += w
        by_site[cls + "  @ " + " < ".join(frames[:3])] += w
    sampled = sum(by_class.values())
    if not sampled:
        return
    print("I/O threads' sampled allocation by class (share, and bytes per request at the exact total):")
    for c, w in by_class.most_common(20):
        print(f"  {100 * w / sampled:5.1f}% {total * w / sampled:6.0f} B  {c}")
    print("by site (class @ top frames):")
    for c, w in by_site.most_common(30):
        print(f"  {100 * w / sampled:5.1f}% {total * w / sampled:6.0f} B  {c}")


def size_ms(block):
    m = re.search(r"sumOfPauses = ([\d.]+) (ms|s|us)", block)
    if not m:
        return 0.0
    return float(m.group(1)) * {"ms": 1, "s": 1000, "us": 0.001}[m.group(2)]


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
