#!/usr/bin/env python3
"""Sign-in enumeration timing (SECURITY.md E2). Not a test: it prints figures.

Sends interleaved sign-in attempts for several classes of identifier to a running CareKey and
compares each class's latency with the "existing account, wrong password" class:
  unknown username · unknown email · locked account · staff account on the patient door
Prints median, p90 and Welch's t per class. E2 asks for |t| < 5 and medians within 1 ms.

Usage: scripts/timing_signin.py BASE_URL [requests-per-class]   (default 1000)
The server must run with demo data and `http.trusted_proxies = 127.0.0.1`: each attempt comes
from its own made-up address (X-Forwarded-For), as the classes would from real visitors, so
the per-address pacing of failed sign-ins (issue 14), which applies to everyone alike, does
not turn the measurement into one of the pacing.
"""
import http.client
import math
import random
import statistics
import sys
import time
import urllib.parse

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3500"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
url = urllib.parse.urlparse(base)

CLASSES = {
    # Existing patient, wrong password: counts toward lockout, so it is pre-locked below
    # and the reference class uses an account that stays below the threshold instead.
    "wrong password (maria)": ("maria", "wrong-password-{i}"),
    "unknown username": ("nobody-{i}", "wrong-password-{i}"),
    "unknown email": ("nobody-{i}@example.com", "wrong-password-{i}"),
    "locked account (sam)": ("sam", "wrong-password-{i}"),
    "staff on patient door": ("frontdesk", "wrong-password-{i}"),
}


SEQ = [0]


def attempt(conn, identifier, password):
    SEQ[0] += 1
    ip = f"10.{(SEQ[0] >> 16) & 255}.{(SEQ[0] >> 8) & 255}.{SEQ[0] & 255}"
    body = urllib.parse.urlencode(
        {"portal": "Patient", "identifier": identifier, "password": password}
    )
    start = time.perf_counter()
    conn.request(
        "POST",
        "/api/sign_in",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": ip},
    )
    res = conn.getresponse()
    res.read()
    return (time.perf_counter() - start) * 1000.0, res.status


def welch_t(a, b):
    va, vb = statistics.variance(a), statistics.variance(b)
    return (statistics.mean(a) - statistics.mean(b)) / math.sqrt(va / len(a) + vb / len(b))


def p90(xs):
    s = sorted(xs)
    return s[int(0.9 * (len(s) - 1))]


def main():
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
    # Lock `sam` first so its class measures the locked path.
    for i in range(5):
        attempt(conn, "sam", f"lock-it-{i}")
    samples = {k: [] for k in CLASSES}
    statuses = {k: set() for k in CLASSES}
    order = list(CLASSES)
    for i in range(n):
        random.shuffle(order)
        for k in order:
            ident, pw = CLASSES[k]
            ident = ident.format(i=i)
            # maria would lock after 5 failures and turn into the locked class; a correct
            # sign-in every 4th round keeps her counter low without changing the class.
            if k.startswith("wrong password") and i % 4 == 3:
                attempt(conn, "maria", "sunflower-teapot-harbor")
            ms, status = attempt(conn, ident, pw.format(i=i))
            samples[k].append(ms)
            statuses[k].add(status)
    ref = samples["wrong password (maria)"]
    print(f"{'class':<26} {'n':>5} {'median ms':>10} {'p90 ms':>8} {'Welch t':>8} status")
    worst_t, worst_dm = 0.0, 0.0
    for k, xs in samples.items():
        t = 0.0 if xs is ref else welch_t(xs, ref)
        dm = statistics.median(xs) - statistics.median(ref)
        if xs is not ref:
            worst_t, worst_dm = max(worst_t, abs(t)), max(worst_dm, abs(dm))
        print(f"{k:<26} {len(xs):>5} {statistics.median(xs):>10.2f} {p90(xs):>8.2f} {t:>8.2f} {sorted(statuses[k])}")
    verdict = "ok" if worst_t < 5 and worst_dm < 1.0 else "OVER"
    print(f"worst |t| = {worst_t:.2f} (< 5), worst median gap = {worst_dm:.2f} ms (< 1): {verdict}")


if __name__ == "__main__":
    main()
