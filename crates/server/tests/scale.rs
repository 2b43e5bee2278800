//! SECURITY.md F6 with real processes: two `carekey serve` instances on one PostgreSQL database
//! and one secret key share the outbox, and an SMTP server that takes longer than the
//! dispatcher's lease to accept each message still receives every message exactly once.
//!
//! Without lease renewal, a send slower than the lease lets the other instance claim the same
//! message and send it again; this test is how that regression shows.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use carekey_server::store::entities::{outbox, recovery_request};
use common::process::{self, AbortOnDrop, Instance};

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
    _server: AbortOnDrop,
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
        let server = process::serve_connections(listener, move |stream| {
            let r = r.clone();
            async move {
                if let Err(e) = smtp_session(stream, delay, r).await {
                    eprintln!("slow smtp: connection ended: {e}");
                }
            }
        });
        SlowSmtp {
            port,
            received,
            _server: server,
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

struct Setup {
    dir: PathBuf,
    database_url: String,
    smtp_port: u16,
}

/// Each instance has its own data directory (`data`) and shares the rest, as two hosts of one
/// deployment would.
fn carekey(setup: &Setup, data: &str) -> Command {
    let mut c = process::carekey(&setup.dir, &setup.database_url, data);
    // One key for both: each must open payloads the other sealed, and check its codes.
    c.env("CAREKEY_SECRET_KEY_FILE", setup.dir.join("secret.key"))
        // And one audit key: an instance under another refuses to start.
        .env("CAREKEY_AUDIT_KEY_FILE", setup.dir.join("audit.key"))
        .env("CAREKEY_DEV_MODE", "true")
        .env("CAREKEY_DELIVERY_LEASE_SECONDS", LEASE_SECONDS.to_string());
    process::plain_smtp(&mut c, SocketAddr::from(([127, 0, 0, 1], setup.smtp_port)));
    c
}

fn start(name: &str, setup: &Setup) -> Instance {
    let bind = format!("127.0.0.1:{}", process::free_port());
    Instance::start(&format!("instance {name}"), carekey(setup, name), &bind)
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
    // PostgreSQL is required: F6 is about several instances on one PostgreSQL database.
    let Some((db_name, database_url)) = process::pg_database("scale", "F6").await else {
        return;
    };
    let started = Instant::now();
    let dir = process::temp_dir("scale");
    let smtp = SlowSmtp::start(SMTP_DELAY).await;
    let setup = Setup {
        dir: dir.0.clone(),
        database_url: database_url.clone(),
        smtp_port: smtp.port,
    };
    process::demo_data(carekey(&setup, "demo"));
    assert!(setup.dir.join("secret.key").exists());

    let mut a = start("a", &setup);
    let mut b = start("b", &setup);
    let http = reqwest::Client::new();
    a.wait_ready(&http).await;
    b.wait_ready(&http).await;

    // Half the requests through each instance: each one's recovery worker queues its own
    // messages and wakes its own dispatcher, so both send at once.
    for (i, (username, _)) in PATIENTS.iter().enumerate() {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        process::request_reset_ok(&http, base, username, "EmailCode").await;
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
    let (sent_a, sent_b) = (a.log.lines("outbox: sent"), b.log.lines("outbox: sent"));
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
            "{} after SIGTERM: {status:?}\n{}",
            instance.name,
            instance.log_text()
        );
    }
    process::drop_database(&db_name).await;
    println!(
        "F6: {} messages through 2 processes (a sent {sent_a}, b sent {sent_b}), lease \
         {LEASE_SECONDS} s, SMTP answering after {SMTP_DELAY:?}: each received once; {:.1} s",
        PATIENTS.len(),
        started.elapsed().as_secs_f64()
    );
}
