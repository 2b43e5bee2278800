#!/usr/bin/env python3
"""A real patient's reset code while the forgot-password queue is flooded (issue 15 item 3).
Not a test: it prints figures for scripts/bench.sh.

Every INTERVAL seconds for SECONDS, one demo patient (each from an address of their own, each
asked for once so no per-account limit is reached) asks for an emailed code; the time from the
request to the message appearing in the development outbox (the transport: what a real server
would hand to the mail relay) is that patient's code latency. The flood itself is run by wrk
beside this script, from one address.

Usage: patient_during_flood.py BASE_URL SECONDS USER[,USER...] [INTERVAL]
Prints a `RESULT` line: n, p50_ms, p99_ms, max_ms, missing (codes that never came, 10 s wait).
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

base, seconds, users = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(",")
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
url = urllib.parse.urlparse(base)
WAIT = 10.0


def conn():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=10)


def one(n, user, out):
    c = conn()
    body = urllib.parse.urlencode(
        {"who[identifier]": user, "who[email]": "", "channel": "EmailCode"}
    )
    start = time.perf_counter()
    c.request(
        "POST",
        "/api/request_reset",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": f"192.0.2.{(n % 250) + 1}",
        },
    )
    res = c.getresponse()
    data = res.read()
    if res.status != 200:
        out.append(None)
        print(f"   request for {user}: HTTP {res.status} {data[:200]!r}", file=sys.stderr)
        return
    reference = json.loads(data)["reference"]
    while time.perf_counter() - start < WAIT:
        c.request("GET", "/dev/outbox.json")
        listed = json.loads(c.getresponse().read())
        if any(reference in m["text"] or reference in m["subject"] for m in listed):
            out.append((time.perf_counter() - start) * 1000.0)
            return
        time.sleep(0.01)
    out.append(None)


def main():
    latencies, threads = [], []
    begin = time.perf_counter()
    n = 0
    while time.perf_counter() - begin < seconds and n < len(users):
        t = threading.Thread(target=one, args=(n, users[n], latencies))
        t.start()
        threads.append(t)
        n += 1
        time.sleep(interval)
    for t in threads:
        t.join()
    got = sorted(x for x in latencies if x is not None)
    missing = len(latencies) - len(got)

    def pct(p):
        return got[min(len(got) - 1, int(round(p / 100 * (len(got) - 1))))] if got else float("nan")

    print(
        f"RESULT n={len(latencies)} p50_ms={pct(50):.1f} p99_ms={pct(99):.1f} "
        f"max_ms={(got[-1] if got else float('nan')):.1f} missing={missing}"
    )


main()
