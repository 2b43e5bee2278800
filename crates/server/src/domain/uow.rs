//! The unit of work: one per use case (ARCHITECTURE.md principle 8).
//!
//! A `Uow` holds the transaction, the time the use case runs at and who is acting. Everything a
//! use case writes — the change itself, its audit row (HIPAA 164.312(b)) and the messages it
//! queues — goes through it and commits once, so a crash or an error part-way leaves nothing
//! half-written (SECURITY.md F4).
//!
//! On SQLite the transaction starts with `BEGIN IMMEDIATE`: it takes the write lock before its
//! first read, so a read that decides a write cannot be overtaken by another writer (a deferred
//! transaction that reads first fails with SQLITE_BUSY_SNAPSHOT when it later writes). On
//! PostgreSQL, writes that depend on a prior state are conditional (`WHERE phc = :old`,
//! `WHERE status <> 'disabled'`), so of two racing units of work only one can win.
//!
//! Slow work (argon2) happens before `begin`, never inside: a unit of work holds the write lock.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

use super::audit::{self, Actor, AuditKey, Event};
use super::{DomainError, Services};
use crate::delivery::outbox::{self, NewMessage};
use crate::delivery::seal::Sealer;
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, outbox as outbox_row};
use crate::telemetry::names;

pub struct Uow {
    txn: DatabaseTransaction,
    /// The one time every row of this unit of work is stamped with.
    pub now: i64,
    actor: Actor,
    /// Destinations already given a message in this unit of work: one use case sends one
    /// person one message per address (a staff reset's letter email is also its notice).
    told: Vec<String>,
    /// The channel of each message queued, counted once the commit lands.
    queued: Vec<outbox_row::Channel>,
    sealer: Sealer,
    audit_key: AuditKey,
    /// Audit rows, written in order just before the commit (one pass over the chain's head,
    /// which is then held only for the commit itself).
    /// (Behind a lock only so that recording one needs no `&mut`: it is never held across an
    /// await.)
    audits: std::sync::Mutex<Vec<(Actor, Event)>>,
    /// Whether any message was queued, for the dispatcher's wake-up.
    sent: bool,
}

impl Services {
    /// Opens a unit of work for `actor`. The clock is read after the transaction is open, so
    /// time spent waiting for the write lock does not make `now` stale.
    pub(crate) async fn begin(&self, actor: Actor) -> Result<Uow, DomainError> {
        let txn = self
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(Uow {
            txn,
            now: self.now(),
            actor,
            told: Vec::new(),
            queued: Vec::new(),
            sealer: self.delivery.sealer.clone(),
            audit_key: self.audit_key.clone(),
            audits: std::sync::Mutex::default(),
            sent: false,
        })
    }
}

impl Uow {
    /// The transaction, for table code in `store` and the domain's own queries.
    pub fn db(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Takes the account's row lock. Every unit of work that changes an account's credentials
    /// takes it first, before any other row of that account (sessions, codes, the password):
    /// racing changes then queue on one lock instead of each holding a row the other needs, a
    /// deadlock PostgreSQL would break by failing one of them. (SQLite's `BEGIN IMMEDIATE`
    /// already serialises writers.)
    pub async fn lock_account(&self, account_id: i64) -> Result<(), DomainError> {
        let locked = account::Entity::update_many()
            .col_expr(account::Column::UpdatedAt, Expr::value(self.now))
            .filter(account::Column::Id.eq(account_id))
            .exec(&self.txn)
            .await?;
        if locked.rows_affected != 1 {
            return Err(DomainError::NotFound("account".into()));
        }
        Ok(())
    }

    /// Records an audit row as this unit of work's actor; it commits with the change.
    pub async fn audit(
        &self,
        action: Action,
        target: Option<i64>,
        details: serde_json::Value,
    ) -> Result<(), DomainError> {
        self.audit_as(&self.actor, action, target, details).await
    }

    /// An audit row with another actor (an anonymous visitor's failure inside a signed-in
    /// person's unit of work, say).
    pub async fn audit_as(
        &self,
        actor: &Actor,
        action: Action,
        target: Option<i64>,
        details: serde_json::Value,
    ) -> Result<(), DomainError> {
        let mut audits = self
            .audits
            .lock()
            .map_err(|_| DomainError::Internal("audit rows poisoned".into()))?;
        audits.push((
            actor.clone(),
            Event {
                action,
                target,
                details,
            },
        ));
        Ok(())
    }

    /// Starts the next part of a unit of work that serves several requests in one
    /// transaction (the recovery worker's batch): its rows are recorded as `actor`'s, and
    /// "already told" starts afresh, as it would in a unit of work of its own.
    pub fn next_part(&mut self, actor: Actor) {
        self.actor = actor;
        self.told.clear();
    }

    /// Queues a message to be sent after commit.
    pub async fn send(&mut self, m: NewMessage<'_>) -> Result<outbox_row::Model, DomainError> {
        self.told.push(m.destination.to_lowercase());
        self.sent = true;
        let row = outbox::enqueue(&self.txn, &self.sealer, m, self.now).await?;
        self.queued.push(row.channel);
        Ok(row)
    }

    /// Whether this unit of work has already queued a message to `destination`.
    pub fn has_told(&self, destination: &str) -> bool {
        let d = destination.to_lowercase();
        self.told.contains(&d)
    }

    /// Writes the audit rows, commits, then wakes the dispatcher if a message was queued.
    pub async fn commit(self, svc: &Services) -> Result<(), DomainError> {
        let queued = self.sent;
        let audits = self
            .audits
            .into_inner()
            .map_err(|_| DomainError::Internal("audit rows poisoned".into()))?;
        audit::append_all(&self.txn, &self.audit_key, self.now, &audits).await?;
        self.txn.commit().await?;
        for channel in &self.queued {
            metrics::counter!(names::OUTBOX_QUEUED, "channel" => channel.as_str()).increment(1);
        }
        if queued {
            svc.delivery.kick();
        }
        Ok(())
    }
}
