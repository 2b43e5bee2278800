//! A real SMTP server for integration tests: `end2end/smtp-sink.mjs` (nodemailer's smtp-server
//! and mailparser) run as a child process, with its HTTP side read back to see what was sent.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

const SETUP_HINT: &str = "run scripts/setup.sh test to install the npm packages";
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// One message as the sink saw it; `from` and `to` are the SMTP envelope, not the headers.
#[derive(serde::Deserialize, Debug, Clone)]
pub struct Mail {
    pub id: u64,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The Message-ID header as the sink parsed it.
    #[serde(default)]
    pub message_id: String,
    pub text: String,
    pub html: String,
}

pub struct SmtpSink {
    child: Child,
    pub smtp_port: u16,
    pub http_port: u16,
    http: reqwest::Client,
}

fn end2end_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../end2end")
}

/// Enough percent-encoding for an address in a query string; `+` in particular must not reach
/// the sink raw, as URLSearchParams reads it as a space.
fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses `smtp-sink: smtp on 127.0.0.1:P, http on 127.0.0.1:Q`.
fn parse_ports(line: &str) -> Option<(u16, u16)> {
    let rest = line.strip_prefix("smtp-sink: smtp on ")?;
    let (smtp, http) = rest.split_once(", http on ")?;
    let port = |s: &str| s.trim().rsplit_once(':')?.1.parse::<u16>().ok();
    Some((port(smtp)?, port(http)?))
}

impl SmtpSink {
    /// On free ports.
    pub async fn start() -> SmtpSink {
        match Self::spawn(0).await {
            Ok(sink) => sink,
            Err(e) => panic!("{e}"),
        }
    }

    /// On a fixed SMTP port, to bring the server "back" where CareKey expects it after `stop`.
    /// Retries for a few seconds while the old listener's port is still taken.
    pub async fn start_on(smtp_port: u16) -> SmtpSink {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match Self::spawn(smtp_port).await {
                Ok(sink) => return sink,
                Err(e) if e.contains("EADDRINUSE") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    async fn spawn(smtp_port: u16) -> Result<SmtpSink, String> {
        let dir = end2end_dir();
        if !dir.join("node_modules/smtp-server").is_dir()
            || !dir.join("node_modules/mailparser").is_dir()
        {
            panic!(
                "smtp-server/mailparser not found in {}: {SETUP_HINT}",
                dir.join("node_modules").display()
            );
        }
        let mut child = Command::new("node")
            .arg(dir.join("smtp-sink.mjs"))
            .args(["--smtp-port", &smtp_port.to_string(), "--http-port", "0"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node for the SMTP sink ({e}): {SETUP_HINT}"));
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stderr = child.stderr.take().unwrap();

        let ready = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Some(ports) = parse_ports(&line) {
                    return Some(ports);
                }
            }
            None
        })
        .await;
        let (smtp, http) = match ready {
            Ok(Some(ports)) => ports,
            Ok(None) => {
                // It exited before listening: its stderr says why (a taken port, a missing module).
                let mut err = String::new();
                let _ = stderr.read_to_string(&mut err).await;
                let status = child.wait().await;
                return Err(format!(
                    "the SMTP sink exited before listening ({status:?}): {}\n({SETUP_HINT} if a \
                     module is missing)",
                    err.trim()
                ));
            }
            Err(_) => {
                let _ = child.start_kill();
                return Err(format!(
                    "the SMTP sink printed no `smtp-sink:` line within {START_TIMEOUT:?} \
                     ({SETUP_HINT} if it is not installed)"
                ));
            }
        };

        // Keep reading both pipes so a later write by the sink never blocks or hits a closed
        // pipe; its stderr goes to the test's output.
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("{line}");
            }
        });

        Ok(SmtpSink {
            child,
            smtp_port: smtp,
            http_port: http,
            http: reqwest::Client::new(),
        })
    }

    async fn get(&self, query: &str) -> Vec<Mail> {
        let url = format!("http://127.0.0.1:{}/messages{query}", self.http_port);
        self.http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("GET {url} from the SMTP sink: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {url} from the SMTP sink: bad JSON: {e}"))
    }

    /// Every message, oldest first.
    pub async fn messages(&self) -> Vec<Mail> {
        self.get("").await
    }

    /// Messages whose envelope recipients include `addr` (case-insensitive), oldest first.
    pub async fn messages_to(&self, addr: &str) -> Vec<Mail> {
        self.get(&format!("?to={}", encode_query(addr))).await
    }

    /// Polls until at least `count` messages to `addr` have arrived; CareKey sends in the
    /// background, so a test cannot read right after the request that caused the mail.
    pub async fn wait_for(&self, addr: &str, count: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages_to(addr).await;
            if got.len() >= count {
                return got;
            }
            if Instant::now() >= deadline {
                panic!(
                    "waited {timeout:?} for {count} message(s) to {addr}; saw {} to them: \
                     {got:#?}\nall messages: {:#?}",
                    got.len(),
                    self.messages().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the sink the way an operator would (SIGTERM) and waits for it to exit, so its
    /// SMTP port is free again for `start_on`.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
