//! The `carekey` binary as an administrator runs it.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

fn carekey(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carekey"));
    c.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("CAREKEY_DATA_DIR", dir.join("data"))
        .env("RUST_LOG", "warn");
    c
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("carekey-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn create_admin_takes_the_password_from_stdin_and_enforces_the_policy() {
    let dir = temp_dir("admin");
    let mut short = carekey(&dir);
    short.args(["create-admin", "--username", "boss"]);
    let out = common::run_with_stdin(short, "too-short\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 15 characters"), "{err}");

    let mut ok = carekey(&dir);
    ok.args([
        "create-admin",
        "--username",
        "boss",
        "--email",
        "boss@clinic.example.com",
    ]);
    let out = common::run_with_stdin(ok, "a long and private admin passphrase\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Administrator boss created"));

    // The password never appears in the database, only its argon2id hash.
    let db = std::fs::read(dir.join("data/carekey.db")).unwrap();
    let needle = b"a long and private admin passphrase";
    assert!(!db.windows(needle.len()).any(|w| w == needle));

    let mut again = carekey(&dir);
    again.args(["create-admin", "--username", "BOSS"]);
    let out = common::run_with_stdin(again, "another long admin passphrase\n");
    assert!(
        !out.status.success(),
        "usernames are unique whatever the case"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_setting_stops_with_one_line_naming_key_value_and_what_is_allowed() {
    let dir = temp_dir("cfg");
    let out = carekey(&dir)
        .arg("migrate")
        .env("CAREKEY_SESSION_IDLE_MINUTES", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("session.idle_minutes = \"0\""), "{err}");
    assert!(err.contains("from 1 to 60"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_data_refuses_outside_development_mode() {
    let dir = temp_dir("demo");
    let out = carekey(&dir).arg("demo-data").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("dev_mode"));
    let out = carekey(&dir)
        .arg("demo-data")
        .env("CAREKEY_DEV_MODE", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Idempotent: a second run adds nobody.
    let out = carekey(&dir)
        .arg("demo-data")
        .env("CAREKEY_DEV_MODE", "true")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("(0 accounts added)"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = temp_dir("sigterm");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut child = carekey(&dir)
        .arg("serve")
        .env("CAREKEY_BIND", format!("127.0.0.1:{port}"))
        .env("CAREKEY_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let ready = loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Read;
            s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n").unwrap();
            let mut reply = String::new();
            let _ = s.read_to_string(&mut reply);
            if reply.starts_with("HTTP/1.0 200") {
                break true;
            }
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(ready, "server did not become ready");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_patients_reports_each_row_and_adds_nobody_twice() {
    let dir = temp_dir("import");
    let file = dir.join("patients.csv");
    std::fs::write(
        &file,
        "mrn,first_name,last_name,date_of_birth,zip,email,phone,phone_type\n\
         500001,Ada,Byron,1980-12-10,97201,ada@example.com,503-555-0190,mobile\n\
         500002,Luis,Reyes,1990-02-30,97201,,,\n\
         500003,Ben,Okafor,1975-07-07,9720,,,\n",
    )
    .unwrap();
    let run = || {
        let out = carekey(&dir)
            .args(["import-patients", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run();
    assert!(first.contains("row 2: imported"), "{first}");
    assert!(
        first.contains("row 3: refused, check: date_of_birth"),
        "{first}"
    );
    assert!(first.contains("row 4: refused, check: zip"), "{first}");
    assert!(
        first.contains("1 imported, 0 already on file, 2 refused"),
        "{first}"
    );
    let second = run();
    assert!(second.contains("row 2: already on file"), "{second}");
    assert!(
        second.contains("0 imported, 1 already on file, 2 refused"),
        "{second}"
    );
}

/// `carekey audit verify` (SECURITY.md S7): the head to keep on success, a non-zero exit
/// naming the row and the damage otherwise, and no key means no verdict.
#[test]
fn audit_verify_prints_the_head_and_fails_on_a_cut_or_a_missing_key() {
    let dir = temp_dir("audit");
    let mut demo = carekey(&dir);
    demo.env("CAREKEY_DEV_MODE", "true").arg("demo-data");
    let out = demo.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let verify = |extra: &[&str]| {
        let mut c = carekey(&dir);
        c.args(["audit", "verify"]).args(extra);
        c.stdin(Stdio::null()).output().unwrap()
    };
    let out = verify(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Audit trail intact: "), "{stdout}");
    let head = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Head: "))
        .unwrap()
        .to_owned();
    let (seq, _) = head.split_once(':').unwrap();
    let seq: i64 = seq.parse().unwrap();
    assert!(seq > 1, "{head}");
    let out = verify(&["--anchor", &head]);
    assert!(out.status.success());

    // The newest row deleted, as anyone who can write the file could.
    let db = dir.join("data/carekey.db");
    assert!(delete_audit_row(&db, seq), "deleted the newest row");
    let out = verify(&[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("DAMAGED at row {seq}")) && err.contains("cut short"),
        "{err}"
    );

    std::fs::remove_file(dir.join("data/audit.key")).unwrap();
    let out = verify(&[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no audit key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Deletes the audit row `seq` through sea-orm's SQLite driver (no server running).
fn delete_audit_row(db: &std::path::Path, seq: i64) -> bool {
    use sea_orm::ConnectionTrait;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = sea_orm::Database::connect(format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let r = conn
            .execute_unprepared(&format!("DELETE FROM audit_log WHERE seq = {seq}"))
            .await
            .unwrap();
        conn.close().await.unwrap();
        r.rows_affected() == 1
    })
}
