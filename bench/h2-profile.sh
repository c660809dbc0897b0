#!/usr/bin/env bash
# Where an HTTP/2-relaying Sluice spends its CPU, native and kernel code included (JFR sees
# Java frames only): the bench/h2-steady.sh set-up (four nginx h2c pods, h2load -c64 -m10),
# one Sluice warmed, then `perf record` on its pid during one load window; JIT-compiled
# symbols come from `jcmd <pid> Compiler.perfmap`. Prints the CPU time per request and the top
# symbols by self time, then the shares by object (kernel, JIT code, libjvm, Netty's native
# library).
#   bench/h2-profile.sh [seconds] [warm-up seconds]   (defaults 20 40)
#   OPTS='--transport epoll' bench/h2-profile.sh     (options added to Sluice's `run`)
#   OUT=/tmp/dir: where perf.data and the reports stay (default: a fresh directory under /tmp)
# Needs perf (linux-perf) with cpu-clock sampling allowed. Loopback only; stops all it started.
set -euo pipefail
scenario=fast
secs="${1:-20}"; warm="${2:-40}"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tool h2load nghttp2-client
need_tool perf linux-perf
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
out="${OUT:-$(mktemp -d /tmp/sluice-h2-profile.XXXX)}"; mkdir -p "$out"
jar="$root/sluice-server/target/sluice.jar"

start_h2c_pods
start_h2c_sluice "$jar" 18080 18089 "" "${OPTS:-}"; sluice="$sluice_pid"

load() { # seconds
  h2load -c64 -m10 -D"$1" -H "Sluice-Revision: default/fast" http://127.0.0.1:18080/ > "$out/h2load.out" 2>&1 || true
}
for _ in $(seq $(( (warm + 9) / 10 ))); do load 10; done

t0=$(ticks "$sluice")
perf record -F 997 -g -p "$sluice" -o "$out/perf.data" -- sleep "$secs" > "$out/perf.log" 2>&1 &
perf_pid=$!
load "$secs"
wait "$perf_pid" || true
t1=$(ticks "$sluice")
jcmd "$sluice" Compiler.perfmap > /dev/null
ok=$(sed -n 's/.* \([0-9]*\) succeeded.*/\1/p' "$out/h2load.out")
echo "$(grep 'finished in' "$out/h2load.out"); cpu $(python3 -c "print(f'{($t1-$t0)/$hz*1e6/max(1,$ok):.2f}')") us/request (${OPTS:-default transport})"
perf report -i "$out/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' > "$out/symbols.txt" || true; head -40 "$out/symbols.txt"
echo "-- by object"
perf report -i "$out/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' > "$out/objects.txt" || true; head -12 "$out/objects.txt"
echo "perf data and reports: $out"
