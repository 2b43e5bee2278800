#!/usr/bin/env python3
"""Recovery enumeration timing (SECURITY.md E1, E2). Not a test: it prints figures.

Step 1, "forgot password": interleaved requests for several classes of identifier, each
compared with "existing patient, channel on file":
  unknown username · unknown email · existing but no mobile on file · locked account ·
  staff account (never recovered here)
Step 2, "enter the code": a wrong code for an existing patient vs. for an unknown username.
Prints median, p90 and Welch's t per class, and checks that every class got byte-identical
answers apart from the random reference. E2 asks for |t| < 5 and medians within 1 ms.

Usage: scripts/timing_recovery.py BASE_URL [requests-per-class]   (default 1000)
The server must run with demo data and http.trusted_proxies=127.0.0.1: each request comes from
its own made-up address, so the per-address limits (which apply to everyone alike) do not
turn the run into a measurement of the limit.
"""
import http.client
import json
import math
import random
import statistics
import sys
import time
import urllib.parse

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3500"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
url = urllib.parse.urlparse(base)

REQUEST_CLASSES = {
    "existing, mobile on file": "maria",
    "unknown username": "nobody-{i}",
    "unknown email": "nobody-{i}@example.com",
    "existing, no mobile": "jchen",
    "locked account": "leo",
    "staff account": "frontdesk",
}
VERIFY_CLASSES = {
    "wrong code, existing": "maria",
    "wrong code, unknown": "nobody-{i}",
}


def post(conn, endpoint, form, ip):
    body = urllib.parse.urlencode(form)
    start = time.perf_counter()
    conn.request(
        "POST",
        f"/api/{endpoint}",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": ip},
    )
    res = conn.getresponse()
    data = res.read()
    return (time.perf_counter() - start) * 1000.0, res.status, data


def welch_t(a, b):
    va, vb = statistics.variance(a), statistics.variance(b)
    return (statistics.mean(a) - statistics.mean(b)) / math.sqrt(va / len(a) + vb / len(b))


def p90(xs):
    s = sorted(xs)
    return s[int(0.9 * (len(s) - 1))]


def shape(data):
    """The answer with its random reference blanked out."""
    try:
        v = json.loads(data)
    except ValueError:
        return data
    if isinstance(v, dict) and "reference" in v:
        v["reference"] = "XXXX"
    return json.dumps(v, sort_keys=True)


def run(conn, classes, make_form, label):
    samples = {k: [] for k in classes}
    shapes = {k: set() for k in classes}
    order = list(classes)
    for i in range(n):
        random.shuffle(order)
        for k in order:
            ip = f"10.{(i >> 8) & 255}.{i & 255}.{order.index(k) + 1}"
            ms, status, data = post(conn, *make_form(classes[k].format(i=i), i), ip)
            samples[k].append(ms)
            shapes[k].add((status, shape(data)))
    ref_name = order and list(classes)[0]
    ref = samples[ref_name]
    print(f"\n{label}")
    print(f"{'class':<28} {'n':>5} {'median ms':>10} {'p90 ms':>8} {'Welch t':>8}")
    worst_t, worst_dm = 0.0, 0.0
    for k, xs in samples.items():
        t = 0.0 if k == ref_name else welch_t(xs, ref)
        dm = statistics.median(xs) - statistics.median(ref)
        if k != ref_name:
            worst_t, worst_dm = max(worst_t, abs(t)), max(worst_dm, abs(dm))
        print(f"{k:<28} {len(xs):>5} {statistics.median(xs):>10.2f} {p90(xs):>8.2f} {t:>8.2f}")
    all_shapes = set().union(*shapes.values())
    same = "identical" if len(all_shapes) == 1 else f"DIFFERENT: {sorted(all_shapes)}"
    verdict = "ok" if worst_t < 5 and worst_dm < 1.0 and len(all_shapes) == 1 else "OVER"
    print(f"answers: {same}")
    print(f"worst |t| = {worst_t:.2f} (< 5), worst median gap = {worst_dm:.2f} ms (< 1): {verdict}")
    return verdict == "ok"


def main():
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
    # Lock leo for good (20 wrong passwords) so its class measures a locked account.
    for i in range(20):
        post(conn, "sign_in", {"portal": "Patient", "identifier": "leo", "password": f"x-{i}"}, f"10.250.0.{i}")
    ok1 = run(
        conn,
        REQUEST_CLASSES,
        lambda who, i: ("request_reset", {"who[identifier]": who, "who[email]": "", "channel": "Sms"}),
        "Step 1: forgot password (request a code by text)",
    )
    ok2 = run(
        conn,
        VERIFY_CLASSES,
        lambda who, i: ("verify_reset_code", {"who[identifier]": who, "who[email]": "", "code": f"{(i * 7919) % 10**8:08d}"}),
        "Step 2: enter a code (wrong)",
    )
    sys.exit(0 if ok1 and ok2 else 1)


if __name__ == "__main__":
    main()
