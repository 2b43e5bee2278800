//! Domain services: everything CareKey decides, with no HTTP and no UI. The HTTP layer turns
//! requests into calls here and `DomainError`s into calm responses.

pub mod accounts;
pub mod audit;
pub mod caller;
pub mod challenges;
pub mod contacts;
pub mod credentials;
pub mod language;
pub mod limits;
pub mod messages;
pub mod not_me;
pub mod patients;
pub mod recovery;
pub mod rules;
pub mod signin;
pub mod twostep;

// The ground rules keep their short paths (`domain::secrets`, …); they live in `rules/`.
pub use rules::{dates, hashing, lockout, phone, secrets};
pub use signin::sessions;
pub mod staff;
#[cfg(test)]
pub mod testing;
pub mod uow;

use std::sync::{Arc, OnceLock};

use carekey_shared::common::CommonPasswords;
use carekey_shared::policy::{PasswordPolicy, PolicyContext, PolicyIssue};
use sea_orm::{DatabaseConnection, DbErr};

use crate::clock::{Clock, Entropy};
use crate::config::Config;
use hashing::Hasher;
use secrets::ServerKey;
use tokio::sync::Notify;

use crate::delivery::Delivery;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("sign-in failed")]
    SignInFailed,
    #[error("not signed in")]
    NotSignedIn,
    #[error("password change required before anything else")]
    PasswordChangeRequired,
    #[error("not allowed for this account")]
    Forbidden,
    #[error("second step not accepted")]
    SecondStepFailed,
    #[error("a second step must be added before anything else")]
    SecondStepSetupRequired,
    #[error("the clinic requires a second step and this is the last one")]
    LastSecondStep,
    #[error("current password incorrect")]
    CurrentPasswordIncorrect,
    #[error("passkey not accepted")]
    PasskeyNotAccepted,
    #[error("password breaks the policy: {0:?}")]
    PasswordRejected(Vec<PolicyIssue>),
    #[error("new password and its repeat differ")]
    PasswordsDiffer,
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("recovery code, link or grant not accepted: {0:?}")]
    CodeRejected(carekey_shared::CodeProblem),
    #[error("security answer incorrect")]
    SecurityAnswerIncorrect,
    #[error("username already taken")]
    UsernameTaken,
    #[error("username not allowed")]
    UsernameInvalid,
    #[error("not an email address or phone number that can be used")]
    ContactInvalid,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already on file: {0}")]
    AlreadyExists(String),
    #[error("send limits reached for this person or number")]
    TooManyMessages,
    #[error("too many hashing requests waiting")]
    Busy,
    /// Another change to the same record committed first; nothing was written. Trying again
    /// starts from what is there now.
    #[error("changed by someone else meanwhile")]
    Conflict,
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("hashing: {0}")]
    Hashing(String),
    #[error("internal: {0}")]
    Internal(String),
}

/// Where a request came from, for the audit trail and session records.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: String,
    pub user_agent: String,
    /// The browser's recovery flow cookie, if it sent one: a patient's own codes are bound to
    /// the browser that asked for them (SECURITY.md R6).
    pub flow: Option<String>,
}

/// All domain services, sharing one database, clock and hasher.
pub struct Services {
    pub db: DatabaseConnection,
    pub cfg: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub hasher: Hasher,
    /// The key for every stored HMAC (codes, links, grants).
    pub key: ServerKey,
    /// The audit trail's own key (SECURITY.md S7).
    pub audit_key: audit::AuditKey,
    pub delivery: Delivery,
    /// Wakes the recovery worker when a request has been queued.
    pub recovery_wake: Arc<Notify>,
    /// The WebAuthn relying party for passkeys; None when `public_url` names no host.
    pub passkeys: Option<Arc<webauthn_rs::Webauthn>>,
    /// Staff reads already recorded per session (`staff::ReadMemo`).
    pub(crate) reads: staff::ReadMemo,
    /// Paces sign-ins from addresses past their share of failures (`signin::pacer`).
    pub(crate) pacer: signin::pacer::Pacer,
    /// On SQLite, forgot-password requests store themselves one at a time
    /// (`recovery::intake`); None on PostgreSQL, whose writers do not share one lock.
    pub(crate) intake_turn: Option<tokio::sync::Mutex<()>>,
}

impl Services {
    pub fn new(
        db: DatabaseConnection,
        cfg: Arc<Config>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        key: ServerKey,
        audit_key: audit::AuditKey,
        delivery: Delivery,
    ) -> Result<Self, DomainError> {
        let passkeys = twostep::relying_party(&cfg);
        let db_backend = sea_orm::ConnectionTrait::get_database_backend(&db);
        Ok(Self {
            db,
            cfg,
            clock,
            entropy,
            hasher: Hasher::new()?,
            key,
            audit_key,
            delivery,
            recovery_wake: Arc::new(Notify::new()),
            passkeys,
            reads: staff::ReadMemo::default(),
            pacer: signin::pacer::Pacer::default(),
            intake_turn: (db_backend == sea_orm::DbBackend::Sqlite)
                .then(|| tokio::sync::Mutex::new(())),
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The audit chain checked from its first row to its head (SECURITY.md S7).
    pub async fn verify_audit_chain(&self) -> Result<audit::ChainCheck, DomainError> {
        Ok(audit::verify_chain(&self.db, &self.audit_key).await?)
    }

    pub fn policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            min_chars: self.cfg.password_min_length,
            require_mix: self.cfg.password_require_mix,
        }
    }

    /// What the policy checks a new password against: the person's own words, the current
    /// password when it was typed, and the common-password list (SECURITY.md P4, P5).
    pub fn policy_context(&self, words: Vec<String>, current: Option<&str>) -> PolicyContext {
        static COMMON: OnceLock<Arc<CommonPasswords>> = OnceLock::new();
        PolicyContext {
            words,
            current: current.map(str::to_owned),
            common: Some(
                COMMON
                    .get_or_init(|| Arc::new(CommonPasswords::parse(carekey_shared::common::LIST)))
                    .clone(),
            ),
        }
    }

    pub fn lifetimes(&self) -> sessions::Lifetimes {
        sessions::Lifetimes {
            idle: self.cfg.session_idle,
            absolute: self.cfg.session_absolute,
        }
    }
}
