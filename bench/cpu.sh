#!/usr/bin/env bash
# CPU cost per request on the fast scenario, HAProxy and Sluice side by side: the CPU time each
# process used during a wrk run (utime + stime from /proc/<pid>/stat, all threads) divided by
# the requests it served. On a 2-core machine shared by wrk, nginx and the proxy, this is what
# decides requests/s: the proxy that needs fewer microseconds per request leaves more CPU to
# the others. Loopback only; stops everything it started.
#   bench/cpu.sh [rounds] [seconds] [conns]     (defaults: 3 rounds, 8 s, 64 connections)
set -euo pipefail
rounds="${1:-3}"; secs="${2:-8}"; conns="${3:-64}"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ticks() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
uticks() { awk '{print $14}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"

measure() { # name pid url
  local name=$1 pp=$2 url=$3 ngw p0 n0 u0 p1 n1 u1 w w0 w1 rps span
  ngw="$(pgrep -f 'nginx: worker' | tr '\n' ' ')"
  span=$((secs - 1))
  p0=$(ticks "$pp"); n0=$(ticks $ngw); u0=$(uticks "$pp")
  wrk -t1 -c"$conns" -d"${secs}s" -H 'Sluice-Revision: default/fast' "$url" > "$work/wrk.out" 2>&1 &
  w=$!; sleep 0.2; w0=$(ticks $w)
  sleep "$span"; w1=$(ticks $w); p1=$(ticks "$pp"); n1=$(ticks $ngw); u1=$(uticks "$pp")
  wait $w || true
  rps="$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")"
  python3 - "$name" "$rps" "$hz" "$span" "$p0" "$p1" "$u0" "$u1" "$n0" "$n1" "$w0" "$w1" <<'PY'
import sys
name, rps, hz, span = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
p0, p1, u0, u1, n0, n1, w0, w1 = map(float, sys.argv[5:13])
cpu = lambda a, b: (b - a) / hz / span            # CPU seconds per second
us = lambda a, b: cpu(a, b) / rps * 1e6           # microseconds per request
print(f"{name:8} {rps:9.0f} req/s | proxy {cpu(p0,p1)*100:4.0f}% CPU, {us(p0,p1):5.1f} us/req "
      f"(user {us(u0,u1):4.1f}, system {us(p0,p1)-us(u0,u1):4.1f}) | backends {us(n0,n1):4.1f} us/req | wrk {us(w0,w1):4.1f} us/req")
PY
}

scenario=fast
start nginx -c "$anchors/nginx-backends.conf" -p /tmp/sluice-anchors/; wait_port 18081; wait_port 18084
for round in $(seq "$rounds"); do
  start haproxy -f "$anchors/haproxy-roundrobin.cfg"; wait_port 18090
  measure haproxy "${pids[-1]}" http://127.0.0.1:18090/
  stop_last
  start_sluice "$here/sluice-fast.yaml"
  measure sluice "$(pgrep -f 'sluice.jar run' | head -n 1)" http://127.0.0.1:18080/
  stop_last
done
