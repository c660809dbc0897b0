#!/usr/bin/env bash
# Fuzzes the framers with Jazzer for longer than `mvn verify`'s replay of the checked-in corpus.
#
#   sluice-http1/fuzz.sh [minutes] [target]
#
# minutes: per target (default 10); target: request, response or both (default both, one
# after the other). Each run is `JAZZER_FUZZ=1 mvn test` of one @FuzzTest; minutes becomes
# libFuzzer's -max_total_time, passed as jazzer-junit 0.24's libFuzzer arguments
# (jazzer.internal.arg.N, N=0 being argv[0]), which come after, so override, the annotation's. The corpus it grows is kept in sluice-http1/.cifuzz-corpus/
# (ignored by git) and resumed by the next run; a finding is written by Jazzer into the
# target's inputs directory under src/test/resources/dev/sluice/http1/, where `mvn verify`
# replays it from then on: fix the framer, keep the file. Logs: $FUZZ_LOGS (default
# target/fuzz-logs) as <target>-<time>.log; libFuzzer prints executions/s and coverage ("cov:").
set -euo pipefail
minutes=${1:-10}
which=${2:-both}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
logs=${FUZZ_LOGS:-$here/target/fuzz-logs}
mkdir -p "$logs"

run() {
  local name=$1 test=$2
  local log="$logs/$name-$(date -u +%Y%m%dT%H%M%SZ).log"
  echo "fuzzing $test for $minutes min; log: $log"
  (cd "$root" && JAZZER_FUZZ=1 mvn -B -ntp -pl sluice-http1 test -Dtest="$test" \
      -Dsurefire.failIfNoSpecifiedTests=false -Dunit.jvm.args= -Djazzer.internal.arg.0=jazzer -Djazzer.internal.arg.1="-max_total_time=$((minutes * 60))" \
      -Dsurefire.timeout=0 > "$log" 2>&1) && echo "$test: no finding" || { echo "$test: FINDING or failure, see $log"; return 1; }
}

status=0
case $which in
  request) run request RequestFramerFuzzTest || status=1 ;;
  response) run response ResponseFramerFuzzTest || status=1 ;;
  both) run request RequestFramerFuzzTest || status=1
        run response ResponseFramerFuzzTest || status=1 ;;
  *) echo "target: request, response or both" >&2; exit 2 ;;
esac
exit $status
