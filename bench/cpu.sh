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

scenario=fast
start_fast_backends
for round in $(seq "$rounds"); do
  measure_haproxy
  start_sluice "$here/sluice-fast.yaml"
  # The launcher execs the JVM, so the pid start() recorded is Sluice's own.
  measure sluice "${pids[-1]}" http://127.0.0.1:18080/
  stop_last
done
