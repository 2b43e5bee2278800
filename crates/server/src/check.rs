//! `carekey check`: tests what the configuration names before patients find a problem — the
//! database, the server key, the public address, the email relay, the text and call settings
//! and the built apps. One line per item; any failure makes the command exit non-zero. Nothing
//! is changed and nothing is sent: the database is not created or migrated, the relay is
//! greeted and (with credentials) logged in to, then left without a message.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use sea_orm_migration::MigratorTrait;

use crate::config::{Config, SmtpConfig, SmtpTls, TwilioConfig};
use crate::delivery::smtp::Smtp;
use crate::domain::rules::secrets::ServerKey;
use crate::http::apps::Apps;
use crate::store::{self, entities::account, migration::Migrator};

/// Longest any one item may take: a relay or database that does not answer is a failure, not
/// a command that hangs (an admin is waiting at a terminal).
const ITEM_DEADLINE: Duration = Duration::from_secs(20);

/// What is checked, in the order the lines are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Database,
    SecretKey,
    PublicUrl,
    Email,
    TextsAndCalls,
    Tls,
    Apps,
}

impl Item {
    pub fn name(self) -> &'static str {
        match self {
            Item::Database => "database",
            Item::SecretKey => "secret key",
            Item::PublicUrl => "public url",
            Item::Email => "email (smtp)",
            Item::TextsAndCalls => "texts and calls (twilio)",
            Item::Tls => "https (tls)",
            Item::Apps => "browser apps",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok(String),
    /// Not set up, and that is a choice the clinic may make (no texts, say).
    NotUsed(String),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub item: Item,
    pub outcome: Outcome,
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mark, text) = match &self.outcome {
            Outcome::Ok(t) => ("ok", t),
            Outcome::NotUsed(t) => ("--", t),
            Outcome::Failed(t) => ("FAILED", t),
        };
        write!(f, "{mark:<7}{:<26}{text}", self.item.name())
    }
}

/// Every item, in order. The database result decides what the key check can say.
pub async fn run(cfg: &Config) -> Vec<Line> {
    let (database, accounts) = database(&cfg.database_url).await;
    let twilio = match &cfg.twilio {
        Some(t) => twilio(t, &cfg.public_url),
        None => Outcome::NotUsed(if cfg.dev_mode {
            "not set: texts and calls go to the development outbox".into()
        } else {
            "not set: patients are not offered texts or calls".into()
        }),
    };
    let email = match &cfg.smtp {
        Some(s) => smtp(s).await,
        None => Outcome::NotUsed(if cfg.dev_mode {
            "not set: email goes to the development outbox".into()
        } else {
            "not set: patients are not offered email".into()
        }),
    };
    vec![
        Line {
            item: Item::Database,
            outcome: database,
        },
        Line {
            item: Item::SecretKey,
            outcome: secret_key(&cfg.secret_key_file, accounts),
        },
        Line {
            item: Item::PublicUrl,
            outcome: public_url(&cfg.public_url, cfg.dev_mode),
        },
        Line {
            item: Item::Email,
            outcome: email,
        },
        Line {
            item: Item::TextsAndCalls,
            outcome: twilio,
        },
        Line {
            item: Item::Tls,
            outcome: tls(cfg),
        },
        Line {
            item: Item::Apps,
            outcome: apps(&Apps::from_config(&cfg.dist_dir)),
        },
    ]
}

/// Reachable, and migrated to this version. Also answers how many accounts it holds (`None`
/// when it could not be read), which the key check needs.
async fn database(url: &str) -> (Outcome, Option<u64>) {
    let shown = store::redact(url);
    // `store::connect` creates a missing SQLite file; a check must not, or a mistyped path
    // would pass as an empty new database.
    if store::sqlite_path(url).is_some_and(|path| !path.exists()) {
        return (
            Outcome::Failed(format!(
                "{shown}: no database file there (a new install: run `carekey migrate`)"
            )),
            None,
        );
    }
    let opened = tokio::time::timeout(ITEM_DEADLINE, store::connect(url)).await;
    let db = match opened {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => return (Outcome::Failed(e.to_string()), None),
        Err(_) => {
            return (
                Outcome::Failed(format!("{shown}: no answer in {ITEM_DEADLINE:?}")),
                None,
            );
        }
    };
    let outcome = migrated(&db, &shown).await;
    let accounts = account::Entity::find().count(&db).await.ok();
    let _ = db.close().await;
    (outcome, accounts)
}

async fn migrated(db: &DatabaseConnection, shown: &str) -> Outcome {
    let pending = match Migrator::get_pending_migrations(db).await {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(format!("{shown}: cannot read its migrations: {e}")),
    };
    if !pending.is_empty() {
        return Outcome::Failed(format!(
            "{shown}: {} migration(s) not applied (run `carekey migrate`)",
            pending.len()
        ));
    }
    match Migrator::get_applied_migrations(db).await {
        Ok(applied) => Outcome::Ok(format!(
            "{shown}: reachable, {} migrations applied, none pending",
            applied.len()
        )),
        Err(e) => Outcome::Failed(format!("{shown}: cannot read its migrations: {e}")),
    }
}

/// Present, 32 bytes in hex, readable by this user only. Codes, reset links and queued
/// messages are sealed or MACed with it: a copy others can read lets them forge a reset link.
fn secret_key(path: &Path, accounts: Option<u64>) -> Outcome {
    let shown = path.display();
    match ServerKey::read(path) {
        Ok(Some(_)) => {}
        // A new install: `carekey serve` creates it on first start.
        Ok(None) if accounts == Some(0) => {
            return Outcome::Ok(format!(
                "{shown}: not created yet; the first `carekey serve` creates it (mode 0600)"
            ));
        }
        Ok(None) if accounts.is_none() => {
            return Outcome::Failed(format!(
                "{shown}: missing, and the database could not be read to tell whether this is \
                 a new install (fix the database item first; on a new install the first \
                 `carekey serve` creates the key)"
            ));
        }
        Ok(None) => {
            return Outcome::Failed(format!(
                "{shown}: missing, and the database already has accounts: restore the key \
                 from backup (without it, codes, reset links and queued messages in flight \
                 cannot be checked or sent; passwords are not affected)"
            ));
        }
        Err(e) => return Outcome::Failed(e.to_string()),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(m) => m.permissions().mode() & 0o777,
            Err(e) => return Outcome::Failed(format!("{shown}: cannot be read: {e}")),
        };
        if mode & 0o077 != 0 {
            return Outcome::Failed(format!(
                "{shown}: mode {mode:04o} lets other users read it; run `chmod 600 {shown}`"
            ));
        }
        Outcome::Ok(format!("{shown}: present, mode {mode:04o}"))
    }
    #[cfg(not(unix))]
    Outcome::Ok(format!("{shown}: present"))
}

/// HTTPS wherever a patient's browser is not on this machine: the session cookie is
/// `__Host-` and `Secure` only over HTTPS, and passwords must not cross a network in clear.
fn public_url(url: &str, dev_mode: bool) -> Outcome {
    if url.starts_with("https://") {
        return Outcome::Ok(format!("{url}: https"));
    }
    let rest = url.trim_start_matches("http://");
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next(),
        None => rest.split([':', '/']).next(),
    }
    .unwrap_or("");
    let local = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match (local, dev_mode) {
        (true, _) => Outcome::Ok(format!(
            "{url}: plain http, reachable from this machine only"
        )),
        (false, true) => Outcome::Ok(format!(
            "{url}: plain http, allowed in development mode only"
        )),
        (false, false) => Outcome::Failed(format!(
            "{url}: patients would send passwords over plain http; use https (a proxy that \
             terminates TLS, with public_url set to the https address)"
        )),
    }
}

/// Connects, greets, upgrades to TLS and logs in as the server would, then leaves without
/// sending anything.
async fn smtp(cfg: &SmtpConfig) -> Outcome {
    let at = format!("{}:{}", cfg.host, cfg.port);
    let transport = match Smtp::new(cfg) {
        Ok(t) => t,
        Err(e) => return Outcome::Failed(format!("{at}: {e}")),
    };
    let tls = match cfg.tls {
        SmtpTls::StartTls => "STARTTLS",
        SmtpTls::Tls => "TLS",
        SmtpTls::None => "no TLS",
    };
    let login = if cfg.username.is_empty() {
        "no login"
    } else {
        "logged in"
    };
    match tokio::time::timeout(ITEM_DEADLINE, transport.check()).await {
        Ok(Ok(())) => Outcome::Ok(format!("{at}: answered, {tls}, {login}; no message sent")),
        Ok(Err(e)) => Outcome::Failed(format!("{at}: {e}")),
        Err(_) => Outcome::Failed(format!("{at}: no answer in {ITEM_DEADLINE:?}")),
    }
}

/// The settings are complete (the configuration loader already refused malformed ones). Twilio
/// itself is not called: that would need a live account, and a check must send nothing. Calls
/// need Twilio to reach `/twilio/voice/…`, so the public address must be one it can reach.
fn twilio(cfg: &TwilioConfig, public_url: &str) -> Outcome {
    let sid_end = &cfg.account_sid[cfg.account_sid.len().saturating_sub(4)..];
    if !public_url.starts_with("https://") {
        return Outcome::Failed(format!(
            "account …{sid_end}, from {}: calls need Twilio to reach {public_url}/twilio/voice/…, \
             which must be a public https address",
            cfg.from
        ));
    }
    Outcome::Ok(format!(
        "account …{sid_end}, from {}, countries {}; settings complete (Twilio itself not called)",
        cfg.from,
        cfg.allowed_countries.join(", ")
    ))
}

/// The certificate and key load, and belong together. A key others may read is refused as the
/// server key is: whoever reads it can impersonate the portal.
fn tls(cfg: &Config) -> Outcome {
    let Some(t) = &cfg.tls else {
        return Outcome::NotUsed(
            "not set: plain HTTP on bind (HTTPS must then be ended by a proxy in front)".into(),
        );
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(&t.key_file) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o007 != 0 {
                return Outcome::Failed(format!(
                    "{}: mode {mode:04o}, readable by every user (chmod 600 or 640)",
                    t.key_file.display()
                ));
            }
        }
    }
    match crate::tls::load(t) {
        Ok(loaded) => Outcome::Ok(format!(
            "{} ({} certificate{} in the chain) and {} match{}",
            t.cert_file.display(),
            loaded.chain_len,
            if loaded.chain_len == 1 { "" } else { "s" },
            t.key_file.display(),
            t.redirect_bind
                .map(|a| format!("; http://{a} redirects to HTTPS"))
                .unwrap_or_default()
        )),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// The five apps' pages: built into the binary, or where `dist_dir` points.
fn apps(apps: &Apps) -> Outcome {
    let missing = apps.missing();
    if missing.is_empty() {
        Outcome::Ok(format!(
            "{}: {}",
            apps.describe(),
            crate::http::apps::APPS.join(", ")
        ))
    } else {
        Outcome::Failed(format!(
            "{}: not built: {} (run scripts/build-client.sh before building the server, or set dist_dir)",
            apps.describe(),
            missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_passes_only_on_this_machine_or_in_development() {
        assert!(matches!(
            public_url("http://127.0.0.1:3000", false),
            Outcome::Ok(_)
        ));
        assert!(matches!(
            public_url("http://portal.clinic.example", true),
            Outcome::Ok(_)
        ));
        assert!(matches!(
            public_url("http://portal.clinic.example", false),
            Outcome::Failed(_)
        ));
        assert!(matches!(
            public_url("https://portal.clinic.example", false),
            Outcome::Ok(_)
        ));
        assert!(matches!(
            public_url("http://[::1]:3000", false),
            Outcome::Ok(_)
        ));
        assert!(matches!(
            public_url("http://10.0.0.5:3000", false),
            Outcome::Failed(_)
        ));
    }

    #[test]
    fn a_missing_key_is_fine_only_before_there_are_accounts() {
        let path = std::env::temp_dir().join(format!("carekey-check-nokey-{}", std::process::id()));
        assert!(matches!(secret_key(&path, Some(0)), Outcome::Ok(_)));
        assert!(matches!(secret_key(&path, Some(3)), Outcome::Failed(_)));
        assert!(matches!(secret_key(&path, None), Outcome::Failed(_)));
    }

    #[test]
    fn lines_read_as_a_table() {
        let l = Line {
            item: Item::SecretKey,
            outcome: Outcome::Failed("data/secret.key: mode 0644".into()),
        };
        assert_eq!(
            l.to_string(),
            "FAILED secret key                data/secret.key: mode 0644"
        );
    }
}
