//! SECURITY.md F6 with real processes: two `carekey serve` instances on one PostgreSQL database
//! and one secret key share the outbox, and an SMTP server that takes longer than the
//! dispatcher's lease to accept each message still receives every message exactly once.
//!
//! Without lease renewal, a send slower than the lease lets the other instance claim the same
//! message and send it again; this test is how that regression shows.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use carekey_server::store::entities::{outbox, recovery_request};

/// The dispatcher's lease, shorter than the SMTP server's answer.
const LEASE_SECONDS: u64 = 2;
/// How long the SMTP server waits after the message before it answers `250`.
const SMTP_DELAY: Duration = Duration::from_secs(3);
/// Demo patients with an email address on file; each asks for one reset code by email.
const PATIENTS: &[(&str, &str)] = &[
    ("maria", "maria.lopez@example.com"),
    ("jchen", "james.chen@example.com"),
    ("rosa", "rosa.nguyen@example.com"),
    ("omar", "omar.haddad@example.com"),
    ("hana", "hana.sato@example.com"),
    ("ivan", "ivan.petrov@example.com"),
    ("nora", "nora.quinn@example.com"),
    ("paul", "paul.adams@example.com"),
];
const SETTLE_TIMEOUT: Duration = Duration::from_secs(45);

// ---------------------------------------------------------------------------------------------
// A slow SMTP server: just enough SMTP for lettre with `smtp.tls = none`.

#[derive(Default, Debug)]
struct Received {
    /// Envelope recipient → messages received for it (counted at the end of DATA).
    per_recipient: BTreeMap<String, usize>,
    /// Transactions begun (MAIL FROM) and not yet answered or abandoned.
    in_flight: usize,
}

struct SlowSmtp {
    port: u16,
    received: Arc<Mutex<Received>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SlowSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counts a transaction as in flight until it is answered or its connection goes away.
struct InFlight(Arc<Mutex<Received>>);

impl InFlight {
    fn begin(received: &Arc<Mutex<Received>>) -> InFlight {
        received.lock().unwrap().in_flight += 1;
        InFlight(received.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.lock().unwrap().in_flight -= 1;
    }
}

impl SlowSmtp {
    async fn start(delay: Duration) -> SlowSmtp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Received::default()));
        let r = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let r = r.clone();
                tokio::spawn(async move {
                    if let Err(e) = smtp_session(stream, delay, r).await {
                        eprintln!("slow smtp: connection ended: {e}");
                    }
                });
            }
        });
        SlowSmtp {
            port,
            received,
            task,
        }
    }

    fn counts(&self) -> BTreeMap<String, usize> {
        self.received.lock().unwrap().per_recipient.clone()
    }

    fn in_flight(&self) -> usize {
        self.received.lock().unwrap().in_flight
    }
}

async fn smtp_session(
    stream: tokio::net::TcpStream,
    delay: Duration,
    received: Arc<Mutex<Received>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::new(read);
    write
        .write_all(b"220 slow-smtp ESMTP test server\r\n")
        .await?;
    let mut recipients: Vec<String> = vec![];
    let mut transaction: Option<InFlight> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let verb = command.split([' ', ':']).next().unwrap_or("");
        let reply: &[u8] = match verb {
            "EHLO" => b"250-slow-smtp\r\n250 8BITMIME\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                recipients.clear();
                drop(transaction.take());
                b"250 OK\r\n"
            }
            "MAIL" => {
                recipients.clear();
                drop(transaction.replace(InFlight::begin(&received)));
                b"250 OK\r\n"
            }
            "RCPT" => {
                let addr = line
                    .split_once('<')
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map(|(a, _)| a.to_ascii_lowercase())
                    .unwrap_or_default();
                recipients.push(addr);
                b"250 OK\r\n"
            }
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                loop {
                    line.clear();
                    if read.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line.trim_end_matches(['\r', '\n']) == "." {
                        break;
                    }
                }
                // The whole message has arrived: it counts as received, answered or not, as a
                // real relay may deliver a message whose answer never reached the sender.
                {
                    let mut r = received.lock().unwrap();
                    for to in recipients.drain(..) {
                        *r.per_recipient.entry(to).or_default() += 1;
                    }
                }
                tokio::time::sleep(delay).await;
                write.write_all(b"250 OK: queued\r\n").await?;
                drop(transaction.take());
                continue;
            }
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

// ---------------------------------------------------------------------------------------------
// `carekey` processes.

/// One `carekey serve` process. Dropping it stops it (SIGTERM, then SIGKILL), so a failing
/// test leaves no server behind.
struct Instance {
    name: &'static str,
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

struct Setup {
    dir: PathBuf,
    database_url: String,
    smtp_port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `carekey` binary with only the settings given here: nothing from the test's own
/// environment (a stray `CAREKEY_*` or `DATABASE_URL`) can change what is tested.
fn carekey(setup: &Setup, data: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carekey"));
    c.current_dir(&setup.dir)
        .env_clear()
        .env("DATABASE_URL", &setup.database_url)
        .env("CAREKEY_DATA_DIR", setup.dir.join(data))
        .env("CAREKEY_DIST_DIR", setup.dir.join("dist"))
        // One key for both: each must open payloads the other sealed, and check its codes.
        .env("CAREKEY_SECRET_KEY_FILE", setup.dir.join("secret.key"))
        // And one audit key: an instance under another refuses to start.
        .env("CAREKEY_AUDIT_KEY_FILE", setup.dir.join("audit.key"))
        .env("CAREKEY_DEV_MODE", "true")
        .env("CAREKEY_SMTP_HOST", "127.0.0.1")
        .env("CAREKEY_SMTP_PORT", setup.smtp_port.to_string())
        .env("CAREKEY_SMTP_TLS", "none")
        .env(
            "CAREKEY_SMTP_FROM",
            "Hillside Clinic <portal@hillside.example>",
        )
        .env("CAREKEY_DELIVERY_LEASE_SECONDS", LEASE_SECONDS.to_string())
        .env("RUST_LOG", "carekey=info,carekey_server=info,warn")
        .env("NO_COLOR", "1");
    c
}

fn collect(from: impl std::io::Read + Send + 'static, log: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            log.lock().unwrap().push(line);
        }
    });
}

impl Instance {
    fn start(name: &'static str, setup: &Setup) -> Instance {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = carekey(setup, name)
            .arg("serve")
            .env("CAREKEY_BIND", format!("127.0.0.1:{port}"))
            .env("CAREKEY_PUBLIC_URL", &base)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(vec![]));
        collect(child.stdout.take().unwrap(), log.clone());
        collect(child.stderr.take().unwrap(), log.clone());
        Instance {
            name,
            child,
            base,
            log,
        }
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "instance {} exited before it was ready ({status}):\n{}",
                    self.name,
                    self.log_text()
                );
            }
            let url = format!("{}/readyz", self.base);
            if let Ok(r) = http.get(&url).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "instance {} not ready after 30 s:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn sent(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("outbox: sent"))
            .count()
    }

    /// SIGTERM as an operator would, then SIGKILL if it has not gone within 10 s.
    fn stop(&mut self) -> Option<ExitStatus> {
        // Once reaped, `try_wait` keeps answering with the status, so no signal ever goes to a
        // process id the system has handed to someone else.
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("instance {} ignored SIGTERM for 10 s; killed", self.name);
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn request_reset(http: &reqwest::Client, base: &str, username: &str) {
    let body = format!("who%5Bidentifier%5D={username}&who%5Bemail%5D=&channel=EmailCode");
    let r = http
        .post(format!("{base}/api/request_reset"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert_eq!(
        status, 200,
        "request_reset for {username} at {base}: {text}"
    );
}

/// PostgreSQL is required: F6 is about several instances on one PostgreSQL database. Returns
/// the fresh database's name and URL, or None where a missing server may skip the test.
async fn database() -> Option<(String, String)> {
    let admin = common::pg_admin_url();
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    // Refused connections otherwise wait out the pool's 30 s before they count as missing.
    let mut quick = sea_orm::ConnectOptions::new(admin.clone());
    quick
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5));
    if let Err(e) = Database::connect(quick).await {
        assert!(
            !ci,
            "no PostgreSQL at {admin} ({e}); with CI=true SECURITY.md F6 must be proved, not skipped"
        );
        eprintln!("skipped: no PostgreSQL at {admin} ({e})");
        println!("skipped: no PostgreSQL at {admin}");
        return None;
    }
    let fresh = common::fresh_pg_database("scale").await;
    assert!(
        fresh.is_some() || !ci,
        "could not create a database at {admin}"
    );
    fresh
}

async fn drop_database(name: &str) {
    if let Ok(conn) = Database::connect(&common::pg_admin_url()).await {
        let _ = conn
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("carekey-scale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_demo_data(setup: &Setup) {
    let out = carekey(setup, "demo").arg("demo-data").output().unwrap();
    assert!(
        out.status.success(),
        "carekey demo-data: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Messages not yet settled: recovery requests not yet turned into messages, and messages
/// queued or being sent.
async fn unsettled(db: &sea_orm::DatabaseConnection) -> (u64, u64, u64) {
    let requests = recovery_request::Entity::find().count(db).await.unwrap();
    let pending = outbox::Entity::find()
        .filter(outbox::Column::Status.is_in([outbox::Status::Queued, outbox::Status::Sending]))
        .count(db)
        .await
        .unwrap();
    let total = outbox::Entity::find().count(db).await.unwrap();
    (requests, pending, total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_send_each_message_once_though_smtp_is_slower_than_the_lease() {
    let Some((db_name, database_url)) = database().await else {
        return;
    };
    let started = Instant::now();
    let dir = common::TempDir(temp_dir());
    let smtp = SlowSmtp::start(SMTP_DELAY).await;
    let setup = Setup {
        dir: dir.0.clone(),
        database_url: database_url.clone(),
        smtp_port: smtp.port,
    };
    run_demo_data(&setup);
    assert!(setup.dir.join("secret.key").exists());

    let mut a = Instance::start("a", &setup);
    let mut b = Instance::start("b", &setup);
    let http = reqwest::Client::new();
    a.wait_ready(&http).await;
    b.wait_ready(&http).await;

    // Half the requests through each instance: each one's recovery worker queues its own
    // messages and wakes its own dispatcher, so both send at once.
    for (i, (username, _)) in PATIENTS.iter().enumerate() {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        request_reset(&http, base, username).await;
    }

    let db = Database::connect(&database_url).await.unwrap();
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        let (requests, pending, total) = unsettled(&db).await;
        if requests == 0 && pending == 0 && total == PATIENTS.len() as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after {SETTLE_TIMEOUT:?}: {requests} requests, {pending} of {total} messages \
             unsent; received {:?}\n--- a ---\n{}\n--- b ---\n{}",
            smtp.counts(),
            a.log_text(),
            b.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A second send started just before the last message was marked sent would still be on
    // its way: wait until the SMTP server has been idle for a while.
    let mut idle_since = Instant::now();
    while idle_since.elapsed() < Duration::from_secs(1) {
        if smtp.in_flight() > 0 {
            idle_since = Instant::now();
        }
        assert!(Instant::now() < deadline, "the SMTP server never went idle");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let counts = smtp.counts();
    let statuses: Vec<(String, outbox::Status)> = outbox::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.destination, r.status))
        .collect();
    let expected: BTreeMap<String, usize> = PATIENTS
        .iter()
        .map(|(_, email)| ((*email).to_owned(), 1))
        .collect();
    assert_eq!(
        counts,
        expected,
        "each message received exactly once (lease {LEASE_SECONDS} s, SMTP answers after \
         {SMTP_DELAY:?}); outbox: {statuses:?}\n--- a ---\n{}\n--- b ---\n{}",
        a.log_text(),
        b.log_text()
    );
    assert!(
        statuses.iter().all(|(_, s)| *s == outbox::Status::Sent),
        "every message sent: {statuses:?}"
    );
    // Both instances really shared the work, and neither reported a send the other made too.
    let (sent_a, sent_b) = (a.sent(), b.sent());
    assert!(
        sent_a > 0 && sent_b > 0,
        "both instances sent: a {sent_a}, b {sent_b}"
    );
    assert_eq!(sent_a + sent_b, PATIENTS.len(), "a {sent_a}, b {sent_b}");

    drop(db);
    drop(http);
    for instance in [&mut a, &mut b] {
        let status = instance.stop();
        assert!(
            status.is_some_and(|s| s.success()),
            "instance {} after SIGTERM: {status:?}\n{}",
            instance.name,
            instance.log_text()
        );
    }
    drop_database(&db_name).await;
    println!(
        "F6: {} messages through 2 processes (a sent {sent_a}, b sent {sent_b}), lease \
         {LEASE_SECONDS} s, SMTP answering after {SMTP_DELAY:?}: each received once; {:.1} s",
        PATIENTS.len(),
        started.elapsed().as_secs_f64()
    );
}
