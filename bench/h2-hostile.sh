#!/usr/bin/env bash
# HTTP/2 clients that overload, upload, and vanish, against one Sluice (the built jar) in front of
# the four nginx h2c pods of bench/h2.sh: h2load at 64x10 streams, at 200x100 (past the queue:
# 503 queue-full expected), gRPC-typed bodies of 600 B and 20 KB (relayed with their bodies),
# plain 20 KB and 256 KiB bodies (the translated way), then five clients killed one second into
# a run. Prints each run's h2load summary, the requests by outcome, and what the revision holds
# afterwards (queued, active and in-flight must all be 0: no slot or place leaked).
#   bench/h2-hostile.sh          OPTS: more `sluice run` options (e.g. "--transport epoll")
# Loopback only; stops all it started.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tool h2load nghttp2-client
# shellcheck source=../sluice-jvm.sh
. "$root/sluice-jvm.sh"
start_h2c_pods
start_h2c_sluice "$root/sluice-server/target/sluice.jar" 18080 18089 "" "${OPTS:-}"
head -c 600 /dev/urandom > "$work/b600"; head -c 20000 /dev/urandom > "$work/b20k"; head -c 262144 /dev/urandom > "$work/b256k"
url=http://127.0.0.1:18080/; rev=(-H "Sluice-Revision: default/fast")
run() { echo "== h2load $*"; h2load "${rev[@]}" "$@" "$url" 2>&1 | grep -E "requests:|status codes"; }
run -c64 -m10 -n 100000
run -c200 -m100 -n 200000
run -c16 -m10 -n 20000 -d "$work/b600" -H "content-type: application/grpc"
run -c16 -m10 -n 20000 -d "$work/b20k" -H "content-type: application/grpc"
run -c16 -m10 -n 6000 -d "$work/b20k"
run -c8 -m4 -n 2000 -d "$work/b256k"
echo "== five clients of 64x50 streams killed after 1 s"
for _ in 1 2 3 4 5; do timeout -s KILL 1 h2load "${rev[@]}" -c64 -m50 -D5 "$url" >/dev/null 2>&1 || true; done
sleep 1
curl -s http://127.0.0.1:18089/metrics | grep -E '^sluice_requests_total' || true
curl -s http://127.0.0.1:18089/v1/revisions | grep -E '"(queued|active|inFlight)"' | sort | uniq -c
