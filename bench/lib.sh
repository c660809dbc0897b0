# Shared by bench/run.sh and bench/resilience.sh (sourced, not run): process bookkeeping,
# cleanup that stops everything the script started, bounded waits, and the one-time installs.
here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
root="$(dirname "$here")"
anchors="${SLUICE_ANCHORS:-$here/anchors}"   # the peers' configurations (bench/anchors/); SLUICE_ANCHORS overrides
work="$(mktemp -d /tmp/sluice-bench.XXXX)"; mkdir -p /tmp/sluice-anchors
pids=()

# True when $1 is a process this script started (the pid files under /tmp/sluice-anchors may
# name a process someone else started: it is never signalled).
ours() { local p; for p in "${pids[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # nginx (daemon off) does not always end on a plain TERM from a script: QUIT it through its
  # pid file, when that names a process this script started.
  local f q
  for f in /tmp/sluice-anchors/*.pid; do
    [ -f "$f" ] || continue
    q="$(cat "$f" 2>/dev/null || true)"   # nginx may remove it as it exits
    if ours "$q"; then kill -QUIT "$q" 2>/dev/null || true; rm -f "$f"; fi
  done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

need=(); for t in haproxy nginx wrk curl; do command -v "$t" >/dev/null || need+=("$t"); done
command -v ss >/dev/null || need+=(iproute2)   # ss: the slow scenario's per-pod spread
if [ ${#need[@]} -gt 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"; fi
# A tool that only some scripts use, installed when missing: need_tool h2load nghttp2-client
need_tool() { command -v "$1" >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2"; }; }
"$root/sluice" validate "$here/sluice-fast.yaml" >/dev/null   # builds the jar if needed

# SLUICE_BENCH_PIN=1 pins the system under test to CPU 0 and the load (wrk, the backends) to
# CPU 1 (taskset), so neither waits for a core the other holds: each proxy gets exactly one
# core, whatever threads it runs there. Unset, the scheduler places everything (the default).
sut=(); load_side=()
if [ -n "${SLUICE_BENCH_PIN:-}" ]; then sut=(taskset -c 0); load_side=(taskset -c 1); fi

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
start() { "$@" >>"$work/procs.log" 2>&1 & pids+=($!); }

# Stops the process started last (nginx through its pid file: it ignores a plain TERM at times).
stop_last() {
  local p="${pids[-1]}"; kill "$p" 2>/dev/null || true
  for f in /tmp/sluice-anchors/nginx-proxy.pid; do [ -f "$f" ] && [ "$(cat "$f" 2>/dev/null)" = "$p" ] && { kill -QUIT "$p" 2>/dev/null || true; }; done
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; unset 'pids[-1]'
}

# Starts Sluice, waits until its revision has pods, and warms the JIT (warm_up).
start_sluice() { # config
  SLUICE_LOG_LEVEL=WARN start "${sut[@]}" "$root/sluice" run --config "$1" --io-threads "${SLUICE_IO_THREADS:-2}"
  sluice_ready
}

# Waits until the Sluice just started listens and its revision has pods, then warms it up.
sluice_ready() {
  wait_port 18080; wait_port 18089
  for _ in $(seq 100); do curl -s http://127.0.0.1:18089/v1/revisions | grep -q '"capacity" : 0' || break; sleep 0.1; done
  # A JVM is measured warm: one unrecorded run lets the JIT compile the request path. The slow
  # scenario serves ~196 requests/s, so it needs longer: C2 waits for thousands of calls of a
  # method, which take tens of seconds there. After a 30 s warm-up the JIT threads still used
  # 160-400 ms of CPU in the measured 10 s (measured 2026-12-01, in the git history of docs/benchmarks.md); after 60 s, 39.
  warm_up
}

# The JIT warm-up: one long unrecorded run, then a second on new connections. A measured run's
# 64 new connections otherwise hit connection-setup branches that C2 had compiled as never
# taken (PrintCompilation: `Exchange.attach`, `ForwardingHeaders.addTo` "made not entrant:
# uncommon trap" at its start), and C2 recompiled during the measurement (0.4-1.2 s of CPU in
# an 8 s run on 2 cores).
# Both at the connection count that will be measured (warm_conns, default 64): at 256
# connections requests queue in Sluice (64 pod slots), and a warm-up at 64 never ran that path.
warm_up() {
  local warm=5; [ "$scenario" = slow ] && warm=60
  "${load_side[@]}" wrk -t1 -c"${warm_conns:-64}" -d"${SLUICE_WARMUP:-$warm}s" -H "Sluice-Revision: default/$scenario" http://127.0.0.1:18080/ >/dev/null 2>&1 || true
  "${load_side[@]}" wrk -t1 -c"${warm_conns:-64}" -d3s -H "Sluice-Revision: default/$scenario" http://127.0.0.1:18080/ >/dev/null 2>&1 || true
}

# CPU nanoseconds the JIT's compiler threads (C1, C2) of a JVM have used (/proc/<pid>/task/*/
# schedstat); 0 for a process that has none.
jit_ns() {
  local t n=0; for t in /proc/"$1"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in "C1 Compi"*|"C2 Compi"*) n=$((n + $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0)));; esac
  done; echo "$n"
}
# Failed requests in a wrk output file: non-2xx answers and socket errors.
wrk_errors() { awk '/Non-2xx/ {e+=$NF} /Socket errors/ {gsub(",",""); e+=$4+$6+$8+$10} END {print e+0}' "$1"; }
ticks() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
uticks() { awk '{print $14}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"

# The fast scenario's four nginx backends, for the scripts that measure with measure(); their
# master's pid goes to nginx_master.
start_fast_backends() {
  start nginx -c "$anchors/nginx-backends.conf" -p /tmp/sluice-anchors/; nginx_master="${pids[-1]}"
  wait_port 18081; wait_port 18084
}

# The worker processes of the nginx this script started: the children of its master, by pid.
nginx_workers() { [ -n "${nginx_master:-}" ] && pgrep -P "$nginx_master" | tr '\n' ' '; true; }

# The slow scenario's four slow_backend.py pods (20 ms, one request at a time each); their pids
# go to backend_pids, whose CPU measure() then counts.
start_slow_backends() {
  local port; backend_pids=""
  for port in 18081 18082 18083 18084; do start "${load_side[@]}" python3 "$anchors/slow_backend.py" "$port"; backend_pids+="${pids[-1]} "; done
  for port in 18081 18082 18083 18084; do wait_port "$port"; done
}

# One measure() of HAProxy (round robin, as the anchor), started and stopped around it.
measure_haproxy() {
  local cfg=haproxy-roundrobin.cfg port=18090
  [ "$scenario" = slow ] && { cfg=haproxy-slow.cfg; port=18093; }
  start haproxy -f "$anchors/$cfg"; wait_port "$port"
  measure haproxy "${pids[-1]}" "http://127.0.0.1:$port/"
  stop_last
}

# CPU time per request of one process during a wrk run (utime + stime from /proc/<pid>/stat,
# all threads, divided by the requests wrk completed), with the backends' and wrk's, and the
# run's percentiles (bench/percentiles.lua). Reads $secs, $conns, $scenario and, for the
# slow scenario, $backend_pids.
measure() { # name pid url
  local name=$1 pp=$2 url=$3 ngw p0 n0 u0 p1 n1 u1 w w0 w1 rps span j0 jit errs
  ngw="${backend_pids:-$(nginx_workers)}"
  span=$((secs - 1))
  p0=$(ticks "$pp"); n0=$(ticks $ngw); u0=$(uticks "$pp"); j0=$(jit_ns "$pp")
  wrk -t1 -c"$conns" -d"${secs}s" -s "$here/percentiles.lua" -H "Sluice-Revision: default/$scenario" "$url" > "$work/wrk.out" 2>&1 &
  w=$!; sleep 0.2; w0=$(ticks $w)
  sleep "$span"; w1=$(ticks $w); p1=$(ticks "$pp"); n1=$(ticks $ngw); u1=$(uticks "$pp")
  wait $w || true
  jit=$(( ($(jit_ns "$pp") - j0) / 1000000 ))
  rps="$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")"
  pct="$(grep -o 'p50=[0-9.]*ms.*p99=[0-9.]*ms' "$work/wrk.out" | sed 's/p90.*p98=[0-9.]*ms //')"
  # SLUICE_BENCH_TAIL=1: every percentile wrk's script printed, up to the maximum.
  [ -n "${SLUICE_BENCH_TAIL:-}" ] && pct="$(grep -o 'p50=.*max=[0-9.]*ms' "$work/wrk.out")"
  errs="$(wrk_errors "$work/wrk.out")"
  python3 - "$name" "$rps" "$hz" "$span" "$p0" "$p1" "$u0" "$u1" "$n0" "$n1" "$w0" "$w1" "$pct" "$jit" "$errs" <<'PY'
import sys
name, rps, hz, span = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
p0, p1, u0, u1, n0, n1, w0, w1 = map(float, sys.argv[5:13])
pct, jit, errs = sys.argv[13], int(sys.argv[14]), int(sys.argv[15])
cpu = lambda a, b: (b - a) / hz / span            # CPU seconds per second
us = lambda a, b: cpu(a, b) / rps * 1e6           # microseconds per request
print(f"{name:8} {rps:9.0f} req/s | proxy {cpu(p0,p1)*100:4.0f}% CPU, {us(p0,p1):5.1f} us/req "
      f"(user {us(u0,u1):4.1f}, system {us(p0,p1)-us(u0,u1):4.1f}) | backends {us(n0,n1):4.1f} us/req | wrk {us(w0,w1):4.1f} us/req | {pct}"
      + (f" | JIT {jit} ms" if name != "haproxy" else "") + f" | errors {errs}")
PY
}

# The four nginx h2c pods of anchors/nginx-backends-h2c.conf (bench/sluice-h2c.yaml's revision).
start_h2c_pods() {
  start nginx -c "$anchors/nginx-backends-h2c.conf" -p /tmp/sluice-anchors/
  for port in 18081 18082 18083 18084; do wait_port "$port"; done
}

# One Sluice (the java launcher's default flags, needs sluice-jvm.sh sourced) in front of the h2c
# pods, on SLUICE_IO_THREADS I/O threads (default 1, as HAProxy's one thread); returns once its
# revision has its 64 slots. Its pid goes to sluice_pid.
start_h2c_sluice() { # jar proxy-port control-port [extra JVM flags] [extra run options]
  # shellcheck disable=SC2046,SC2086
  SLUICE_LOG_LEVEL=WARN start java $(sluice_default_flags) ${4:-} -jar "$1" run --config "$here/sluice-h2c.yaml" \
    --io-threads "${SLUICE_IO_THREADS:-1}" --proxy-listen "127.0.0.1:$2" --control-listen "127.0.0.1:$3" ${5:-}
  sluice_pid="${pids[-1]}"
  wait_port "$2"; wait_port "$3"
  for _ in $(seq 100); do curl -s "http://127.0.0.1:$3/v1/revisions" | grep -q '"capacity" : 64' && break; sleep 0.2; done
}
