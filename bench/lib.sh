# Shared by bench/run.sh and bench/resilience.sh (sourced, not run): process bookkeeping,
# cleanup that stops everything the script started, bounded waits, and the one-time installs.
here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
root="$(dirname "$here")"
anchors="${SLUICE_ANCHORS:-$root/../shared/anchors}"
work="$(mktemp -d /tmp/sluice-bench.XXXX)"; mkdir -p /tmp/sluice-anchors
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # nginx (daemon off) does not always end on a plain TERM from a script: stop it by its pid file.
  for f in /tmp/sluice-anchors/*.pid; do [ -f "$f" ] && { kill -QUIT "$(cat "$f" 2>/dev/null)" 2>/dev/null || true; }; rm -f "$f"; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

need=(); for t in haproxy nginx wrk curl; do command -v "$t" >/dev/null || need+=("$t"); done
if [ ${#need[@]} -gt 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"; fi
"$root/sluice" validate "$here/sluice-fast.yaml" >/dev/null   # builds the jar if needed

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
start() { "$@" >>"$work/procs.log" 2>&1 & pids+=($!); }

# Stops the process started last (nginx through its pid file: it ignores a plain TERM at times).
stop_last() {
  local p="${pids[-1]}"; kill "$p" 2>/dev/null || true
  for f in /tmp/sluice-anchors/nginx-proxy.pid; do [ -f "$f" ] && [ "$(cat "$f" 2>/dev/null)" = "$p" ] && { kill -QUIT "$p" 2>/dev/null || true; }; done
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; unset 'pids[-1]'
}

# Starts Sluice, waits until its revision has pods, and warms the JIT with one unrecorded run.
start_sluice() { # config
  SLUICE_LOG_LEVEL=WARN start "$root/sluice" run --config "$1" --io-threads "${SLUICE_IO_THREADS:-2}"
  wait_port 18080; wait_port 18089
  for _ in $(seq 100); do curl -s http://127.0.0.1:18089/v1/revisions | grep -q '"capacity" : 0' || break; sleep 0.1; done
  # A JVM is measured warm: one unrecorded run lets the JIT compile the request path. The slow
  # scenario serves ~196 requests/s, so it needs longer: after 5-10 s there, C2 still used
  # 100-145 ms of CPU per second during the measured run, and the pods' 20 ms answers came late.
  local warm=5; [ "$scenario" = slow ] && warm=30
  wrk -t1 -c64 -d"${SLUICE_WARMUP:-$warm}s" -H "Sluice-Revision: default/$scenario" http://127.0.0.1:18080/ >/dev/null 2>&1 || true
}
