#!/usr/bin/env bash
# Load comparison: Sluice against HAProxy and nginx (and the backends directly), side by side.
#   bench/run.sh [rounds] [seconds]      (defaults: 3 rounds of 10 s per system and load)
#   SLUICE_BENCH_ONLY=fast|slow bench/run.sh …   (one scenario only)
#   SLUICE_BENCH_PIN=1 bench/run.sh …            (system under test on CPU 0, load on CPU 1)
# Installs what is missing (haproxy nginx wrk), starts every process it needs on loopback,
# alternates the systems A B C … within each round, stops everything it started, and prints
# medians and ratios. Bounded: every load run is wrk -d<seconds>, every wait has a limit.
set -euo pipefail
rounds="${1:-3}"; secs="${2:-10}"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# One wrk run -> "rps p50ms p99ms errors"
load() { # url conns
  "${load_side[@]}" wrk -t1 -c"$2" -d"${secs}s" --latency -H 'Sluice-Revision: default/'"$scenario" "$1" > "$work/wrk.out" 2>&1 || true
  echo "$(awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps=$2 }
    /^ +50%/ { p50=ms($2) } /^ +99%/ { p99=ms($2) }
    END { printf "%.0f %.3f %.3f", rps, p50, p99 }' "$work/wrk.out") $(wrk_errors "$work/wrk.out")"
}


results="$work/results"; : > "$results"
record() { echo "$1 $2 $3 $(load "$4" "$3")" | tee -a "$results"; }   # system scenario conns url
# As record, and how evenly the run spread over the four pods (bench/podshare.py: each pod's
# share of the bytes its sockets received, taken from the kernel, the same for every system).
# The second snapshot is taken 1 s before the run ends, while the load still runs: when wrk
# exits, Sluice closes the pod connections of the requests still in flight (their work is
# cancelled), and their byte counts would go with them.
record_spread() { # system scenario conns url
  ss -tinH state established > "$work/ss0"
  ( sleep "$((secs - 1))"; ss -tinH state established > "$work/ss1" ) & local snap=$!
  record "$@"
  wait "$snap"
  echo "$1 $2 $3 $(python3 "$here/podshare.py" "$work/ss0" "$work/ss1" 18081 18082 18083 18084)" | tee -a "$work/spread"
}

# ---------------------------------------------------------------- scenario 1: fast backends
only="${SLUICE_BENCH_ONLY:-fast slow}"   # e.g. SLUICE_BENCH_ONLY=slow bench/run.sh 3 10
if [[ " $only " == *" fast "* ]]; then
scenario=fast
start "${load_side[@]}" nginx -c "$anchors/nginx-backends.conf" -p /tmp/sluice-anchors/; wait_port 18081; wait_port 18084
for round in $(seq "$rounds"); do
  for conns in 64 256; do
    record direct fast "$conns" http://127.0.0.1:18081/
    start "${sut[@]}" haproxy -f "$anchors/haproxy-roundrobin.cfg"; wait_port 18090
    record haproxy fast "$conns" http://127.0.0.1:18090/; stop_last
    start "${sut[@]}" nginx -c "$anchors/nginx-proxy.conf" -p /tmp/sluice-anchors/; wait_port 18092
    record nginx fast "$conns" http://127.0.0.1:18092/; stop_last
    # One I/O thread, as HAProxy's nbthread 1 (like for like), and one per core (the default).
    # Warmed at the connection count it is measured at (lib.sh, warm_up).
    warm_conns=$conns SLUICE_IO_THREADS=1 start_sluice "$here/sluice-fast.yaml"
    record sluice fast "$conns" http://127.0.0.1:18080/; stop_last
    warm_conns=$conns SLUICE_IO_THREADS=2 start_sluice "$here/sluice-fast.yaml"
    record sluice-2t fast "$conns" http://127.0.0.1:18080/; stop_last
  done
done
cleanup; pids=()
fi

# ---------------------------------------------------------------- scenario 2: slow backends, cc = 1
if [[ " $only " == *" slow "* ]]; then
scenario=slow
for port in 18081 18082 18083 18084; do start "${load_side[@]}" python3 "$anchors/slow_backend.py" "$port"; done
for port in 18081 18082 18083 18084; do wait_port "$port"; done
for round in $(seq "$rounds"); do
  start "${sut[@]}" haproxy -f "$anchors/haproxy-slow.cfg"; wait_port 18093
  record_spread haproxy slow 32 http://127.0.0.1:18093/; stop_last
  SLUICE_IO_THREADS=1 start_sluice "$here/sluice-slow.yaml"
  record_spread sluice slow 32 http://127.0.0.1:18080/; stop_last
done
cleanup; pids=()
fi

# ---------------------------------------------------------------- summary
echo
python3 "$here/summarize.py" "$results"
echo; echo "requests per pod, slow scenario (each round):"; cat "$work/spread" 2>/dev/null || true
cat "$results" "$work/spread" > "${SLUICE_BENCH_OUT:-/tmp/sluice-bench-results.txt}" 2>/dev/null || true
