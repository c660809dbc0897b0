#!/usr/bin/env bash
# Where the slowest 1 % of relayed HTTP/2 requests come from: the bench/h2-steady.sh set-up
# (four nginx h2c pods, h2load -c64 -m10), one Sluice (or HAProxy) warmed with 40 s of load, then one logged
# window with Sluice's GC log on. Prints the p50/p99, how the requests at or above the p99 are
# spread over time (10 ms buckets by start time), how many of them started in the window's first
# 100 ms (connections opening), and how many were in flight during a young-GC pause.
#   bench/h2-tail.sh [seconds]   (default 10)
#   OPTS='--transport epoll' bench/h2-tail.sh   (options added to Sluice's `run`)
#   FLAGS='-XX:-UseG1GC -XX:+UseParallelGC' bench/h2-tail.sh   (JVM flags after the launcher's defaults)
#   TARGET=haproxy bench/h2-tail.sh   (HAProxy with anchors/haproxy-h2c.cfg instead; no GC there)
# Loopback only; stops all it started.
set -euo pipefail
scenario=fast
secs="${1:-10}"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tool h2load nghttp2-client
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
start_h2c_pods
url=http://127.0.0.1:18080/; : > "$work/gc.log"
if [ "${TARGET:-sluice}" = haproxy ]; then
  start haproxy -f "$anchors/haproxy-h2c.cfg"; wait_port 18095; url=http://127.0.0.1:18095/
else
  start_h2c_sluice "$root/sluice-server/target/sluice.jar" 18080 18089 "-Xlog:gc:file=$work/gc.log:time ${FLAGS:-}" "${OPTS:-}"
fi
load() { h2load -c64 -m10 -D"$1" -H "Sluice-Revision: default/fast" ${2:+--log-file="$2"} "$url" > "$work/h2load.out" 2>&1 || true; }
for _ in 1 2 3 4; do load 10; done
load "$secs" "$work/h2load.log"
grep 'finished in' "$work/h2load.out"
python3 - "$work/h2load.log" "$work/gc.log" <<'PY'
import collections, datetime, re, sys
rows = [(int(f[0]), int(f[2])) for f in (l.split() for l in open(sys.argv[1])) if len(f) >= 3]
lat = sorted(r[1] for r in rows); n = len(lat); p99 = lat[int(.99 * n)]
t0 = min(r[0] for r in rows)
tail = [r for r in rows if r[1] >= p99]
buckets = collections.Counter((s - t0) // 10000 for s, _ in tail)
gcs = []
for l in open(sys.argv[2]):
    m = re.match(r'\[(\S+)\].*Pause Young.* ([0-9.]+)ms', l)
    if m:
        t = datetime.datetime.strptime(m.group(1)[:23], '%Y-%m-%dT%H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc)
        gcs.append((t.timestamp() * 1e6, float(m.group(2)) * 1000))
def in_gc(s, l):
    return any(s <= t + d and s + l >= t for t, d in gcs)
print(f"{n} requests, p50 {lat[n // 2] / 1000:.2f} ms, p99 {p99 / 1000:.2f} ms; {len(tail)} at or above the p99")
print(f"they started in {len(buckets)} of {len(set((s - t0) // 10000 for s, _ in rows))} 10 ms buckets; the busiest:",
      ", ".join(f"{k * 10} ms: {v}" for k, v in sorted(buckets.most_common(12))))
print(f"started in the first 100 ms (connections opening): {sum(1 for s, _ in tail if s - t0 < 100000)}")
win = [(t, d) for t, d in gcs if t0 <= t <= t0 + (max(s for s, _ in rows) - t0)]
print(f"young-GC pauses in the window: {len(win)}, {sum(d for _, d in win) / 1000:.1f} ms in all; "
      f"tail requests in flight during one: {sum(1 for s, l in tail if in_gc(s, l))}")
PY
