#!/usr/bin/env bash
# What a new HTTP/2 connection costs its first requests, Sluice against HAProxy: the
# bench/h2-steady.sh set-up (four nginx h2c pods; Sluice on one I/O thread, HAProxy on one
# thread), Sluice warmed with 30 s of load and 100 rounds of 64 new connections, then each shape
# of burst 15 times against each proxy, every one on new connections: h2load's min / mean / max
# time per request of the last 10, and their medians.
#   bench/h2-fresh.sh
#   OPTS='--transport epoll' bench/h2-fresh.sh   (options added to Sluice's `run`)
#   PROFILE=1 bench/h2-fresh.sh   (then Sluice's CPU per new connection: after 30 s more of them,
#                                  15 s of 64-connection bursts of one request each under
#                                  `perf record`, by thread, and the top symbols of Sluice's I/O
#                                  thread; then HAProxy's over 15 s the same way)
# Loopback only; stops all it started.
set -euo pipefail
scenario=fast
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tool h2load nghttp2-client
if [ -n "${PROFILE:-}" ]; then need_tool perf linux-perf; fi
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
start_h2c_pods
start haproxy -f "$anchors/haproxy-h2c.cfg"; hp="${pids[-1]}"; wait_port 18095
start_h2c_sluice "$root/sluice-server/target/sluice.jar" 18080 18089 "" "${OPTS:-}"; sl="$sluice_pid"
h2() { h2load "$@" -H "Sluice-Revision: default/fast" 2>&1; }
for _ in 1 2 3; do h2 -c64 -m10 -D10 http://127.0.0.1:18080/ > /dev/null || true; done
for _ in $(seq 100); do h2 -c64 -n640 -m10 http://127.0.0.1:18080/ > /dev/null || true; done
echo "time per request on new connections (h2load), medians of 10 bursts; $(date -u +%FT%TZ)"
for shape in "-c1 -n1" "-c1 -n10 -m10" "-c64 -n64 -m1" "-c64 -n640 -m10"; do
  for target in sluice:18080 haproxy:18095; do
    # shellcheck disable=SC2086
    for _ in $(seq 15); do h2 $shape "http://127.0.0.1:${target#*:}/" | awk '/^time for request:/ {print $4, $6, $5}'; done \
      | tail -10 | python3 -c '
import statistics, sys
ms = lambda v: float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-2]) if v.endswith("ms") else float(v[:-1]) * 1000
rows = [[ms(v) for v in l.split()] for l in sys.stdin if l.strip()]
m = [statistics.median(c) for c in zip(*rows)]
print(f"{sys.argv[1]:16s} {sys.argv[2]:8s} min {m[0]:6.2f} ms  mean {m[1]:6.2f} ms  max {m[2]:6.2f} ms")' "$shape" "${target%%:*}"
  done
done
if [ -n "${PROFILE:-}" ]; then
  # 30 s of the same bursts first, unmeasured: C2 compiles the connection-opening path over
  # the first ~60 s of such traffic (PrintCompilation; 14 compilations in the 15 s after that).
  end=$((SECONDS + 30)); while [ "$SECONDS" -lt "$end" ]; do h2 -c64 -n64 -m1 http://127.0.0.1:18080/ > /dev/null || true; done
  t0=$(ticks "$sl")
  perf record -F 1999 -p "$sl" -o "$work/perf.data" -- sleep 15 > /dev/null 2>&1 &
  perf_pid=$!
  end=$((SECONDS + 15)); n=0
  while [ "$SECONDS" -lt "$end" ]; do h2 -c64 -n64 -m1 http://127.0.0.1:18080/ > /dev/null || true; n=$((n + 1)); done
  wait "$perf_pid" || true
  t1=$(ticks "$sl")
  cpu=$(python3 -c "print(round(($t1 - $t0) / $hz * 1e6 / ($n * 64), 1))")
  echo "$n bursts, $((n * 64)) connections: Sluice's CPU $cpu us per connection (one request each); by thread:"
  perf report -i "$work/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -4 \
    | awk -v c="$cpu" '{sub("%", "", $1); printf "  %-18s %5.1f us\n", $2, $1 * c / 100}'
  jcmd "$sl" Compiler.perfmap > /dev/null
  echo "the I/O thread's top symbols (share of the process's samples):"
  perf report -i "$work/perf.data" --no-children --comm "$(perf report -i "$work/perf.data" --no-children --sort comm \
    --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | awk '/sluice-io/ {print $2; exit}')" --sort dso,sym --stdio -g none 2>/dev/null \
    | grep -E '^ +[0-9]' | sed -n 1,40p | cut -c1-160   # sed reads to the end: no SIGPIPE for perf under pipefail
  t0=$(ticks "$hp"); end=$((SECONDS + 15)); n=0
  while [ "$SECONDS" -lt "$end" ]; do h2 -c64 -n64 -m1 http://127.0.0.1:18095/ > /dev/null || true; n=$((n + 1)); done
  t1=$(ticks "$hp")
  echo "HAProxy, the same 15 s: $n bursts, CPU $(python3 -c "print(round(($t1 - $t0) / $hz * 1e6 / ($n * 64), 1))") us per connection"
fi
