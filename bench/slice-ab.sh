#!/usr/bin/env bash
# A/B of the I/O threads' scheduler slice (--io-slice), fast scenario, HAProxy beside it:
#   SL="0 100us 300us" bench/slice-ab.sh      (2 rounds, c64 and c256, 8 s each; loopback only)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
scenario=fast
start_fast_backends
for round in 1 2; do for c in 64 256; do
 start haproxy -f "$anchors/haproxy-roundrobin.cfg"; wait_port 18090
 echo "c$c haproxy $(wrk -t1 -c$c -d8s -s $here/percentiles.lua http://127.0.0.1:18090/ | tail -1)"; stop_last
 for s in ${SL:-0 100us 300us}; do
  SLUICE_IO_SLICE=$s start_sluice "$here/sluice-fast.yaml"
  echo "c$c slice $s $(wrk -t1 -c$c -d8s -s $here/percentiles.lua -H 'Sluice-Revision: default/fast' http://127.0.0.1:18080/ | tail -1)"; stop_last
 done
done; done
