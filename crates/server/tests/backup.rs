//! `carekey backup` and `carekey restore` as an administrator runs them, against a real
//! `carekey serve` process on SQLite.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use carekey_server::domain::audit::{AuditKey, ChainCheck, verify_chain};
use carekey_server::domain::secrets::ServerKey;
use carekey_server::store::entities::audit_head::GENESIS;
use carekey_server::store::entities::audit_log;
use carekey_server::store::migration::Migrator;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, SqlxSqliteConnector, Statement,
};
use sea_orm_migration::MigratorTrait;
use sha2::{Digest, Sha256};

/// Demo patients who sign in without a forced change (crates/server/src/demo.rs).
const PATIENTS: &[(&str, &str)] = &[
    ("maria", "sunflower-teapot-harbor"),
    ("jchen", "granite-maple-lantern"),
    ("sam", "quiet-orchard-bicycle"),
    ("rosa", "copper-kettle-meadow-song"),
    ("omar", "saffron-harbor-window-kite"),
];

/// The binary run in `dir`, with its data (database, key file) in `dir/data`.
fn carekey(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carekey"));
    c.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("CAREKEY_CONFIG")
        .env("CAREKEY_DATA_DIR", dir.join("data"))
        .env("CAREKEY_DEV_MODE", "true")
        .env("RUST_LOG", "warn");
    c
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carekey-backup-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The audit key `carekey` created in `dir/data` (the chain is checked under it).
fn audit_key(dir: &Path) -> AuditKey {
    AuditKey::new(
        ServerKey::read(&dir.join("data/audit.key"))
            .unwrap()
            .expect("an audit key file"),
    )
}

fn run(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A data directory with the demo patients and staff in it.
fn populated(tag: &str) -> PathBuf {
    let dir = temp_dir(tag);
    let mut c = carekey(&dir);
    c.arg("demo-data");
    ok(&run(c));
    dir
}

fn backup(dir: &Path, file: &Path) -> Output {
    let mut c = carekey(dir);
    c.arg("backup").arg(file);
    run(c)
}

fn restore(dir: &Path, file: &Path, force: bool) -> Output {
    let mut c = carekey(dir);
    c.arg("restore").arg(file);
    if force {
        c.arg("--force");
    }
    run(c)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The number in "audit chain verified (N rows)".
fn verified_rows(stdout: &str) -> usize {
    let (_, rest) = stdout
        .split_once("audit chain verified (")
        .unwrap_or_else(|| panic!("no verification line in: {stdout}"));
    rest.split(' ').next().unwrap().parse().unwrap()
}

async fn open(path: &Path, read_only: bool) -> DatabaseConnection {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .immutable(read_only);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

/// `carekey serve` on a free loopback port, stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let child = carekey(dir)
            .arg("serve")
            .env("CAREKEY_BIND", format!("127.0.0.1:{port}"))
            .env("CAREKEY_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("CAREKEY_DIST_DIR", dir.join("dist"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut srv = Server { child, port };
        let started = Instant::now();
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n").unwrap();
                let mut reply = String::new();
                let _ = s.read_to_string(&mut reply);
                if reply.starts_with("HTTP/1.0 200") {
                    return srv;
                }
            }
            if let Some(status) = srv.child.try_wait().unwrap() {
                panic!("server exited before it was ready: {status:?}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        common::terminate(&mut self.child);
    }
}

/// A patient sign-in as the portal sends it (a Leptos server function, form-encoded, from
/// the portal's own origin); the HTTP status.
fn sign_in(port: u16, user: &str, password: &str) -> u16 {
    let body = format!("portal=Patient&identifier={user}&password={password}");
    let req = format!(
        "POST /api/sign_in HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Origin: http://127.0.0.1:{port}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    let reply = text(&reply);
    reply
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in: {reply:?}"))
}

struct Call {
    started: Instant,
    ended: Instant,
    status: u16,
}

/// Two clients signing in one after another until `stop` is set.
fn load(port: u16, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<Vec<Call>>> {
    (0..2)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut calls = Vec::new();
                let mut i = t;
                while !stop.load(Ordering::SeqCst) {
                    let (user, pw) = PATIENTS[i % PATIENTS.len()];
                    let started = Instant::now();
                    let status = sign_in(port, user, pw);
                    calls.push(Call {
                        started,
                        ended: Instant::now(),
                        status,
                    });
                    i += 1;
                }
                calls
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_while_patients_sign_in_then_restore_elsewhere_and_sign_in() {
    let live = populated("live");
    let server = Server::start(&live);
    let stop = Arc::new(AtomicBool::new(false));
    let loaders = load(server.port, stop.clone());
    // Let the load get going before the backup starts.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(50));
    }

    let file = live.join("carekey-backup.db");
    let backup_started = Instant::now();
    let out = tokio::task::spawn_blocking({
        let (live, file) = (live.clone(), file.clone());
        move || backup(&live, &file)
    })
    .await
    .unwrap();
    let backup_ended = Instant::now();
    // A restore over the database the server is using is refused, and names why.
    let refused = restore(&live, &file, true);
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    let calls: Vec<Call> = loaders
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();

    let stdout = ok(&out);
    assert!(
        stdout.contains(&format!("Backup written: {}", file.display())),
        "{stdout}"
    );
    assert!(stdout.contains("secret.key"), "{stdout}");
    assert!(stdout.contains("back it up separately"), "{stdout}");
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600, "the copy holds PHI and hashes");

    assert!(
        !refused.status.success(),
        "restore ran beside a live server"
    );
    let err = text(&refused.stderr);
    assert!(err.contains("a CareKey server is using"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // The load really ran through the backup, and the server never failed it.
    let bad: Vec<u16> = calls
        .iter()
        .map(|c| c.status)
        .filter(|s| *s != 200)
        .collect();
    assert!(bad.is_empty(), "sign-ins failed during the backup: {bad:?}");
    assert!(
        calls
            .iter()
            .any(|c| c.started < backup_ended && c.ended > backup_started),
        "no sign-in was in flight while the backup ran"
    );
    let done_before = calls.iter().filter(|c| c.ended < backup_started).count() as i64;
    let begun_before_end = calls.iter().filter(|c| c.started < backup_ended).count() as i64;

    // The copy is one snapshot: every sign-in that had finished before the backup began is
    // in it, none begun after it ended, and its chain verifies on its own.
    let rows = verified_rows(&stdout);
    let copy = open(&file, true).await;
    assert_eq!(
        verify_chain(&copy, &audit_key(&live)).await.unwrap(),
        ChainCheck::Intact { rows }
    );
    let signed_in = count(
        &copy,
        "SELECT count(*) FROM audit_log WHERE action = 'sign_in'",
    )
    .await;
    assert!(
        (done_before..=begun_before_end).contains(&signed_in),
        "copy has {signed_in} sign-ins; {done_before} finished before, {begun_before_end} begun by the end"
    );
    copy.close().await.unwrap();
    drop(server);

    // Restore into a directory that has nothing in it yet: without the audit key it is
    // refused (the chain could not be checked); with it, as the backup's note says, it runs.
    let fresh = temp_dir("fresh");
    let out = restore(&fresh, &file, false);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("audit key file"),
        "{}",
        text(&out.stderr)
    );
    assert!(!fresh.join("data/carekey.db").exists());
    std::fs::create_dir_all(fresh.join("data")).unwrap();
    std::fs::copy(live.join("data/audit.key"), fresh.join("data/audit.key")).unwrap();
    let out = restore(&fresh, &file, false);
    let stdout = ok(&out);
    assert_eq!(verified_rows(&stdout), rows, "{stdout}");
    let db = fresh.join("data/carekey.db");
    #[cfg(unix)]
    assert_eq!(mode(&db), 0o600);
    let restored = open(&db, true).await;
    assert_eq!(
        verify_chain(&restored, &audit_key(&fresh)).await.unwrap(),
        ChainCheck::Intact { rows }
    );
    restored.close().await.unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(fresh.join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A server on the restored copy (with a key file of its own: passwords do not need the
    // old one) lets a demo patient in, and not with a wrong password.
    let server = Server::start(&fresh);
    assert_eq!(
        sign_in(server.port, "maria", "sunflower-teapot-harbor"),
        200
    );
    assert_ne!(sign_in(server.port, "jchen", "not-the-right-password"), 200);
    drop(server);
    let _ = std::fs::remove_dir_all(&live);
    let _ = std::fs::remove_dir_all(&fresh);
}

#[tokio::test]
async fn restore_refuses_a_populated_database_without_force() {
    let dir = populated("populated");
    let file = dir.join("b.db");
    ok(&backup(&dir, &file));
    let db = dir.join("data/carekey.db");
    // Someone is added after the backup: a refused restore must keep them.
    let mut c = carekey(&dir);
    c.args(["create-admin", "--username", "later"]);
    ok(&common::run_with_stdin(
        c,
        "a long and private admin passphrase\n",
    ));
    let accounts = |db: PathBuf| async move {
        let conn = open(&db, false).await;
        let n = count(&conn, "SELECT count(*) FROM accounts").await;
        conn.close().await.unwrap();
        n
    };
    let before = accounts(db.clone()).await;

    let out = restore(&dir, &file, false);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("already holds {before} accounts")),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(accounts(db.clone()).await, before, "nothing was replaced");

    let out = restore(&dir, &file, true);
    let stdout = ok(&out);
    assert!(
        stdout.contains("replacing the database that was there"),
        "{stdout}"
    );
    assert_eq!(
        accounts(db).await,
        before - 1,
        "the backup's accounts, not the later one"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn restore_of_an_altered_backup_fails_naming_the_row() {
    let dir = populated("altered");
    let file = dir.join("b.db");
    ok(&backup(&dir, &file));
    {
        let conn = open(&file, false).await;
        let changed = conn
            .execute_raw(Statement::from_string(
                conn.get_database_backend(),
                "UPDATE audit_log SET ip = '203.0.113.9' WHERE seq = 3",
            ))
            .await
            .unwrap();
        assert_eq!(changed.rows_affected(), 1);
        conn.close().await.unwrap();
    }
    let fresh = temp_dir("altered-into");
    std::fs::create_dir_all(fresh.join("data")).unwrap();
    std::fs::copy(dir.join("data/audit.key"), fresh.join("data/audit.key")).unwrap();
    let out = restore(&fresh, &file, false);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("broken at row seq 3"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // Nothing was put in place, and no scratch copy was left behind.
    let left: Vec<_> = std::fs::read_dir(fresh.join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with("-serve.lock") && n != "audit.key")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&fresh);
}

#[tokio::test]
async fn restore_refuses_files_that_are_not_carekey_backups() {
    let dir = temp_dir("foreign");
    let junk = dir.join("junk.db");
    std::fs::write(&junk, "not a database at all").unwrap();
    let out = restore(&dir, &junk, false);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("is not a CareKey database"), "{err}");

    // A real SQLite database, but another program's: migrations must not adopt it.
    let other = dir.join("other.db");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&other)
                .create_if_missing(true),
        )
        .await
        .unwrap();
    let conn = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    conn.execute_unprepared("CREATE TABLE notes(x); INSERT INTO notes VALUES (1);")
        .await
        .unwrap();
    conn.close().await.unwrap();
    let out = restore(&dir, &other, false);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("no CareKey tables"), "{err}");
    assert!(!dir.join("data/carekey.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn backup_refuses_an_existing_file_and_a_missing_database() {
    let dir = temp_dir("exists");
    let file = dir.join("b.db");
    let out = backup(&dir, &file);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("there is no database at"), "{err}");
    assert!(!file.exists());
    assert!(
        !dir.join("data/carekey.db").exists(),
        "a backup must not create an empty database"
    );

    let mut c = carekey(&dir);
    c.arg("migrate");
    ok(&run(c));
    std::fs::write(&file, "keep me").unwrap();
    let out = backup(&dir, &file);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The unkeyed SHA-256 an older CareKey (before m0011) chained the trail with, as the legacy
/// check in domain/audit.rs recomputes it: the previous hash and every field, each prefixed
/// with its length. Written out here because the library keeps it private: it only reads it.
fn legacy_hash(prev: &str, m: &audit_log::Model) -> String {
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut h = Sha256::new();
    for field in [
        prev.to_owned(),
        m.seq.to_string(),
        m.at.to_string(),
        opt(m.actor_account_id),
        m.actor.clone(),
        opt(m.target_account_id),
        m.action.clone(),
        m.ip.clone(),
        m.user_agent.clone(),
        m.details.clone(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

async fn audit_rows(db: &DatabaseConnection) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .all(db)
        .await
        .unwrap()
}

async fn one_text(db: &DatabaseConnection, sql: &str) -> String {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap()
}

/// Turns a backup this version made into the file a release before the audit key wrote: the
/// schema taken back to m0010 by the migrations' own `down` (no `keyed`, no `key_id`), and the
/// rows re-chained by the legacy rule, head included. Returns the rows as that file holds them.
async fn as_written_before_the_audit_key(file: &Path) -> Vec<audit_log::Model> {
    let conn = open(file, false).await;
    let later = count(
        &conn,
        "SELECT count(*) FROM seaql_migrations WHERE version >= 'm0011'",
    )
    .await;
    Migrator::down(&conn, Some(later as u32)).await.unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM pragma_table_info('audit_head') WHERE name IN ('keyed', 'key_id')",
        )
        .await,
        0
    );
    let mut rows = audit_rows(&conn).await;
    let backend = conn.get_database_backend();
    let mut prev = GENESIS.to_owned();
    for (i, r) in rows.iter_mut().enumerate() {
        assert_eq!(r.seq, i as i64 + 1, "the backup's trail has no gaps");
        r.prev_hash = prev.clone();
        r.hash = legacy_hash(&prev, r);
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
            [
                r.prev_hash.clone().into(),
                r.hash.clone().into(),
                r.id.into(),
            ],
        ))
        .await
        .unwrap();
        prev = r.hash.clone();
    }
    let head = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE audit_head SET hash = ? WHERE id = 1 AND seq = ?",
            [prev.into(), (rows.len() as i64).into()],
        ))
        .await
        .unwrap();
    assert_eq!(head.rows_affected(), 1, "the head names the last row");
    conn.close().await.unwrap();
    rows
}

/// What a refused restore must leave as it was: the accounts, and the trail's rows and head.
async fn target_state(db: &Path) -> (i64, Vec<audit_log::Model>, String) {
    let conn = open(db, false).await;
    let state = (
        count(&conn, "SELECT count(*) FROM accounts").await,
        audit_rows(&conn).await,
        one_text(
            &conn,
            "SELECT seq || ':' || hash || ':' || keyed || ':' || key_id FROM audit_head",
        )
        .await,
    );
    conn.close().await.unwrap();
    state
}

fn restore_adopting(dir: &Path, file: &Path) -> Output {
    let mut c = carekey(dir);
    c.arg("restore")
        .arg(file)
        .args(["--force", "--adopt-unkeyed-audit"]);
    run(c)
}

/// A backup from before the audit key (SECURITY.md S7) holds a chain anyone with the file can
/// recompute, so a restore takes it only when the operator says they trust the file; even then
/// its old chain must check out as it was written, so a row altered in the file is not
/// laundered into a keyed trail by the re-chaining.
#[tokio::test]
async fn a_backup_from_before_the_audit_key_is_adopted_only_when_asked_and_only_if_whole() {
    let dir = populated("prekey");
    let file = dir.join("b.db");
    ok(&backup(&dir, &file));
    let old_rows = as_written_before_the_audit_key(&file).await;
    assert!(old_rows.len() > 1, "{}", old_rows.len());
    let backup_accounts = {
        let conn = open(&file, true).await;
        let n = count(&conn, "SELECT count(*) FROM accounts").await;
        conn.close().await.unwrap();
        n
    };
    // The same file with one row's details changed after it was chained.
    let tampered = dir.join("tampered.db");
    std::fs::copy(&file, &tampered).unwrap();
    {
        let conn = open(&tampered, false).await;
        let changed = conn
            .execute_unprepared("UPDATE audit_log SET details = '{\"forged\":true}' WHERE seq = 2")
            .await
            .unwrap();
        assert_eq!(changed.rows_affected(), 1);
        conn.close().await.unwrap();
    }

    // The target holds more than the backup (an administrator added since), so a restore that
    // wrongly went ahead would show.
    let mut c = carekey(&dir);
    c.args(["create-admin", "--username", "later"]);
    ok(&common::run_with_stdin(
        c,
        "a long and private admin passphrase\n",
    ));
    let db = dir.join("data/carekey.db");
    let before = target_state(&db).await;
    assert_eq!(before.0, backup_accounts + 1);
    let no_scratch = || {
        let left: Vec<_> = std::fs::read_dir(dir.join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("restore"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    };

    // Without the flag: refused, naming the flag, and nothing replaced.
    let out = restore(&dir, &file, true);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("--adopt-unkeyed-audit"), "{err}");
    assert!(err.contains("Nothing was restored"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(target_state(&db).await, before, "the target was changed");
    no_scratch();

    // With the flag but a row altered in the file: the old chain does not hold, refused.
    let out = restore_adopting(&dir, &tampered);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("broken at row seq 2"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(target_state(&db).await, before, "the target was changed");
    no_scratch();

    // With the flag and the file as it was written: restored, under the key, one row added
    // that says so.
    let keyed_rows = old_rows.len() + 1;
    let stdout = ok(&restore_adopting(&dir, &file));
    assert_eq!(verified_rows(&stdout), keyed_rows, "{stdout}");
    let mut c = carekey(&dir);
    c.args(["audit", "verify"]);
    let stdout = ok(&run(c));
    assert!(
        stdout.contains(&format!("Audit trail intact: {keyed_rows} rows")),
        "{stdout}"
    );
    let key = audit_key(&dir);
    let restored = open(&db, false).await;
    assert_eq!(
        verify_chain(&restored, &key).await.unwrap(),
        ChainCheck::Intact { rows: keyed_rows }
    );
    assert_eq!(
        one_text(
            &restored,
            "SELECT keyed || ':' || key_id FROM audit_head WHERE id = 1"
        )
        .await,
        format!("1:{}", key.id())
    );
    assert_eq!(
        count(&restored, "SELECT count(*) FROM accounts").await,
        backup_accounts,
        "the backup's accounts, not the later one"
    );
    let rows = audit_rows(&restored).await;
    restored.close().await.unwrap();
    let content = |r: &audit_log::Model| audit_log::Model {
        prev_hash: String::new(),
        hash: String::new(),
        ..r.clone()
    };
    assert_eq!(
        rows[..old_rows.len()]
            .iter()
            .map(content)
            .collect::<Vec<_>>(),
        old_rows.iter().map(content).collect::<Vec<_>>(),
        "the rows' content is the backup's"
    );
    let note = rows.last().unwrap();
    assert_eq!(note.action, "audit_keyed");
    assert!(
        note.details
            .contains(&format!("\"earlier_rows\":{}", old_rows.len()))
            && note.details.contains("\"earlier_chain\":\"intact\""),
        "{}",
        note.details
    );
    no_scratch();
    let _ = std::fs::remove_dir_all(&dir);
}
