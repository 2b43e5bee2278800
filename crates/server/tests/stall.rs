//! SECURITY.md F1 when the database stops answering without refusing (issue 14): the real
//! `carekey serve` process, its PostgreSQL connections through a TCP relay written here that the
//! test can stall (bytes are no longer forwarded, sockets stay open: what a stopped backend or
//! a black-holed network looks like from the server), and SQLite with its write lock held by
//! another process past the busy timeout.
//!
//! What is shown: the API answers a calm 503 within its deadline and `/readyz` answers 503;
//! nothing half-done is left in the database (a unit of work cut off mid-transaction is rolled
//! back, a request answered 503 left no trace); service comes back by itself, in the same
//! process; and the background workers, whose queries were in flight when the database went
//! silent, give up and retry instead of waiting for an answer forever.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, Statement, TransactionTrait,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use carekey_server::domain::audit::{AuditKey, ChainCheck, verify_chain};
use carekey_server::domain::secrets::ServerKey;
use carekey_server::store::entities::audit_log::Action;
use carekey_server::store::entities::{account, audit_log, outbox, recovery_request};
use common::process::{self, AbortOnDrop, Answer, DropDatabase, Instance, api, timed};

/// The longest an API call may take (`API_DEADLINE` in crates/server/src/http/mod.rs).
const API_DEADLINE: Duration = Duration::from_secs(10);
/// How long a request waits for a pooled connection (`store::ACQUIRE_TIMEOUT`).
const ACQUIRE_TIMEOUT: Duration = carekey_server::store::ACQUIRE_TIMEOUT;
/// How long `/readyz` waits for its probe query (`readyz` in crates/server/src/http/mod.rs).
const READYZ_TIMEOUT: Duration = Duration::from_secs(4);
/// SQLite's busy timeout (`store::connect`): how long a writer queues for the write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Room for a loaded test machine on top of a deadline the server promises.
const SLACK: Duration = Duration::from_millis(1500);
/// The demo patients used here and the demo password of one of them.
const MARIA_PASSWORD: &str = "sunflower-teapot-harbor";
const ROSA_EMAIL: &str = "rosa.nguyen@example.com";
const OMAR_EMAIL: &str = "omar.haddad@example.com";
const LEO_EMAIL: &str = "leo.park@example.com";
/// The line the SQLite lock holder prints once it holds the write lock.
const LOCK_HELD: &str = "carekey-stall: write lock held";
/// Set for the child process that holds SQLite's write lock (see `sqlite_lock_holder`).
const HOLDER_ENV: &str = "CAREKEY_STALL_LOCK_HOLDER_DB";

// ---------------------------------------------------------------------------------------------
// A TCP relay in front of PostgreSQL that the test can stall.

/// Every connection has its own gate: open, bytes flow both ways; closed, nothing is read or
/// written (and so nothing is closed either: an EOF waits behind the gate like any byte).
#[derive(Default)]
struct RelayState {
    paused: bool,
    open: Vec<watch::Sender<bool>>,
    /// Connections given up on for good: their gates stay closed while the relay lives, as a
    /// connection black-holed by a failover or a lost NAT entry would.
    forsaken: Vec<watch::Sender<bool>>,
}

struct Relay {
    port: u16,
    state: Arc<Mutex<RelayState>>,
    _server: AbortOnDrop,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(RelayState::default()));
        let st = state.clone();
        let server = process::serve_connections(listener, move |client| {
            let gate = {
                let mut s = st.lock().unwrap();
                let (tx, rx) = watch::channel(s.paused);
                s.open.push(tx);
                rx
            };
            let upstream = upstream.clone();
            async move {
                // The backend is reached at once, as a stopped backend's kernel would still
                // accept the connection; only bytes wait for the gate.
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::join!(
                    pump(client_read, server_write, gate.clone()),
                    pump(server_read, client_write, gate),
                );
            }
        });
        Relay {
            port,
            state,
            _server: server,
        }
    }

    /// Stops forwarding on every connection, open or new; nothing is closed.
    fn pause(&self) {
        let mut s = self.state.lock().unwrap();
        s.paused = true;
        for gate in &s.open {
            gate.send_replace(true);
        }
    }

    /// Forwards again: what waited is delivered, in order.
    fn resume(&self) {
        let mut s = self.state.lock().unwrap();
        s.paused = false;
        for gate in &s.open {
            gate.send_replace(false);
        }
    }

    /// The connections open now stay silent for good; new ones work (a failover: the old
    /// backend's connections hang, the address answers again for new ones).
    fn forsake_open_connections(&self) {
        let mut s = self.state.lock().unwrap();
        let open = std::mem::take(&mut s.open);
        for gate in &open {
            gate.send_replace(true);
        }
        s.forsaken.extend(open);
        s.paused = false;
    }
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut gate: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if gate.wait_for(|paused| !*paused).await.is_err() {
            return;
        }
        let n = from.read(&mut buf).await.unwrap_or(0);
        // Read while the gate was open, held if it closed meanwhile: EOF included.
        if gate.wait_for(|paused| !*paused).await.is_err() {
            return;
        }
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// `carekey serve` as a separate process.

struct Setup {
    dir: PathBuf,
    database_url: String,
}

/// Dev mode without SMTP or Twilio: messages go to the development outbox.
fn carekey(setup: &Setup) -> Command {
    let mut c = process::carekey(&setup.dir, &setup.database_url, "data");
    c.env("CAREKEY_SECRET_KEY_FILE", setup.dir.join("secret.key"))
        // Where `chain_intact` reads it.
        .env("CAREKEY_AUDIT_KEY_FILE", setup.dir.join("audit.key"))
        .env("CAREKEY_DEV_MODE", "true")
        .env("CAREKEY_METRICS_BIND", "off");
    c
}

fn run_demo_data(setup: &Setup) {
    process::demo_data(carekey(setup));
}

fn serve(setup: &Setup) -> Instance {
    let bind = format!("127.0.0.1:{}", process::free_port());
    Instance::start("carekey", carekey(setup), &bind)
}

// ---------------------------------------------------------------------------------------------
// Calls, timed.

fn client() -> reqwest::Client {
    // Far above every deadline the server promises: a hang shows as a long `took`, then as a
    // client timeout, never as a test that never ends.
    reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap()
}

async fn sign_in(http: &reqwest::Client, base: &str, username: &str, password: &str) -> Answer {
    let form = format!("portal=Patient&identifier={username}&password={password}");
    api(http, base, "sign_in", &form).await
}

async fn request_reset(http: &reqwest::Client, base: &str, username: &str) -> Answer {
    process::request_reset(http, base, username, "EmailCode").await
}

async fn readyz(http: &reqwest::Client, base: &str) -> Answer {
    timed(http.get(format!("{base}/readyz"))).await
}

/// The calm 503 of SECURITY.md F1, within `bound`.
fn assert_unavailable(what: &str, a: &Answer, bound: Duration) {
    assert_eq!(a.status, 503, "{what}: {a:?}");
    assert_eq!(a.body, "\"Unavailable\"", "{what}: {a:?}");
    assert!(
        a.took <= bound,
        "{what} answered after {:?} (bound {bound:?})",
        a.took
    );
}

/// Polls `/readyz` until it answers 200; returns how long that took.
async fn until_ready(http: &reqwest::Client, base: &str, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if readyz(http, base).await.status == 200 {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The database, read directly (never through the relay).

async fn account_id(db: &DatabaseConnection, username: &str) -> i64 {
    account::Entity::find()
        .filter(account::Column::UsernameLower.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no demo account {username}"))
        .id
}

/// The account's failure counter and the failed sign-ins the audit trail holds for it: one
/// unit of work writes both, so they move together or not at all.
async fn failures(db: &DatabaseConnection, id: i64) -> (i32, u64) {
    let counter = account::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .failed_sign_ins;
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::TargetAccountId.eq(id))
        .filter(audit_log::Column::Action.eq(Action::SignInFailed.as_str()))
        .count(db)
        .await
        .unwrap();
    (counter, audited)
}

async fn messages_to(db: &DatabaseConnection, destination: &str) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .filter(outbox::Column::Destination.eq(destination))
        .all(db)
        .await
        .unwrap()
}

/// The actions of the audit rows after the first `rows`, sorted.
async fn actions_after(db: &DatabaseConnection, rows: usize) -> Vec<String> {
    let mut actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::Seq.gt(rows as i64))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    actions.sort();
    actions
}

/// The chain checked under the audit key the server created (`audit_key_file`).
async fn chain_intact(db: &DatabaseConnection, setup: &Setup) -> usize {
    let key = AuditKey::new(
        ServerKey::read(&setup.dir.join("audit.key"))
            .unwrap()
            .expect("an audit key file"),
    );
    match verify_chain(db, &key).await.unwrap() {
        ChainCheck::Intact { rows } => rows,
        broken => panic!("audit chain: {broken:?}"),
    }
}

/// Waits until the message to `destination` has been sent; returns how long that took.
async fn until_sent(
    db: &DatabaseConnection,
    destination: &str,
    within: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if messages_to(db, destination)
            .await
            .iter()
            .any(|m| m.status == outbox::Status::Sent)
        {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL.

/// The backend's address, and the same database's URL through the relay.
fn relay_urls(direct: &str, relay_port: u16) -> (String, String) {
    let mut url = url::Url::parse(direct).unwrap();
    let upstream = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    );
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(relay_port)).unwrap();
    (upstream, url.to_string())
}

/// Backends of `db_name` waiting for a lock, and those idle inside a transaction.
async fn pg_activity(admin: &DatabaseConnection, db_name: &str) -> (i64, i64) {
    let row = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT \
               count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting, \
               count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_txn \
             FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [db_name.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get::<i64>("", "waiting").unwrap(),
        row.try_get::<i64>("", "idle_in_txn").unwrap(),
    )
}

/// Waits until at least `n` of the server's queries are blocked on a lock the test holds.
async fn until_waiting(admin: &DatabaseConnection, db_name: &str, n: i64, within: Duration) {
    let started = Instant::now();
    loop {
        let (waiting, _) = pg_activity(admin, db_name).await;
        if waiting >= n {
            return;
        }
        assert!(
            started.elapsed() < within,
            "only {waiting} of {n} queries waiting on the test's lock after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The relay stalls while a sign-in's unit of work is mid-transaction (its UPDATE was held on a
/// row lock the test took, so it is certainly in flight when the bytes stop), and while other
/// calls arrive. Every call answers a calm 503 within the API deadline; `/readyz` answers 503;
/// the cut-off unit of work leaves nothing behind; once the relay forwards again, the same
/// process serves again by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stall_answers_503_in_time_leaves_nothing_half_done_and_recovers() {
    let Some((db_name, direct_url)) = process::pg_database("stall", "F1").await else {
        return;
    };
    let _drop_database = DropDatabase(db_name.clone());
    let started = Instant::now();
    let dir = process::temp_dir("stall-pg");
    let (upstream, _) = relay_urls(&direct_url, 0);
    let relay = Relay::start(upstream).await;
    let (_, via_relay) = relay_urls(&direct_url, relay.port);
    let setup = Setup {
        dir: dir.0.clone(),
        database_url: via_relay,
    };
    run_demo_data(&setup);
    let mut srv = serve(&setup);
    let http = client();
    srv.wait_ready(&http).await;
    let base = srv.base.clone();
    let db = Database::connect(&direct_url).await.unwrap();
    let jchen = account_id(&db, "jchen").await;
    assert_eq!(
        sign_in(&http, &base, "maria", MARIA_PASSWORD).await.status,
        200
    );
    assert_eq!(failures(&db, jchen).await, (0, 0));
    let chain_before = chain_intact(&db, &setup).await;

    // A sign-in whose unit of work is in flight when the database goes silent: its UPDATE of
    // the account waits on the test's row lock; the relay stalls; the lock is let go, so the
    // backend answers into the stalled relay.
    let locker = db.begin().await.unwrap();
    locker
        .execute_unprepared(&format!(
            "SELECT id FROM accounts WHERE id = {jchen} FOR UPDATE"
        ))
        .await
        .unwrap();
    let in_flight = {
        let (http, base) = (http.clone(), base.clone());
        tokio::spawn(async move { sign_in(&http, &base, "jchen", "not-his-password-at-all").await })
    };
    until_waiting(&db, &db_name, 1, Duration::from_secs(8)).await;
    relay.pause();
    let paused_at = Instant::now();
    locker.commit().await.unwrap();

    // Calls that arrive while it is silent.
    let (ready, good_sign_in, reset) = tokio::join!(
        readyz(&http, &base),
        sign_in(&http, &base, "maria", MARIA_PASSWORD),
        request_reset(&http, &base, "omar"),
    );
    let in_flight = in_flight.await.unwrap();
    assert_eq!(ready.status, 503, "readyz while stalled: {ready:?}");
    assert!(ready.took <= READYZ_TIMEOUT + SLACK, "readyz: {ready:?}");
    assert_unavailable("sign-in while stalled", &good_sign_in, API_DEADLINE + SLACK);
    assert_unavailable("request_reset while stalled", &reset, API_DEADLINE + SLACK);
    assert_unavailable(
        "sign-in cut off mid-transaction",
        &in_flight,
        API_DEADLINE + SLACK,
    );
    // A second round, on a pool that has just lost every connection it had.
    let (ready2, good_sign_in2) = tokio::join!(
        readyz(&http, &base),
        sign_in(&http, &base, "maria", MARIA_PASSWORD)
    );
    assert_eq!(ready2.status, 503, "readyz still stalled: {ready2:?}");
    assert_unavailable(
        "second sign-in while stalled",
        &good_sign_in2,
        API_DEADLINE + SLACK,
    );
    let stalled_for = paused_at.elapsed();
    let resumed_at = Instant::now();
    let gave_up = (
        srv.log
            .lines_between("recovery worker: will retry", paused_at, resumed_at),
        srv.log.lines_between(
            "outbox: could not read the queue; will retry",
            paused_at,
            resumed_at,
        ),
    );
    // Workers between queries when the bytes stopped wait for a connection, give up at the
    // acquire timeout and try again on their next round (one caught mid-query is the next
    // test's case).
    assert!(
        gave_up.0 >= 1 && gave_up.1 >= 1,
        "workers giving up during the stall: {gave_up:?}\n{}",
        srv.log_text()
    );
    relay.resume();

    let recovered = until_ready(&http, &base, Duration::from_secs(15))
        .await
        .unwrap_or_else(|| panic!("readyz never recovered:\n{}", srv.log_text()));
    assert!(srv.still_running(), "the same process serves again");
    let back = sign_in(&http, &base, "maria", MARIA_PASSWORD).await;
    assert_eq!(back.status, 200, "sign-in after the stall: {back:?}");

    // Nothing half-done: the cut-off sign-in's failure count and audit row were rolled back
    // together, no transaction was left open holding the account's row, and the reset that
    // was answered 503 was never queued.
    let mut idle_in_txn = 0;
    for _ in 0..50 {
        idle_in_txn = pg_activity(&db, &db_name).await.1;
        if idle_in_txn == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(idle_in_txn, 0, "a transaction left open after the stall");
    assert_eq!(
        failures(&db, jchen).await,
        (0, 0),
        "the sign-in answered 503 left no failure count and no audit row"
    );
    let after = sign_in(&http, &base, "jchen", "not-his-password-at-all").await;
    assert_eq!(
        after.status, 401,
        "the account's row is free again: {after:?}"
    );
    assert_eq!(failures(&db, jchen).await, (1, 1));
    // The workers serve again too: a reset asked for now is delivered.
    let reset_after = request_reset(&http, &base, "rosa").await;
    assert_eq!(reset_after.status, 200, "{reset_after:?}");
    let delivered = until_sent(&db, ROSA_EMAIL, Duration::from_secs(15))
        .await
        .unwrap_or_else(|| panic!("rosa's code never sent:\n{}", srv.log_text()));
    assert!(
        messages_to(&db, OMAR_EMAIL).await.is_empty(),
        "the reset answered 503 was not queued after all"
    );
    assert_eq!(
        recovery_request::Entity::find().count(&db).await.unwrap(),
        0,
        "no request left behind"
    );
    let chain_after = chain_intact(&db, &setup).await;
    assert_eq!(
        actions_after(&db, chain_before).await,
        ["recovery_requested", "sign_in", "sign_in_failed"],
        "audit rows: only the calls answered after the stall"
    );

    drop(db);
    let status = srv.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "carekey after SIGTERM: {status:?}\n{}",
        srv.log_text()
    );
    drop(relay);
    println!(
        "F1 PostgreSQL stall ({stalled_for:.1?} without a byte): in-flight sign-in 503 after \
         {:.2?}; sign-in 503 after {:.2?} then {:.2?}; request_reset 503 after {:.2?}; readyz 503 \
         after {:.2?}; workers gave up {} (recovery) / {} (outbox) times meanwhile; ready again \
         {:.2?} after the relay resumed; reset delivered {:.2?} after asking; audit chain intact \
         ({chain_after} rows); {:.1} s",
        in_flight.took,
        good_sign_in.took,
        good_sign_in2.took,
        reset.took,
        ready.took,
        gave_up.0,
        gave_up.1,
        recovered,
        delivered,
        started.elapsed().as_secs_f64()
    );
}

/// The workers' queries are in flight when the database goes silent (each waited on a table
/// lock the test held), and their connections never answer again, as after a failover that
/// leaves the old connections black-holed; new connections work. The workers must give up on
/// the silent connection and retry on a new one: a reset asked for afterwards is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_workers_give_up_on_a_silent_connection_and_retry() {
    let Some((db_name, direct_url)) = process::pg_database("workers", "F1").await else {
        return;
    };
    let _drop_database = DropDatabase(db_name.clone());
    let started = Instant::now();
    let dir = process::temp_dir("stall-workers");
    let (upstream, _) = relay_urls(&direct_url, 0);
    let relay = Relay::start(upstream).await;
    let (_, via_relay) = relay_urls(&direct_url, relay.port);
    let setup = Setup {
        dir: dir.0.clone(),
        database_url: via_relay,
    };
    run_demo_data(&setup);
    let mut srv = serve(&setup);
    let http = client();
    srv.wait_ready(&http).await;
    let base = srv.base.clone();
    let db = Database::connect(&direct_url).await.unwrap();

    // Both workers poll every 2 s; the table locks hold their next polls in flight.
    let locker = db.begin().await.unwrap();
    locker
        .execute_unprepared("LOCK TABLE recovery_requests, outbox IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    until_waiting(&db, &db_name, 2, Duration::from_secs(8)).await;
    relay.forsake_open_connections();
    let silent_at = Instant::now();
    locker.commit().await.unwrap();

    // The API opens new connections; a pooled connection that went silent costs at most one
    // acquire timeout before it is dropped, so a patient may see a 503 or two first.
    let mut answers = vec![];
    let asked = loop {
        let a = request_reset(&http, &base, "rosa").await;
        answers.push((a.status, a.took));
        if a.status == 200 {
            break Instant::now();
        }
        assert_unavailable("request_reset after the failover", &a, API_DEADLINE + SLACK);
        assert!(answers.len() < 4, "the API never recovered: {answers:?}");
    };
    let delivered = until_sent(&db, ROSA_EMAIL, Duration::from_secs(12)).await;
    let now = Instant::now();
    let gave_up = (
        srv.log
            .lines_between("recovery worker: will retry", silent_at, now),
        srv.log.lines_between(
            "outbox: could not read the queue; will retry",
            silent_at,
            now,
        ),
    );
    let pending = recovery_request::Entity::find().count(&db).await.unwrap();
    let queued = messages_to(&db, ROSA_EMAIL).await;
    let delivered = delivered.unwrap_or_else(|| {
        panic!(
            "a reset asked for {:.1?} after the failover was never delivered ({:.1?} later): \
             {pending} recovery request(s) unhandled, outbox rows for it: {:?}; since the \
             failover the workers logged giving up {} (recovery) / {} (outbox) times (none: \
             each is still waiting on a connection that will never answer)\n--- log ---\n{}",
            asked - silent_at,
            now - asked,
            queued
                .iter()
                .map(|m| (m.status, m.attempts))
                .collect::<Vec<_>>(),
            gave_up.0,
            gave_up.1,
            srv.log_text()
        )
    });
    assert!(srv.still_running());

    drop(db);
    srv.stop();
    drop(relay);
    println!(
        "F1 PostgreSQL failover (old connections silent for good): request_reset answers \
         {answers:?}; delivered {delivered:.2?} after asking; workers gave up {} (recovery) / \
         {} (outbox) times; {:.1} s",
        gave_up.0,
        gave_up.1,
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// SQLite.

/// Not a test on its own: run as a child process of this test binary (with `HOLDER_ENV` set),
/// it takes SQLite's write lock on that database with `BEGIN IMMEDIATE`, says so on stdout,
/// and holds it until its stdin gives a line or closes (the test process is gone). Without
/// `HOLDER_ENV` it does nothing.
#[tokio::test]
async fn sqlite_lock_holder() {
    use sea_orm::sqlx::{Connection, Executor};
    let Ok(path) = std::env::var(HOLDER_ENV) else {
        return;
    };
    let mut conn = sea_orm::sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{path}"))
        .await
        .unwrap();
    conn.execute("BEGIN IMMEDIATE").await.unwrap();
    println!("{LOCK_HELD}");
    std::io::stdout().flush().unwrap();
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await
    .unwrap();
    conn.execute("ROLLBACK").await.unwrap();
    conn.close().await.unwrap();
}

/// Another process holding SQLite's write lock.
struct LockHolder {
    child: Child,
}

impl LockHolder {
    fn take(db_file: &Path) -> LockHolder {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sqlite_lock_holder",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HOLDER_ENV, db_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains(LOCK_HELD) {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the lock holder took the write lock");
        LockHolder { child }
    }

    /// Lets go of the lock and waits for the process to end.
    fn release(mut self) -> ExitStatus {
        let mut stdin = self.child.stdin.take().unwrap();
        let _ = stdin.write_all(b"release\n");
        drop(stdin);
        self.child.wait().unwrap()
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Another process holds SQLite's write lock past the busy timeout: writes answer a calm 503
/// once the busy timeout has run out (not a hang, not a 500), reads go on, nothing of the
/// refused calls is written, and writes succeed again as soon as the lock is let go.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_write_lock_held_elsewhere_gives_a_calm_503_then_recovers() {
    let started = Instant::now();
    let dir = process::temp_dir("stall-sqlite");
    let db_file = dir.0.join("carekey.db");
    let setup = Setup {
        dir: dir.0.clone(),
        database_url: format!("sqlite://{}", db_file.display()),
    };
    run_demo_data(&setup);
    let mut srv = serve(&setup);
    let http = client();
    srv.wait_ready(&http).await;
    let base = srv.base.clone();
    let db = Database::connect(&setup.database_url).await.unwrap();
    let jchen = account_id(&db, "jchen").await;
    let chain_before = chain_intact(&db, &setup).await;

    let holder = LockHolder::take(&db_file);
    let locked_at = Instant::now();
    let (wrong, good, reset, ready) = tokio::join!(
        sign_in(&http, &base, "jchen", "not-his-password-at-all"),
        sign_in(&http, &base, "maria", MARIA_PASSWORD),
        request_reset(&http, &base, "leo"),
        readyz(&http, &base),
    );
    // Held past every answer: each waited out the busy timeout, none got the lock.
    assert!(locked_at.elapsed() > SQLITE_BUSY_TIMEOUT);
    let held_for = locked_at.elapsed();
    let status = holder.release();
    assert!(status.success(), "lock holder: {status:?}");
    let bound = API_DEADLINE.min(SQLITE_BUSY_TIMEOUT + ACQUIRE_TIMEOUT) + SLACK;
    assert_unavailable("wrong-password sign-in under the lock", &wrong, bound);
    assert_unavailable("sign-in under the lock", &good, bound);
    assert_unavailable("request_reset under the lock", &reset, bound);
    // WAL: readers are not held up by a writer, so the server is still ready to read.
    assert_eq!(ready.status, 200, "readyz under a write lock: {ready:?}");

    // Released: writes go through at once, in the same process.
    let after = sign_in(&http, &base, "jchen", "not-his-password-at-all").await;
    assert_eq!(after.status, 401, "{after:?}");
    let back = sign_in(&http, &base, "maria", MARIA_PASSWORD).await;
    assert_eq!(back.status, 200, "{back:?}");
    let reset_after = request_reset(&http, &base, "omar").await;
    assert_eq!(reset_after.status, 200, "{reset_after:?}");
    assert!(srv.still_running());

    // Nothing of the refused calls was written: one failure (after the release), counted and
    // audited together; leo's reset never queued (omar's, asked later, is sent first).
    assert_eq!(failures(&db, jchen).await, (1, 1));
    let delivered = until_sent(&db, OMAR_EMAIL, Duration::from_secs(15))
        .await
        .unwrap_or_else(|| panic!("omar's code never sent:\n{}", srv.log_text()));
    assert!(
        messages_to(&db, LEO_EMAIL).await.is_empty(),
        "the reset answered 503 was queued after all"
    );
    let chain_after = chain_intact(&db, &setup).await;
    assert_eq!(
        actions_after(&db, chain_before).await,
        ["recovery_requested", "sign_in", "sign_in_failed"],
        "audit rows: only the calls answered after the release"
    );

    db.close().await.unwrap();
    let stopped = srv.stop();
    assert!(
        stopped.is_some_and(|s| s.success()),
        "{stopped:?}\n{}",
        srv.log_text()
    );
    println!(
        "F1 SQLite write lock held {held_for:.1?} by another process: wrong-password sign-in \
         503 after {:.2?}, sign-in 503 after {:.2?}, request_reset 503 after {:.2?}; readyz 200 \
         after {:.2?}; after the release: 401 / 200 / 200 at once; reset delivered {:.2?} \
         later; audit chain intact ({chain_after} rows); {:.1} s",
        wrong.took,
        good.took,
        reset.took,
        ready.took,
        delivered,
        started.elapsed().as_secs_f64()
    );
}
