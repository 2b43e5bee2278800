//! `carekey` as a separate OS process, for the tests that must see what only a real process
//! shows (kill.rs, scale.rs, stall.rs, twilio_tls.rs): a SIGKILL, two instances sharing one
//! database, a stalled connection, the real network stack.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

use super::TempDir;

/// How long a started server may take to answer `/readyz`.
const READY_WITHIN: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// The command.

/// The `carekey` binary with only the settings given here and by the caller: nothing from the
/// test's own environment (a stray `CAREKEY_*` or `DATABASE_URL`) can change what is tested.
/// `data` is the data directory under `dir`, so that instances sharing `dir` keep their own.
pub fn carekey(dir: &Path, database_url: &str, data: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carekey"));
    isolate(&mut c, dir, database_url, data);
    c
}

/// [`carekey`]'s settings on a command that runs the binary through something else (`ip netns
/// exec`), which `env_clear` must not reach beyond.
pub fn isolate<'c>(
    c: &'c mut Command,
    dir: &Path,
    database_url: &str,
    data: &str,
) -> &'c mut Command {
    c.current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("CAREKEY_DATA_DIR", dir.join(data))
        .env("CAREKEY_DIST_DIR", dir.join("dist"))
        .env("RUST_LOG", "carekey=info,carekey_server=info,warn")
        // The log is searched for lines as written; colour codes would split them.
        .env("NO_COLOR", "1")
}

/// Email to an SMTP server of the test's own, which speaks no TLS.
pub fn plain_smtp(c: &mut Command, server: SocketAddr) -> &mut Command {
    c.env("CAREKEY_SMTP_HOST", server.ip().to_string())
        .env("CAREKEY_SMTP_PORT", server.port().to_string())
        .env("CAREKEY_SMTP_TLS", "none")
        .env(
            "CAREKEY_SMTP_FROM",
            "Hillside Clinic <portal@hillside.example>",
        )
}

/// `carekey demo-data` with `command`'s settings; every test here starts from the demo clinic.
pub fn demo_data(mut command: Command) {
    let out = command.arg("demo-data").output().unwrap();
    assert!(
        out.status.success(),
        "carekey demo-data: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An empty directory `carekey-<label>-<pid>`, removed when dropped: a run that crashed
/// leaves nothing its next run would read.
pub fn temp_dir(label: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!("carekey-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

// ---------------------------------------------------------------------------------------------
// The process and its log.

/// Every line the process wrote, stdout and stderr together, with when it was read: a test
/// may ask what was logged while the database was silent. kill.rs keeps one across restarts.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<(Instant, String)>>>);

impl Log {
    /// Reads `from` on a thread of its own, so that a full pipe never blocks the server.
    /// `prefix` tells which of several processes wrote a line.
    pub fn collect(&self, from: impl std::io::Read + Send + 'static, prefix: String) {
        let log = self.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(from).lines().map_while(Result::ok) {
                log.lock()
                    .unwrap()
                    .push((Instant::now(), format!("{prefix}{line}")));
            }
        });
    }

    pub fn text(&self) -> String {
        self.tail(usize::MAX)
    }

    /// The last `n` lines: a log of many restarts is too long to show whole.
    pub fn tail(&self, n: usize) -> String {
        let log = self.0.lock().unwrap();
        log[log.len().saturating_sub(n)..]
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Lines containing `needle`.
    pub fn lines(&self, needle: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, l)| l.contains(needle))
            .count()
    }

    /// Lines containing `needle` logged in `[from, to)`.
    pub fn lines_between(&self, needle: &str, from: Instant, to: Instant) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, l)| *at >= from && *at < to && l.contains(needle))
            .count()
    }
}

/// One `carekey serve` process. Dropping it stops it (SIGTERM, then SIGKILL), so a failing
/// test leaves no server behind.
pub struct Instance {
    /// What messages call it ("carekey", "instance a").
    pub name: String,
    pub child: Child,
    pub base: String,
    pub log: Log,
}

impl Instance {
    /// `command serve`, listening on `bind` (host:port).
    pub fn start(name: &str, command: Command, bind: &str) -> Instance {
        Instance::spawn(name, command, bind, &Log::default(), String::new())
    }

    /// [`Instance::start`], its lines added to `log` after `prefix`.
    pub fn spawn(
        name: &str,
        mut command: Command,
        bind: &str,
        log: &Log,
        prefix: String,
    ) -> Instance {
        let base = format!("http://{bind}");
        let mut child = command
            .arg("serve")
            .env("CAREKEY_BIND", bind)
            .env("CAREKEY_PUBLIC_URL", &base)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        log.collect(child.stdout.take().unwrap(), prefix.clone());
        log.collect(child.stderr.take().unwrap(), prefix);
        Instance {
            name: name.to_owned(),
            child,
            base,
            log: log.clone(),
        }
    }

    /// Waits for `/readyz`; a process that exits first fails the test, with its log.
    pub async fn wait_ready(&mut self, http: &reqwest::Client) {
        let poll = Duration::from_millis(100);
        if let Err(status) = self.try_wait_ready(http, poll, usize::MAX).await {
            panic!(
                "{} exited before it was ready ({status}):\n{}",
                self.name,
                self.log_text()
            );
        }
    }

    /// Polls `/readyz` every `poll`; `Err` with the exit status if the process ends first
    /// (the caller may start it again). Not ready in time fails the test, showing the last
    /// `shown` lines of the log.
    pub async fn try_wait_ready(
        &mut self,
        http: &reqwest::Client,
        poll: Duration,
        shown: usize,
    ) -> Result<(), ExitStatus> {
        let deadline = Instant::now() + READY_WITHIN;
        let url = format!("{}/readyz", self.base);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(status);
            }
            if let Ok(r) = http.get(&url).send().await
                && r.status() == 200
            {
                return Ok(());
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after {} s:\n{}",
                self.name,
                READY_WITHIN.as_secs(),
                self.log.tail(shown)
            );
            tokio::time::sleep(poll).await;
        }
    }

    pub fn still_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log_text(&self) -> String {
        self.log.text()
    }

    /// SIGKILL (what `Child::kill` sends on Unix), and the exit reaped.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM as an operator would, then SIGKILL if it has not gone within 10 s
    /// ([`super::terminate`]).
    pub fn stop(&mut self) -> Option<ExitStatus> {
        // Once reaped, `try_wait` keeps answering with the status, so no signal ever goes to a
        // process id the system has handed to someone else, and a SIGKILL sent before is not
        // taken for one sent here.
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        super::terminate(&mut self.child);
        let status = self.child.try_wait().ok().flatten();
        const SIGKILL: i32 = 9;
        if status.is_some_and(|s| s.signal() == Some(SIGKILL)) {
            eprintln!("{} ignored SIGTERM for 10 s; killed", self.name);
        }
        status
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server of the test's own (a fake SMTP server, a relay): each connection accepted on
/// `listener` is handed to `session`, whose future then runs on a task of its own. `session`
/// itself runs in the accept loop, for what must happen before the next connection is taken.
pub fn serve_connections<S, F>(listener: tokio::net::TcpListener, mut session: S) -> AbortOnDrop
where
    S: FnMut(tokio::net::TcpStream) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    AbortOnDrop(tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(session(stream));
        }
    }))
}

/// Ends the task with the value that owns it: a test that fails leaves nothing listening.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL.

/// A fresh database (name, URL), or None where a missing server may skip the test. Under
/// CI=true a missing server fails it: there `claim` (a SECURITY.md item) must be proved.
pub async fn pg_database(tag: &str, claim: &str) -> Option<(String, String)> {
    let admin = super::pg_admin_url();
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    // Refused connections otherwise wait out the pool's 30 s before they count as missing.
    let mut quick = sea_orm::ConnectOptions::new(admin.clone());
    quick
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5));
    if let Err(e) = Database::connect(quick).await {
        assert!(
            !ci,
            "no PostgreSQL at {admin} ({e}); with CI=true SECURITY.md {claim} must be proved, \
             not skipped"
        );
        eprintln!("skipped: no PostgreSQL at {admin} ({e})");
        println!("skipped: no PostgreSQL at {admin}");
        return None;
    }
    let fresh = super::fresh_pg_database(tag).await;
    assert!(
        fresh.is_some() || !ci,
        "could not create a database at {admin}"
    );
    fresh
}

/// FORCE: a server still connected (killed, or stopped uncleanly) must not keep it alive.
pub async fn drop_database(name: &str) {
    if let Ok(conn) = Database::connect(&super::pg_admin_url()).await {
        let _ = conn
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

/// Drops the test's database when the test ends, passed or failed.
pub struct DropDatabase(pub String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let name = self.0.clone();
        // Its own thread and runtime: this may run while the test's runtime unwinds.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(drop_database(&name));
        })
        .join();
    }
}

// ---------------------------------------------------------------------------------------------
// Calls.

#[derive(Debug, Clone)]
pub struct Answer {
    /// 0 when no answer came: a hang or a refused connection is then a value to assert on.
    pub status: u16,
    pub body: String,
    pub took: Duration,
}

pub async fn timed(req: reqwest::RequestBuilder) -> Answer {
    let started = Instant::now();
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            Answer {
                status,
                body,
                took: started.elapsed(),
            }
        }
        Err(e) => Answer {
            status: 0,
            body: format!("no answer: {e}"),
            took: started.elapsed(),
        },
    }
}

/// A server function, posted as the browser apps post it.
pub async fn api(http: &reqwest::Client, base: &str, endpoint: &str, form: &str) -> Answer {
    timed(
        http.post(format!("{base}/api/{endpoint}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned()),
    )
    .await
}

/// A reset code asked for by username; `channel` as the API spells it (`EmailCode`, `Sms`).
pub async fn request_reset(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    channel: &str,
) -> Answer {
    let form = format!("who%5Bidentifier%5D={username}&who%5Bemail%5D=&channel={channel}");
    api(http, base, "request_reset", &form).await
}

/// [`request_reset`], which must be accepted.
pub async fn request_reset_ok(http: &reqwest::Client, base: &str, username: &str, channel: &str) {
    let a = request_reset(http, base, username, channel).await;
    assert_eq!(
        a.status, 200,
        "request_reset for {username} by {channel} at {base}: {}",
        a.body
    );
}
