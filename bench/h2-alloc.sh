#!/usr/bin/env bash
# What an HTTP/2-relaying Sluice allocates per request, and where: the bench/h2-steady.sh
# set-up (four nginx h2c pods, h2load -c64 -m10), one Sluice warmed with 40 s of load, then a
# JFR recording of one load window (allocation samples with their stacks, each thread's
# allocated bytes every second, the GC pauses). Prints the I/O threads' bytes per request
# (exact: JFR's per-thread counters), the young-GC pauses, and the sampled allocation by class
# and by allocation site.
#   bench/h2-alloc.sh [seconds]   (default 10)
#   OPTS='--transport epoll' bench/h2-alloc.sh   (options added to Sluice's `run`)
#   OUT=/tmp/dir: where the recording and the reports stay (default: a fresh directory under /tmp)
# Loopback only; stops all it started.
set -euo pipefail
scenario=fast
secs="${1:-10}"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tool h2load nghttp2-client
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
out="${OUT:-$(mktemp -d /tmp/sluice-h2-alloc.XXXX)}"; mkdir -p "$out"
cat > "$out/alloc.jfc" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0" label="allocation">
  <event name="jdk.ObjectAllocationSample">
    <setting name="enabled">true</setting><setting name="stackTrace">true</setting>
    <setting name="throttle">2000/s</setting>
  </event>
  <event name="jdk.ThreadAllocationStatistics">
    <setting name="enabled">true</setting><setting name="period">1 s</setting>
  </event>
  <event name="jdk.GarbageCollection">
    <setting name="enabled">true</setting><setting name="threshold">0 ms</setting>
  </event>
</configuration>
XML

start_h2c_pods
start_h2c_sluice "$root/sluice-server/target/sluice.jar" 18080 18089 "" "${OPTS:-}"; sluice="$sluice_pid"
load() { h2load -c64 -m10 -D"$1" -H "Sluice-Revision: default/fast" http://127.0.0.1:18080/ > "$out/h2load.out" 2>&1 || true; }
for _ in 1 2 3 4; do load 10; done

jcmd "$sluice" JFR.start name=alloc settings="$out/alloc.jfc" > /dev/null
load "$secs"
jcmd "$sluice" JFR.stop name=alloc filename="$out/alloc.jfr" > /dev/null
grep 'finished in' "$out/h2load.out"
ok=$(sed -n 's/.* \([0-9]*\) succeeded.*/\1/p' "$out/h2load.out")
jfr print --events jdk.ObjectAllocationSample "$out/alloc.jfr" > "$out/samples.txt"
jfr print --events jdk.ThreadAllocationStatistics "$out/alloc.jfr" > "$out/threads.txt"
jfr print --events jdk.GarbageCollection "$out/alloc.jfr" > "$out/gc.txt"
python3 "$here/jfr_alloc.py" "$out" "$ok" "$secs" | tee "$out/report.txt"
echo "recording and reports: $out"
