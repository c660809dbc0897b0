#!/usr/bin/env bash
# Several replicas, one limit (issue 19): 8 recording pods with cc 1, 3 Sluice processes, 64
# clients spread evenly over them; how many requests each pod ever held at once, throughput
# against the pods' ceiling, errors; in steady load, during a rolling restart, and when one
# replica is killed.
#   bench/replicas.sh [independent|cluster] [seconds]     (defaults: independent, 20 s)
#     independent  each replica routes on its own (no cluster: section; today's behaviour)
#     cluster      each replica's config has a cluster: section listing the 3 as static peers
# Environment: SLUICE_REPLICAS_WARMUP (s, default 15), SLUICE_REPLICAS_DELAY (the pods' service
# time, default 0.020 s), JAR (default sluice-server/target/sluice.jar, built by ./sluice if
# stale), JAVA (default the newest JDK in /usr/lib/jvm).
# The jar is copied at the start and run directly with the launcher's flags (as bench/ab.sh
# does), so a rebuild during the run cannot change what a restarted replica runs.
# Pods: bench/anchors/slow_backend.py (20 ms, records the most requests it held at once, GET /max);
# their measured ceiling first (bench/pods_ceiling.py: one client per pod, no proxy).
# Load: bench/replicas_load.py (closed loop, steered away from a replica that fails /readyz as a
# Service would be; a timeline for the time back to full throughput). Loopback only; every
# process is started by this script, tracked by pid and stopped at exit; every wait is bounded.
set -euo pipefail
mode="${1:-independent}"; secs="${2:-20}"
case "$mode" in independent|cluster) ;; *) echo "usage: bench/replicas.sh [independent|cluster] [seconds]" >&2; exit 2;; esac
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pods=(18101 18102 18103 18104 18105 18106 18107 18108)
proxy=(18111 18121 18131); control=(18112 18122 18132)
delay="${SLUICE_REPLICAS_DELAY:-0.020}"
ceiling="$(python3 -c "print(round(${#pods[@]} / $delay))")"   # cc 1: each pod serves 1/delay requests/s at most
rpid=(0 0 0)
java="${JAVA:-$(ls -d /usr/lib/jvm/*/bin/java | sort -V | tail -1)}"
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
jvm_opts="$(sluice_default_flags) $(version_flags "$(java_major "$java")")"
cp "${JAR:-$root/sluice-server/target/sluice.jar}" "$work/sluice.jar"

config() { # replica index -> its sluice.yaml
  local i=$1 p
  {
    echo "listen: {proxy: '127.0.0.1:${proxy[$i]}', control: '127.0.0.1:${control[$i]}'}"
    echo "shutdown: {drainPeriod: 2s, gracePeriod: 10s}   # drain > the peers' detection (cluster.health: 500ms x 2 + 400ms)"
    if [ "$mode" = cluster ]; then
      echo "cluster:"
      echo "  self: r$((i + 1))"
      echo "  peers:"
      for p in 0 1 2; do
        echo "    - {id: r$((p + 1)), address: '127.0.0.1:${proxy[$p]}', control: '127.0.0.1:${control[$p]}'}"
      done
    fi
    echo "revisions:"
    echo "  - name: slow"
    echo "    hosts: ['127.0.0.1']"
    echo "    containerConcurrency: 1"
    echo "    readinessPath: /healthz"
    echo "    pods: [$(printf "'127.0.0.1:%s', " "${pods[@]}" | sed 's/, $//')]"
  } > "$work/r$i.yaml"
}

forget() { local p keep=(); for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; pids=("${keep[@]}"); }
ready_code() { curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:${control[$1]}/readyz" || true; }
wait_ready() { # replica index; seconds it took, or fails after 60 s
  local t0; t0=$(date +%s.%N)
  for _ in $(seq 600); do
    [ "$(ready_code "$1")" = 200 ] && { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)"; return 0; }
    sleep 0.1
  done
  echo "replica r$(($1 + 1)) never became ready" >&2; return 1
}
start_replica() { # replica index
  # shellcheck disable=SC2086
  SLUICE_LOG_LEVEL=WARN start "${sut[@]}" "$java" $jvm_opts -jar "$work/sluice.jar" run --config "$work/r$1.yaml" --io-threads 1
  rpid[$1]=${pids[-1]}
}
# Signals a replica and waits (bounded: drainPeriod + gracePeriod + margin) until it has exited;
# its exit status goes to $stopped (0: every request it had finished; 3: some were cut; "killed").
stop_replica() { # replica index signal
  local p=${rpid[$1]} rc=killed
  [ "$2" = KILL ] && disown "$p" 2>/dev/null   # no "Killed" notice from bash; nothing to wait for
  kill "-$2" "$p" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  if [ "$2" != KILL ]; then rc=0; wait "$p" 2>/dev/null || rc=$?; fi
  forget "$p"; stopped=$rc
}

pods_reset() { local p; for p in "${pods[@]}"; do curl -s -m 2 "http://127.0.0.1:$p/max?reset" >/dev/null; done; }
# The most any pod held at once since the last reset, and a reset: one window of a phase.
pods_window() {
  local p line m worst=0
  for p in "${pods[@]}"; do
    line="$(curl -s -m 2 "http://127.0.0.1:$p/max?reset")"; m="${line#max=}"; m="${m%% *}"
    [ "$m" -gt "$worst" ] && worst=$m
  done
  echo "$worst"
}
# Each pod's "max=M served=S probes=P", one line per pod, and the most any pod held.
pods_report() {
  local p line worst=0 m
  for p in "${pods[@]}"; do
    line="$(curl -s -m 2 "http://127.0.0.1:$p/max")"; m="${line#max=}"; m="${m%% *}"
    [ "$m" -gt "$worst" ] && worst=$m
    printf '  pod %s: %s\n' "$p" "$line"
  done
  echo "  most requests any pod held at once: $worst (cc 1)"
}
load_args=(--proxy "$(IFS=,; echo "${proxy[*]}")" --control "$(IFS=,; echo "${control[*]}")" --conns 64)
throughput() { # load summary line -> "req/s = X (Y% of the pods' ceiling of Z req/s)"
  local rps; rps="$(grep -o 'rps=[0-9]*' <<<"$1")"; rps="${rps#rps=}"
  echo "  req/s $rps = $(python3 -c "print(f'{$rps / $ceiling * 100:.0f}')")% of the pods' nominal ceiling of $ceiling req/s," \
    "$(python3 -c "print(f'{$rps / $measured * 100:.1f}')")% of their measured ceiling of $measured req/s"
}

echo "== bench/replicas.sh $mode $secs   $(date -u +%Y-%m-%dT%H:%MZ)   harness $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo '+changes')   jar ${JAR:-sluice-server/target/sluice.jar (this checkout)}"
echo "   ${#pods[@]} pods (cc 1, $delay s each), 3 replicas, 64 clients; $(nproc) cores"
for i in 0 1 2; do
  config "$i"
  # shellcheck disable=SC2086
  "$java" $jvm_opts -jar "$work/sluice.jar" validate "$work/r$i.yaml" >/dev/null || {
    echo "replica r$((i + 1))'s configuration is not accepted by this build (mode $mode: a build without the cluster: section?)" >&2; exit 2; }
done
for p in "${pods[@]}"; do start "${load_side[@]}" python3 "$anchors/slow_backend.py" "$p" "$delay"; done
for p in "${pods[@]}"; do wait_port "$p"; done
# The pods' measured ceiling, before any replica runs: what cc-1 pods serve when each is kept
# busy by a client of its own (bench/pods_ceiling.py). The nominal ceiling (pods / delay)
# leaves out the pods' own time around each sleep; the goal is read against both.
direct="$(python3 "$here/pods_ceiling.py" --seconds "${SLUICE_REPLICAS_CEILING_SECS:-10}" "${pods[@]}")"
measured="$(grep -o 'rps=[0-9]*' <<<"$direct")"; measured="${measured#rps=}"
echo "-- the pods' own ceiling, one client per pod straight to it: $direct (nominal $ceiling req/s)"
for i in 0 1 2; do start_replica "$i"; done
for i in 0 1 2; do wait_ready "$i" >/dev/null; done
# A JVM is measured warm (lib.sh, warm_up): one unrecorded run through all three.
python3 "$here/replicas_load.py" "${load_args[@]}" --seconds "${SLUICE_REPLICAS_WARMUP:-15}" >/dev/null

echo "-- steady load, ${secs}s"
pods_reset
out="$(python3 "$here/replicas_load.py" "${load_args[@]}" --seconds "$secs")"
echo "  load: $out"; throughput "$out"; pods_report

echo "-- rolling restart: each replica in turn gets SIGTERM, exits, starts again and is waited for until /readyz is 200"
# The most any pod held is read in windows: 3 s before each step, while the replica drains
# (SIGTERM to exit: its revisions move away), while it starts and rejoins (start to ready + 3 s:
# they move back), so an overshoot is placed in the handoff that caused it.
pods_reset
python3 "$here/replicas_load.py" "${load_args[@]}" > "$work/rolling.out" & load=$!; pids+=("$load")
worst=0
for i in 0 1 2; do
  sleep 3; w_before=$(pods_window)   # 3 s of steady load with all three
  t0=$(date +%s.%N); stop_replica "$i" TERM
  down=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)")
  w_drain=$(pods_window)
  start_replica "$i"; up=$(wait_ready "$i")
  sleep 3
  w_join=$(pods_window)
  for w in "$w_before" "$w_drain" "$w_join"; do [ "$w" -gt "$worst" ] && worst=$w; done
  echo "  r$((i + 1)): exited ${down}s after SIGTERM with status $stopped, ready ${up}s after its start;" \
    "most any pod held at once: before $w_before, while it drained $w_drain, while it started and rejoined $w_join"
done
kill -TERM "$load"; wait "$load" || true; forget "$load"
w_after=$(pods_window); [ "$w_after" -gt "$worst" ] && worst=$w_after
out="$(cat "$work/rolling.out")"
echo "  load: $out"; throughput "$out"
echo "  most requests any pod held at once: $worst (cc 1)"

echo "-- SIGKILL of r2 after 5 s of load; ${secs}s more"
pods_reset
python3 "$here/replicas_load.py" "${load_args[@]}" --timeline "$work/kill.timeline" > "$work/kill.out" & load=$!; pids+=("$load")
sleep 5
killed_at=$(date +%s.%N); stop_replica 1 KILL
sleep "$secs"
kill -TERM "$load"; wait "$load" || true; forget "$load"
out="$(cat "$work/kill.out")"
echo "  load: $out"; throughput "$out"
python3 - "$work/kill.timeline" "$killed_at" "$ceiling" <<'PY'
import sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
killed, ceiling = float(sys.argv[2]), float(sys.argv[3])
step = 0.25
start = rows[0][0]
n = int(round((rows[-1][0] - start) / step)) + 1
ok = [0.0] * n; failed = [0.0] * n
for t, o, f, _ in rows:
    i = int(round((t - start) / step)); ok[i] += o; failed[i] += f
ok, failed = ok[1:-1], failed[1:-1]           # the first and last buckets are partial
times = [start + (i + 1) * step for i in range(len(ok))]
rate = lambda i: ok[i] / step
before = sorted(rate(i) for i, t in enumerate(times) if killed - 4 <= t < killed - step)
base = before[len(before) // 2] if before else ceiling
want = 0.97 * min(base, ceiling)
after = [i for i, t in enumerate(times) if t >= killed - step]
dip = min((rate(i) for i in after), default=0)
fails = sum(failed[i] for i in after)
# back: the first whole second (4 buckets) from the kill on that served >= 97% of min(ceiling, the rate before)
back = next((i for i in after if i + 4 <= len(ok) and sum(ok[i:i + 4]) >= want), None)
seconds = [sum(ok[i:i + 4]) for i in after[::4] if i + 4 <= len(ok)][:6]
print(f"  before the kill {base:.0f} req/s; lowest 250-ms rate after it {dip:.0f} req/s; failed after it {fails:.0f}")
print("  each second from the kill: " + " ".join(f"{r:.0f}" for r in seconds) + " req/s")
print("  back to >= 97% of min(ceiling, rate before) for a whole second: " + ("never within the run" if back is None
      else f"from {max(0.0, times[back] - killed):.2f} s after the kill"))
PY
pods_report
echo "  (the killed replica's in-flight requests are the failures it may cause: per_replica_failed above, r2 second)"
