#!/usr/bin/env bash
# The scale benchmark (issue 23): one Sluice process, started by ./sluice with its default heap,
# with N revisions x M pods, every pod an address of 127/8 answered by one test server.
# Reports heap per idle revision and per ready pod (live heap after a full GC, by jcmd), the
# time until every pod is ready, failed readiness checks, and the latency of a request to a
# random revision while the others start. Linux only (all of 127/8 is loopback there).
#
#   bench/scale.sh [revisions] [pods-per-revision] [extra ScaleBench args, e.g. --skip-idle]
#   bench/scale.sh 10000 0      # 10,000 idle revisions
#   bench/scale.sh 1 10000      # one revision with 10,000 pods
#   bench/scale.sh 1000 10      # 1,000 revisions x 10 pods
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${1:-1000}"; m="${2:-10}"; shift $(( $# < 2 ? $# : 2 ))
jar="$root/sluice-benchmarks/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ ! -f "$root/sluice-server/target/sluice.jar" ]; then
  (cd "$root" && mvn -B -ntp -q package -DskipTests -pl sluice-benchmarks -am)
fi
# The launcher rebuilds its jar when a source is newer; the benchmark runs the jar as built, from
# a copy of the launcher beside a copy of the jar (no sources there, so nothing to rebuild).
frozen="$(mktemp -d /tmp/sluice-scale.XXXX)"; trap 'rm -rf "$frozen"' EXIT
mkdir -p "$frozen/sluice-server/target"
cp "$root/sluice" "$root/sluice-jvm.sh" "$root/sluice-jvm.options" "$frozen/"
cp "$root/sluice-server/target/sluice.jar" "$frozen/sluice-server/target/"
# The driver runs on the newest JDK, as ./sluice does, so that its jcmd can attach to Sluice.
java="$(ls -d /usr/lib/jvm/*/bin/java | sort -V | tail -n 1)"
[ -n "${JAVA_HOME:-}" ] && java="$JAVA_HOME/bin/java"
# 10,000 pods hold up to 10,000 connections in each process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$java" -Xmx1g -cp "$jar" dev.sluice.benchmarks.scale.ScaleBench --revisions "$n" --pods "$m" \
  --launcher "$frozen/sluice" "$@"
