#!/usr/bin/env bash
# HTTP/2 side by side: h2load (h2c with prior knowledge, Debian's nghttp2-client) against Sluice
# and HAProxy, both speaking h2c to the same four nginx h2c pods (anchors/nginx-backends-h2c.conf;
# Sluice cc 16 = HAProxy maxconn 16 per server), one after the other in each round, each with
# requests/s, p50/p99 (from h2load's per-request log), errors and CPU time per request.
#   bench/h2.sh [rounds] [seconds] [conns] [streams per connection]   (defaults 3 10 64 10)
#   JAR_A=/tmp/old.jar JAR_B=/tmp/new.jar bench/h2.sh …   an A/B: HAProxy, A and B in each round
# SLUICE_IO_THREADS (default 1, as HAProxy's one thread); SLUICE_WARMUP: seconds of the first,
# unrecorded h2load run before Sluice is measured (default 8; the JIT is not done by then, see
# docs/benchmarks.md, "HTTP/2"). Loopback only; stops all it started.
set -euo pipefail
scenario=fast
rounds="${1:-3}"; secs="${2:-10}"; conns="${3:-64}"; streams="${4:-10}"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tool h2load nghttp2-client

start nginx -c "$anchors/nginx-backends-h2c.conf" -p /tmp/sluice-anchors/; nginx_master="${pids[-1]}"
for port in 18081 18082 18083 18084; do wait_port "$port"; done

h2run() { # name pid url
  local name=$1 pp=$2 url=$3 p0 p1
  rm -f "$work/h2load.log"
  p0=$(ticks "$pp")
  h2load -c"$conns" -m"$streams" -D"$secs" -H "Sluice-Revision: default/fast" --log-file="$work/h2load.log" "$url" \
    > "$work/h2load.out" 2>&1 || true
  p1=$(ticks "$pp")
  python3 - "$name" "$work/h2load.out" "$work/h2load.log" "$p0" "$p1" "$hz" <<'PY'
import re, sys
name, out, log, p0, p1, hz = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rps = re.search(r"finished in [0-9.]+s, ([0-9.]+) req/s", out)
req = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
d = sorted(int(l.split()[2]) for l in open(log) if len(l.split()) >= 3)
pct = lambda q: d[min(len(d) - 1, int(q * len(d)))] / 1000 if d else float("nan")
ok = int(req.group(4)) if req else 0
errors = (int(req.group(5)) + int(req.group(6)) if req else -1) + (int(codes.group(4)) + int(codes.group(3)) if codes else 0)
cpu = (p1 - p0) / hz * 1e6 / ok if ok else float("nan")
print(f"{name:8s} {float(rps.group(1)) if rps else 0:10.0f} req/s  p50 {pct(.5):6.2f} ms  p99 {pct(.99):6.2f} ms"
      f"  errors {errors}  cpu {cpu:5.1f} us/req")
PY
}

# The launcher's flags, for the A/B's jars (run directly, not through ./sluice).
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
sluice_up() { # [jar]
  if [ -n "${1:-}" ]; then
    # shellcheck disable=SC2046
    SLUICE_LOG_LEVEL=WARN start "${sut[@]}" java $(sluice_default_flags) -jar "$1" run --config "$here/sluice-h2c.yaml" \
      --io-threads "${SLUICE_IO_THREADS:-1}"
  else
    SLUICE_LOG_LEVEL=WARN start "${sut[@]}" "$root/sluice" run --config "$here/sluice-h2c.yaml" --io-threads "${SLUICE_IO_THREADS:-1}"
  fi
  wait_port 18080; wait_port 18089
  for _ in $(seq 100); do curl -s http://127.0.0.1:18089/v1/revisions | grep -q '"capacity" : 0' || break; sleep 0.1; done
  # The JIT warm-up (lib.sh, warm_up): unrecorded h2load runs on the path that is measured.
  h2load -c"$conns" -m"$streams" -D"${SLUICE_WARMUP:-8}" -H "Sluice-Revision: default/fast" http://127.0.0.1:18080/ >/dev/null 2>&1 || true
  h2load -c"$conns" -m"$streams" -D3 -H "Sluice-Revision: default/fast" http://127.0.0.1:18080/ >/dev/null 2>&1 || true
}

echo "h2load -c$conns -m$streams -D$secs, h2c both sides, 4 nginx h2c pods; $(date -u +%F)"
for round in $(seq "$rounds"); do
  echo "round $round"
  start haproxy -f "$anchors/haproxy-h2c.cfg"; wait_port 18095
  h2load -c"$conns" -m"$streams" -D3 http://127.0.0.1:18095/ >/dev/null 2>&1 || true
  h2run haproxy "${pids[-1]}" http://127.0.0.1:18095/
  stop_last
  if [ -n "${JAR_A:-}" ]; then
    for v in A B; do
      j="JAR_$v"; sluice_up "${!j}"
      h2run "$v" "${pids[-1]}" http://127.0.0.1:18080/
      stop_last
    done
  else
    sluice_up
    h2run sluice "${pids[-1]}" http://127.0.0.1:18080/
    stop_last
  fi
done
