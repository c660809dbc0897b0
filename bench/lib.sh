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
