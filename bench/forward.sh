#!/usr/bin/env bash
# The cost of a forward between two Sluice replicas, on loopback: the same request to the
# replica that owns the revision, and to the one that forwards it there.
#   bench/forward.sh [rounds] [seconds]      (defaults: 3 rounds of 10 s per case)
# Two replicas with static peers (a: proxy 18180, control 18189; b: proxy 18170, control 18179),
# one revision 'fast' (containerConcurrency 16, so it has an owner) on four nginx backends like
# bench/run.sh's (ports 18181-18184 here, so that it can run beside bench/run.sh). Per round, alternating: wrk -c1 (p50 latency) and -c64 (requests/s) on the
# owner, then on the forwarder. Prints each run and the medians; stops everything it started.
# It also reads each replica's CPU time (utime + stime, /proc/<pid>/stat) around every c64 run:
# the receiving replica's CPU per request, owned against forwarding, is what its requests/s
# would be in proportion to with cores of its own (here wrk, nginx and both replicas share them).
set -euo pipefail
rounds="${1:-3}"; secs="${2:-10}"
scenario=fast
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

peers="    - {id: a, address: '127.0.0.1:18180', control: '127.0.0.1:18189'}
    - {id: b, address: '127.0.0.1:18170', control: '127.0.0.1:18179'}"
for id in a b; do
  if [ "$id" = a ]; then p=18180; c=18189; else p=18170; c=18179; fi
  cat > "$work/$id.yaml" <<YAML
listen: {proxy: '127.0.0.1:$p', control: '127.0.0.1:$c'}
shutdown: {drainPeriod: 2s, gracePeriod: 5s}
cluster:
  self: $id
  peers:
$peers
revisions:
  - name: fast
    containerConcurrency: 16
    pods: ['127.0.0.1:18181', '127.0.0.1:18182', '127.0.0.1:18183', '127.0.0.1:18184']
YAML
done

sed -e 's/1808\([1-4]\)/1818\1/' -e 's/nginx-backends/nginx-forward-backends/' "$anchors/nginx-backends.conf" > "$work/backends.conf"
start nginx -c "$work/backends.conf" -p /tmp/sluice-anchors/
slow_port() { for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
slow_port 18181; slow_port 18184
declare -A jvm
for id in a b; do
  SLUICE_LOG_LEVEL=WARN start "${sut[@]}" "$root/sluice" run --config "$work/$id.yaml" --io-threads "${SLUICE_IO_THREADS:-1}"
  jvm[$id]="${pids[-1]}"   # the launcher execs the JVM: this is its pid
done
slow_port 18180; slow_port 18170; slow_port 18189; slow_port 18179
owner=""
for _ in $(seq 100); do
  oa="$(curl -s http://127.0.0.1:18189/v1/revisions | sed -n 's/.*"owner" : "\([ab]\)".*/\1/p')"
  ob="$(curl -s http://127.0.0.1:18179/v1/revisions | sed -n 's/.*"owner" : "\([ab]\)".*/\1/p')"
  if [ -n "$oa" ] && [ "$oa" = "$ob" ] && ! curl -s http://127.0.0.1:18189/v1/revisions | grep -q '"capacity" : 0'; then owner="$oa"; break; fi
  sleep 0.2
done
[ -n "$owner" ] || { echo "the replicas never agreed on an owner" >&2; exit 1; }
if [ "$owner" = a ]; then owned=18180; fwd=18170; other=b; else owned=18170; fwd=18180; other=a; fi
owner_pid="${jvm[$owner]}"; fwd_pid="${jvm[$other]}"
echo "owner: $owner (owned: port $owned, forwarded: port $fwd)"

run() { # port conns -> "rps p50ms p99ms errors requests owner-ticks forwarder-ticks"
  local o0 f0
  o0=$(ticks "$owner_pid"); f0=$(ticks "$fwd_pid")
  "${load_side[@]}" wrk -t1 -c"$2" -d"${secs}s" --latency -H 'Sluice-Revision: default/fast' "http://127.0.0.1:$1/" > "$work/wrk.out" 2>&1 || true
  echo "$(awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps=$2 } /^ +50%/ { p50=ms($2) } /^ +99%/ { p99=ms($2) } / requests in / { n=$1 }
    END { printf "%.0f %.3f %.3f", rps, p50, p99 }' "$work/wrk.out") $(wrk_errors "$work/wrk.out") \
$(awk '/ requests in / { print $1 }' "$work/wrk.out") $(( $(ticks "$owner_pid") - o0 )) $(( $(ticks "$fwd_pid") - f0 ))"
}
# Warm both paths (the JIT compiles the request path, the forwarder's pool fills).
for port in $owned $fwd; do
  "${load_side[@]}" wrk -t1 -c64 -d"${SLUICE_WARMUP:-8}s" -H 'Sluice-Revision: default/fast' "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
done
: > "$work/results"
for round in $(seq "$rounds"); do
  for conns in 1 64; do
    echo "owned $conns $(run $owned $conns)" | tee -a "$work/results"
    echo "forwarded $conns $(run $fwd $conns)" | tee -a "$work/results"
  done
done
echo "median of $rounds rounds (rps p50ms p99ms):"
python3 - "$work/results" "$hz" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
hz = float(sys.argv[2])
med = {}
for case in ("owned", "forwarded"):
    for conns in ("1", "64"):
        r = [x for x in rows if x[0] == case and x[1] == conns]
        med[case, conns] = [st.median(float(x[i]) for x in r) for i in (2, 3, 4)]
        print(f"{case:9} c{conns:3} {med[case, conns][0]:9.0f} req/s  p50 {med[case, conns][1]:.3f} ms  p99 {med[case, conns][2]:.3f} ms")
print(f"added p50 at c1: {1000 * (med['forwarded', '1'][1] - med['owned', '1'][1]):.0f} us")
print(f"forwarded/owned req/s at c64: {med['forwarded', '64'][0] / med['owned', '64'][0]:.2f}")
# CPU per request at c64 (microseconds): columns 6 requests, 7 owner ticks, 8 forwarder ticks.
us = lambda x, col: float(x[col]) / hz / float(x[6]) * 1e6
owned = [us(x, 7) for x in rows if x[0] == "owned" and x[1] == "64"]
fwd_self = [us(x, 8) for x in rows if x[0] == "forwarded" and x[1] == "64"]
fwd_owner = [us(x, 7) for x in rows if x[0] == "forwarded" and x[1] == "64"]
print("CPU per request at c64 (us), per round: owner serving its own "
      + ", ".join(f"{v:.1f}" for v in owned) + "; forwarder forwarding " + ", ".join(f"{v:.1f}" for v in fwd_self)
      + " (the owner behind it " + ", ".join(f"{v:.1f}" for v in fwd_owner) + ")")
print(f"receiving replica's CPU per request, owned/forwarding (medians): {st.median(owned) / st.median(fwd_self):.2f}"
      " (its requests/s with cores of its own, forwarding against owning)")
PY
