#!/usr/bin/env bash
# Priority classes and tenant fairness under a full queue (issue 22), on loopback.
#   bench/priority.sh [seconds] [warmup]        (defaults: 30 s recorded after 10 s of filling)
# Four slow pods (bench/anchors/slow_backend.py: 20 ms, cc = 1), Sluice in front with a
# generated sluice.yaml per run, the load from bench/priority_load.py. Four runs:
#   fifo      500 batch clients + 1 interactive request/s, no queueing section (one FIFO)
#   priority  the same, classes [interactive, batch]
#   equal     tenants a (300 clients) and b (30 clients), equal weights: served shares
#   weighted  tenants a and b (100 clients each), weights a: 3, b: 1: served shares
# After each run each pod reports the most requests it held at once during the load (must
# be 1: never above cc; the unrecorded wrk warm-up before it is not counted, see run()). Stops everything it started, by pid (lib.sh's cleanup).
# Ports: SLUICE_PRIORITY_BASE (default 28080) for the proxy, +9 control, +1..+4 the pods — not
# bench/run.sh's 1808x, so it can run beside another bench; it stops if one is taken.
set -euo pipefail
secs="${1:-30}"; warm="${2:-10}"
scenario=slow
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

base="${SLUICE_PRIORITY_BASE:-28080}"
proxy=$base; control=$((base + 9)); pods=($((base + 1)) $((base + 2)) $((base + 3)) $((base + 4)))
for port in "$proxy" "$control" "${pods[@]}"; do
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then echo "port $port is in use: set SLUICE_PRIORITY_BASE" >&2; exit 1; fi
done
for port in "${pods[@]}"; do start "${load_side[@]}" python3 "$anchors/slow_backend.py" "$port"; done
for port in "${pods[@]}"; do wait_port "$port"; done

config() { # queueing section (may be empty) -> a sluice.yaml in $work
  cat > "$work/sluice.yaml" <<YAML
listen: {proxy: '127.0.0.1:$proxy', control: '127.0.0.1:$control'}
shutdown: {drainPeriod: 0s, gracePeriod: 5s}
revisions:
  - name: slow
    hosts: ['127.0.0.1']
    containerConcurrency: 1
    queueDepth: 10000
    pods: ['127.0.0.1:${pods[0]}', '127.0.0.1:${pods[1]}', '127.0.0.1:${pods[2]}', '127.0.0.1:${pods[3]}']
$1
YAML
  echo "$work/sluice.yaml"
}

run() { # name queueing-section load-args...
  local name="$1" section="$2"; shift 2
  SLUICE_LOG_LEVEL=WARN start "${sut[@]}" "$root/sluice" run --config "$(config "$section")" --io-threads 2
  wait_port "$proxy"; wait_port "$control"
  for _ in $(seq 100); do curl -s "http://127.0.0.1:$control/v1/revisions" | grep -q '"capacity" : 0' || break; sleep 0.1; done
  # The JIT: a short unrecorded run at the slow scenario's pace.
  "${load_side[@]}" wrk -t1 -c16 -d"${SLUICE_WARMUP:-5}s" -H 'Sluice-Revision: default/slow' "http://127.0.0.1:$proxy/" >/dev/null 2>&1 || true
  # wrk exits with requests out: Sluice closes their pod connections and frees the slots at
  # once, while each pod still sleeps its 20 ms on them. Let those end before the pods' peak
  # counters start over, so the peak measured is the load's alone.
  sleep 0.5
  for port in "${pods[@]}"; do curl -s "http://127.0.0.1:$port/max?reset" >/dev/null; done
  echo "$name $("${load_side[@]}" python3 "$here/priority_load.py" --port "$proxy" --seconds "$secs" --warmup "$warm" "$@")" | tee -a "$work/results"
  # Sluice's own account of the waits (warm-up included), by class: the share of requests that
  # waited at most each bucket's bound (sluice_queue_class_wait_seconds; revisions with a section).
  curl -s "http://127.0.0.1:$control/metrics" | python3 -c '
import re, sys
rows = {}
for line in sys.stdin:
    m = re.match(r"sluice_queue_class_wait_seconds_bucket\{(.*)\} (\S+)", line)
    if m:
        labels = dict(re.findall(r"(\w+)=\"([^\"]*)\"", m.group(1)))
        by_le = rows.setdefault(labels["class"], {})  # summed over tenants
        by_le[float(labels["le"])] = by_le.get(float(labels["le"]), 0) + float(m.group(2))
for cls, b in sorted(rows.items()):
    total = max(b.values())
    print("  %s waits in Sluice (n=%d):" % (cls, total), " ".join("<=%gms %.1f%%" % (le * 1000, 100 * n / total)
          for le, n in sorted(b.items()) if 0.005 <= le <= 5 and total))
' | tee -a "$work/results"
  echo "  most requests each pod held at once (cc = 1): $(for port in "${pods[@]}"; do curl -s "http://127.0.0.1:$port/max" | cut -d' ' -f1; done | tr '\n' ' ')" | tee -a "$work/results"
  stop_last
}

run fifo "" --batch 500 --interactive-every 1
run priority "    queueing: {classes: [interactive, batch]}" --batch 500 --interactive-every 1
run equal "    queueing: {classes: [default]}" --tenant a:300 --tenant b:30
run weighted "    queueing: {classes: [default], tenantWeights: {a: 3, b: 1}}" --tenant a:100 --tenant b:100
