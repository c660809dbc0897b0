#!/bin/sh
# sluice-report.sh STATE: tells every Sluice replica this pod's own state (ready | draining).
#
# Run from the pod's lifecycle hooks (see workload.yaml): postStart reports ready once the app
# answers on READY_PATH; preStop reports draining, and from the moment each replica has answered
# no new request is sent to this pod. The pod authenticates with its projected ServiceAccount
# token, so it can report only for itself. Needs sh, curl and getent in the image.
set -u
STATE="$1"
CONTROL="${SLUICE_CONTROL:-sluice-control.sluice.svc.cluster.local}"
PORT="${SLUICE_CONTROL_PORT:-8081}"
TOKEN_FILE="${SLUICE_TOKEN_FILE:-/var/run/secrets/sluice/token}"
BODY="{\"revision\":\"${SLUICE_REVISION}\",\"podId\":\"${POD_UID}\",\"address\":\"${POD_IP}:${APP_PORT}\",\"state\":\"${STATE}\"}"

if [ "$STATE" = ready ]; then
  tries=0
  until curl -fsS -o /dev/null -m 2 "http://${APP_HOST:-127.0.0.1}:${APP_PORT}${READY_PATH:-/}"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 600 ]; then
      echo "sluice-report: the app never answered on ${READY_PATH:-/}" >&2
      exit 1
    fi
    sleep 1
  done
fi

status=0
# Every replica: the headless Service resolves to all of them.
for ip in $(getent ahostsv4 "$CONTROL" | awk '{print $1}' | sort -u); do
  tries=0
  # 403 right after start means the EndpointSlice does not list this pod yet; 503 means the
  # API server could not be asked: both are retried.
  until curl -fsS -m 5 -o /dev/null -H "Authorization: Bearer $(cat "$TOKEN_FILE")" \
      -H 'Content-Type: application/json' -d "$BODY" "http://${ip}:${PORT}/v1/pods"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 10 ]; then
      echo "sluice-report: replica ${ip} did not take '${STATE}'" >&2
      status=1
      break
    fi
    sleep 1
  done
done
exit "$status"
