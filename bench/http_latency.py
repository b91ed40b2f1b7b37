#!/usr/bin/env python3
# Answer times of recover-password over HTTP, a known user beside an unknown one,
# sequential calls against a served stack (BENCHMARKS.md section 7):
#   bench/http_latency.py http://127.0.0.1:9000 TENANT USERNAME 200
# The tenant needs recovery.max_requests_per_hour=0 and
# recovery.max_requests_per_ip_per_hour=0, so every call does its full work.
import json, sys, time, urllib.request
base, tenant, user, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def call(name):
    body = json.dumps({"user": {"username": name}}).encode()
    req = urllib.request.Request(f"{base}/t/{tenant}/api/identity/recovery/v0.9/recover-password?type=email&notify=true",
                                 data=body, headers={"content-type": "application/json"}, method="POST")
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 202, r.status
        r.read()
    return (time.perf_counter() - t) * 1000
for _ in range(10): call(user)
k, u = [], []
for _ in range(n):
    k.append(call(user)); u.append(call("no-such-user"))
def q(v, p): v = sorted(v); return v[round((len(v) - 1) * p)]
print(f"known p50 {q(k,.5):.1f} ms p99 {q(k,.99):.1f} ms | unknown p50 {q(u,.5):.1f} ms p99 {q(u,.99):.1f} ms")
