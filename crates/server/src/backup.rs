//! `carekey backup` and `carekey restore`.
//!
//! SQLite: a backup is `VACUUM INTO` through a normal connection, so it is one consistent
//! snapshot taken while the server keeps writing (WAL lets readers and the writer proceed
//! together); a restore puts a copy into place by rename, so the database file is at every
//! moment either the old one or the whole new one. PostgreSQL has its own tools, and CareKey
//! only prints the commands to run them with.
//!
//! The copy holds PHI and password hashes, so it is created readable by this user only. It
//! does not hold the server key (`secret_key_file`) or the audit key (`audit_key_file`), which
//! must be kept separately: see [`KEY_REMINDER`].

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, SqlxSqliteConnector, Statement};

use crate::config::Config;
use crate::domain::audit::{self, AuditKey, ChainCheck};
use crate::domain::secrets::ServerKey;
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "the audit key file {0} cannot be read, so the audit chain cannot be checked: put the \
         audit key kept with your backups there (audit_key_file)"
    )]
    NoAuditKey(PathBuf),
    #[error(
        "the audit trail in {file} was written before the audit key (an older CareKey); its \
         chain checks out, but as it was written then, which anyone with the file could \
         recompute. Nothing was restored. If you trust this file, run the restore again with \
         --adopt-unkeyed-audit to chain it under the audit key"
    )]
    UnkeyedAudit { file: PathBuf },
    #[error("{0} already exists; a backup never overwrites a file: choose a new name")]
    FileExists(PathBuf),
    #[error("there is no database at {0} to back up (check database_url and data_dir)")]
    NoDatabase(PathBuf),
    #[error("cannot read the backup {path}: {source}")]
    BackupUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a CareKey database that can be restored: {source}")]
    NotADatabase { path: PathBuf, source: DbErr },
    #[error("{0} is the configured database itself; restore from a copy")]
    SameFile(PathBuf),
    #[error(
        "a CareKey server is using {db} (it holds {lock}); stop it, then restore (restore never replaces a database in use)"
    )]
    InUse { db: PathBuf, lock: PathBuf },
    #[error(
        "a restore is replacing {db} right now (it holds {lock}); start the server when it has finished"
    )]
    RestoreRunning { db: PathBuf, lock: PathBuf },
    #[error(
        "{db} already holds {accounts} accounts; restoring would replace them. Run again with --force to replace it"
    )]
    Populated { db: PathBuf, accounts: i64 },
    #[error(
        "{db} exists but cannot be read as a CareKey database ({source}); run again with --force to replace it"
    )]
    TargetUnreadable { db: PathBuf, source: DbErr },
    #[error(
        "the audit chain in {file} is broken at row seq {at_seq}: that row or the one before it was altered or damaged. Nothing was restored: {db} is untouched"
    )]
    BrokenChain {
        file: PathBuf,
        db: PathBuf,
        at_seq: i64,
    },
    #[error(
        "backup written to {file}, but its audit chain is broken at row seq {at_seq}: the live database's audit log was altered. Keep this copy and investigate"
    )]
    LiveChainBroken { file: PathBuf, at_seq: i64 },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Db { what: &'static str, source: DbErr },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database_url {0} is neither sqlite:// nor postgres://")]
    UnknownDatabase(String),
    #[error("database_url {url} cannot be read: {detail}")]
    BadUrl { url: String, detail: String },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_owned();
    move |source| BackupError::Io { what, path, source }
}

fn db(what: &'static str) -> impl FnOnce(DbErr) -> BackupError {
    move |source| BackupError::Db { what, source }
}

/// Said after every backup. What the key protects (grep `ServerKey`): the HMACs of codes,
/// links, recovery grants and desk codes, the signature on call-script URLs, and the seal on
/// queued outbox payloads. Passwords are argon2 hashes and sessions SHA-256: neither needs
/// it. The audit chain has a key of its own ([`AUDIT_KEY_REMINDER`]).
pub const KEY_REMINDER: &str = "Without it, codes, links and desk codes already given out \
cannot be checked and queued messages cannot be opened (patients ask for new ones); accounts, \
passwords and sessions are unaffected.";

pub const AUDIT_KEY_REMINDER: &str = "Without it the audit trail cannot be verified \
(`carekey audit verify`), and a server started without it begins a chain no check can join \
to the old one.";

/// The audit key, read, never created: a backup or restore checks the chain under the key
/// the server writes it with.
fn audit_key(cfg: &Config) -> Result<AuditKey, BackupError> {
    match ServerKey::read(&cfg.audit_key_file) {
        Ok(Some(k)) => Ok(AuditKey::new(k)),
        _ => Err(BackupError::NoAuditKey(cfg.audit_key_file.clone())),
    }
}

/// What a backup or restore did, printed by `carekey` as it is.
#[derive(Debug)]
pub enum Outcome {
    BackedUp {
        file: PathBuf,
        bytes: u64,
        audit_rows: usize,
        key_file: PathBuf,
        audit_key_file: PathBuf,
    },
    Restored {
        file: PathBuf,
        db: PathBuf,
        audit_rows: usize,
        replaced: bool,
    },
    /// PostgreSQL: the commands to run instead.
    Commands(Vec<String>),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::BackedUp {
                file,
                bytes,
                audit_rows,
                key_file,
                audit_key_file,
            } => {
                writeln!(
                    f,
                    "Backup written: {}, {bytes} bytes, audit chain verified ({audit_rows} rows).",
                    file.display()
                )?;
                writeln!(
                    f,
                    "The key file {} is not in this copy: back it up separately. {KEY_REMINDER}",
                    key_file.display()
                )?;
                write!(
                    f,
                    "The audit key file {} is not in it either: back it up too. {AUDIT_KEY_REMINDER}",
                    audit_key_file.display()
                )
            }
            Outcome::Restored {
                file,
                db,
                audit_rows,
                replaced,
            } => write!(
                f,
                "Restored {} into {}{}; migrations applied; audit chain verified ({audit_rows} rows).",
                file.display(),
                db.display(),
                if *replaced {
                    " (replacing the database that was there)"
                } else {
                    ""
                }
            ),
            Outcome::Commands(lines) => write!(f, "{}", lines.join("\n")),
        }
    }
}

enum Target {
    Sqlite(PathBuf),
    Postgres(PgParts),
}

fn target(cfg: &Config) -> Result<Target, BackupError> {
    let url = &cfg.database_url;
    if let Some(path) = store::sqlite_path(url) {
        return Ok(Target::Sqlite(path.to_path_buf()));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return PgParts::parse(url).map(Target::Postgres);
    }
    Err(BackupError::UnknownDatabase(store::redact(url)))
}

/// The file a serving process holds a shared lock on and a restore an exclusive one, so
/// neither runs while the other does. Beside the database, named like SQLite's own side files.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-serve.lock");
    PathBuf::from(name)
}

fn open_lock(db: &Path) -> Result<(std::fs::File, PathBuf), BackupError> {
    let path = lock_path(db);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io("cannot create the directory", dir))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts
        .open(&path)
        .map_err(io("cannot open the lock file", &path))?;
    Ok((file, path))
}

/// Held by `carekey serve` for as long as it runs (SQLite only; several PostgreSQL instances
/// share one database and a restore there is PostgreSQL's business). The lock is the kernel's
/// (`flock`), so it goes with the process however it ends: no stale pid file to clear.
#[derive(Debug)]
pub struct ServingLock {
    _file: std::fs::File,
}

impl ServingLock {
    pub fn acquire(cfg: &Config) -> Result<Option<Self>, BackupError> {
        let Target::Sqlite(db) = target(cfg)? else {
            return Ok(None);
        };
        let (file, lock) = open_lock(&db)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::RestoreRunning { db, lock }),
            Err(std::fs::TryLockError::Error(e)) => Err(BackupError::Io {
                what: "cannot lock",
                path: lock,
                source: e,
            }),
        }
    }
}

/// A file removed when dropped unless kept: a failed backup or restore leaves no half-made
/// copy behind.
struct Scratch(Vec<PathBuf>);

impl Scratch {
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn side_files(db: &Path) -> [PathBuf; 3] {
    ["-wal", "-shm", "-journal"].map(|s| {
        let mut name = db.as_os_str().to_owned();
        name.push(s);
        PathBuf::from(name)
    })
}

fn sync_dir(path: &Path) -> Result<(), BackupError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("cannot sync the directory", dir))
}

/// Absolute, because SQLite reads a name starting with `file:` as a URI and resolves a
/// relative one against its own idea of the directory.
fn absolute(path: &Path) -> Result<PathBuf, BackupError> {
    std::path::absolute(path).map_err(io("cannot resolve", path))
}

async fn sqlite_pool(opts: SqliteConnectOptions) -> Result<DatabaseConnection, DbErr> {
    // One connection: these are short single-user jobs, and `journal_mode` changes need it.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(store::ACQUIRE_TIMEOUT)
        .connect_with(opts.busy_timeout(Duration::from_secs(5)))
        .await
        .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// `carekey backup FILE`.
pub async fn backup(cfg: &Config, file: &Path) -> Result<Outcome, BackupError> {
    let db_path = match target(cfg)? {
        Target::Sqlite(p) => p,
        Target::Postgres(pg) => {
            return Ok(Outcome::Commands(pg.dump_commands(
                file,
                &cfg.secret_key_file,
                &cfg.audit_key_file,
            )));
        }
    };
    // `store::connect` would create an empty database, and back that up.
    if !db_path.exists() {
        return Err(BackupError::NoDatabase(db_path));
    }
    let file = absolute(file)?;
    // Made here, empty and private, rather than by SQLite: `create_new` refuses an existing
    // file without a race, and `VACUUM INTO` fills an empty file keeping its mode.
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(&file) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::FileExists(file));
        }
        Err(e) => return Err(io("cannot create", &file)(e)),
    }
    let scratch = Scratch(vec![file.clone()]);

    let live = store::connect(&cfg.database_url).await?;
    let backend = live.get_database_backend();
    let name = file.to_string_lossy().into_owned();
    live.execute_raw(Statement::from_sql_and_values(
        backend,
        "VACUUM INTO ?",
        [name.into()],
    ))
    .await
    .map_err(db("VACUUM INTO failed"))?;
    live.close().await.map_err(db("closing the database"))?;

    // SQLite does not sync what VACUUM INTO writes; a backup must survive a power cut.
    std::fs::File::open(&file)
        .and_then(|f| f.sync_all())
        .map_err(io("cannot sync", &file))?;
    sync_dir(&file)?;
    scratch.keep();

    // Read back from the file itself, not the live database: this is what a restore gets.
    let copy = sqlite_pool(
        SqliteConnectOptions::new()
            .filename(&file)
            .read_only(true)
            .immutable(true),
    )
    .await
    .map_err(db("cannot open the copy"))?;
    let check = audit::verify_any(&copy, &audit_key(cfg)?)
        .await
        .map_err(db("cannot read the copy's audit log"))?
        .check();
    copy.close().await.map_err(db("closing the copy"))?;
    let bytes = std::fs::metadata(&file)
        .map_err(io("cannot read", &file))?
        .len();
    match check {
        ChainCheck::Intact { rows } => Ok(Outcome::BackedUp {
            file,
            bytes,
            audit_rows: rows,
            key_file: cfg.secret_key_file.clone(),
            audit_key_file: cfg.audit_key_file.clone(),
        }),
        ChainCheck::Broken { at_seq } => Err(BackupError::LiveChainBroken { file, at_seq }),
    }
}

/// `carekey restore FILE [--force]`.
pub async fn restore(
    cfg: &Config,
    file: &Path,
    force: bool,
    adopt_unkeyed: bool,
) -> Result<Outcome, BackupError> {
    let db_path = match target(cfg)? {
        Target::Sqlite(p) => absolute(&p)?,
        Target::Postgres(pg) => return Ok(Outcome::Commands(pg.restore_commands(file))),
    };
    let file = absolute(file)?;
    let mut source =
        std::fs::File::open(&file).map_err(|source| BackupError::BackupUnreadable {
            path: file.clone(),
            source,
        })?;
    if let (Ok(a), Ok(b)) = (file.canonicalize(), db_path.canonicalize())
        && a == b
    {
        return Err(BackupError::SameFile(file));
    }

    // Held until this function returns: a server starting meanwhile refuses to open the
    // database halfway through.
    let (lock_file, lock) = open_lock(&db_path)?;
    match lock_file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(BackupError::InUse { db: db_path, lock });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io("cannot lock", &lock)(e)),
    }

    let replaced = db_path.exists();
    if replaced {
        match count_accounts(&db_path).await {
            Ok(0) => {}
            Ok(accounts) if !force => {
                return Err(BackupError::Populated {
                    db: db_path,
                    accounts,
                });
            }
            Ok(_) => {}
            Err(source) if !force => {
                return Err(BackupError::TargetUnreadable {
                    db: db_path,
                    source,
                });
            }
            Err(_) => {}
        }
    }

    // The copy is made, checked and migrated beside the database under another name, and
    // renamed over it only when all of that succeeded: a bad backup never replaces anything.
    let dir = db_path.parent().unwrap_or(Path::new("/")).to_owned();
    let tmp = dir.join(format!(
        ".{}.restore-{}",
        db_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "carekey.db".into()),
        std::process::id()
    ));
    let mut scratch = vec![tmp.clone()];
    scratch.extend(side_files(&tmp));
    let scratch = Scratch(scratch);
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut out = opts.open(&tmp).map_err(io("cannot create", &tmp))?;
        std::io::copy(&mut source, &mut out).map_err(io("cannot copy into", &tmp))?;
        out.flush().map_err(io("cannot write", &tmp))?;
    }

    let not_db = |source| BackupError::NotADatabase {
        path: file.clone(),
        source,
    };
    // Rollback journal, not WAL: the finished file then stands alone, with no side file to
    // carry across the rename. The server turns WAL back on when it opens it.
    let copy = sqlite_pool(
        SqliteConnectOptions::new()
            .filename(&tmp)
            .journal_mode(SqliteJournalMode::Delete)
            .foreign_keys(true),
    )
    .await
    .map_err(not_db)?;
    let quick = copy
        .query_one_raw(Statement::from_string(
            copy.get_database_backend(),
            "PRAGMA quick_check",
        ))
        .await
        .map_err(not_db)?
        .map(|r| r.try_get_by_index::<String>(0))
        .transpose()
        .map_err(not_db)?;
    if quick.as_deref() != Some("ok") {
        return Err(not_db(DbErr::Custom(format!(
            "integrity check: {}",
            quick.unwrap_or_default()
        ))));
    }
    // Migrations would turn any SQLite file into an empty CareKey database: insist on one
    // that some CareKey made (its first migration recorded, so an audit log to check).
    let made_by_carekey = copy
        .query_one_raw(Statement::from_string(
            copy.get_database_backend(),
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
        ))
        .await
        .map_err(not_db)?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()
        .map_err(not_db)?
        == Some(1);
    if !made_by_carekey {
        return Err(not_db(DbErr::Custom(
            "it has no CareKey tables (no migrations recorded)".into(),
        )));
    }
    // The backup may come from an older CareKey: bring it to this version's schema first, so
    // the chain is read with the columns this version knows.
    store::migrate(&copy).await?;
    let key = audit_key(cfg)?;
    let mut check = audit::verify_any(&copy, &key)
        .await
        .map_err(db("cannot read the backup's audit log"))?
        .check();
    // A copy from before the audit key (m0011) is checked as it was chained then, which
    // anyone can recompute: it is brought under the key only when the operator says they
    // trust the file (`--adopt-unkeyed-audit`); a server would refuse to, its key not being
    // new.
    let keyed = audit::is_keyed(&copy)
        .await
        .map_err(db("cannot read the backup's audit log"))?;
    if !keyed && matches!(check, ChainCheck::Intact { .. }) {
        if !adopt_unkeyed {
            copy.close().await.map_err(db("closing the copy"))?;
            return Err(BackupError::UnkeyedAudit { file });
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        audit::adopt_key(&copy, &key, true, now).await.map_err(db(
            "cannot bring the backup's audit log under the audit key",
        ))?;
        check = audit::verify_chain(&copy, &key)
            .await
            .map_err(db("cannot read the backup's audit log"))?;
    }
    copy.close().await.map_err(db("closing the copy"))?;
    let rows = match check {
        ChainCheck::Intact { rows } => rows,
        ChainCheck::Broken { at_seq } => {
            return Err(BackupError::BrokenChain {
                file,
                db: db_path,
                at_seq,
            });
        }
    };
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io("cannot sync", &tmp))?;

    // The old database's WAL or hot journal would be replayed onto the new file by the next
    // connection: remove them first (the old database is being replaced anyway).
    for side in side_files(&db_path) {
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("cannot remove", &side)(e)),
        }
    }
    std::fs::rename(&tmp, &db_path).map_err(io("cannot move the copy to", &db_path))?;
    scratch.keep();
    sync_dir(&db_path)?;
    drop(lock_file);
    Ok(Outcome::Restored {
        file,
        db: db_path,
        audit_rows: rows,
        replaced,
    })
}

/// Accounts in an existing database; none when it has no accounts table yet (a server that
/// started once and was never used).
async fn count_accounts(path: &Path) -> Result<i64, DbErr> {
    let conn = sqlite_pool(SqliteConnectOptions::new().filename(path)).await?;
    let backend = conn.get_database_backend();
    let has_table = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'accounts'",
        ))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    let n = if has_table == 0 {
        0
    } else {
        conn.query_one_raw(Statement::from_string(
            backend,
            "SELECT count(*) FROM accounts",
        ))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0)
    };
    // Closing the last connection checkpoints the WAL into the file.
    conn.close().await?;
    Ok(n)
}

/// The parts of a PostgreSQL URL that `pg_dump` and `pg_restore` take as options. Never the
/// password: on a command line every user of the machine can read it with `ps`.
#[derive(Debug, PartialEq, Eq)]
struct PgParts {
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    dbname: Option<String>,
    /// Query parameters (`sslmode=require`), which libpq takes by the same names.
    params: Vec<(String, String)>,
    has_password: bool,
}

impl PgParts {
    fn parse(raw: &str) -> Result<Self, BackupError> {
        let bad = |detail: String| BackupError::BadUrl {
            url: store::redact(raw),
            detail,
        };
        let url = url::Url::parse(raw).map_err(|e| bad(e.to_string()))?;
        let decode = |s: &str| {
            percent_decode(s).ok_or_else(|| bad("a part is not valid percent-encoded UTF-8".into()))
        };
        let user = match url.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let dbname = match url.path().trim_start_matches('/') {
            "" => None,
            d => Some(decode(d)?),
        };
        Ok(Self {
            host: url.host_str().map(str::to_owned),
            port: url.port(),
            user,
            dbname,
            params: url.query_pairs().into_owned().collect(),
            has_password: url.password().is_some(),
        })
    }

    fn connection_args(&self) -> String {
        let mut args = Vec::new();
        if let Some(h) = &self.host {
            args.push(format!("--host={}", sh_quote(h)));
        }
        if let Some(p) = self.port {
            args.push(format!("--port={p}"));
        }
        if let Some(u) = &self.user {
            args.push(format!("--username={}", sh_quote(u)));
        }
        let db = self.dbname.clone().unwrap_or_default();
        if self.params.is_empty() {
            if !db.is_empty() {
                args.push(format!("--dbname={}", sh_quote(&db)));
            }
        } else {
            // libpq reads `--dbname` as a connection string when it has `=` in it: the only
            // way to pass options such as sslmode on the command line.
            let mut conninfo = Vec::new();
            if !db.is_empty() {
                conninfo.push(format!("dbname={}", conninfo_quote(&db)));
            }
            for (k, v) in &self.params {
                conninfo.push(format!("{k}={}", conninfo_quote(v)));
            }
            args.push(format!("--dbname={}", sh_quote(&conninfo.join(" "))));
        }
        args.join(" ")
    }

    fn password_line(&self) -> String {
        let pgpass = format!(
            "{}:{}:{}:{}:PASSWORD",
            self.host.as_deref().unwrap_or("localhost"),
            self.port.unwrap_or(5432),
            self.dbname.as_deref().unwrap_or("*"),
            self.user.as_deref().unwrap_or("*"),
        );
        format!(
            "{}Give the password through the environment (PGPASSWORD=… in the shell that runs it) \
             or a ~/.pgpass line, mode 0600: {pgpass}. Never on the command line.",
            if self.has_password {
                "database_url carries a password, left out above. "
            } else {
                ""
            }
        )
    }

    fn dump_commands(&self, file: &Path, key_file: &Path, audit_key_file: &Path) -> Vec<String> {
        vec![
            "PostgreSQL: CareKey does not copy the database itself. Run (on any instance, while serving):".into(),
            format!(
                "  pg_dump --format=custom --file={} {}",
                sh_quote(&file.to_string_lossy()),
                self.connection_args()
            ),
            self.password_line(),
            format!(
                "The key file {} is not in the dump: back it up separately. {KEY_REMINDER}",
                key_file.display()
            ),
            format!(
                "The audit key file {} is not in it either: back it up too. {AUDIT_KEY_REMINDER}",
                audit_key_file.display()
            ),
        ]
    }

    fn restore_commands(&self, file: &Path) -> Vec<String> {
        vec![
            "PostgreSQL: CareKey does not restore the database itself. Stop every instance, then run:".into(),
            format!(
                "  pg_restore --clean --if-exists --no-owner --single-transaction {} {}",
                self.connection_args(),
                sh_quote(&file.to_string_lossy())
            ),
            self.password_line(),
            "Then `carekey migrate` (the dump may come from an older version), put the key file \
             back in place on every instance, and start them."
                .into(),
        ]
    }
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// A word the shell passes on unchanged.
fn sh_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:@%+=,".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A value in a libpq connection string.
fn conninfo_quote(s: &str) -> String {
    if !s.is_empty() && !s.contains([' ', '\'', '\\']) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_commands_carry_the_url_parts_but_never_the_password() {
        let pg = PgParts::parse("postgres://care%20key:s3cr%40t@db.example:6543/carekey").unwrap();
        let lines = pg.dump_commands(
            Path::new("/backups/carekey.dump"),
            Path::new("/srv/carekey/secret.key"),
            Path::new("/srv/carekey/audit.key"),
        );
        let all = lines.join("\n");
        assert!(
            all.contains(
                "pg_dump --format=custom --file=/backups/carekey.dump --host=db.example --port=6543 --username='care key' --dbname=carekey"
            ),
            "{all}"
        );
        assert!(!all.contains("s3cr"), "{all}");
        assert!(all.contains("PGPASSWORD"), "{all}");
        assert!(all.contains("/srv/carekey/secret.key"), "{all}");
        assert!(all.contains("/srv/carekey/audit.key"), "{all}");
        assert!(
            all.contains("db.example:6543:carekey:care key:PASSWORD"),
            "{all}"
        );
        let all = pg.restore_commands(Path::new("x.dump")).join("\n");
        assert!(all.contains("pg_restore "), "{all}");
        assert!(all.contains("--dbname=carekey x.dump"), "{all}");
        assert!(!all.contains("s3cr"), "{all}");
    }

    #[test]
    fn pg_options_go_through_a_connection_string() {
        let pg = PgParts::parse("postgresql://u@h/d?sslmode=require").unwrap();
        assert_eq!(
            pg.connection_args(),
            "--host=h --username=u --dbname='dbname=d sslmode=require'"
        );
        assert!(!pg.has_password);
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(sh_quote("/a/b.dump"), "/a/b.dump");
        assert_eq!(sh_quote("it's here"), r"'it'\''s here'");
        assert_eq!(sh_quote(""), "''");
    }
}
