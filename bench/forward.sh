#!/usr/bin/env bash
# The cost of a forward between two Sluice replicas, on loopback: the same request to the
# replica that owns the revision, and to the one that forwards it there.
#   bench/forward.sh [rounds] [seconds]      (defaults: 3 rounds of 10 s per case)
# Two replicas with static peers (a: proxy 18080, control 18089; b: proxy 18070, control 18079),
# one revision 'fast' (containerConcurrency 16, so it has an owner) on the four nginx backends
# of bench/run.sh. Per round, alternating: wrk -c1 (p50 latency) and -c64 (requests/s) on the
# owner, then on the forwarder. Prints each run and the medians; stops everything it started.
set -euo pipefail
rounds="${1:-3}"; secs="${2:-10}"
scenario=fast
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

peers="    - {id: a, address: '127.0.0.1:18080', control: '127.0.0.1:18089'}
    - {id: b, address: '127.0.0.1:18070', control: '127.0.0.1:18079'}"
for id in a b; do
  if [ "$id" = a ]; then p=18080; c=18089; else p=18070; c=18079; fi
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
    pods: ['127.0.0.1:18081', '127.0.0.1:18082', '127.0.0.1:18083', '127.0.0.1:18084']
YAML
done

start_fast_backends
for id in a b; do
  SLUICE_LOG_LEVEL=WARN start "${sut[@]}" "$root/sluice" run --config "$work/$id.yaml" --io-threads "${SLUICE_IO_THREADS:-1}"
done
wait_port 18080; wait_port 18070; wait_port 18089; wait_port 18079
owner=""
for _ in $(seq 100); do
  oa="$(curl -s http://127.0.0.1:18089/v1/revisions | sed -n 's/.*"owner" : "\([ab]\)".*/\1/p')"
  ob="$(curl -s http://127.0.0.1:18079/v1/revisions | sed -n 's/.*"owner" : "\([ab]\)".*/\1/p')"
  if [ -n "$oa" ] && [ "$oa" = "$ob" ] && ! curl -s http://127.0.0.1:18089/v1/revisions | grep -q '"capacity" : 0'; then owner="$oa"; break; fi
  sleep 0.2
done
[ -n "$owner" ] || { echo "the replicas never agreed on an owner" >&2; exit 1; }
if [ "$owner" = a ]; then owned=18080; fwd=18070; else owned=18070; fwd=18080; fi
echo "owner: $owner (owned: port $owned, forwarded: port $fwd)"

run() { # port conns -> "rps p50ms p99ms errors"
  "${load_side[@]}" wrk -t1 -c"$2" -d"${secs}s" --latency -H 'Sluice-Revision: default/fast' "http://127.0.0.1:$1/" > "$work/wrk.out" 2>&1 || true
  echo "$(awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps=$2 } /^ +50%/ { p50=ms($2) } /^ +99%/ { p99=ms($2) }
    END { printf "%.0f %.3f %.3f", rps, p50, p99 }' "$work/wrk.out") $(wrk_errors "$work/wrk.out")"
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
python3 - "$work/results" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
med = {}
for case in ("owned", "forwarded"):
    for conns in ("1", "64"):
        r = [x for x in rows if x[0] == case and x[1] == conns]
        med[case, conns] = [st.median(float(x[i]) for x in r) for i in (2, 3, 4)]
        print(f"{case:9} c{conns:3} {med[case, conns][0]:9.0f} req/s  p50 {med[case, conns][1]:.3f} ms  p99 {med[case, conns][2]:.3f} ms")
print(f"added p50 at c1: {1000 * (med['forwarded', '1'][1] - med['owned', '1'][1]):.0f} us")
print(f"forwarded/owned req/s at c64: {med['forwarded', '64'][0] / med['owned', '64'][0]:.2f}")
PY
