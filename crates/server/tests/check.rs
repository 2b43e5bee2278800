//! `carekey check` as a clinic's IT admin runs it: the real binary against a real SQLite file,
//! a real SMTP server (or none listening) and a real key file.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::smtp::SmtpSink;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carekey-check-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A working install in `dir`: migrated database, a private key, the five apps' pages.
fn install(dir: &Path) {
    for app in ["patient", "recovery", "landing", "portal", "staff"] {
        std::fs::create_dir_all(dir.join("dist").join(app)).unwrap();
        std::fs::write(dir.join("dist").join(app).join("index.html"), "<p>app</p>").unwrap();
    }
    let out = carekey(dir, 0).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = dir.join("data").join("secret.key");
    std::fs::write(&key, "ab".repeat(32)).unwrap();
    set_mode(&key, 0o600);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The binary in `dir`, its email relay on `smtp_port` (0: none configured).
fn carekey(dir: &Path, smtp_port: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carekey"));
    c.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("CAREKEY_DATA_DIR", dir.join("data"))
        .env("CAREKEY_DIST_DIR", dir.join("dist"))
        .env("RUST_LOG", "warn");
    if smtp_port != 0 {
        c.env("CAREKEY_SMTP_HOST", "127.0.0.1")
            .env("CAREKEY_SMTP_PORT", smtp_port.to_string())
            .env("CAREKEY_SMTP_TLS", "none")
            .env("CAREKEY_SMTP_FROM", "Hillside <portal@hillside.example>");
    }
    c
}

/// The line for `item`, or a failure naming what was printed.
fn line<'a>(out: &'a Output, item: &str) -> &'a str {
    let stdout = std::str::from_utf8(&out.stdout).unwrap();
    stdout
        .lines()
        .find(|l| l.get(7..7 + item.len()) == Some(item))
        .unwrap_or_else(|| panic!("no line for {item} in:\n{stdout}"))
}

/// How many messages the SMTP server has received, for anyone.
async fn mails_to_anyone(sink: &SmtpSink) -> usize {
    let url = format!("http://127.0.0.1:{}/messages", sink.http_port);
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    text.matches("\"subject\"").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_working_install_passes_every_item_and_sends_nothing() {
    let sink = SmtpSink::start().await;
    let dir = temp_dir("ok");
    install(&dir);
    let out = carekey(&dir, sink.smtp_port).arg("check").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(line(&out, "database").starts_with("ok"), "{stdout}");
    assert!(line(&out, "database").contains("none pending"), "{stdout}");
    assert!(line(&out, "secret key").contains("mode 0600"), "{stdout}");
    assert!(line(&out, "email (smtp)").starts_with("ok"), "{stdout}");
    assert!(line(&out, "texts and calls").starts_with("--"), "{stdout}");
    assert!(line(&out, "browser apps").starts_with("ok"), "{stdout}");
    assert!(stdout.contains("All checks passed."), "{stdout}");
    assert_eq!(mails_to_anyone(&sink).await, 0, "a check sends no message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_does_not_answer_fails_the_email_item() {
    let dir = temp_dir("smtp");
    install(&dir);
    // A port nothing listens on: the relay is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = carekey(&dir, port).arg("check").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(line(&out, "email (smtp)").starts_with("FAILED"), "{stdout}");
    assert!(line(&out, "database").starts_with("ok"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 check(s) failed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_wrong_database_url_fails_the_database_item_and_creates_nothing() {
    let dir = temp_dir("db");
    install(&dir);
    let out = carekey(&dir, 0)
        .env(
            "CAREKEY_DATABASE_URL",
            "postgres://carekey:hunter2@127.0.0.1:1/nowhere",
        )
        .arg("check")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(line(&out, "database").starts_with("FAILED"), "{stdout}");
    // The password in the URL is never printed.
    assert!(!stdout.contains("hunter2"), "{stdout}");

    // A mistyped SQLite path is not quietly created as a new, empty database.
    let typo = dir.join("data").join("carekye.db");
    let out = carekey(&dir, 0)
        .env(
            "CAREKEY_DATABASE_URL",
            format!("sqlite://{}", typo.display()),
        )
        .arg("check")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(line(&out, "database").contains("no database file"));
    assert!(!typo.exists());
}

#[test]
fn a_key_file_others_can_read_fails_the_key_item() {
    let dir = temp_dir("key");
    install(&dir);
    let key = dir.join("data").join("secret.key");
    set_mode(&key, 0o644);
    let out = carekey(&dir, 0).arg("check").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let l = line(&out, "secret key");
    assert!(
        l.starts_with("FAILED") && l.contains("0644") && l.contains("chmod 600"),
        "{l}"
    );

    // Lost, while the database holds accounts: the admin is told to restore it.
    std::fs::remove_file(&key).unwrap();
    let mut create = carekey(&dir, 0);
    create.args(["create-admin", "--username", "itadmin"]);
    let admin = common::run_with_stdin(create, "correct horse battery staple again\n");
    assert!(
        admin.status.success(),
        "{}",
        String::from_utf8_lossy(&admin.stderr)
    );
    // create-admin starts the services, which create a new key; take it away again.
    let _ = std::fs::remove_file(&key);
    let out = carekey(&dir, 0).arg("check").output().unwrap();
    let l = line(&out, "secret key");
    assert!(l.starts_with("FAILED") && l.contains("restore"), "{l}");
}

#[test]
fn missing_apps_fail_the_apps_item() {
    let dir = temp_dir("apps");
    install(&dir);
    std::fs::remove_dir_all(dir.join("dist").join("staff")).unwrap();
    let out = carekey(&dir, 0).arg("check").output().unwrap();
    assert!(!out.status.success());
    let l = line(&out, "browser apps");
    assert!(l.starts_with("FAILED") && l.contains("staff"), "{l}");
}

/// The HTTPS item: a pair that belongs together passes; a key from another certificate, or a
/// key file every user can read, fails naming the item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_files_must_load_match_and_be_private() {
    let dir = temp_dir("tls");
    install(&dir);
    let write_pair = |name: &str| {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (cert, key) = (
            dir.join(format!("{name}.crt")),
            dir.join(format!("{name}.key")),
        );
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        set_mode(&key, 0o600);
        (cert, key)
    };
    let (cert, key) = write_pair("a");
    let (_, other_key) = write_pair("b");
    let run = |cert: &Path, key: &Path| {
        carekey(&dir, 0)
            .env("CAREKEY_PUBLIC_URL", "https://localhost:3443")
            .env("CAREKEY_TLS_CERT_FILE", cert)
            .env("CAREKEY_TLS_KEY_FILE", key)
            .arg("check")
            .output()
            .unwrap()
    };

    let out = run(&cert, &key);
    assert!(line(&out, "https (tls)").starts_with("ok"), "{out:?}");

    let out = run(&cert, &other_key);
    assert!(!out.status.success());
    let l = line(&out, "https (tls)");
    assert!(
        l.starts_with("FAILED") && l.contains("does not belong"),
        "{l}"
    );

    set_mode(&key, 0o644);
    let out = run(&cert, &key);
    assert!(!out.status.success());
    let l = line(&out, "https (tls)");
    assert!(l.starts_with("FAILED") && l.contains("0644"), "{l}");
}
