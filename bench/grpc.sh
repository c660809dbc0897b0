#!/usr/bin/env bash
# gRPC unary through Sluice against direct (issue 21): a grpc-java client calls a grpc-java echo
# server one call at a time, directly and through an in-process Sluice (protocol: h2c, one I/O
# thread), the two paths alternating in blocks of 100 calls; prints p50/p90/p99 of each and what
# the hop adds. Runs with the launcher's JVM flags (sluice-jvm.options).
#   bench/grpc.sh [calls per path] [warm-up calls per path]   (defaults 20000 20000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
calls="${1:-20000}"; warmup="${2:-20000}"
jar="$root/sluice-benchmarks/target/benchmarks.jar"
[ -f "$jar" ] || (cd "$root" && mvn -B -ntp -q package -DskipTests -Djcstress.skip -pl sluice-benchmarks -am)
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
# shellcheck disable=SC2046
java $(sluice_default_flags) -cp "$jar" dev.sluice.benchmarks.grpc.GrpcUnaryLatency --calls "$calls" --warmup "$warmup" \
  2>&1 | grep -v ' INFO '
