//! SECURITY.md F3 against the real transport (issue 14): `carekey serve` sends texts and calls
//! with twilio-async, whose base URL is fixed (`https://api.twilio.com/2010-04-01/Accounts`).
//! So the server runs in a network namespace the test creates, whose `/etc/hosts` (bind-mounted
//! by `ip netns exec` from `/etc/netns/<name>/hosts`) sends `api.twilio.com` over a veth pair to
//! a fake Twilio in the test, serving HTTPS with a certificate from a test CA that the server
//! trusts through `SSL_CERT_FILE` (twilio-async → hyper-tls → native-tls → OpenSSL, whose
//! default verify paths read it). Nothing in the server is changed or bypassed.
//!
//! The fake answers each destination from a script: 201, 429 then 201, 500 then 201, and no
//! answer at all. Shown: a 429 or 500 is retried after a backoff and the message is then
//! accepted once; a hang ends at `twilio.timeout_seconds` and is not retried (the text may have
//! gone out); no message is accepted twice; a text stays a text and a call stays a call (no
//! email, no call instead of a text); the auth token is sent only as Basic credentials and
//! never written to the log.
//!
//! Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and `ip` from iproute2; without them it says
//! so and returns.

mod common;

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter};

use carekey_server::store::entities::outbox;
use common::process::{self, AbortOnDrop, Instance, request_reset_ok};

const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN: &str = "f3-test-auth-token-7c1d9e";
const FROM: &str = "+15035550100";
/// `twilio.timeout_seconds` for this test: how long a send may go unanswered.
const TWILIO_TIMEOUT: Duration = Duration::from_secs(2);
/// The dispatcher's first retry waits 2.5 to 5 s (`dispatcher::backoff(1, _)`), and is picked
/// up at its next poll, every 2 s.
const FIRST_RETRY_MAX: Duration = Duration::from_secs(5 + 2);
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A demo patient, how they ask for their code, and what the fake Twilio answers each request
/// for their number, in order (then 201).
struct Case {
    username: &'static str,
    phone: &'static str,
    email: Option<&'static str>,
    channel: &'static str,
    script: &'static [Reply],
}

/// A patient with an email address only, who asks for an email: the email channel works here,
/// so a text or call switched to email would arrive at the sink.
const EMAIL_ONLY: (&str, &str) = ("jchen", "james.chen@example.com");

const CASES: &[Case] = &[
    Case {
        username: "maria",
        phone: "+15035550101",
        email: Some("maria.lopez@example.com"),
        channel: "Sms",
        script: &[Reply::Created],
    },
    Case {
        username: "ana",
        phone: "+15035550142",
        email: Some("ana.silva@example.com"),
        channel: "Sms",
        script: &[Reply::TooManyRequests, Reply::Created],
    },
    Case {
        username: "rosa",
        phone: "+15035550111",
        email: Some("rosa.nguyen@example.com"),
        channel: "Sms",
        script: &[Reply::ServerError, Reply::Created],
    },
    Case {
        username: "omar",
        phone: "+15035550122",
        email: Some("omar.haddad@example.com"),
        channel: "Sms",
        script: &[Reply::Hang],
    },
    Case {
        username: "sam",
        phone: "+15035550177",
        email: None,
        channel: "Voice",
        script: &[Reply::Created],
    },
];

// ---------------------------------------------------------------------------------------------
// The network namespace.

fn ip_command() -> Option<PathBuf> {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

fn run(ip: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new(ip)
        .args(args)
        .output()
        .map_err(|e| format!("{} {}: {e}", ip.display(), args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A network namespace with its own `/etc/hosts`, joined to this one by a veth pair.
struct Netns {
    ip: PathBuf,
    name: String,
    host_if: String,
    /// This side's address (the fake Twilio listens here).
    host_addr: Ipv4Addr,
    /// The namespace's address (the server listens here).
    ns_addr: Ipv4Addr,
    etc: PathBuf,
}

const PREFIX: &str = "ckf3";

impl Netns {
    fn create() -> Result<Netns, String> {
        let ip = ip_command().ok_or("no `ip` command (iproute2) found")?;
        remove_stale_namespaces(&ip);
        let pid = std::process::id();
        let name = format!("{PREFIX}-{pid}");
        let (host_if, ns_if) = (format!("{PREFIX}h{pid}"), format!("{PREFIX}n{pid}"));
        // 198.18.0.0/15 is for network tests (RFC 2544): a /30 of it per test process.
        let base = u32::from(Ipv4Addr::new(198, 18, 0, 0)) + ((pid & 0x3fff) << 2);
        let (host_addr, ns_addr) = (Ipv4Addr::from(base + 1), Ipv4Addr::from(base + 2));
        let etc = PathBuf::from("/etc/netns").join(&name);
        let _ = run(&ip, &["netns", "del", &name]);
        let _ = run(&ip, &["link", "del", &host_if]);
        run(&ip, &["netns", "add", &name])?;
        let ns = Netns {
            ip: ip.clone(),
            name: name.clone(),
            host_if: host_if.clone(),
            host_addr,
            ns_addr,
            etc,
        };
        let n = name.as_str();
        run(
            &ip,
            &[
                "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if, "netns", n,
            ],
        )?;
        run(
            &ip,
            &["addr", "add", &format!("{host_addr}/30"), "dev", &host_if],
        )?;
        run(&ip, &["link", "set", &host_if, "up"])?;
        run(
            &ip,
            &[
                "-n",
                n,
                "addr",
                "add",
                &format!("{ns_addr}/30"),
                "dev",
                &ns_if,
            ],
        )?;
        run(&ip, &["-n", n, "link", "set", &ns_if, "up"])?;
        run(&ip, &["-n", n, "link", "set", "lo", "up"])?;
        std::fs::create_dir_all(&ns.etc).map_err(|e| format!("{}: {e}", ns.etc.display()))?;
        std::fs::write(
            ns.etc.join("hosts"),
            format!("127.0.0.1 localhost\n{host_addr} api.twilio.com\n"),
        )
        .map_err(|e| format!("{}/hosts: {e}", ns.etc.display()))?;
        Ok(ns)
    }

    /// `program args…` inside the namespace, with its `/etc/hosts`.
    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(&self.ip);
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// What a program in the namespace gets for `host`.
    fn resolve(&self, host: &str) -> String {
        let out = self
            .command(Path::new("getent"))
            .args(["hosts", host])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        out.unwrap_or_else(|e| format!("getent: {e}"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run(&self.ip, &["link", "del", &self.host_if]);
        let _ = run(&self.ip, &["netns", "del", &self.name]);
        let _ = std::fs::remove_dir_all(&self.etc);
    }
}

/// Namespaces left by earlier runs of this test whose process has ended.
fn remove_stale_namespaces(ip: &Path) {
    let Ok(out) = Command::new(ip).args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = run(ip, &["link", "del", &format!("{PREFIX}h{pid}")]);
            let _ = run(ip, &["netns", "del", name]);
            let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(name));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fake Twilio.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// 201 with the message or call resource, as Twilio answers an accepted request.
    Created,
    /// 429 with Twilio's JSON error (20429).
    TooManyRequests,
    /// 500 with Twilio's JSON error (20500).
    ServerError,
    /// Reads the request, never answers, keeps the connection open.
    Hang,
}

#[derive(Debug, Clone)]
struct Seen {
    /// "Messages.json" or "Calls.json".
    resource: String,
    account: String,
    to: String,
    from: String,
    /// The text (`Body`) or the script URL (`Url`).
    content: String,
    basic_auth_ok: bool,
    reply: Reply,
    at: Instant,
}

#[derive(Default)]
struct Fake {
    scripts: HashMap<String, VecDeque<Reply>>,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<Fake>>;

fn basic_auth_ok(headers: &HeaderMap) -> bool {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected)
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The resource Twilio answers 201 with (fields as in Twilio's API reference; the client reads
/// only some of them).
fn created(resource: &str, account: &str, form: &HashMap<String, String>, n: usize) -> Response {
    let date = "Tue, 14 Apr 2026 10:00:00 +0000";
    let (to, from) = (form.get("To").cloned(), form.get("From").cloned());
    let body = if resource == "Calls.json" {
        let sid = format!("CA{n:032x}");
        serde_json::json!({
            "sid": sid, "account_sid": account, "to": to, "to_formatted": to, "from": from,
            "from_formatted": from, "status": "queued", "direction": "outbound-api",
            "api_version": "2010-04-01", "date_created": date, "date_updated": date,
            "start_time": null, "end_time": null, "duration": null, "price": null,
            "price_unit": "USD", "parent_call_sid": null,
            "phone_number_sid": format!("PN{:032x}", 7),
            "answered_by": null, "forwarded_from": null, "caller_name": null,
            "group_sid": null, "queue_time": "0", "trunk_sid": null, "annotation": null,
            "uri": format!("/2010-04-01/Accounts/{account}/Calls/{sid}.json"),
            "subresource_uris": {}
        })
    } else {
        let sid = format!("SM{n:032x}");
        serde_json::json!({
            "sid": sid, "account_sid": account, "to": to, "from": from,
            "body": form.get("Body"), "status": "queued", "direction": "outbound-api",
            "api_version": "2010-04-01", "date_created": date, "date_updated": date,
            "date_sent": null, "num_segments": "1", "num_media": "0", "price": null,
            "price_unit": "USD", "error_code": null, "error_message": null,
            "messaging_service_sid": null, "media_url": null,
            "uri": format!("/2010-04-01/Accounts/{account}/Messages/{sid}.json"),
            "subresource_uris": {}
        })
    };
    (
        StatusCode::CREATED,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn resource(
    State(fake): State<Shared>,
    UrlPath((account, resource)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let to = form.get("To").cloned().unwrap_or_default();
    let (reply, n) = {
        let mut f = fake.lock().unwrap();
        let reply = f
            .scripts
            .get_mut(&to)
            .and_then(|s| s.pop_front())
            .unwrap_or(Reply::Created);
        f.seen.push(Seen {
            resource: resource.clone(),
            account: account.clone(),
            to: to.clone(),
            from: form.get("From").cloned().unwrap_or_default(),
            content: form
                .get("Body")
                .or_else(|| form.get("Url"))
                .cloned()
                .unwrap_or_default(),
            basic_auth_ok: basic_auth_ok(&headers),
            reply,
            at: Instant::now(),
        });
        (reply, f.seen.len())
    };
    match reply {
        Reply::Created => created(&resource, &account, &form, n),
        Reply::TooManyRequests => {
            twilio_error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests")
        }
        Reply::ServerError => twilio_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
            "Internal Server Error",
        ),
        Reply::Hang => std::future::pending().await,
    }
}

struct FakeTwilio {
    shared: Shared,
    handle: axum_server::Handle<SocketAddr>,
}

impl Drop for FakeTwilio {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

impl FakeTwilio {
    async fn start(addr: SocketAddr, cert_pem: String, key_pem: String) -> FakeTwilio {
        let mut fake = Fake::default();
        for case in CASES {
            fake.scripts
                .insert(case.phone.to_owned(), case.script.iter().copied().collect());
        }
        let shared: Shared = Arc::new(Mutex::new(fake));
        let app = Router::new()
            .route("/2010-04-01/Accounts/{account}/{resource}", post(resource))
            .with_state(shared.clone());
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
            cert_pem.into_bytes(),
            key_pem.into_bytes(),
        )
        .await
        .unwrap();
        let handle = axum_server::Handle::new();
        let server = axum_server::bind_rustls(addr, tls).handle(handle.clone());
        tokio::spawn(async move {
            if let Err(e) = server.serve(app.into_make_service()).await {
                eprintln!("fake Twilio stopped: {e}");
            }
        });
        assert!(
            handle.listening().await.is_some(),
            "fake Twilio listening on {addr}"
        );
        FakeTwilio { shared, handle }
    }

    fn seen(&self) -> Vec<Seen> {
        self.shared.lock().unwrap().seen.clone()
    }
}

/// A test CA, and a certificate for api.twilio.com it signed: (CA PEM, cert PEM, key PEM).
fn certificates() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "CareKey F3 test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["api.twilio.com".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

// ---------------------------------------------------------------------------------------------
// An SMTP sink: just enough SMTP for lettre with `smtp.tls = none`; counts messages.

struct SmtpSink {
    addr: SocketAddr,
    received: Arc<Mutex<usize>>,
    _server: AbortOnDrop,
}

impl SmtpSink {
    async fn start(addr: SocketAddr) -> SmtpSink {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let received = Arc::new(Mutex::new(0));
        let r = received.clone();
        let server =
            process::serve_connections(listener, move |stream| smtp_session(stream, r.clone()));
        SmtpSink {
            addr,
            received,
            _server: server,
        }
    }

    fn received(&self) -> usize {
        *self.received.lock().unwrap()
    }
}

async fn smtp_session(stream: tokio::net::TcpStream, received: Arc<Mutex<usize>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::new(read);
    let mut line = String::new();
    if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
        return;
    }
    loop {
        line.clear();
        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let verb = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = match verb.split([' ', ':']).next().unwrap_or("") {
            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
            "DATA" => {
                if write.write_all(b"354 go on\r\n").await.is_err() {
                    return;
                }
                loop {
                    line.clear();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line.trim_end_matches(['\r', '\n']) == "." {
                        break;
                    }
                }
                *received.lock().unwrap() += 1;
                b"250 queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"250 OK\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `carekey serve` inside the namespace.

/// The settings both runs of `carekey` get. Email goes to the test's SMTP sink, so a text
/// switched to email would be seen there.
fn configure(c: &mut Command, dir: &Path, ca_file: Option<&Path>, smtp: SocketAddr) {
    let database_url = format!("sqlite://{}", dir.join("carekey.db").display());
    process::isolate(c, dir, &database_url, "data")
        .env("CAREKEY_SECRET_KEY_FILE", dir.join("secret.key"))
        .env("CAREKEY_METRICS_BIND", "off")
        .env("CAREKEY_TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        .env("CAREKEY_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
        .env("CAREKEY_TWILIO_FROM", FROM)
        .env(
            "CAREKEY_TWILIO_TIMEOUT_SECONDS",
            TWILIO_TIMEOUT.as_secs().to_string(),
        );
    process::plain_smtp(c, smtp);
    // The test CA: with it, the only root the server's TLS client trusts besides the system's.
    if let Some(ca) = ca_file {
        c.env("SSL_CERT_FILE", ca);
    }
}

/// The demo data in `dir` (loaded from here: it needs development mode, which a server
/// reachable from another machine, as the namespace's address is, may not run in), then
/// `carekey serve` inside the namespace on `port`.
async fn serve(
    ns: &Netns,
    dir: &Path,
    ca_file: Option<&Path>,
    smtp: SocketAddr,
    port: u16,
    http: &reqwest::Client,
) -> Instance {
    let carekey = Path::new(env!("CARGO_BIN_EXE_carekey"));
    std::fs::create_dir_all(dir).unwrap();
    let mut demo = Command::new(carekey);
    configure(&mut demo, dir, ca_file, smtp);
    demo.env("CAREKEY_DEV_MODE", "true");
    process::demo_data(demo);
    let mut command = ns.command(carekey);
    configure(&mut command, dir, ca_file, smtp);
    let bind = format!("{}:{port}", ns.ns_addr);
    let mut srv = Instance::start("carekey", command, &bind);
    srv.wait_ready(http).await;
    srv
}

async fn outbox_rows(db: &DatabaseConnection) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(outbox::Kind::ResetCode))
        .all(db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_twilio_transport_over_tls_retries_without_duplicates_or_channel_switch() {
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    let root = effective_uid() == Some(0);
    let ns = match Netns::create() {
        Ok(ns) => ns,
        Err(e) => {
            // A CI runner that is root must run it; elsewhere (no root, no iproute2) it cannot.
            assert!(
                !(ci && root),
                "CI=true as root, but no network namespace: {e}"
            );
            eprintln!("skipped: cannot create a network namespace ({e}); needs root and iproute2");
            println!("skipped: cannot create a network namespace");
            return;
        }
    };
    let started = Instant::now();
    let dir = process::temp_dir("twilio-tls");
    let (ca_pem, cert_pem, key_pem) = certificates();
    let ca_file = dir.0.join("test-ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let resolved = ns.resolve("api.twilio.com");
    assert!(
        resolved.starts_with(&ns.host_addr.to_string()),
        "api.twilio.com inside the namespace: {resolved:?}"
    );
    let fake = FakeTwilio::start(SocketAddr::from((ns.host_addr, 443)), cert_pem, key_pem).await;

    let smtp = SmtpSink::start(SocketAddr::from((ns.host_addr, 2525))).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut srv = serve(&ns, &dir.0, Some(&ca_file), smtp.addr, 3000, &http).await;
    let base = srv.base.clone();
    let asked_at = Instant::now();

    for case in CASES {
        request_reset_ok(&http, &base, case.username, case.channel).await;
    }
    request_reset_ok(&http, &base, EMAIL_ONLY.0, "EmailCode").await;

    // Settled: every message sent or failed, and the fake idle for longer than a first retry's
    // backoff, so a duplicate on its way would have arrived.
    let db = Database::connect(format!("sqlite://{}", dir.0.join("carekey.db").display()))
        .await
        .unwrap();
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let hang_phone = CASES
        .iter()
        .find(|c| c.script == [Reply::Hang])
        .unwrap()
        .phone;
    let mut hang_failed_at = None;
    let settled_at = loop {
        let rows = outbox_rows(&db).await;
        if hang_failed_at.is_none()
            && rows
                .iter()
                .any(|r| r.destination == hang_phone && r.status == outbox::Status::Failed)
        {
            hang_failed_at = Some(Instant::now());
        }
        let settled = rows.len() == CASES.len() + 1
            && rows
                .iter()
                .all(|r| matches!(r.status, outbox::Status::Sent | outbox::Status::Failed));
        if settled {
            break Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "not settled after {SETTLE_TIMEOUT:?}: {:?}\nfake saw: {:?}\n--- log ---\n{}",
            rows.iter()
                .map(|r| (&r.destination, r.status, r.attempts, &r.last_error))
                .collect::<Vec<_>>(),
            fake.seen(),
            srv.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let quiet = FIRST_RETRY_MAX;
    tokio::time::sleep(quiet).await;

    let seen = fake.seen();
    let rows = outbox_rows(&db).await;
    let log_text = srv.log_text();
    let mut summary = vec![];
    for case in CASES {
        let to_them: Vec<&Seen> = seen.iter().filter(|s| s.to == case.phone).collect();
        let replies: Vec<Reply> = to_them.iter().map(|s| s.reply).collect();
        let expected_resource = if case.channel == "Voice" {
            "Calls.json"
        } else {
            "Messages.json"
        };
        // Exactly the scripted requests: a retry after each 429 or 500, none after the hang,
        // none after the 201.
        assert_eq!(
            replies, case.script,
            "{}: requests the fake received\n--- log ---\n{log_text}",
            case.username
        );
        let accepted = replies.iter().filter(|r| **r == Reply::Created).count();
        assert!(
            accepted <= 1,
            "{}: accepted {accepted} times",
            case.username
        );
        for s in &to_them {
            assert_eq!(
                s.resource, expected_resource,
                "{}: channel kept",
                case.username
            );
            assert_eq!(s.account, ACCOUNT_SID);
            assert_eq!(s.from, FROM);
            assert!(s.basic_auth_ok, "{}: Basic credentials", case.username);
            if case.channel == "Voice" {
                // Twilio fetches the call's script from the portal's own signed URL.
                assert!(
                    s.content.starts_with(&format!("{base}/twilio/voice/")),
                    "{}: {s:?}",
                    case.username
                );
            } else {
                assert!(!s.content.is_empty(), "{}: {s:?}", case.username);
            }
        }
        // The same text each time it was tried: a retry resends the message, not a new code.
        let contents: Vec<&str> = to_them.iter().map(|s| s.content.as_str()).collect();
        assert!(
            contents.windows(2).all(|w| w[0] == w[1]),
            "{}: {contents:?}",
            case.username
        );
        let row = rows
            .iter()
            .find(|r| r.destination == case.phone)
            .unwrap_or_else(|| panic!("{}: no outbox row: {rows:?}", case.username));
        let channel = if case.channel == "Voice" {
            outbox::Channel::Voice
        } else {
            outbox::Channel::Sms
        };
        assert_eq!(row.channel, channel, "{}", case.username);
        let retries = (case.script.len() - 1) as i32;
        if case.script.last() == Some(&Reply::Hang) {
            assert_eq!(
                row.status,
                outbox::Status::Failed,
                "{}: {row:?}",
                case.username
            );
            assert!(
                row.last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("did not answer in time")),
                "{}: {row:?}",
                case.username
            );
        } else {
            assert_eq!(
                row.status,
                outbox::Status::Sent,
                "{}: {row:?}",
                case.username
            );
            assert_eq!(
                row.attempts, retries,
                "{}: attempts recorded",
                case.username
            );
        }
        // No other channel for the same person: no email, no second row.
        assert_eq!(
            rows.iter()
                .filter(
                    |r| Some(r.destination.as_str()) == case.email || r.destination == case.phone
                )
                .count(),
            1,
            "{}: one message, on the channel asked for",
            case.username
        );
        let gaps: Vec<Duration> = to_them.windows(2).map(|w| w[1].at - w[0].at).collect();
        summary.push(format!("{} {replies:?} gaps {gaps:.1?}", case.username));
    }
    assert_eq!(
        seen.len(),
        CASES.iter().map(|c| c.script.len()).sum::<usize>(),
        "no request to anyone else: {seen:?}"
    );
    // The hang was given up at the transport's timeout (`twilio.timeout_seconds`)...
    let hang_asked = seen.iter().find(|s| s.to == hang_phone).unwrap().at;
    let hang_bound = hang_failed_at.unwrap() - hang_asked;
    assert!(
        hang_bound >= TWILIO_TIMEOUT - Duration::from_millis(200)
            && hang_bound <= TWILIO_TIMEOUT + Duration::from_secs(2),
        "a send with no answer ended {hang_bound:?} after it was made"
    );
    // ...and the retries waited out a backoff.
    for case in CASES.iter().filter(|c| c.script.len() > 1) {
        let at: Vec<Instant> = seen
            .iter()
            .filter(|s| s.to == case.phone)
            .map(|s| s.at)
            .collect();
        assert!(
            at[1] - at[0] >= Duration::from_millis(2000),
            "{}: retried after {:?}",
            case.username,
            at[1] - at[0]
        );
    }
    // Email works here, and only the email asked for went there.
    let emailed = rows
        .iter()
        .find(|r| r.destination == EMAIL_ONLY.1)
        .unwrap_or_else(|| panic!("no email row for {}: {rows:?}", EMAIL_ONLY.0));
    assert_eq!(
        (emailed.channel, emailed.status),
        (outbox::Channel::Email, outbox::Status::Sent)
    );
    assert_eq!(smtp.received(), 1, "no text or call took another way");
    assert!(
        !log_text.contains(AUTH_TOKEN),
        "the auth token is in the log:\n{log_text}"
    );

    drop(db);
    let status = srv.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "carekey after SIGTERM: {status:?}\n{log_text}"
    );

    // The control: the same server without the test CA. The fake's certificate is then
    // refused before a byte of the request is sent, so Twilio (the fake) sees nothing, and the
    // text waits for a retry (a connection never made is safe to retry) instead of going
    // anywhere else. This is what shows the TLS above was verified, not waved through.
    let control_dir = dir.0.join("control");
    let mut control = serve(&ns, &control_dir, None, smtp.addr, 3001, &http).await;
    let before = fake.seen().len();
    request_reset_ok(&http, &control.base, "maria", "Sms").await;
    let db = Database::connect(format!(
        "sqlite://{}",
        control_dir.join("carekey.db").display()
    ))
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let refused = loop {
        let rows = outbox_rows(&db).await;
        if let Some(r) = rows.iter().find(|r| r.attempts >= 1) {
            break r.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no attempt without the CA: {rows:?}\n{}",
            control.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (refused.channel, refused.status),
        (outbox::Channel::Sms, outbox::Status::Queued),
        "{refused:?}"
    );
    assert_eq!(
        refused.last_error.as_deref(),
        Some("could not connect to Twilio"),
        "{refused:?}"
    );
    assert_eq!(fake.seen().len(), before, "no request reached the fake");
    assert_eq!(smtp.received(), 1, "nothing went by email instead");
    drop(db);
    control.stop();

    drop(fake);
    drop(ns);
    println!(
        "F3 twilio-async over TLS to a fake api.twilio.com (netns, test CA via SSL_CERT_FILE): \
         {}; the hang given up {hang_bound:.2?} after the request (timeout {TWILIO_TIMEOUT:?}); \
         settled {:.1?} after the requests, then {quiet:?} quiet; without the CA: refused \
         before sending, queued to retry; {:.1} s",
        summary.join("; "),
        settled_at - asked_at,
        started.elapsed().as_secs_f64()
    );
}
