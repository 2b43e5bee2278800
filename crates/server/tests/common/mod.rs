//! Test harness: a real CareKey server on a loopback port, over SQLite or a fresh PostgreSQL
//! database, with a clock the test moves.

#![allow(dead_code)]

pub mod passkey;
pub mod process;
pub mod smtp;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use carekey_server::app;
use carekey_server::clock::ManualClock;
use carekey_server::config;
use carekey_server::domain::Services;
use reqwest::header::HeaderMap;
use sea_orm::{ConnectionTrait, Database};

pub const START_MS: i64 = 1_800_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub base: String,
    pub clock: ManualClock,
    pub services: Arc<Services>,
    pub db_kind: Db,
    /// PostgreSQL only: the database name and an admin URL, for fault tests.
    pub pg: Option<(String, String)>,
    pub http: reqwest::Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _dir: TempDir,
}

pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn pg_admin_url() -> String {
    std::env::var("CAREKEY_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh PostgreSQL database for one test, or None (with a visible message) when no server
/// answers.
pub async fn fresh_pg_database(tag: &str) -> Option<(String, String)> {
    let admin = pg_admin_url();
    let conn = match Database::connect(&admin).await {
        Ok(c) => c,
        Err(e) => {
            // CI promises a PostgreSQL: there, its absence is a failure, never a quiet pass
            // of every PostgreSQL variant.
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but no PostgreSQL at {admin}: {e}"
            );
            eprintln!("skipped: no PostgreSQL at {admin} ({e})");
            println!("skipped: no PostgreSQL at {admin}");
            return None;
        }
    };
    cleanup_stale_databases(&conn).await;
    let name = format!(
        "carekey_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        tag
    );
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .ok()?;
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin.clone());
    Some((name.clone(), format!("{base}/{name}")))
}

static CLEANED: std::sync::Once = std::sync::Once::new();

/// Drops databases left by earlier test processes that have ended (test binaries run one
/// after another; a crashed run leaves its databases behind).
async fn cleanup_stale_databases(conn: &sea_orm::DatabaseConnection) {
    let mut first = false;
    CLEANED.call_once(|| first = true);
    if !first {
        return;
    }
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'carekey_t_%'".to_owned(),
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        // Only databases whose test process has ended: another test run on this machine
        // (a second checkout, CI beside a developer) may be using the others right now.
        let creator_gone = |name: &str| {
            name.strip_prefix("carekey_t_")
                .and_then(|rest| rest.split('_').next())
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| {
                    pid != std::process::id()
                        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
                })
        };
        if let Ok(name) = row.try_get::<String>("", "datname")
            && creator_gone(&name)
        {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

pub async fn start(db: Db, tag: &str) -> Option<TestServer> {
    start_with(db, tag, &[]).await
}

pub async fn start_with(db: Db, tag: &str, extra: &[(&str, &str)]) -> Option<TestServer> {
    start_inner(db, tag, extra, true).await
}

/// A server with no demo data (for settings the demo passwords would not meet).
pub async fn start_empty(db: Db, tag: &str, extra: &[(&str, &str)]) -> Option<TestServer> {
    start_inner(db, tag, extra, false).await
}

async fn start_inner(db: Db, tag: &str, extra: &[(&str, &str)], demo: bool) -> Option<TestServer> {
    let dir = std::env::temp_dir().join(format!(
        "carekey-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (database_url, pg) = match db {
        Db::Sqlite => (format!("sqlite://{}/carekey.db", dir.display()), None),
        Db::Postgres => {
            let (name, url) = fresh_pg_database(tag).await?;
            (url.clone(), Some((name, pg_admin_url())))
        }
    };
    let listener = app::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("DATABASE_URL".into(), database_url);
    env.insert("CAREKEY_PUBLIC_URL".into(), base.clone());
    env.insert("CAREKEY_DATA_DIR".into(), dir.display().to_string());
    env.insert(
        "CAREKEY_DIST_DIR".into(),
        dir.join("dist").display().to_string(),
    );
    env.insert("CAREKEY_DEV_MODE".into(), "true".into());
    // The test client stands in for the clinic's proxy: the addresses it writes in
    // X-Forwarded-For are the clients'.
    env.insert(
        "CAREKEY_HTTP_TRUSTED_PROXIES".into(),
        "127.0.0.1, ::1".into(),
    );
    // The staff tests sign staff in with a password alone, many times a minute; a second step
    // required of staff (SECURITY.md M2, the default) is tested in tests/twostep.rs.
    env.insert("CAREKEY_MFA_STAFF".into(), "optional".into());
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let cfg = config::load(None, false, &|k| env.get(k).cloned()).unwrap();
    let clock = ManualClock::new(START_MS);
    let services = app::services(cfg, Arc::new(clock.clone())).await.unwrap();
    if demo {
        carekey_server::demo::load(&services).await.unwrap();
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let s2 = services.clone();
    tokio::spawn(async move {
        app::serve(listener, s2, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Some(TestServer {
        base,
        clock,
        services,
        db_kind: db,
        pg,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _shutdown: tx,
        _dir: TempDir(dir),
    })
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The session cookie's value from Set-Cookie, if one was set.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("carekey_session=") && !c.starts_with("carekey_session=;"))
            .and_then(|c| c.split(';').next())
            .map(|kv| kv.to_owned())
    }

    /// Headers minus the ones that differ on every request alike: the time and the request
    /// id (random, so it says nothing about the account).
    pub fn stable_headers(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| k.as_str() != "date" && k.as_str() != "x-request-id")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        v.sort();
        v
    }
}

pub struct Call<'a> {
    pub cookie: Option<&'a str>,
    pub headers: Vec<(&'a str, String)>,
}

impl TestServer {
    pub async fn post(&self, endpoint: &str, form: &[(&str, &str)], call: Call<'_>) -> Reply {
        let mut req = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencode(form));
        if let Some(c) = call.cookie {
            req = req.header("cookie", c);
        }
        for (k, v) in call.headers {
            req = req.header(k, v);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn api(&self, endpoint: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Reply {
        self.post(
            endpoint,
            form,
            Call {
                cookie,
                headers: vec![],
            },
        )
        .await
    }

    pub async fn sign_in(&self, portal: &str, id: &str, pw: &str) -> Reply {
        self.api(
            "sign_in",
            &[("portal", portal), ("identifier", id), ("password", pw)],
            None,
        )
        .await
    }

    /// Signs in (it must succeed) and returns the session cookie for later calls.
    pub async fn session(&self, portal: &str, id: &str, pw: &str) -> String {
        let r = self.sign_in(portal, id, pw).await;
        r.session_cookie()
            .unwrap_or_else(|| panic!("sign-in as {id} failed: {} {}", r.status, r.body))
    }

    /// The change-password form as a person submits it: the new password typed twice alike.
    pub async fn change_password(&self, cookie: &str, current: &str, new: &str) -> Reply {
        self.api(
            "change_password",
            &[("current", current), ("new", new), ("repeat", new)],
            Some(cookie),
        )
        .await
    }

    pub async fn sign_in_from(&self, ip: &str, id: &str, pw: &str) -> Reply {
        self.post(
            "sign_in",
            &[("portal", "Patient"), ("identifier", id), ("password", pw)],
            Call {
                cookie: None,
                headers: vec![("x-forwarded-for", ip.to_owned())],
            },
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_as(path, None).await
    }

    /// A GET with the session cookie, as a link in the console is followed.
    pub async fn get_as(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }
}

fn serde_urlencode(form: &[(&str, &str)]) -> String {
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

/// Runs the same test body against SQLite and PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, |$srv:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($srv: common::TestServer) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let srv = common::start(common::Db::Sqlite, stringify!($name)).await.unwrap();
                run(srv).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(srv) = common::start(common::Db::Postgres, stringify!($name)).await {
                    run(srv).await;
                }
            }
        }
    };
}

/// Runs the `carekey` command with `input` on its standard input (how `create-admin` takes a
/// password: never from the command line) and waits for it.
pub fn run_with_stdin(mut cmd: std::process::Command, input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Ends a `carekey serve` process as systemd would: SIGTERM, up to 10 s to finish what it is
/// doing, then SIGKILL. Returns at once if it has already exited.
pub fn terminate(child: &mut std::process::Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
