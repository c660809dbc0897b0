#!/usr/bin/env bash
# A/B of two Sluice builds (or two settings of one), HAProxy beside them, on the fast scenario
# (SCENARIO=slow: the slow one, 32 connections by default):
# per round HAProxy, A, B (alternated), each with requests/s, p50/p99 and CPU time per request.
#   JAR_A=/tmp/old.jar JAR_B=/tmp/new.jar bench/ab.sh [rounds] [seconds] [conns]
# Optional: T_A / T_B (I/O threads, default 2), OPTS_A / OPTS_B (more `sluice run` arguments,
# e.g. "--io-slice 0"), JVM_A / JVM_B (JVM flags in place of the launcher's defaults, e.g.
# "-XX:+UseZGC -Xmx512m"), WARM_A / WARM_B (seconds of the first warm-up run), JAVA (default: the newest JDK under /usr/lib/jvm).
# Loopback only; stops everything it started.
set -euo pipefail
scenario="${SCENARIO:-fast}"
rounds="${1:-3}"; secs="${2:-8}"; conns="${3:-64}"; [ "$scenario" = slow ] && conns="${3:-32}"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
java="${JAVA:-$(ls -d /usr/lib/jvm/*/bin/java | sort -V | tail -1)}"
# The launcher's flags (it runs the jar copies directly, not through ./sluice).
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
jvm_opts="$(sluice_default_flags) $(version_flags "$(java_major "$java")")"

start_jar() { # jar io-threads extra-args jvm-flags
  # shellcheck disable=SC2086
  SLUICE_LOG_LEVEL=WARN start "$java" ${4:-$jvm_opts} -jar "$1" run --config "$here/sluice-$scenario.yaml" --io-threads "$2" $3
  sluice_ready
}

# Warm up at the measured connection count: at 256, requests queue in Sluice, a path a c64
# warm-up never runs (lib.sh, warm_up).
warm_conns="$conns"
if [ "$scenario" = slow ]; then start_slow_backends; else start_fast_backends; fi
for round in $(seq "$rounds"); do
  measure_haproxy
  for v in A B; do
    j="JAR_$v"; t="T_$v"; o="OPTS_$v"; f="JVM_$v"
    w="WARM_$v"; SLUICE_WARMUP="${!w:-${SLUICE_WARMUP:-}}" start_jar "${!j}" "${!t:-2}" "${!o:-}" "${!f:-}"
    measure "$v" "${pids[-1]}" http://127.0.0.1:18080/
    stop_last
  done
done
