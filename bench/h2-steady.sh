#!/usr/bin/env bash
# HTTP/2 side by side at steady state, for a loaded machine: HAProxy and one or two Sluice
# builds alive at once in front of the same four nginx h2c pods (as bench/h2.sh), each Sluice
# warmed with unrecorded h2load runs in turns, then measured in alternating windows (HAProxy,
# A[, B], HAProxy, A[, B], …) so that whatever else the machine runs falls on all alike; prints
# every window (requests/s, p50/p99 from h2load's per-request log, CPU time per request from
# /proc/<pid>/stat, errors) and the medians.
#   bench/h2-steady.sh [windows] [seconds] [warm-up seconds per build]   (defaults 5 8 60)
#   JAR_A=/tmp/old.jar JAR_B=/tmp/new.jar bench/h2-steady.sh …   (default: A is the built jar, no B)
#   FLAGS_A / FLAGS_B: JVM flags added after the launcher's defaults (a later -D wins), e.g.
#   JAR_B=<the same jar> FLAGS_B='-Dio.netty.recycler.maxCapacityPerThread=4096' for an A/B of one setting.
#   OPTS_A / OPTS_B: options added to that Sluice's `run`, e.g. OPTS_B='--transport epoll'.
# SLUICE_IO_THREADS (default 1, as HAProxy's one thread). Loopback only; stops all it started.
set -euo pipefail
scenario=fast
windows="${1:-5}"; secs="${2:-8}"; warm="${3:-60}"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tool h2load nghttp2-client
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
jar_a="${JAR_A:-$root/sluice-server/target/sluice.jar}"; jar_b="${JAR_B:-}"

start_h2c_pods
start haproxy -f "$anchors/haproxy-h2c.cfg"; haproxy_pid="${pids[-1]}"; wait_port 18095
declare -A pid url
names=(haproxy A); pid[haproxy]=$haproxy_pid; url[haproxy]=http://127.0.0.1:18095/
sluice_at() { # name jar proxy-port control-port [extra JVM flags] [extra run options]
  start_h2c_sluice "$2" "$3" "$4" "${5:-}" "${6:-}"
  pid[$1]="$sluice_pid"; url[$1]="http://127.0.0.1:$3/"
}
sluice_at A "$jar_a" 18080 18089 "${FLAGS_A:-}" "${OPTS_A:-}"
if [ -n "$jar_b" ]; then sluice_at B "$jar_b" 18070 18079 "${FLAGS_B:-}" "${OPTS_B:-}"; names+=(B); fi

load() { # seconds url [log]
  rm -f "$work/h2load.log"
  h2load -c64 -m10 -D"$1" -H "Sluice-Revision: default/fast" ${3:+--log-file="$3"} "$2" > "$work/h2load.out" 2>&1 || true
}
for _ in $(seq $(( (warm + 9) / 10 ))); do
  for n in "${names[@]:1}"; do load 10 "${url[$n]}"; done
done
load 3 "${url[haproxy]}"

echo "h2load -c64 -m10 -D$secs, h2c both sides, 4 nginx h2c pods, $windows alternating windows after ${warm} s of warm-up per Sluice; $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$windows"); do
  for n in "${names[@]}"; do
    t0=$(ticks "${pid[$n]}"); load "$secs" "${url[$n]}" "$work/h2load.log"; t1=$(ticks "${pid[$n]}")
    python3 - "$n" "$work/h2load.out" "$work/h2load.log" "$t0" "$t1" "$hz" <<'PY'
import re, sys
name, out, log, t0, t1, hz = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rps = re.search(r"finished in [0-9.]+s, ([0-9.]+) req/s", out)
req = re.search(r"(\d+) succeeded, (\d+) failed, (\d+) errored", out)
d = sorted(int(l.split()[2]) for l in open(log) if len(l.split()) >= 3)
pct = lambda q: d[min(len(d) - 1, int(q * len(d)))] / 1000 if d else float("nan")
ok = int(req.group(1)) if req else 0
errors = int(req.group(2)) + int(req.group(3)) if req else -1
cpu = (t1 - t0) / hz * 1e6 / ok if ok else float("nan")
print(f"{name:8s} {float(rps.group(1)) if rps else 0:10.0f} req/s  p50 {pct(.5):7.2f} ms  p99 {pct(.99):7.2f} ms  errors {errors}  cpu {cpu:6.1f} us/req")
PY
  done
done | tee "$work/windows.txt"
python3 - "$work/windows.txt" <<'PY'
import statistics, sys, collections
rows = collections.defaultdict(list)
for l in open(sys.argv[1]):
    f = l.split()
    rows[f[0]].append((float(f[1]), float(f[4]), float(f[7]), float(f[12]), int(f[10])))
base = statistics.median(r[0] for r in rows["haproxy"])
for name, r in rows.items():
    m = [statistics.median(c) for c in zip(*r)]
    print(f"median {name:8s} {m[0]:10.0f} req/s ({m[0] / base:4.2f}x HAProxy)  p50 {m[1]:7.2f} ms  p99 {m[2]:7.2f} ms  cpu {m[3]:6.1f} us/req  errors {sum(x[4] for x in r)}")
PY
