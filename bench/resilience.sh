#!/usr/bin/env bash
# Scenarios 3-5 of the load comparison: churn, burst from zero, memory.
#   bench/resilience.sh [rounds] [seconds]     (defaults: 3 rounds, 10 s)
# Loopback only; every process it starts is stopped at exit; every wait is bounded.
set -euo pipefail
rounds="${1:-3}"; secs="${2:-10}"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
stop_pid() { kill "$1" 2>/dev/null || true; for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
report() { curl -s -o /dev/null -w '%{http_code}' -d "{\"revision\":\"$1\",\"podId\":\"$2\",\"address\":\"$2\",\"state\":\"$3\"}" http://127.0.0.1:18089/v1/pods; }
wrk_summary() { awk 'function ms(v){ if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
  /Requests\/sec/{r=$2} /^ +99%/{p=ms($2)} /Non-2xx/{e+=$NF} /Socket errors/{gsub(",",""); e+=$4+$6+$8+$10}
  END{printf "req/s=%.0f p99_ms=%.2f errors=%d\n", r, p, e+0}' "$1"; }
jcmd_of() { echo "$(dirname "$(readlink -f "/proc/$1/exe")")/jcmd"; }
heap_used_mb() { local j; j="$(jcmd_of "$1")"; "$j" "$1" GC.run >/dev/null; "$j" "$1" GC.heap_info | awk 'match($0, /used [0-9]+K/) { print substr($0, RSTART+5, RLENGTH-6)/1024; exit }'; }
rss_mb() { awk '/VmRSS/ { print $2/1024 }' "/proc/$1/status"; }

echo "== scenario 3: churn (a pod drains and comes back every second, fast backends, c64, ${secs}s)"
start nginx -c "$anchors/nginx-backends.conf" -p /tmp/sluice-anchors/; wait_port 18084
sed "s#^global#global\n  stats socket $work/haproxy.sock level admin#" "$anchors/haproxy-roundrobin.cfg" > "$work/haproxy.cfg"
hactl() { python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+'\n').encode()); s.recv(4096)" "$work/haproxy.sock" "$1"; }
for round in $(seq "$rounds"); do
  start haproxy -f "$work/haproxy.cfg"; hp=${pids[-1]}; wait_port 18090
  wrk -t1 -c64 -d"${secs}s" --latency http://127.0.0.1:18090/ > "$work/wrk.out" 2>&1 &
  w=$!; i=0
  while kill -0 "$w" 2>/dev/null; do
    p=$((i % 4 + 1)); hactl "set server pods/p$p state drain"; sleep 0.5; hactl "set server pods/p$p state ready"; sleep 0.5; i=$((i+1))
  done
  echo "haproxy churn: $(wrk_summary "$work/wrk.out") drains=$i"; stop_pid "$hp"; unset 'pids[-1]'
  SLUICE_LOG_LEVEL=WARN start "$root/sluice" run --config "$here/sluice-fast.yaml" --io-threads 2; sp=${pids[-1]}; wait_port 18089
  for _ in $(seq 100); do curl -s http://127.0.0.1:18089/v1/revisions | grep -q '"capacity" : 64' && break; sleep 0.1; done
  wrk -t1 -c64 -d5s http://127.0.0.1:18080/ -H 'Sluice-Revision: default/fast' >/dev/null 2>&1 || true
  wrk -t1 -c64 -d"${secs}s" --latency -H 'Sluice-Revision: default/fast' http://127.0.0.1:18080/ > "$work/wrk.out" 2>&1 &
  w=$!; i=0; bad=0
  while kill -0 "$w" 2>/dev/null; do
    a="127.0.0.1:$((18081 + i % 4))"
    [ "$(report default/fast "$a" draining)" = 200 ] || bad=$((bad+1)); sleep 0.5
    [ "$(report default/fast "$a" ready)" = 200 ] || bad=$((bad+1)); sleep 0.5; i=$((i+1))
  done
  echo "sluice churn: $(wrk_summary "$work/wrk.out") drains=$i control_failures=$bad"; stop_pid "$sp"; unset 'pids[-1]'
done

echo "== scenario 4: burst from zero (1,000 requests, no pod ready; 4 pods report READY after 2 s)"
for round in $(seq "$rounds"); do
  SLUICE_LOG_LEVEL=WARN start "$root/sluice" run --config "$here/sluice-burst.yaml" --io-threads 2; sp=${pids[-1]}; wait_port 18089; wait_port 18080
  python3 "$here/burst.py" 18080 1000 --revision default/burst --timeout 60 > "$work/burst.out" &
  b=$!; sleep 2
  for port in 18081 18082 18083 18084; do report default/burst "127.0.0.1:$port" ready >/dev/null; done
  wait "$b"; echo "sluice burst: $(cat "$work/burst.out")"
  stop_pid "$sp"; unset 'pids[-1]'
done
cleanup; pids=()

echo "== scenario 5: memory (resident set and heap after a full GC)"
start nginx -c "$anchors/nginx-backends.conf" -p /tmp/sluice-anchors/; wait_port 18084
SLUICE_LOG_LEVEL=WARN start "$root/sluice" run --config "$here/sluice-fast.yaml" --io-threads 2; sp=${pids[-1]}; wait_port 18089
for _ in $(seq 100); do curl -s http://127.0.0.1:18089/v1/revisions | grep -q '"capacity" : 64' && break; sleep 0.1; done
jp="$sp"   # the launcher execs the JVM: the pid start() recorded is Sluice's own
echo "idle: rss_mb=$(rss_mb "$jp") heap_used_mb=$(heap_used_mb "$jp")"
wrk -t1 -c256 -d"${secs}s" -H 'Sluice-Revision: default/fast' http://127.0.0.1:18080/ > /dev/null 2>&1 & w=$!
sleep $((secs / 2)); echo "under scenario-1 load (c256): rss_mb=$(rss_mb "$jp")"; wait "$w"
stop_pid "$sp"; unset 'pids[-1]'
start python3 "$anchors/slow_backend.py" 18085 600; wait_port 18085
SLUICE_LOG_LEVEL=WARN start "$root/sluice" run --config "$here/sluice-hold.yaml" --io-threads 2; sp=${pids[-1]}; wait_port 18089; wait_port 18080
for _ in $(seq 100); do curl -s http://127.0.0.1:18089/v1/revisions | grep -q '"capacity" : 1' && break; sleep 0.1; done
jp="$sp"
idle_heap=$(heap_used_mb "$jp"); idle_rss=$(rss_mb "$jp")
mkfifo "$work/hold.in"
python3 "$here/burst.py" 18080 10001 --revision default/hold --hold < "$work/hold.in" > "$work/hold.out" 2>&1 & h=$!
exec 7>"$work/hold.in"
for _ in $(seq 600); do q=$(curl -s http://127.0.0.1:18089/metrics | awk '/^sluice_revision_queued/ {print $2}'); [ "${q%.*}" -ge 10000 ] 2>/dev/null && break; sleep 0.1; done
held_heap=$(heap_used_mb "$jp"); held_rss=$(rss_mb "$jp")
echo "10,000 queued (queued=$q): heap_used_mb=$held_heap (idle $idle_heap) rss_mb=$held_rss (idle $idle_rss)"
python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'heap for 10,000 waiting requests: {b-a:.1f} MB ({(b-a)*1048576/10000:.0f} B each)')" "$idle_heap" "$held_heap"
exec 7>&-; wait "$h" || true
for _ in $(seq 100); do q=$(curl -s http://127.0.0.1:18089/metrics | awk '/^sluice_revision_queued/ {print $2}'); [ "${q%.*}" = 0 ] && break; sleep 0.1; done
echo "after the clients left: queued=$q"
