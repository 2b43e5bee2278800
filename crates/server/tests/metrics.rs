//! Metrics and logs (issue 16): `/metrics` counts a sign-in, a failed sign-in and a queued
//! email and names no patient; `carekey serve` with `log.format = json` writes only JSON lines,
//! each line of a request carrying its id, and serves `/metrics` on `metrics.bind` alone.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Db, TestServer};
use sea_orm::EntityTrait;

use carekey_server::app;
use carekey_server::store::entities::{account, contact};

const MARIA_PW: &str = "sunflower-teapot-harbor";
const WAIT: Duration = Duration::from_secs(15);

/// The sum of the samples of `name` whose labels include every pair in `labels` (a subset, so
/// a test need not spell out labels it does not care about). 0 when none.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = match series.split_once('{') {
                Some((m, r)) => (m, r),
                None => (series, ""),
            };
            (metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())
            .flatten()
        })
        .sum()
}

/// `/metrics` served beside a test server, on its own loopback port, as `carekey serve` does.
struct Metrics {
    url: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Metrics {
    async fn beside(srv: &TestServer) -> Metrics {
        let listener = app::metrics_listener(Some("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
        let url = format!("http://{}/metrics", listener.addr());
        Metrics {
            url,
            http: reqwest::Client::new(),
            _stop: listener.spawn(srv.services.clone()),
        }
    }

    async fn scrape(&self) -> String {
        let res = self.http.get(&self.url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        res.text().await.unwrap()
    }

    /// Scrapes until `done` holds of the text (the worker and dispatcher run on their own).
    async fn scrape_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let text = self.scrape().await;
            if done(&text) {
                return text;
            }
            assert!(started.elapsed() < WAIT, "{what}; last scrape:\n{text}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Every username, email address and phone number on file, in the forms a label could carry.
async fn who_is_on_file(srv: &TestServer) -> (Vec<String>, Vec<String>) {
    let usernames = account::Entity::find()
        .all(&srv.services.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.username.to_lowercase())
        .collect::<Vec<_>>();
    let mut contacts = vec![];
    for c in contact::Entity::find().all(&srv.services.db).await.unwrap() {
        contacts.push(c.value.to_lowercase());
        contacts.push(c.value_norm.to_lowercase());
        if c.kind == contact::Kind::Phone {
            let digits: String = c.value_norm.chars().filter(char::is_ascii_digit).collect();
            // The national number too (+15035550155 → 5035550155).
            contacts.push(digits.strip_prefix('1').unwrap_or(&digits).to_owned());
            contacts.push(digits);
        }
    }
    (usernames, contacts)
}

/// No username, email or phone number anywhere in `text`: usernames as whole words (a short
/// name such as "sam" may sit inside an ordinary word), contacts anywhere.
fn assert_names_nobody(text: &str, usernames: &[String], contacts: &[String], what: &str) {
    assert!(usernames.len() >= 20 && contacts.len() >= 20, "demo data");
    let lower = text.to_lowercase();
    let words: std::collections::HashSet<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
        .collect();
    for u in usernames {
        assert!(!words.contains(u.as_str()), "{what} names user {u:?}");
    }
    for c in contacts {
        assert!(!lower.contains(c.as_str()), "{what} holds contact {c:?}");
    }
}

async fn counts_and_names_nobody(srv: TestServer) {
    let metrics = Metrics::beside(&srv).await;
    let before = metrics.scrape().await;
    let count = |text: &str, name: &str, labels: &[(&str, &str)]| sample(text, name, labels);

    assert_eq!(srv.sign_in("Patient", "maria", MARIA_PW).await.status, 200);
    let wrong = srv
        .sign_in("Patient", "maria", "not-marias-password-x")
        .await;
    assert_eq!(wrong.status, 401);
    let id = wrong.headers["x-request-id"].to_str().unwrap();
    assert!(
        id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    let form = [
        ("who[identifier]", "maria"),
        ("who[email]", ""),
        ("channel", "EmailCode"),
    ];
    assert_eq!(srv.api("request_reset", &form, None).await.status, 200);

    let email = [("channel", "email")];
    let queued = count(&before, "carekey_outbox_queued_total", &email);
    let sent = count(
        &before,
        "carekey_deliveries_total",
        &[("channel", "email"), ("outcome", "sent")],
    );
    let sent_on_file = count(
        &before,
        "carekey_outbox_messages",
        &[("channel", "email"), ("state", "sent")],
    );
    // The delivery is counted as it happens, the row marked sent just after, and the gauge
    // read from the database at a scrape (a scrape whose query is slow keeps the last values):
    // wait for all three.
    let after = metrics
        .scrape_until("the email queued and sent", |t| {
            count(t, "carekey_outbox_queued_total", &email) == queued + 1.0
                && count(
                    t,
                    "carekey_deliveries_total",
                    &[("channel", "email"), ("outcome", "sent")],
                ) == sent + 1.0
                && count(
                    t,
                    "carekey_outbox_messages",
                    &[("channel", "email"), ("state", "sent")],
                ) == sent_on_file + 1.0
        })
        .await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        count(&after, name, labels) - count(&before, name, labels)
    };

    let sign_in = [("endpoint", "/api/sign_in"), ("method", "POST")];
    let ok = [sign_in[0], sign_in[1], ("status", "200")];
    let refused = [sign_in[0], sign_in[1], ("status", "401")];
    assert_eq!(delta("carekey_http_requests_total", &ok), 1.0, "{after}");
    assert_eq!(delta("carekey_http_requests_total", &refused), 1.0);
    assert_eq!(
        delta("carekey_http_request_duration_seconds_count", &sign_in),
        2.0
    );
    assert_eq!(delta("carekey_signin_successes_total", &[]), 1.0);
    assert_eq!(
        delta(
            "carekey_signin_failures_total",
            &[("attempt", "sign_in"), ("reason", "wrong_password")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "carekey_http_requests_total",
            &[("endpoint", "/api/request_reset"), ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "carekey_recovery_requests_total",
            &[("kind", "reset"), ("outcome", "queued")]
        ),
        1.0
    );
    assert_eq!(delta("carekey_recovery_worker_lag_seconds_count", &[]), 1.0);
    // Read from this server's database at the scrape: the email sent, none waiting.
    assert_eq!(
        delta(
            "carekey_outbox_messages",
            &[("channel", "email"), ("state", "sent")]
        ),
        1.0,
        "{after}"
    );
    assert_eq!(
        count(
            &after,
            "carekey_outbox_messages",
            &[("channel", "email"), ("state", "queued")]
        ),
        0.0
    );
    assert_eq!(count(&after, "carekey_recovery_requests_waiting", &[]), 0.0);
    for series in [
        "carekey_argon2_queue_wait_seconds_count",
        "carekey_outbox_oldest_queued_seconds",
        "carekey_recovery_oldest_waiting_seconds",
    ] {
        assert!(after.contains(series), "{series} missing:\n{after}");
    }

    let (usernames, contacts) = who_is_on_file(&srv).await;
    assert_names_nobody(&after, &usernames, &contacts, "/metrics");
}

/// One test for both databases, one after the other: the recorder is the process's, so two
/// servers counting at once would blur each other's counts.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_sign_ins_and_a_queued_email_and_name_nobody() {
    let srv = common::start(Db::Sqlite, "metrics").await.unwrap();
    counts_and_names_nobody(srv).await;
    if let Some(srv) = common::start(Db::Postgres, "metrics").await {
        counts_and_names_nobody(srv).await;
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `carekey serve`, its output kept line by line; stopped with SIGTERM when dropped.
struct Serve {
    child: Child,
    lines: Arc<Mutex<Vec<(&'static str, String)>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    dir: std::path::PathBuf,
}

impl Serve {
    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        common::terminate(&mut self.child);
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_logs_json_lines_with_request_ids_and_serves_metrics_on_their_own_port() {
    let dir = std::env::temp_dir().join(format!("carekey-metrics-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    // Only what this test sets: a stray CAREKEY_* or DATABASE_URL must not change it.
    let carekey = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_carekey"));
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CAREKEY_DATA_DIR", dir.join("data"))
            .env("CAREKEY_DIST_DIR", dir.join("dist"))
            .env("CAREKEY_DEV_MODE", "true")
            .env("CAREKEY_BIND", format!("127.0.0.1:{port}"))
            .env("CAREKEY_PUBLIC_URL", &base)
            .env("CAREKEY_METRICS_BIND", format!("127.0.0.1:{metrics_port}"))
            .env("CAREKEY_LOG_FORMAT", "json")
            .env("RUST_LOG", "carekey=info,carekey_server=info,warn")
            .current_dir(&dir);
        c
    };
    let demo = carekey().arg("demo-data").output().unwrap();
    assert!(demo.status.success(), "{demo:?}");

    let mut child = carekey()
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let mut readers = vec![];
    let out: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
    let err: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
    for (name, stream) in [("stdout", out), ("stderr", err)] {
        let lines = lines.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                lines.lock().unwrap().push((name, line));
            }
        }));
    }
    let mut serve = Serve {
        child,
        lines,
        readers,
        dir: dir.clone(),
    };

    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not ready: {:?}",
            serve.lines.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let sign_in = |pw: &'static str| {
        http.post(format!("{base}/api/sign_in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("portal=Patient&identifier=maria&password={pw}"))
            .send()
    };
    let ok = sign_in(MARIA_PW).await.unwrap();
    assert_eq!(ok.status(), 200);
    let ok_id = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    let wrong = sign_in("not-marias-password-x").await.unwrap();
    assert_eq!(wrong.status(), 401);
    let wrong_id = wrong.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(ok_id, wrong_id);

    // The counters on the metrics port, and nowhere on the portal's.
    let text = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(&text, "carekey_signin_successes_total", &[]),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "carekey_signin_failures_total",
            &[("reason", "wrong_password")]
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "carekey_http_requests_total",
            &[("endpoint", "/api/sign_in"), ("status", "200")]
        ),
        1.0
    );
    let portal = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert!(
        !portal.text().await.unwrap().contains("carekey_"),
        "the portal's own address serves no metrics"
    );
    serve.stop();

    let lines = serve.lines.lock().unwrap().clone();
    let mut answered = vec![];
    for (stream, line) in &lines {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{stream} line is not JSON ({e}): {line}"));
        assert!(v.is_object() && v["level"].is_string(), "{line}");
        assert!(!line.contains(MARIA_PW), "{line}");
        if let Some(span) = v.get("span")
            && span["name"] == "request"
        {
            let id = span["request_id"].as_str().unwrap_or_default();
            assert_eq!(id.len(), 16, "a request line without its id: {line}");
            if v["message"] == "answered" {
                answered.push((id.to_owned(), span["endpoint"].clone(), v["status"].clone()));
            }
        }
    }
    assert!(
        lines.iter().any(|(_, l)| l.contains("CareKey is running")),
        "{lines:?}"
    );
    for (id, status) in [(&ok_id, 200), (&wrong_id, 401)] {
        assert!(
            answered
                .iter()
                .any(|(i, e, s)| i == id && e == "/api/sign_in" && s == status),
            "no answered line for {id}: {answered:?}"
        );
    }
    // The sign-in's own line ("signed in") carries the same id as its answer.
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.contains("signed in") && l.contains(&ok_id)),
        "{lines:?}"
    );
}

/// The check itself: a username as a label value is caught, the same letters inside a word
/// are not, and a contact is caught anywhere.
#[test]
fn the_leak_check_catches_names_and_contacts() {
    let users: Vec<String> = (0..20)
        .map(|i| format!("user{i}"))
        .chain(["sam".into()])
        .collect();
    let contacts: Vec<String> = (0..20).map(|i| format!("c{i}@example.org")).collect();
    assert_names_nobody("same_total{x=\"sample\"} 1\n", &users, &contacts, "ok");
    for leaky in [
        "x_total{user=\"sam\"} 1\n",
        "x_total{to=\"c7@example.org\"} 1\n",
    ] {
        let caught = std::panic::catch_unwind(|| {
            assert_names_nobody(leaky, &users, &contacts, "leaky");
        });
        assert!(caught.is_err(), "{leaky}");
    }
}
