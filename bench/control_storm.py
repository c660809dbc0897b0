# A push storm on the control API (hand test, docs/benchmarks.md "Scale", fifth pass): six threads
# post /v1/pods on kept-alive connections for 15 s (1 in 50 bodies random bytes, 1 in 51 an unknown
# revision), a client holds a half-sent POST open, a reader times GET /v1/revisions every 10 ms.
# Against `sluice run` with control on 127.0.0.1:28089, revision default/fast, pods pushing at
# 127.0.0.1:18083-18084.  Usage: python3 bench/control_storm.py <control token>
# The config used: listen {proxy: 127.0.0.1:28080, control: 127.0.0.1:28089}; one revision
#   {name: fast, hosts: ['127.0.0.1'], containerConcurrency: 4, readinessPath: /,
#    pods: ['127.0.0.1:18081', '127.0.0.1:18082']}
# with nginx -c bench/anchors/nginx-backends.conf -p /tmp/sluice-anchors/ for the four ports, and
# SLUICE_CONTROL_TOKEN=<token> ./sluice run --config <that file>; stop both by their pids after.
import http.client, json, threading, time, random, sys
TOKEN = sys.argv[1]
stop = time.time() + 15
codes = {}; lock = threading.Lock(); lat = []
def rec(k):
    with lock: codes[k] = codes.get(k, 0) + 1
def pusher(t):
    c = http.client.HTTPConnection("127.0.0.1", 28089, timeout=5)
    i = 0
    while time.time() < stop:
        i += 1
        pod = 3 + (i % 2)  # pods at 18083/18084: pushed by the pods themselves
        if i % 50 == 0:
            body = b'{"revision":"default/fast","podId":' + bytes([random.randrange(256) for _ in range(20)])  # bad bytes
        elif i % 51 == 0:
            body = json.dumps({"revision": "default/nope", "podId": "x", "address": "127.0.0.1:1", "state": "ready"}).encode()
        else:
            body = json.dumps({"revision": "default/fast", "podId": "p%d" % pod, "address": "127.0.0.1:1808%d" % pod,
                               "state": random.choice(["ready", "not-ready", "ready"])}).encode()
        try:
            c.request("POST", "/v1/pods", body, {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
            r = c.getresponse(); r.read(); rec(r.status)
        except Exception as e:
            rec(type(e).__name__); c = http.client.HTTPConnection("127.0.0.1", 28089, timeout=5)
def reader():
    c = http.client.HTTPConnection("127.0.0.1", 28089, timeout=5)
    while time.time() < stop:
        t0 = time.time(); c.request("GET", "/v1/revisions"); r = c.getresponse(); r.read(); lat.append(time.time() - t0)
        time.sleep(0.01)
import socket
def slowloris():
    s = socket.create_connection(("127.0.0.1", 28089)); s.send(b"POST /v1/pods HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    time.sleep(16); s.close()
ts = [threading.Thread(target=pusher, args=(k,)) for k in range(6)] + [threading.Thread(target=reader), threading.Thread(target=slowloris)]
[t.start() for t in ts]; [t.join() for t in ts]
lat.sort()
print("push answers:", codes)
print("GET /v1/revisions during the storm: n=%d p50 %.1f ms p99 %.1f ms max %.1f ms" % (len(lat), 1000*lat[len(lat)//2], 1000*lat[int(len(lat)*.99)], 1000*lat[-1]))
