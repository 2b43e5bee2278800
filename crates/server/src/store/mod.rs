//! Persistence: connection set-up for SQLite (default) and PostgreSQL, entities, migrations.

pub mod entities;
pub mod migration;
pub mod stats;
mod vocab;

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlxSqliteConnector};
use sea_orm_migration::MigratorTrait;

/// How long a request may wait for a database connection before it gets a calm 503
/// (SECURITY.md F1).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {url}: {source}")]
    Connect { url: String, source: DbErr },
    #[error("database migration failed: {0}")]
    Migrate(DbErr),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the database file {path}: {source}")]
    DatabaseFile {
        path: String,
        source: std::io::Error,
    },
}

/// The file a `sqlite://` URL names (whatever follows `?` is options), or `None` for any other
/// database. Every reader of the URL (connect, `carekey check`, backup) goes through this.
pub fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url.strip_prefix("sqlite://")?;
    Some(Path::new(rest.split('?').next().unwrap_or(rest)))
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`).
pub async fn connect(url: &str) -> Result<DatabaseConnection, StoreError> {
    let conn_err = |source| StoreError::Connect {
        url: redact(url),
        source,
    };
    if let Some(path) = sqlite_path(url) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        // The database holds patients' names, contacts and password hashes: created readable
        // by this user only, whatever the umask. SQLite gives its -wal and -shm files the
        // database file's mode.
        #[cfg(unix)]
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path);
            match created {
                Ok(_) => {}
                // Another process created it first: theirs is used.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => {
                    return Err(StoreError::DatabaseFile {
                        path: path.display().to_string(),
                        source,
                    });
                }
            }
        }
        // WAL lets readers proceed during a write; the busy timeout makes concurrent writers
        // queue instead of failing; foreign keys are off by default in SQLite.
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(opts)
            .await
            .map_err(|e| conn_err(DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into()))))?;
        Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
    } else {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(16)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_timeout(ACQUIRE_TIMEOUT)
            .sqlx_logging(false);
        Database::connect(opts).await.map_err(conn_err)
    }
}

/// A private in-memory database for unit tests, migrated. Shared cache, so every connection
/// of the pool sees the one database (each would otherwise get its own); `name` keeps tests
/// running in parallel apart.
#[cfg(test)]
pub async fn connect_memory(name: &str) -> Result<DatabaseConnection, StoreError> {
    use std::str::FromStr;
    let url = format!("sqlite:file:{name}?mode=memory&cache=shared");
    let conn_err = |e: sea_orm::sqlx::Error| StoreError::Connect {
        url: url.clone(),
        source: DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())),
    };
    let opts = SqliteConnectOptions::from_str(&url)
        .map_err(conn_err)?
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    // The pool must keep one connection open, or the database vanishes with the last one.
    let pool = SqlitePoolOptions::new()
        .min_connections(1)
        .max_connections(4)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(opts)
        .await
        .map_err(conn_err)?;
    let db = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    migrate(&db).await?;
    Ok(db)
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), StoreError> {
    migration::Migrator::up(db, None)
        .await
        .map_err(StoreError::Migrate)
}

/// A URL safe to print: the password, if any, replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_sqlite_database_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("carekey-store-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = dir.join("carekey.db");
        let db = super::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        super::migrate(&db).await.unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&dir.join("carekey.db-wal")), 0o600);
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact("postgres://carekey:s3cret@db:5432/carekey"),
            "postgres://carekey:***@db:5432/carekey"
        );
        assert_eq!(
            redact("sqlite://data/carekey.db"),
            "sqlite://data/carekey.db"
        );
    }
}
