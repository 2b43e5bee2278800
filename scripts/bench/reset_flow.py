#!/usr/bin/env python3
"""Load benchmark of the whole forgot-password flow by emailed code. Not a test: it prints figures.

Each client thread owns one demo patient with an email on file and, until the time is up,
walks the flow a patient walks:
  1. request   POST /api/request_reset   (channel EmailCode; answered at once, the worker sends)
  2. code      GET /dev/outbox.json until the reset_code message carrying that request's
               reference arrives for the account's email ("code arrival": from the answer to
               step 1 to the code being readable; resolution --poll-ms)
  3. verify    POST /api/verify_reset_code with the code: a grant
  4. set       POST /api/complete_reset with a fresh random password (four words and digits)
  5. sign-in   POST /api/sign_in with the new password: must open a full session
A failed step ends that flow (counted under its step, with the first answer's body kept) and
the thread starts a new one. Flows in progress when the time is up are finished and counted;
flows/s divides by the time until the last thread stopped.

Prints a table (flows, flows/s, failures by step, p50/p95/p99 per step and for the whole flow),
then one line for scripts, in the style of the wrk scripts' (scripts/bench/signin.lua):
  RESULT flows=… flows_per_s=… failures=… set_p50_ms=… set_p99_ms=… flow_p50_ms=…
         flow_p99_ms=… signin_p99_ms=… code_p99_ms=… argon2_ops_per_flow=… (then extras)
argon2_ops_per_flow is the change, over the run, of a Prometheus counter of argon2 hashes begun
(any counter whose name has "argon2" in it, read from --metrics before and after) divided by
the flows; NA when the server exports no such counter (it has only the queue-depth gauge and
the queue-wait histogram). argon2_asked_per_flow is the same for the queue-wait histogram's
_count: hashes and verifications that asked for a slot, including any then refused as busy.

Usage: scripts/bench/reset_flow.py BASE_URL [clients=8] [seconds=20] [--users u1,u2,...]
         [--metrics URL] [--poll-ms 50] [--code-timeout 30]
  --users     one account per client, in order; `name` or `name:email` (the email on file,
              to match the outbox's messages; demo patients' are known here). Default: the demo
              patients with an email on file, recovery and settings demos first.
  --metrics   the server's metrics (metrics.bind), default http://127.0.0.1:9464/metrics

THE RUN CHANGES THE ACCOUNTS' PASSWORDS FOR GOOD (the demo passwords stop working): point it
at a throw-away server, e.g. (release build, 2 cores):
  dir=$(mktemp -d)
  export CAREKEY_DATA_DIR=$dir CAREKEY_BIND=127.0.0.1:3710 CAREKEY_PUBLIC_URL=http://127.0.0.1:3710 \\
    CAREKEY_DEV_MODE=true CAREKEY_HTTP_TRUSTED_PROXIES=127.0.0.1 CAREKEY_METRICS_BIND=127.0.0.1:9470 \\
    CAREKEY_LIMITS_ACCOUNT_PER_HOUR=100000 CAREKEY_LIMITS_ACCOUNT_PER_DAY=100000 \\
    CAREKEY_LIMITS_IDENTIFIER_PER_HOUR=100000 CAREKEY_LIMITS_IDENTIFIER_PER_DAY=100000 \\
    CAREKEY_LIMITS_DESTINATION_PER_HOUR=100000 CAREKEY_LIMITS_DESTINATION_PER_DAY=100000 \\
    CAREKEY_LIMITS_IP_PER_HOUR=100000
  target/release/carekey demo-data && target/release/carekey serve &
  scripts/bench/reset_flow.py http://127.0.0.1:3710 8 15 --metrics http://127.0.0.1:9470/metrics

What the server needs for a benchmark to be possible, and why:
  - dev_mode = true and no SMTP: the email goes to the development outbox, /dev/outbox.json.
  - http.trusted_proxies = 127.0.0.1: every client sends its own made-up X-Forwarded-For.
  - limits.account_per_hour/_per_day, limits.identifier_per_hour/_per_day and
    limits.destination_per_hour/_per_day (defaults 5/10, 4/8, 5/10; at most 100000): past them
    the worker sends nothing, silently (the answer to step 1 never changes, SECURITY.md E1),
    and step 2 times out. An account does a flow every second or two here.
  - limits.ip_per_hour (default 30): the same for requests from one address. A client changes
    its address every 25 flows anyway, which also keeps it under the fixed cap of 100 code
    guesses an hour per address (GUESSES_PER_IP_PER_HOUR, not configurable), past which
    verify answers "not accepted" even to the right code. The first address octets are drawn
    at random per run, so runs against one server do not add up.
  - Not needed: recovery.resend_seconds (minimum 30) only tells the page when to offer "send
    a new code"; the server does not enforce it. Lockout (lockout.*) counts failed sign-ins
    only, and every sign-in here has the right password.
  - Not configurable, and handled here: a correct code spends a guess too, and codes sent to
    no browser in particular share 20 guesses a day per account (challenges.rs
    MAX_GUESSES_PER_DAY; the 21st starts an hour's pause). Each client therefore first asks
    POST /api/portal_info for the recovery flow cookie, as the page does, and sends it with
    every request: its codes are bound to it and spend only their own five guesses (R6).
Patients with a second step (iris) cannot be used: their sign-in stops at the second step.
"""
import http.client
import json
import random
import re
import sys
import threading
import time
import urllib.parse

# Demo patients with an email on file (crates/server/src/demo.rs), in the order clients take
# them. Left out: iris (second step at sign-in); maria, jchen, leo, sam (their demo passwords
# are used by scripts/bench/signin.lua and scripts/timing_*.py); ana (must change password);
# sam, grace, walt (no email on file: landline only).
DEMO_EMAILS = {
    "rosa": "rosa.nguyen@example.com",
    "omar": "omar.haddad@example.com",
    "hana": "hana.sato@example.com",
    "ivan": "ivan.petrov@example.com",
    "nora": "nora.quinn@example.com",
    "paul": "paul.adams@example.com",
    "tom": "tom.baker@example.com",
    "uma": "uma.patel@example.com",
    "vic": "victor.hale@example.com",
    "wes": "wesley.stone@example.com",
    "yara": "yara.lindqvist@example.com",
    "zeke": "zeke.okafor@example.com",
    "nico": "nico.alvarez@example.com",
    "pilar": "pilar.mendez@example.com",
    "elena": "elena.castro@example.com",
    "tomas": "tomas.herrera@example.com",
    "jade": "jade.whitaker@example.com",
    "ezra": "ezra.lindgren@example.com",
    "sol": "sol.mendoza@example.com",
    "tess": "tess.okonkwo@example.com",
    "lucia": "lucia.ramirez@example.com",
    "kai": "kai.moreno@example.com",
    "lin": "lin.osei@example.com",
    "quinn": "quinn.abernathy@example.com",
    "reza": "reza.karimi@example.com",
}
OTHER_DEMO_EMAILS = {
    "maria": "maria.lopez@example.com",
    "jchen": "james.chen@example.com",
    "ana": "ana.silva@example.com",
    "leo": "leo.park@example.com",
    "iris": "iris.navarro@example.com",
}

WORDS = (
    "acorn amber anvil aspen bamboo barley beacon birch bison bramble breeze canyon cedar "
    "cinder clover cobalt comet coral cricket crystal delta dune ember falcon fennel fjord "
    "flint garnet geyser ginger glacier gravel hazel heron indigo juniper kettle lagoon "
    "lantern lichen magnet maple marble meadow mica mosaic nectar nutmeg orchard otter "
    "paprika pebble pepper pigeon plume prairie quartz quill raven reef ripple saffron "
    "sequoia sorrel spruce summit thistle thunder timber tulip tundra velvet violet walnut "
    "willow yarrow zephyr"
).split()

STEPS = ["request", "code", "verify", "set", "signin"]
STEP_NAMES = {
    "request": "request code",
    "code": "code arrival",
    "verify": "verify code",
    "set": "set new password",
    "signin": "sign in",
    "flow": "whole flow",
}
FLOWS_PER_ADDRESS = 25


def usage(msg=None):
    if msg:
        print(f"reset_flow.py: {msg}", file=sys.stderr)
    print(__doc__.split("\n\n")[0], file=sys.stderr)
    print(
        "usage: scripts/bench/reset_flow.py BASE_URL [clients=8] [seconds=20] "
        "[--users u1,u2,...] [--metrics URL] [--poll-ms 50] [--code-timeout 30]",
        file=sys.stderr,
    )
    sys.exit(2)


def parse_args(argv):
    opts = {
        "users": None,
        "metrics": "http://127.0.0.1:9464/metrics",
        "poll_ms": 50.0,
        "code_timeout": 30.0,
    }
    positional = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            usage()
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            if not eq:
                i += 1
                if i >= len(argv):
                    usage(f"--{name} needs a value")
                value = argv[i]
            key = name.replace("-", "_")
            if key not in opts:
                usage(f"unknown option --{name}")
            opts[key] = value
        else:
            positional.append(a)
        i += 1
    if not positional or len(positional) > 3:
        usage()
    base = positional[0]
    clients = int(positional[1]) if len(positional) > 1 else 8
    seconds = float(positional[2]) if len(positional) > 2 else 20.0
    if opts["users"]:
        users = []
        for u in opts["users"].split(","):
            name, _, email = u.strip().partition(":")
            if name:
                users.append((name, email or DEMO_EMAILS.get(name) or OTHER_DEMO_EMAILS.get(name)))
    else:
        users = list(DEMO_EMAILS.items())
    if clients < 1:
        usage("clients must be at least 1")
    if clients > len(users):
        usage(f"{clients} clients need {clients} accounts, there are {len(users)} (--users)")
    return base, clients, seconds, users[:clients], opts


class Failed(Exception):
    def __init__(self, step, detail):
        super().__init__(detail)
        self.step = step
        self.detail = detail


def new_password(username, email, rng):
    """Four random words and digits (21+ characters), none of them the person's words (the
    server refuses a password containing the username, names, email parts or the clinic's
    name: crates/shared/src/policy.rs, words of 4+ characters)."""
    personal = {"carekey", "your", "clinic", username.lower()}
    if email:
        local, _, domain = email.lower().partition("@")
        personal |= {local, *re.split(r"[^a-z0-9]+", local), *domain.split(".")}
    personal = {p for p in personal if len(p) >= 4}
    while True:
        words = [rng.choice(WORDS) for _ in range(4)]
        pw = "-".join(words) + f"-{rng.randrange(10, 10000)}"
        if not any(p in pw for p in personal):
            return pw


class Client(threading.Thread):
    def __init__(self, n, base, username, email, deadline, opts, run_octet, shared):
        super().__init__(daemon=True)
        self.n = n
        self.url = urllib.parse.urlparse(base)
        self.username = username
        self.email = email
        self.deadline = deadline
        self.poll = float(opts["poll_ms"]) / 1000.0
        self.code_timeout = float(opts["code_timeout"])
        self.run_octet = run_octet
        self.shared = shared
        self.rng = random.Random()
        self.conn = None
        self.cookie = None
        self.flows_here = 0
        self.lat = {s: [] for s in STEPS + ["flow"]}
        self.failures = {}  # step -> [count, first detail]
        self.flows = 0
        self.ip = self.address()

    def address(self):
        # 10.<per run>.<client>.<changes every FLOWS_PER_ADDRESS flows>
        k = self.flows_here // FLOWS_PER_ADDRESS
        return f"10.{(self.run_octet + k // 254) % 254 + 1}.{self.n % 256}.{k % 254 + 1}"

    def connect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection(self.url.hostname, self.url.port or 80, timeout=30)

    def http(self, method, path, body=None, step="?"):
        headers = {"X-Forwarded-For": self.ip}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(body)
        if self.cookie:
            headers["Cookie"] = self.cookie
        for attempt in (1, 2):
            if self.conn is None:
                self.connect()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                res = self.conn.getresponse()
                data = res.read()
                return res.status, data, res
            except (OSError, http.client.HTTPException) as e:
                # A kept-alive connection the server closed: once more on a new one.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise Failed(step, f"{type(e).__name__}: {e}")

    def api(self, step, endpoint, form):
        status, data, _ = self.http("POST", f"/api/{endpoint}", form, step)
        if status != 200:
            raise Failed(step, f"HTTP {status}: {data[:300].decode('utf-8', 'replace')}")
        try:
            return json.loads(data)
        except ValueError:
            raise Failed(step, f"HTTP 200, not JSON: {data[:300]!r}")

    def get_flow_cookie(self):
        """What the page does first: portal_info sets the recovery flow cookie."""
        status, data, res = self.http("POST", "/api/portal_info", {}, "setup")
        if status != 200:
            raise Failed("setup", f"portal_info HTTP {status}: {data[:300]!r}")
        for name, value in res.getheaders():
            if name.lower() == "set-cookie" and "flow" in value.split("=", 1)[0]:
                self.cookie = value.split(";", 1)[0]
                return
        raise Failed("setup", "portal_info set no flow cookie")

    def wait_for_code(self, reference):
        ref = reference.encode()
        ref_word = re.compile(r"\b" + re.escape(reference) + r"\b")
        give_up = time.perf_counter() + self.code_timeout
        while True:
            status, data, _ = self.http("GET", "/dev/outbox.json", None, "code")
            if status != 200:
                raise Failed("code", f"/dev/outbox.json HTTP {status} (dev_mode off?)")
            # Most polls find nothing: look for the reference before parsing 200 messages.
            if ref in data:
                for m in json.loads(data):
                    if m.get("kind") != "reset_code":
                        continue
                    if self.email and m.get("to", "").lower() != self.email.lower():
                        continue
                    if not ref_word.search(m.get("subject", "") + "\n" + m.get("text", "")):
                        continue
                    code = code_in(m.get("text", ""))
                    if code:
                        return code
                    raise Failed("code", f"no 8-digit code in: {m.get('text', '')[:300]!r}")
            if time.perf_counter() > give_up:
                raise Failed("code", f"no code with reference {reference} within {self.code_timeout:.0f} s "
                              "(a send limit reached? see the docstring)")
            time.sleep(self.poll)

    def flow(self):
        who = {"who[identifier]": self.username, "who[email]": ""}
        t = {}
        t0 = time.perf_counter()
        a = self.api("request", "request_reset", {**who, "channel": "EmailCode"})
        t1 = time.perf_counter()
        t["request"] = t1 - t0
        reference = a.get("reference") or ""
        if not reference:
            raise Failed("request", f"no reference in {a!r}")
        code = self.wait_for_code(reference)
        t2 = time.perf_counter()
        t["code"] = t2 - t1
        g = self.api("verify", "verify_reset_code", {**who, "code": code})
        t3 = time.perf_counter()
        t["verify"] = t3 - t2
        grant = g.get("grant")
        if not grant:
            raise Failed("verify", f"no grant in {g!r}")
        if g.get("security_question"):
            raise Failed("verify", "the clinic asks a security question (recovery.security_question)")
        pw = new_password(self.username, self.email, self.rng)
        self.api("set", "complete_reset", {"grant": grant, "new": pw, "repeat": pw})
        t4 = time.perf_counter()
        t["set"] = t4 - t3
        s = self.api("signin", "sign_in", {"portal": "Patient", "identifier": self.username, "password": pw})
        t5 = time.perf_counter()
        t["signin"] = t5 - t4
        if s.get("second_step") or s.get("must_add_second_step") or s.get("must_change_password"):
            raise Failed("signin", f"signed in, but not a full session: {json.dumps(s)[:300]}")
        t["flow"] = t5 - t0
        return t

    def run(self):
        try:
            self.get_flow_cookie()
        except Failed as f:
            self.fail(f)
            return
        self.shared["ready"].wait()
        while time.perf_counter() < self.deadline[0]:
            self.ip = self.address()
            self.flows_here += 1
            try:
                t = self.flow()
            except Failed as f:
                self.fail(f)
                time.sleep(0.2)  # a step that fails at once must not spin
                continue
            except Exception as e:  # noqa: BLE001 (a benchmark reports, it does not crash)
                self.fail(Failed("?", f"{type(e).__name__}: {e}"))
                time.sleep(0.2)
                continue
            self.flows += 1
            for k, v in t.items():
                self.lat[k].append(v * 1000.0)
        self.shared["ended"][self.n] = time.perf_counter()

    def fail(self, f):
        entry = self.failures.setdefault(f.step, [0, f"{self.username}: {f.detail}"])
        entry[0] += 1


def code_in(text):
    """The 8-digit code in a message ("12345678", or grouped "1234 5678" / "1234-5678")."""
    m = re.search(r"(?<!\d)(\d{8})(?!\d)", text)
    if m:
        return m.group(1)
    m = re.search(r"(?<!\d)(\d{4})[ \-](\d{4})(?!\d)", text)
    return m.group(1) + m.group(2) if m else None


def pct(xs, p):
    """Nearest-rank percentile; None for no samples."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def fmt(v, nd=1):
    return "NA" if v is None else f"{v:.{nd}f}"


def scrape(metrics_url):
    """Prometheus text → ({series name: summed value}, {name: type}); None if unreachable."""
    u = urllib.parse.urlparse(metrics_url)
    try:
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
        conn.request("GET", u.path or "/metrics")
        res = conn.getresponse()
        text = res.read().decode("utf-8", "replace")
        conn.close()
        if res.status != 200:
            return None
    except OSError:
        return None
    values, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                types[parts[2]] = parts[3]
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m:
            continue
        try:
            v = float(m.group(3))
        except ValueError:
            continue
        values[m.group(1)] = values.get(m.group(1), 0.0) + v  # summed over labels
    return values, types


def argon2_counter(types, values):
    """The name of a counter of argon2 hashes begun, if the server exports one."""
    names = [n for n, t in types.items() if t == "counter" and "argon2" in n]
    # A counter's samples may carry the _total suffix its TYPE line does not.
    names = [n if n in values else n + "_total" for n in names]
    names = [n for n in names if n in values]
    preferred = [n for n in names if re.search(r"start|begun|begin|hash|op", n)]
    return (preferred or names or [None])[0]


def main():
    base, clients, seconds, users, opts = parse_args(sys.argv[1:])
    before = scrape(opts["metrics"])
    run_octet = random.randrange(0, 254)
    shared = {"ready": threading.Event(), "ended": {}}
    deadline = [float("inf")]
    threads = [
        Client(i, base, name, email, deadline, opts, run_octet, shared)
        for i, (name, email) in enumerate(users)
    ]
    for t in threads:
        t.start()
    time.sleep(0.5)  # each client asks for its flow cookie first, outside the measurement
    start = time.perf_counter()
    deadline[0] = start + seconds
    shared["ready"].set()
    for t in threads:
        t.join()
    end = max(shared["ended"].values(), default=time.perf_counter())
    elapsed = max(end - start, 1e-9)
    after = scrape(opts["metrics"])

    flows = sum(t.flows for t in threads)
    lat = {k: [x for t in threads for x in t.lat[k]] for k in STEPS + ["flow"]}
    failures = {}
    for t in threads:
        for step, (n, first) in t.failures.items():
            f = failures.setdefault(step, [0, first])
            f[0] += n
    n_fail = sum(n for n, _ in failures.values())
    rate = flows / elapsed

    print(f"reset flow by emailed code: {clients} clients ({', '.join(u for u, _ in users)}), "
          f"{seconds:g} s asked, {elapsed:.1f} s until the last flow ended")
    print(f"flows completed: {flows}   flows/s: {rate:.2f}   failed flows: {n_fail}")
    print()
    print(f"{'step':<18} {'n':>6} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'max ms':>9} {'failed':>7}")
    for k in STEPS + ["flow"]:
        xs = lat[k]
        print(f"{STEP_NAMES[k]:<18} {len(xs):>6} {fmt(pct(xs, 50)):>9} {fmt(pct(xs, 95)):>9} "
              f"{fmt(pct(xs, 99)):>9} {fmt(max(xs) if xs else None):>9} "
              f"{failures.get(k, [0])[0] if k != 'flow' else n_fail:>7}")
    if failures:
        print()
        print("failures by step (first answer each):")
        for step in ["setup"] + STEPS + ["?"]:
            if step in failures:
                n, first = failures[step]
                print(f"  {STEP_NAMES.get(step, step):<18} {n:>5}  {first}")

    argon2 = "NA"
    asked = "NA"
    if before is None or after is None:
        print(f"\nmetrics: {opts['metrics']} not reachable (--metrics URL); argon2 figures NA")
    else:
        name = argon2_counter(after[1], after[0])
        if name and flows:
            d = after[0].get(name, 0.0) - before[0].get(name, 0.0)
            argon2 = f"{d / flows:.2f}"
            print(f"\nargon2 hashes begun ({name}): {d:.0f}, {argon2} per flow")
        elif not name:
            print("\nargon2: the server exports no counter of hashes begun (argon2_ops_per_flow=NA)")
        wait = "carekey_argon2_queue_wait_seconds_count"
        if wait in after[0] and flows:
            d = after[0][wait] - before[0].get(wait, 0.0)
            asked = f"{d / flows:.2f}"
            print(f"argon2 slot requests ({wait}): {d:.0f}, {asked} per flow "
                  "(every hash or verification that asked, busy refusals included)")
        # Counters appear at their first increment: absent means none yet.
        busy = "carekey_busy_answers_total"
        print(f"busy answers during the run ({busy}): "
              f"{after[0].get(busy, 0.0) - before[0].get(busy, 0.0):.0f}")

    print(
        f"RESULT flows={flows} flows_per_s={rate:.2f} failures={n_fail}"
        f" set_p50_ms={fmt(pct(lat['set'], 50))} set_p99_ms={fmt(pct(lat['set'], 99))}"
        f" flow_p50_ms={fmt(pct(lat['flow'], 50))} flow_p99_ms={fmt(pct(lat['flow'], 99))}"
        f" signin_p99_ms={fmt(pct(lat['signin'], 99))} code_p99_ms={fmt(pct(lat['code'], 99))}"
        f" argon2_ops_per_flow={argon2}"
        f" request_p99_ms={fmt(pct(lat['request'], 99))} verify_p99_ms={fmt(pct(lat['verify'], 99))}"
        f" code_p50_ms={fmt(pct(lat['code'], 50))} argon2_asked_per_flow={asked}"
    )
    sys.exit(0 if flows else 1)


if __name__ == "__main__":
    main()
