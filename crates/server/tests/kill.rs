//! SECURITY.md F4 with real processes (issue 14): a load of concurrent resets by emailed code,
//! password changes and staff resets runs against a `carekey serve` process that is SIGKILLed
//! at random moments and restarted on the same port and data, at least `KILLS` times, on
//! SQLite and on PostgreSQL. Afterwards, with the server up again:
//!
//! - through HTTP: of the passwords each client may have set, exactly one signs in, and it is
//!   the last one the client was told was saved unless a later attempt's outcome is unknown
//!   (the kill came before the answer); no password the server refused signs in;
//! - in the database: every committed password change or reset has its audit row, its
//!   credential and history row, the end of the sessions and codes it must end, and exactly
//!   its notices queued; no code consumed without its grant and no grant consumed without its
//!   password reset; no code, link or grant outstanding past a password change; every code
//!   issued has its message and its audit row; every recovery request handled exactly once or
//!   still waiting; every queued message delivered;
//! - `carekey audit verify` and `audit::verify_chain`: the audit chain is intact.
//!
//! Half the kills are aimed (see `Staller`): argon2 takes most of a request's time, so a kill
//! at a random moment mostly finds requests still hashing, before their transaction began.
//!
//! "Outcome unknown" is precise: a client whose request failed after the connection was made
//! does not know whether it committed. For one account, attempt A is ruled out once a later
//! attempt B that started after A ended was confirmed saved (B's commit follows A's, if A's
//! happened at all). The candidates are every confirmed or unknown attempt not ruled out; the
//! password on file must be one of them. Each client works its own account sequentially, so
//! the candidates stay few, and when a password change needs the current password the client
//! finds it by signing in (the failures stay far below the lockout threshold set here).
//!
//! Each client also checks as it goes: a spent grant is refused, a session from before a reset
//! no longer changes the password, two changes typed with the same current password or two
//! submissions of one grant save at most one password.
//!
//! `KILL_SEED=<n>` replays a run's random choices (the seed is printed; the kills' timing is
//! not replayed); `KILL_DEBUG=1` prints each request whose outcome became unknown.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, EntityTrait,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use carekey_server::domain::audit::{self, AuditKey};
use carekey_server::domain::secrets::ServerKey;
use carekey_server::store::entities::{
    account, audit_log, challenge, contact, outbox, password_credential, password_history,
    recovery_request, session,
};
use common::process::{self, Instance, Log};

/// SIGKILLs per database.
const KILLS: usize = 22;
/// The server runs this long (at random) after it is ready before it is killed again.
const UP_MIN_MS: u64 = 300;
const UP_MAX_MS: u64 = 1500;
/// A stalled kill holds the units of work back this long (at random) first.
const STALL_MIN_MS: u64 = 100;
const STALL_MAX_MS: u64 = 400;
/// A request waits this long for the server to come back before the test gives up.
const SERVER_BACK: Duration = Duration::from_secs(60);
/// How long a client waits for its reset code before it asks again (a code sent to the
/// development outbox just before a kill is lost with the process's memory).
const CODE_WAIT: Duration = Duration::from_secs(3);
/// Code submissions per account: the server pauses recovery after 20 a day (SECURITY.md R6).
const MAX_VERIFIES: u32 = 18;
/// Sign-in failures in a row lock an account at this many (set here, above the default 5).
const LOCKOUT_THRESHOLD: u32 = 10;
/// The whole load and its checks must end within this.
const RUN_LIMIT: Duration = Duration::from_secs(240);

const DESK: (&str, &str) = ("frontdesk", "front-desk-coffee-morning");
const ADMIN: (&str, &str) = ("admin", "violet-canyon-river-stone");
/// Demo patients with an email on file (some with a mobile too): reset by code, change in
/// Settings, reset by the front desk.
const PATIENTS: &[(&str, &str)] = &[
    ("maria", "sunflower-teapot-harbor"),
    ("jchen", "granite-maple-lantern"),
    ("rosa", "copper-kettle-meadow-song"),
    ("omar", "saffron-harbor-window-kite"),
    ("hana", "lilac-window-paper-boat"),
    ("ivan", "granite-owl-summer-road"),
    ("tom", "walnut-harbor-lantern-sky"),
    ("uma", "cobalt-meadow-pepper-drum"),
];
/// Demo staff: reset by the administrator, change their own.
const STAFF: &[(&str, &str)] = &[
    ("nurse.amy", "lagoon-pepper-violet-hill"),
    ("nurse.ben", "granite-tulip-harbor-moon"),
];
/// The audit actions of a password being set; each comes from one `set_password`.
const PASSWORD_EVENTS: &[&str] = &[
    "password_changed",
    "password_reset",
    "portal_password_reset",
    "staff_password_reset",
];
/// Words for new passwords: none is a fragment of any demo person's name, username or email,
/// nor of the clinic's name.
const WORDS: &[&str] = &[
    "otter", "basalt", "quill", "fjord", "cobalt", "ember", "gravel", "hazel", "indigo", "jasper",
    "kelp", "lichen", "mortar", "nectar", "oxide", "pylon", "quartz", "russet", "sienna", "tundra",
    "umber", "velvet", "willow", "xylem", "yarrow", "zephyr", "acorn", "bramble", "cinder", "dune",
    "ferric", "glacier", "heron", "islet", "juniper", "kestrel", "lagoon", "marble", "nimbus",
    "orchid", "plume", "rapids", "saddle", "thicket", "upland", "vortex",
];

/// One test at a time: both load the same two cores, and a run's timing is the test.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_reset_loses_nothing_and_half_writes_nothing_on_sqlite() {
    let _one = SERIAL.lock().await;
    let dir = process::temp_dir("kill-sqlite");
    let url = format!("sqlite://{}/carekey.db", dir.0.display());
    run("SQLite", dir.0.clone(), url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_reset_loses_nothing_and_half_writes_nothing_on_postgres() {
    let _one = SERIAL.lock().await;
    let Some((name, url)) = process::pg_database("kill", "F4").await else {
        return;
    };
    let dir = process::temp_dir("kill-postgres");
    run("PostgreSQL", dir.0.clone(), url).await;
    process::drop_database(&name).await;
}

// ---------------------------------------------------------------------------------------------
// A tiny random source: xorshift, seeded from the clock unless `KILL_SEED` is set.

#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

fn seed() -> u64 {
    if let Some(s) = std::env::var("KILL_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        return s;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x5eed)
        ^ u64::from(std::process::id())
}

// ---------------------------------------------------------------------------------------------
// The `carekey` process.

struct Setup {
    dir: PathBuf,
    database_url: String,
    port: u16,
}

impl Setup {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Every start uses the same data directory (server key, audit key) and database.
fn carekey(setup: &Setup) -> Command {
    let mut c = process::carekey(&setup.dir, &setup.database_url, "data");
    let base = setup.base();
    c.env("CAREKEY_DEV_MODE", "true")
        .env("CAREKEY_BIND", format!("127.0.0.1:{}", setup.port))
        .env("CAREKEY_PUBLIC_URL", &base)
        .env("CAREKEY_METRICS_BIND", "off")
        // Staff sign in with a password alone here; the second step is tests/twostep.rs's.
        .env("CAREKEY_MFA_STAFF", "optional")
        // Each client writes its own address in X-Forwarded-For: the per-address limits on
        // requests and code guesses are not what this test is about.
        .env("CAREKEY_HTTP_TRUSTED_PROXIES", "127.0.0.1, ::1")
        .env("CAREKEY_LOCKOUT_THRESHOLD", LOCKOUT_THRESHOLD.to_string())
        .env("CAREKEY_LOCKOUT_HARD_LOCK_AFTER", "100")
        .env("CAREKEY_LIMITS_ACCOUNT_PER_HOUR", "100000")
        .env("CAREKEY_LIMITS_ACCOUNT_PER_DAY", "100000")
        .env("CAREKEY_LIMITS_DESTINATION_PER_HOUR", "100000")
        .env("CAREKEY_LIMITS_DESTINATION_PER_DAY", "100000")
        .env("CAREKEY_LIMITS_IP_PER_HOUR", "100000")
        // A message a killed process was sending is taken up again after this.
        .env("CAREKEY_DELIVERY_LEASE_SECONDS", "2");
    c
}

/// The one `carekey serve` of a run, started again after each kill. Dropping it stops it.
struct Server {
    setup: Arc<Setup>,
    instance: Option<Instance>,
    generation: usize,
    /// Every start's lines, each marked with its start: a violation may stem from an earlier
    /// process than the one running when it is found.
    log: Log,
}

impl Server {
    fn new(setup: Arc<Setup>) -> Server {
        Server {
            setup,
            instance: None,
            generation: 0,
            log: Log::default(),
        }
    }

    /// Starts the process and waits for `/readyz`; a start that fails at once (the port not
    /// yet free after a kill) is tried again.
    async fn start(&mut self, http: &reqwest::Client) {
        let bind = format!("127.0.0.1:{}", self.setup.port);
        for _ in 0..5 {
            self.generation += 1;
            let prefix = format!("[start {}] ", self.generation);
            let mut instance =
                Instance::spawn("carekey", carekey(&self.setup), &bind, &self.log, prefix);
            // Polled often: every kill waits for this, and the run has a time limit.
            let poll = Duration::from_millis(25);
            match instance.try_wait_ready(http, poll, 200).await {
                Ok(()) => {
                    self.instance = Some(instance);
                    return;
                }
                Err(status) => {
                    eprintln!(
                        "carekey (start {}) exited before it was ready ({status}); again",
                        self.generation
                    );
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            }
        }
        panic!("carekey never became ready:\n{}", self.log_tail(200));
    }

    fn kill(&mut self) {
        if let Some(mut instance) = self.instance.take() {
            instance.kill();
        }
    }

    fn stop(&mut self) -> Option<ExitStatus> {
        self.instance.take()?.stop()
    }

    fn log_tail(&self, n: usize) -> String {
        self.log.tail(n)
    }
}

fn run_demo_data(setup: &Setup) {
    process::demo_data(carekey(setup));
}

/// `carekey audit verify` (SECURITY.md S7), as an operator runs it: the chain checked under
/// the audit key in the data directory, against the head.
fn audit_verify(setup: &Setup) -> Result<String, String> {
    let out = carekey(setup).args(["audit", "verify"]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// Half the kills are aimed at units of work in flight. Argon2 takes most of a request's time,
/// so a kill at a random moment mostly finds requests still hashing, before their unit of work
/// has begun. A stalled kill first holds the database's write path from a connection of the
/// test's own, so that units of work pile up behind it:
/// - PostgreSQL: the audit chain's head row, locked `FOR UPDATE`. The units of work run here
///   append their audit row after their other writes, so the pile-up is of transactions that
///   have written everything but their audit row and not committed. The process is killed either
///   while they wait (each must then leave nothing) or a few milliseconds after the head is
///   let go, while they commit one after another.
/// - SQLite: the write lock (`BEGIN IMMEDIATE`), which units of work wait for before their
///   first statement; the process is killed a moment after it is let go, while the waiting
///   ones take turns.
struct Staller {
    db: DatabaseConnection,
    postgres: bool,
}

impl Staller {
    /// PostgreSQL: the server's transactions now waiting for a lock (open, their other
    /// writes made).
    async fn waiting(&self) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock'",
            ))
            .await
            .unwrap();
        row.and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(0)
    }

    async fn hold(&self) -> DatabaseTransaction {
        if self.postgres {
            let txn = self.db.begin().await.unwrap();
            txn.execute_unprepared("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
                .await
                .unwrap();
            txn
        } else {
            self.db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await
                .unwrap()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP, as the browser apps call the server functions.

fn form_body(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What came back from one request.
#[derive(Debug, Clone)]
enum Answer {
    /// The server answered (the status was decided after the handler returned, so a
    /// commit, if any, happened).
    Reply {
        status: u16,
        body: String,
        cookie: Option<String>,
    },
    /// The connection broke after the request may have reached the server: it may or may
    /// not have committed.
    Unknown,
}

impl Answer {
    fn status(&self) -> Option<u16> {
        match self {
            Answer::Reply { status, .. } => Some(*status),
            Answer::Unknown => None,
        }
    }

    fn body(&self) -> &str {
        match self {
            Answer::Reply { body, .. } => body,
            Answer::Unknown => "",
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.body()).unwrap_or(serde_json::Value::Null)
    }

    /// "Busy" (the hashing queue was full, or a racing change won: rolled back) is as definite
    /// a "not saved" as a 4xx; "Unavailable" may come from a failed commit and is not.
    fn busy(&self) -> bool {
        self.status() == Some(503) && self.body().contains("Busy")
    }

    fn outcome(&self) -> Outcome {
        match self.status() {
            None => Outcome::Unknown,
            Some(s) if (200..300).contains(&s) => Outcome::Saved,
            Some(s) if (400..500).contains(&s) => Outcome::Refused,
            Some(_) if self.busy() => Outcome::Refused,
            Some(_) => Outcome::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Saved,
    Refused,
    Unknown,
    /// Not an attempt: the password found to sign in while nothing was in flight.
    Found,
}

#[derive(Default)]
struct Stats {
    attempted: AtomicU64,
    saved: AtomicU64,
    refused: AtomicU64,
    unknown: AtomicU64,
    flows: AtomicU64,
    searches: AtomicU64,
    codes_lost: AtomicU64,
    /// (operation, outcome) → attempts.
    by_op: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

/// What every client shares.
struct Ctx {
    base: String,
    http: reqwest::Client,
    stop: AtomicBool,
    violations: Mutex<Vec<String>>,
    stats: Stats,
    counter: AtomicU64,
    t0: Instant,
}

impl Ctx {
    fn violation(&self, v: String) {
        eprintln!("VIOLATION: {v}");
        self.violations.lock().unwrap().push(v);
    }

    /// POSTs a server function. A connection refused (the server is down) never reached it:
    /// that request is sent again once the server is back. Any other failure is `Unknown`.
    async fn post(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        ip: &str,
    ) -> Answer {
        let since = Instant::now();
        loop {
            let mut req = self
                .http
                .post(format!("{}/api/{endpoint}", self.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-forwarded-for", ip)
                .body(form_body(form));
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            match req.send().await {
                Ok(res) => {
                    let status = res.status().as_u16();
                    let cookie = res
                        .headers()
                        .get_all("set-cookie")
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .find(|c| {
                            c.starts_with("carekey_session=") && !c.starts_with("carekey_session=;")
                        })
                        .and_then(|c| c.split(';').next())
                        .map(str::to_owned);
                    let body = res.text().await.unwrap_or_default();
                    return Answer::Reply {
                        status,
                        body,
                        cookie,
                    };
                }
                Err(e) if e.is_connect() => {
                    assert!(
                        since.elapsed() < SERVER_BACK,
                        "the server did not come back within {SERVER_BACK:?}: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err(e) => {
                    if std::env::var("KILL_DEBUG").is_ok() {
                        eprintln!("unknown: {endpoint}: {e:?}");
                    }
                    return Answer::Unknown;
                }
            }
        }
    }

    /// The development outbox's messages, newest first; empty while the server is down.
    async fn dev_outbox(&self) -> Vec<serde_json::Value> {
        let Ok(r) = self
            .http
            .get(format!("{}/dev/outbox.json", self.base))
            .send()
            .await
        else {
            return vec![];
        };
        r.json::<Vec<serde_json::Value>>().await.unwrap_or_default()
    }

    /// A new password no one has used: three words and a number unique in the run.
    fn new_password(&self, rng: &mut Rng) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let mut w = || WORDS[rng.below(WORDS.len() as u64) as usize];
        format!("{}-{}-{}-{}", w(), w(), w(), 1000 + n)
    }
}

/// The first run of exactly eight digits: the code in a reset message.
fn code_in(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 8 {
                return Some(chars[start..i].iter().collect());
            }
        } else {
            i += 1;
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// One client per account: what it tried, and what it was told.

#[derive(Debug, Clone)]
struct Attempt {
    op: &'static str,
    password: String,
    start: Instant,
    end: Instant,
    outcome: Outcome,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    /// A patient: reset by code, change in Settings, reset by the front desk (chart).
    Patient { patient_id: i64 },
    /// Staff: reset by the administrator (Admin > Users), change their own.
    Staff,
}

struct Client {
    ctx: Arc<Ctx>,
    rng: Rng,
    number: usize,
    username: &'static str,
    account_id: i64,
    target: Target,
    email: String,
    attempts: Vec<Attempt>,
    /// The account's own session from its latest sign-in: a reset must end it.
    session: Option<String>,
    /// The front desk's or the administrator's session.
    operator: Option<String>,
    verifies: u32,
    requests: u32,
    /// References of the reset requests the server accepted.
    references: Vec<String>,
    addresses: u32,
    broken: bool,
}

impl Client {
    fn portal(&self) -> &'static str {
        match self.target {
            Target::Patient { .. } => "Patient",
            Target::Staff => "Staff",
        }
    }

    /// A fresh client address for each request (X-Forwarded-For through the trusted proxy).
    fn ip(&mut self) -> String {
        self.addresses += 1;
        let n = self.addresses;
        format!("10.{}.{}.{}", self.number + 1, (n / 250) % 250, n % 250 + 1)
    }

    fn record(&mut self, op: &'static str, password: &str, start: Instant, a: &Answer) -> Outcome {
        let outcome = a.outcome();
        let s = &self.ctx.stats;
        s.attempted.fetch_add(1, Ordering::Relaxed);
        let (counter, word) = match outcome {
            Outcome::Saved => (&s.saved, "saved"),
            Outcome::Refused => (&s.refused, "refused"),
            _ => (&s.unknown, "unknown"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        *s.by_op.lock().unwrap().entry((op, word)).or_default() += 1;
        self.attempts.push(Attempt {
            op,
            password: password.to_owned(),
            start,
            end: Instant::now(),
            outcome,
        });
        outcome
    }

    fn violation(&mut self, what: String) {
        let v = format!("{} ({}): {what}", self.username, self.ctx.stats_line());
        self.ctx.violation(v);
    }

    /// The passwords that may be on file now (nothing in flight for this account), newest
    /// first: every confirmed or unknown attempt that no later confirmed attempt (started
    /// after it ended) rules out.
    fn candidates(&self) -> Vec<String> {
        let confirmed: Vec<&Attempt> = self
            .attempts
            .iter()
            .filter(|a| matches!(a.outcome, Outcome::Saved | Outcome::Found))
            .collect();
        let mut live: Vec<&Attempt> = self
            .attempts
            .iter()
            .filter(|a| {
                matches!(
                    a.outcome,
                    Outcome::Saved | Outcome::Found | Outcome::Unknown
                )
            })
            .filter(|a| !confirmed.iter().any(|b| b.start > a.end))
            .collect();
        live.sort_by_key(|a| std::cmp::Reverse(a.end));
        let mut out: Vec<String> = vec![];
        for a in live {
            if !out.contains(&a.password) {
                out.push(a.password.clone());
            }
        }
        out
    }

    /// Passwords the server refused, newest first, none of them a candidate.
    fn refused(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        for a in self.attempts.iter().rev() {
            if a.outcome == Outcome::Refused && !out.contains(&a.password) {
                out.push(a.password.clone());
            }
        }
        out
    }

    fn history(&self) -> String {
        self.attempts
            .iter()
            .map(|a| {
                format!(
                    "{} {:?} {:?} [{:.3}–{:.3}]",
                    a.op,
                    a.password,
                    a.outcome,
                    (a.start - self.ctx.t0).as_secs_f64(),
                    (a.end - self.ctx.t0).as_secs_f64()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Signs in; Some(true) with the session kept, Some(false) when refused, None for an
    /// answer no sign-in should give. Retries until the server answers.
    async fn signs_in(&mut self, password: &str) -> Option<bool> {
        loop {
            let ip = self.ip();
            let a = self
                .ctx
                .post(
                    "sign_in",
                    &[
                        ("portal", self.portal()),
                        ("identifier", self.username),
                        ("password", password),
                    ],
                    None,
                    &ip,
                )
                .await;
            match a.status() {
                Some(200) => {
                    let Answer::Reply { cookie, .. } = a else {
                        unreachable!()
                    };
                    self.session = cookie;
                    return Some(true);
                }
                Some(401) => return Some(false),
                Some(503) => tokio::time::sleep(Duration::from_millis(100)).await,
                None => {}
                Some(other) => {
                    self.violation(format!("sign-in answered {other}: {}", a.body()));
                    return None;
                }
            }
        }
    }

    /// The password on file, found by signing in with each candidate when there are several
    /// (exactly one must work). None if the account is no longer usable.
    async fn current(&mut self) -> Option<String> {
        let candidates = self.candidates();
        if candidates.len() == 1 {
            return candidates.into_iter().next();
        }
        assert!(
            candidates.len() + 2 < LOCKOUT_THRESHOLD as usize,
            "{}: {} candidates would lock the account: {}",
            self.username,
            candidates.len(),
            self.history()
        );
        self.ctx.stats.searches.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut found = vec![];
        for c in &candidates {
            if self.signs_in(c).await? {
                found.push(c.clone());
            }
        }
        if found.len() != 1 {
            self.violation(format!(
                "{} of the candidates {candidates:?} sign in, not exactly one; history: {}",
                found.len(),
                self.history()
            ));
            self.broken = true;
            return None;
        }
        self.attempts.push(Attempt {
            op: "found",
            password: found[0].clone(),
            start: now,
            end: Instant::now(),
            outcome: Outcome::Found,
        });
        found.pop()
    }

    async fn run(mut self) -> Client {
        while !self.ctx.stop.load(Ordering::SeqCst) && !self.broken {
            // Unknown outcomes pile up while the kills come thick: the password on file is
            // found (and checked) before there are so many candidates that trying them all
            // would lock the account. A flow adds at most three.
            if self.candidates().len() > 2 && self.current().await.is_none() {
                break;
            }
            match self.target {
                Target::Patient { patient_id } => match self.rng.below(20) {
                    0..=7 if self.verifies < MAX_VERIFIES => self.reset_by_code().await,
                    0..=14 => self.change().await,
                    _ => self.desk_reset(patient_id).await,
                },
                Target::Staff => {
                    if self.rng.chance(2) {
                        self.change().await
                    } else {
                        self.admin_reset().await
                    }
                }
            }
            self.ctx.stats.flows.fetch_add(1, Ordering::Relaxed);
            let pause = self.rng.below(120);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        self
    }

    /// Settings > Change password (or the forced change after a staff reset): sign in with
    /// the current password, then change it; one time in four, two changes typed with the
    /// same current password race (exactly one may win).
    async fn change(&mut self) {
        let Some(current) = self.current().await else {
            return;
        };
        let cookie = match self.signs_in(&current).await {
            Some(true) => self.session.clone(),
            Some(false) => {
                self.violation(format!(
                    "the password on file {current:?} does not sign in; history: {}",
                    self.history()
                ));
                self.broken = true;
                return;
            }
            None => return,
        };
        let Some(cookie) = cookie else {
            self.violation("a sign-in set no session cookie".into());
            return;
        };
        let ctx = self.ctx.clone();
        let change = |new: String, ip: String| {
            let (ctx, cookie, current) = (ctx.clone(), cookie.clone(), current.clone());
            async move {
                let start = Instant::now();
                let a = ctx
                    .post(
                        "change_password",
                        &[("current", &current), ("new", &new), ("repeat", &new)],
                        Some(&cookie),
                        &ip,
                    )
                    .await;
                (new, start, a)
            }
        };
        if self.rng.chance(4) {
            let (p1, p2) = (
                self.ctx.new_password(&mut self.rng),
                self.ctx.new_password(&mut self.rng),
            );
            let (ip1, ip2) = (self.ip(), self.ip());
            let ((p1, s1, a1), (p2, s2, a2)) = tokio::join!(change(p1, ip1), change(p2, ip2));
            let o1 = self.record("change (race)", &p1, s1, &a1);
            let o2 = self.record("change (race)", &p2, s2, &a2);
            if o1 == Outcome::Saved && o2 == Outcome::Saved {
                self.violation(format!(
                    "two changes from the same current password were both saved: {p1:?}, {p2:?}"
                ));
            }
        } else {
            let p = self.ctx.new_password(&mut self.rng);
            let ip = self.ip();
            let (p, s, a) = change(p, ip).await;
            self.record("change", &p, s, &a);
        }
    }

    /// Forgot password by emailed code: ask, read the code from the development outbox,
    /// prove it for a grant, set the new password with the grant.
    async fn reset_by_code(&mut self) {
        for _ in 0..3 {
            let ip = self.ip();
            self.requests += 1;
            let a = self
                .ctx
                .post(
                    "request_reset",
                    &[
                        ("who[identifier]", self.username),
                        ("who[email]", ""),
                        ("channel", "EmailCode"),
                    ],
                    None,
                    &ip,
                )
                .await;
            let reference = match a.status() {
                Some(200) => match a.json()["reference"].as_str() {
                    Some(r) if !r.is_empty() => r.to_owned(),
                    // The body was cut off by a kill: the request is in, its reference unknown.
                    _ => continue,
                },
                None => continue,
                Some(503) if a.busy() => continue,
                Some(other) => {
                    self.violation(format!("request_reset answered {other}: {}", a.body()));
                    return;
                }
            };
            self.references.push(reference.clone());
            let Some(code) = self.wait_for_code(&reference).await else {
                self.ctx.stats.codes_lost.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let Some(grant) = self.prove(&code).await else {
                continue;
            };
            self.complete(&grant).await;
            return;
        }
    }

    async fn wait_for_code(&self, reference: &str) -> Option<String> {
        let deadline = Instant::now() + CODE_WAIT;
        while Instant::now() < deadline {
            for m in self.ctx.dev_outbox().await {
                if m["kind"] == "reset_code"
                    && m["to"] == self.email.as_str()
                    && m["subject"].as_str().is_some_and(|s| s.contains(reference))
                    && let Some(code) = m["text"].as_str().and_then(code_in)
                {
                    return Some(code);
                }
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        None
    }

    /// The code for a grant. An unknown answer is asked again with the same code: if the
    /// first one went through, the code is spent and a new one is needed.
    async fn prove(&mut self, code: &str) -> Option<String> {
        while self.verifies < MAX_VERIFIES {
            self.verifies += 1;
            let ip = self.ip();
            let a = self
                .ctx
                .post(
                    "verify_reset_code",
                    &[
                        ("who[identifier]", self.username),
                        ("who[email]", ""),
                        ("code", code),
                    ],
                    None,
                    &ip,
                )
                .await;
            match a.status() {
                Some(200) => return a.json()["grant"].as_str().map(str::to_owned),
                None => {}
                Some(503) if a.busy() => {}
                Some(_) => return None,
            }
        }
        None
    }

    async fn complete_with(&mut self, grant: &str, new: &str) -> Answer {
        let ip = self.ip();
        self.ctx
            .post(
                "complete_reset",
                &[("grant", grant), ("new", new), ("repeat", new)],
                None,
                &ip,
            )
            .await
    }

    /// The new password with the grant; one time in four the same grant is sent twice at
    /// once with two passwords (at most one may be saved).
    async fn complete(&mut self, grant: &str) {
        if self.rng.chance(4) {
            let (p1, p2) = (
                self.ctx.new_password(&mut self.rng),
                self.ctx.new_password(&mut self.rng),
            );
            let (ip1, ip2) = (self.ip(), self.ip());
            let ctx = self.ctx.clone();
            let submit = |new: String, ip: String| {
                let ctx = ctx.clone();
                async move {
                    let start = Instant::now();
                    let a = ctx
                        .post(
                            "complete_reset",
                            &[("grant", grant), ("new", &new), ("repeat", &new)],
                            None,
                            &ip,
                        )
                        .await;
                    (new, start, a)
                }
            };
            let ((p1, s1, a1), (p2, s2, a2)) = tokio::join!(submit(p1, ip1), submit(p2, ip2));
            let o1 = self.record("reset (same grant twice)", &p1, s1, &a1);
            let o2 = self.record("reset (same grant twice)", &p2, s2, &a2);
            match (o1, o2) {
                (Outcome::Saved, Outcome::Saved) => self.violation(format!(
                    "one grant set two passwords at once: {p1:?}, {p2:?}"
                )),
                (Outcome::Saved, _) => self.after_reset(Some(grant), &p1).await,
                (_, Outcome::Saved) => self.after_reset(Some(grant), &p2).await,
                _ => {}
            }
            return;
        }
        for _ in 0..2 {
            let p = self.ctx.new_password(&mut self.rng);
            let start = Instant::now();
            let a = self.complete_with(grant, &p).await;
            match self.record("reset", &p, start, &a) {
                Outcome::Saved => {
                    self.after_reset(Some(grant), &p).await;
                    return;
                }
                // Not saved, grant untouched: again with another password.
                Outcome::Refused if a.busy() => {}
                Outcome::Refused => return,
                // Again with the same grant: saved only if the first did not go through.
                _ => {}
            }
        }
    }

    /// After a reset the client was told was saved: the spent grant is refused, and a
    /// session from before the reset no longer works.
    async fn after_reset(&mut self, grant: Option<&str>, current: &str) {
        if let Some(grant) = grant {
            let p = self.ctx.new_password(&mut self.rng);
            let start = Instant::now();
            let a = self.complete_with(grant, &p).await;
            if self.record("spent grant again", &p, start, &a) == Outcome::Saved {
                self.violation(format!("a spent grant set another password: {p:?}"));
            }
        }
        if let Some(old) = self.session.take() {
            let p = self.ctx.new_password(&mut self.rng);
            let ip = self.ip();
            let start = Instant::now();
            let a = self
                .ctx
                .post(
                    "change_password",
                    &[("current", current), ("new", &p), ("repeat", &p)],
                    Some(&old),
                    &ip,
                )
                .await;
            if self.record("change in a session from before", &p, start, &a) == Outcome::Saved {
                self.violation(format!(
                    "a session from before the reset changed the password to {p:?}"
                ));
            }
        }
    }

    /// A session as the front desk or the administrator (their passwords never change here).
    async fn operator_session(&mut self, (user, pw): (&str, &str)) -> String {
        if let Some(s) = &self.operator {
            return s.clone();
        }
        loop {
            let ip = self.ip();
            let a = self
                .ctx
                .post(
                    "sign_in",
                    &[("portal", "Staff"), ("identifier", user), ("password", pw)],
                    None,
                    &ip,
                )
                .await;
            match a {
                Answer::Reply {
                    status: 200,
                    cookie: Some(c),
                    ..
                } => {
                    self.operator = Some(c.clone());
                    return c;
                }
                Answer::Reply { status: 503, .. } | Answer::Unknown => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Answer::Reply { status, body, .. } => {
                    panic!("{user} could not sign in: {status} {body}")
                }
            }
        }
    }

    /// Chart > Portal / API Access > Reset credentials, with a password the front desk chose.
    async fn desk_reset(&mut self, patient_id: i64) {
        let desk = self.operator_session(DESK).await;
        let p = self.ctx.new_password(&mut self.rng);
        let ip = self.ip();
        let id = patient_id.to_string();
        let start = Instant::now();
        let a = self
            .ctx
            .post(
                "portal_credentials",
                &[
                    ("patient_id", &id),
                    ("username", self.username),
                    ("choice[Chosen]", &p),
                ],
                Some(&desk),
                &ip,
            )
            .await;
        if a.status() == Some(401) {
            self.operator = None;
        }
        if self.record("front desk reset", &p, start, &a) == Outcome::Saved {
            self.after_reset(None, &p).await;
        }
    }

    /// Admin > Users > Reset password, the administrator typing their own password too.
    async fn admin_reset(&mut self) {
        let admin = self.operator_session(ADMIN).await;
        let p = self.ctx.new_password(&mut self.rng);
        let ip = self.ip();
        let id = self.account_id.to_string();
        let start = Instant::now();
        let a = self
            .ctx
            .post(
                "admin_reset_password",
                &[
                    ("user_id", &id),
                    ("new", &p),
                    ("repeat", &p),
                    ("your_password", ADMIN.1),
                ],
                Some(&admin),
                &ip,
            )
            .await;
        if a.status() == Some(401) {
            self.operator = None;
        }
        if self.record("administrator reset", &p, start, &a) == Outcome::Saved {
            self.after_reset(None, &p).await;
        }
    }

    /// After the load, with the server up and nothing in flight: exactly one candidate signs
    /// in, and no refused password does. A success clears the failure count, so the
    /// failures in a row stay below the lockout threshold.
    async fn final_check(&mut self) {
        if self.broken {
            return;
        }
        let candidates = self.candidates();
        assert!(
            candidates.len() < LOCKOUT_THRESHOLD as usize,
            "{}: {} candidates would lock the account: {}",
            self.username,
            candidates.len(),
            self.history()
        );
        let mut found = vec![];
        for c in &candidates {
            match self.signs_in(c).await {
                Some(true) => found.push(c.clone()),
                Some(false) => {}
                None => return,
            }
        }
        if found.len() != 1 {
            self.violation(format!(
                "after the run {} of the candidates {candidates:?} sign in, not exactly one; \
                 history: {}",
                found.len(),
                self.history()
            ));
            return;
        }
        let mut failures = 0;
        for r in self.refused().into_iter().take(4) {
            if failures >= 3 {
                let _ = self.signs_in(&found[0]).await;
                failures = 0;
            }
            match self.signs_in(&r).await {
                Some(true) => self.violation(format!(
                    "the refused password {r:?} signs in; history: {}",
                    self.history()
                )),
                Some(false) => failures += 1,
                None => {}
            }
        }
    }
}

impl Ctx {
    fn stats_line(&self) -> String {
        format!("at {:.1} s", self.t0.elapsed().as_secs_f64())
    }
}

// ---------------------------------------------------------------------------------------------
// The run.

struct Figures {
    kills: usize,
    attempted: u64,
    saved: u64,
    refused: u64,
    unknown: u64,
    flows: u64,
    searches: u64,
    codes_lost: u64,
    violations: usize,
    committed_unknown: u64,
    db_rows: String,
    seconds: f64,
}

async fn run(db_name: &'static str, dir: PathBuf, database_url: String) {
    let started = Instant::now();
    let seed = seed();
    println!("F4 {db_name}: seed {seed} (KILL_SEED={seed} replays the choices)");
    eprintln!("F4 {db_name}: seed {seed}");
    let setup = Arc::new(Setup {
        dir,
        database_url: database_url.clone(),
        port: process::free_port(),
    });
    run_demo_data(&setup);

    // What the accounts are before the load.
    let baseline = {
        let db = Database::connect(&database_url).await.unwrap();
        let snap = Snapshot::read(&db).await;
        db.close().await.unwrap();
        snap
    };
    let http = reqwest::Client::builder()
        // A new connection per request: a refused connection then means "never sent".
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let ctx = Arc::new(Ctx {
        base: setup.base(),
        http: http.clone(),
        stop: AtomicBool::new(false),
        violations: Mutex::new(vec![]),
        stats: Stats::default(),
        counter: AtomicU64::new(0),
        t0: Instant::now(),
    });
    let mut rng = Rng::new(seed);
    let mut clients = vec![];
    let accounts = PATIENTS
        .iter()
        .map(|(u, p)| (*u, *p, true))
        .chain(STAFF.iter().map(|(u, p)| (*u, *p, false)));
    for (number, (username, password, patient)) in accounts.enumerate() {
        let a = baseline
            .accounts
            .iter()
            .find(|a| a.username == username)
            .unwrap_or_else(|| panic!("no demo account {username}"));
        let email = baseline
            .contacts_of(a)
            .into_iter()
            .find(|c| c.kind == contact::Kind::Email)
            .map(|c| c.value.clone())
            .unwrap_or_else(|| panic!("{username} has no email on file"));
        let target = if patient {
            Target::Patient {
                patient_id: a.patient_id.unwrap(),
            }
        } else {
            Target::Staff
        };
        clients.push(Client {
            ctx: ctx.clone(),
            rng: Rng::new(seed ^ (number as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            number,
            username,
            account_id: a.id,
            target,
            email,
            attempts: vec![Attempt {
                op: "demo data",
                password: password.to_owned(),
                start: ctx.t0,
                end: ctx.t0,
                outcome: Outcome::Saved,
            }],
            session: None,
            operator: None,
            verifies: 0,
            requests: 0,
            references: vec![],
            addresses: 0,
            broken: false,
        });
    }

    let mut server = Server::new(setup.clone());
    server.start(&http).await;
    let tasks: Vec<_> = clients.into_iter().map(|c| tokio::spawn(c.run())).collect();

    // The killer: SIGKILL at a random moment (every other time a stalled one), wait for the
    // exit, start again, wait for ready.
    let postgres = database_url.starts_with("postgres");
    let staller = Staller {
        db: Database::connect(&database_url).await.unwrap(),
        postgres,
    };
    let (mut kills, mut stalled, mut waiting) = (0, 0, 0);
    while kills < KILLS {
        let up = UP_MIN_MS + rng.below(UP_MAX_MS - UP_MIN_MS);
        tokio::time::sleep(Duration::from_millis(up)).await;
        if rng.chance(2) {
            let held = staller.hold().await;
            let stall = STALL_MIN_MS + rng.below(STALL_MAX_MS - STALL_MIN_MS);
            tokio::time::sleep(Duration::from_millis(stall)).await;
            if postgres {
                waiting += staller.waiting().await;
            }
            if postgres && rng.chance(2) {
                server.kill();
                held.rollback().await.unwrap();
            } else {
                held.rollback().await.unwrap();
                // SQLite's waiting writers poll for the lock (up to 100 ms apart).
                let after = rng.below(if postgres { 20 } else { 150 });
                tokio::time::sleep(Duration::from_millis(after)).await;
                server.kill();
            }
            stalled += 1;
        } else {
            server.kill();
        }
        kills += 1;
        server.start(&http).await;
        assert!(
            started.elapsed() < RUN_LIMIT,
            "{kills} kills took {:?}",
            started.elapsed()
        );
    }
    ctx.stop.store(true, Ordering::SeqCst);
    staller.db.close().await.unwrap();
    let mut clients = vec![];
    for t in tasks {
        let c = tokio::time::timeout(RUN_LIMIT.saturating_sub(started.elapsed()), t)
            .await
            .unwrap_or_else(|_| panic!("a client did not finish:\n{}", server.log_tail(100)))
            .unwrap();
        clients.push(c);
    }
    let load_seconds = started.elapsed().as_secs_f64();

    // Nothing in flight now, the server up: what the clients were told against what is on
    // file.
    futures_join_all(clients.iter_mut().map(|c| c.final_check())).await;

    // Every message queued by a committed unit of work is delivered, kills or not.
    let db = Database::connect(&database_url).await.unwrap();
    for v in outbox_settles(&db).await {
        ctx.violation(v);
    }
    db.close().await.unwrap();

    let status = server.stop();
    if !status.is_some_and(|s| s.success()) {
        eprintln!("carekey after SIGTERM: {status:?}\n{}", server.log_tail(50));
    }
    match audit_verify(&setup) {
        Ok(text) => eprintln!("carekey audit verify: {}", text.trim()),
        Err(text) => ctx.violation(format!("carekey audit verify failed: {}", text.trim())),
    }

    let db = Database::connect(&database_url).await.unwrap();
    // The same check in process, through the library's own verifier.
    let key = ServerKey::read(&setup.dir.join("data").join("audit.key"))
        .unwrap()
        .expect("the audit key in the data directory");
    match audit::verify_chain(&db, &AuditKey::new(key)).await.unwrap() {
        audit::ChainCheck::Intact { .. } => {}
        broken => ctx.violation(format!("the audit chain does not verify: {broken:?}")),
    }
    let after = Snapshot::read(&db).await;
    db.close().await.unwrap();
    let targets: Vec<(i64, &str, &[String], u32)> = clients
        .iter()
        .map(|c| {
            (
                c.account_id,
                c.username,
                c.references.as_slice(),
                c.requests,
            )
        })
        .collect();
    for v in check_database(&baseline, &after, &targets) {
        ctx.violation(v);
    }

    let s = &ctx.stats;
    let violations = ctx.violations.lock().unwrap().clone();
    let figures = Figures {
        kills,
        attempted: s.attempted.load(Ordering::Relaxed),
        saved: s.saved.load(Ordering::Relaxed),
        refused: s.refused.load(Ordering::Relaxed),
        unknown: s.unknown.load(Ordering::Relaxed),
        flows: s.flows.load(Ordering::Relaxed),
        searches: s.searches.load(Ordering::Relaxed),
        codes_lost: s.codes_lost.load(Ordering::Relaxed),
        violations: violations.len(),
        // Each committed password event was acknowledged or had an unknown outcome.
        committed_unknown: (after.password_events() as u64)
            .saturating_sub(s.saved.load(Ordering::Relaxed)),
        db_rows: after.figures(),
        seconds: started.elapsed().as_secs_f64(),
    };
    for ((op, outcome), n) in s.by_op.lock().unwrap().iter() {
        eprintln!("  {op}: {n} {outcome}");
    }
    let line = format!(
        "F4 {db_name}: {} SIGKILLs ({stalled} stalled{}) in {load_seconds:.1} s of load; {} \
         flows; {} passwords \
         attempted: {} acknowledged, {} refused, {} unknown (killed before the answer), of \
         which {} committed; {} searches by sign-in; {} codes lost with a killed process; {}; \
         invariant violations: {}; {:.1} s in all (seed {seed})",
        figures.kills,
        if postgres {
            format!(", {waiting} transactions waiting on a lock at those")
        } else {
            String::new()
        },
        figures.flows,
        figures.attempted,
        figures.saved,
        figures.refused,
        figures.unknown,
        figures.committed_unknown,
        figures.searches,
        figures.codes_lost,
        figures.db_rows,
        figures.violations,
        figures.seconds
    );
    println!("{line}");
    eprintln!("{line}");
    assert!(figures.kills >= 20, "only {} kills", figures.kills);
    assert!(
        violations.is_empty(),
        "{} invariant violations (seed {seed}):\n{}\n--- server log (tail) ---\n{}",
        violations.len(),
        violations
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        server.log_tail(80)
    );
}

/// `join_all` without the futures crate: the futures run concurrently on the one task.
async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    std::future::poll_fn(move |cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

/// Waits until no message is queued or being sent (a killed sender's lease runs out in 2 s).
async fn outbox_settles(db: &DatabaseConnection) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending: Vec<outbox::Model> = outbox::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| matches!(m.status, outbox::Status::Queued | outbox::Status::Sending))
            .collect();
        if pending.is_empty() {
            return vec![];
        }
        if Instant::now() > deadline {
            return pending
                .iter()
                .map(|m| {
                    format!(
                        "outbox message {} ({}, {:?}, attempts {}) still {:?} 30 s after the load",
                        m.id,
                        m.kind.as_str(),
                        m.destination,
                        m.attempts,
                        m.status
                    )
                })
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The database afterwards.

struct Snapshot {
    accounts: Vec<account::Model>,
    contacts: Vec<contact::Model>,
    credentials: Vec<password_credential::Model>,
    history: Vec<password_history::Model>,
    sessions: Vec<session::Model>,
    challenges: Vec<challenge::Model>,
    outbox: Vec<outbox::Model>,
    audit: Vec<audit_log::Model>,
    requests: Vec<recovery_request::Model>,
}

impl Snapshot {
    async fn read(db: &DatabaseConnection) -> Snapshot {
        let mut audit = audit_log::Entity::find().all(db).await.unwrap();
        audit.sort_by_key(|r| r.seq);
        Snapshot {
            accounts: account::Entity::find().all(db).await.unwrap(),
            contacts: contact::Entity::find().all(db).await.unwrap(),
            credentials: password_credential::Entity::find().all(db).await.unwrap(),
            history: password_history::Entity::find().all(db).await.unwrap(),
            sessions: session::Entity::find().all(db).await.unwrap(),
            challenges: challenge::Entity::find().all(db).await.unwrap(),
            outbox: outbox::Entity::find().all(db).await.unwrap(),
            audit,
            requests: recovery_request::Entity::find().all(db).await.unwrap(),
        }
    }

    /// The contacts a notice about `a` goes to: the chart's for a patient, the account's own.
    fn contacts_of(&self, a: &account::Model) -> Vec<&contact::Model> {
        self.contacts
            .iter()
            .filter(|c| {
                c.account_id == Some(a.id)
                    || (a.patient_id.is_some() && c.patient_id == a.patient_id)
            })
            .collect()
    }

    fn password_events(&self) -> usize {
        self.audit
            .iter()
            .filter(|r| PASSWORD_EVENTS.contains(&r.action.as_str()))
            .count()
    }

    fn figures(&self) -> String {
        let count = |action: &str| self.audit.iter().filter(|r| r.action == action).count();
        format!(
            "{} password events on file ({} resets by code, {} by the front desk, {} by the \
             administrator, {} changes), {} codes and grants, {} messages, {} audit rows",
            self.password_events(),
            count("password_reset"),
            count("portal_password_reset"),
            count("staff_password_reset"),
            count("password_changed"),
            self.challenges.len(),
            self.outbox.len(),
            self.audit.len()
        )
    }
}

fn details(r: &audit_log::Model) -> serde_json::Value {
    serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null)
}

fn reference_of(r: &audit_log::Model) -> String {
    details(r)["reference"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The invariants over the rows (see the module's comment). `targets`: (account id,
/// username, references of the reset requests the server accepted, requests made).
fn check_database(
    before: &Snapshot,
    after: &Snapshot,
    targets: &[(i64, &str, &[String], u32)],
) -> Vec<String> {
    let mut v: Vec<String> = vec![];
    let mut audit_of: HashMap<i64, Vec<&audit_log::Model>> = HashMap::new();
    for r in &after.audit {
        if let Some(t) = r.target_account_id {
            audit_of.entry(t).or_default().push(r);
        }
    }
    let no_rows = vec![];
    let audit_for = |a: i64| audit_of.get(&a).unwrap_or(&no_rows);
    // A code, grant or session ended "before" an event: at or before its time, or by a unit
    // of work of the same account whose audit row comes first in the chain (on PostgreSQL a
    // unit of work's time is when it began, not when it got the account's lock).
    let ended_before = |a: i64, at: Option<i64>, time: i64, seq: i64| -> bool {
        at.is_some_and(|t| t <= time || audit_for(a).iter().any(|r| r.at == t && r.seq < seq))
    };
    // The audit rows of a code's use: a grant and its code carry the time the request came
    // in, the audit row the time its unit of work began, a moment later.
    let code_used = |a: i64, reference: &str, t: i64| -> Vec<&audit_log::Model> {
        audit_for(a)
            .iter()
            .copied()
            .filter(|r| {
                r.action == "recovery_code_used"
                    && reference_of(r) == reference
                    && (t..=t + 60_000).contains(&r.at)
            })
            .collect()
    };
    // The audit row of the unit of work that wrote a challenge: its order in the chain.
    let created_in = |c: &challenge::Model| -> Option<i64> {
        match c.purpose {
            challenge::Purpose::Reset => audit_for(c.account_id)
                .iter()
                .find(|r| {
                    r.action == "recovery_requested"
                        && r.at == c.created_at
                        && reference_of(r) == c.reference
                })
                .map(|r| r.seq),
            challenge::Purpose::Grant => code_used(c.account_id, &c.reference, c.created_at)
                .first()
                .map(|r| r.seq),
            _ => None,
        }
    };
    let recovery_purposes = [
        challenge::Purpose::Reset,
        challenge::Purpose::StaffCode,
        challenge::Purpose::Grant,
    ];

    for a in &after.accounts {
        let events: Vec<&audit_log::Model> = audit_for(a.id)
            .iter()
            .copied()
            .filter(|r| PASSWORD_EVENTS.contains(&r.action.as_str()))
            .collect();
        let contacts = after.contacts_of(a);
        let emails = contacts
            .iter()
            .filter(|c| c.kind == contact::Kind::Email)
            .count();
        let texts = contacts
            .iter()
            .filter(|c| c.kind == contact::Kind::Phone && c.sms_capable)
            .count();
        let name = &a.username;
        for e in &events {
            let (t, s) = (e.at, e.seq);
            // Exactly its notices, queued with it.
            let queued = |kind: outbox::Kind| {
                after
                    .outbox
                    .iter()
                    .filter(|m| m.account_id == Some(a.id) && m.created_at == t && m.kind == kind)
                    .count()
            };
            let (letters, notices) = (
                queued(outbox::Kind::CredentialsLetter),
                queued(outbox::Kind::PasswordNotice),
            );
            let expected = if e.action == "portal_password_reset" {
                (emails.min(1), emails.saturating_sub(1) + texts)
            } else {
                (0, emails + texts)
            };
            if (letters, notices) != expected {
                v.push(format!(
                    "{name}: {} (audit row {s}) queued {letters} letter emails and {notices} \
                     notices, expected {expected:?}",
                    e.action
                ));
            }
            // The sessions it ends: all of them for a reset, all but the changer's own for a
            // change.
            let open: Vec<i64> = after
                .sessions
                .iter()
                .filter(|x| x.account_id == a.id && x.created_at < t)
                .filter(|x| !ended_before(a.id, x.revoked_at, t, s))
                .map(|x| x.id)
                .collect();
            let allowed = usize::from(e.action == "password_changed");
            if open.len() > allowed {
                v.push(format!(
                    "{name}: sessions {open:?} outlived {} (audit row {s})",
                    e.action
                ));
            }
            // No code, link or grant outstanding past it.
            for c in after
                .challenges
                .iter()
                .filter(|c| c.account_id == a.id && recovery_purposes.contains(&c.purpose))
            {
                if created_in(c).is_some_and(|cs| cs < s)
                    && !ended_before(a.id, c.consumed_at.or(c.superseded_at), t, s)
                {
                    v.push(format!(
                        "{name}: {} {} (reference {}) outstanding past {} (audit row {s}): {c:?}",
                        c.purpose.as_str(),
                        c.id,
                        c.reference,
                        e.action
                    ));
                }
            }
        }
        // The credential is the last event's, and each event kept the one before in history.
        if let Some(last) = events.last() {
            let cred = after.credentials.iter().find(|c| c.account_id == a.id);
            if cred.map(|c| c.created_at) != Some(last.at) {
                v.push(format!(
                    "{name}: the credential on file dates from {:?}, the last password event \
                     (audit row {}) from {}",
                    cred.map(|c| c.created_at),
                    last.seq,
                    last.at
                ));
            }
        }
        let kept = |s: &Snapshot| s.history.iter().filter(|h| h.account_id == a.id).count() as i64;
        if kept(after) - kept(before) != events.len() as i64 {
            v.push(format!(
                "{name}: {} password history rows added for {} password events",
                kept(after) - kept(before),
                events.len()
            ));
        }
        // Password notices and letters come only with a password event.
        for m in after.outbox.iter().filter(|m| {
            m.account_id == Some(a.id)
                && matches!(
                    m.kind,
                    outbox::Kind::PasswordNotice | outbox::Kind::CredentialsLetter
                )
        }) {
            if !events.iter().any(|e| e.at == m.created_at) {
                v.push(format!(
                    "{name}: {} message {} with no password event at its time",
                    m.kind.as_str(),
                    m.id
                ));
            }
        }
    }

    // Codes, grants and resets: nothing used without what it was used for.
    let grants = |a: i64, reference: &str| -> Vec<&challenge::Model> {
        after
            .challenges
            .iter()
            .filter(|c| {
                c.account_id == a
                    && c.purpose == challenge::Purpose::Grant
                    && c.reference == reference
            })
            .collect()
    };
    for r in after.audit.iter().filter(|r| r.action == "password_reset") {
        let a = r.target_account_id.unwrap_or(-1);
        let spent = grants(a, &reference_of(r))
            .into_iter()
            .filter(|g| g.consumed_at == Some(r.at))
            .count();
        if spent != 1 {
            v.push(format!(
                "password reset (audit row {}) spent {spent} grants",
                r.seq
            ));
        }
    }
    for c in &after.challenges {
        let a = c.account_id;
        match c.purpose {
            challenge::Purpose::Grant => {
                if let Some(t) = c.consumed_at {
                    let resets = audit_for(a)
                        .iter()
                        .filter(|r| {
                            r.action == "password_reset"
                                && r.at == t
                                && reference_of(r) == c.reference
                        })
                        .count();
                    if resets != 1 {
                        v.push(format!(
                            "grant {} spent with {resets} password resets: {c:?}",
                            c.id
                        ));
                    }
                }
                let codes = after
                    .challenges
                    .iter()
                    .filter(|x| {
                        x.account_id == a
                            && x.purpose == challenge::Purpose::Reset
                            && x.reference == c.reference
                            && x.consumed_at == Some(c.created_at)
                    })
                    .count();
                if codes != 1 {
                    v.push(format!(
                        "grant {} issued for {codes} spent codes: {c:?}",
                        c.id
                    ));
                }
            }
            challenge::Purpose::Reset => {
                if let Some(t) = c.consumed_at {
                    let issued = grants(a, &c.reference)
                        .into_iter()
                        .filter(|g| g.created_at == t)
                        .count();
                    let used = code_used(a, &c.reference, t).len();
                    if (issued, used) != (1, 1) {
                        v.push(format!(
                            "code {} spent for {issued} grants with {used} audit rows: {c:?}",
                            c.id
                        ));
                    }
                }
                // Issued by the worker with its message and its audit row.
                let messages = after
                    .outbox
                    .iter()
                    .filter(|m| m.challenge_id == Some(c.id) && m.kind == outbox::Kind::ResetCode)
                    .count();
                if messages != 1 || created_in(c).is_none() {
                    v.push(format!(
                        "code {} issued with {messages} messages and audit row {:?}: {c:?}",
                        c.id,
                        created_in(c)
                    ));
                }
            }
            _ => {}
        }
    }
    for r in after
        .audit
        .iter()
        .filter(|r| r.action == "recovery_requested")
    {
        if details(r)["outcome"] != "queued" {
            continue;
        }
        let a = r.target_account_id.unwrap_or(-1);
        let codes = after
            .challenges
            .iter()
            .filter(|c| {
                c.account_id == a
                    && c.purpose == challenge::Purpose::Reset
                    && c.created_at == r.at
                    && c.reference == reference_of(r)
            })
            .count();
        if codes != 1 {
            v.push(format!(
                "recovery request (audit row {}) says queued, {codes} codes issued",
                r.seq
            ));
        }
    }
    for m in after
        .outbox
        .iter()
        .filter(|m| m.kind == outbox::Kind::ResetCode)
    {
        if !after
            .challenges
            .iter()
            .any(|c| Some(c.id) == m.challenge_id)
        {
            v.push(format!("reset code message {} without its code", m.id));
        }
    }

    // Each accepted request handled exactly once, or still waiting (a killed worker's lease
    // on it runs 60 s); never more requests handled than were made.
    let waiting = |username: &str| -> Vec<&recovery_request::Model> {
        after
            .requests
            .iter()
            .filter(|q| {
                serde_json::from_str::<serde_json::Value>(&q.payload)
                    .is_ok_and(|p| p["who"]["identifier"] == username)
            })
            .collect()
    };
    for (id, username, references, made) in targets {
        let handled: Vec<&audit_log::Model> = audit_for(*id)
            .iter()
            .copied()
            .filter(|r| r.action == "recovery_requested")
            .collect();
        let waiting = waiting(username);
        for reference in references.iter() {
            let n = handled
                .iter()
                .filter(|r| reference_of(r) == *reference)
                .count()
                + waiting.iter().filter(|q| q.reference == *reference).count();
            if n != 1 {
                v.push(format!(
                    "{username}: reset request {reference} accepted, handled or waiting {n} times"
                ));
            }
        }
        if handled.len() + waiting.len() > *made as usize {
            v.push(format!(
                "{username}: {} requests handled and {} waiting, but {made} made",
                handled.len(),
                waiting.len()
            ));
        }
    }
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for x in &v {
        *by_kind
            .entry(x.split(':').next().unwrap_or(""))
            .or_default() += 1;
    }
    if !v.is_empty() {
        eprintln!("database violations by first word: {by_kind:?}");
    }
    v
}
