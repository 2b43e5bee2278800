//! The outbox table: enqueue inside the caller's transaction; claim, finish and retry for the
//! dispatcher.
//!
//! Claiming is a conditional UPDATE on the row's status and lease: on SQLite and on PostgreSQL
//! only one instance's UPDATE matches, so each message is sent by one instance (SECURITY.md F6),
//! and a lease that runs out (a crashed instance) makes the row claimable again. The holder
//! renews its lease while a send is in flight, and renewing, finishing and retrying all match
//! only the lease value the holder wrote: an instance whose lease was taken over can neither
//! take it back nor overwrite the new holder's outcome.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::outbound::Channel;
use super::outbound::{Lang, Outbound, Queued};
use super::seal::Sealer;
use crate::store::entities::outbox::{self, Column, Kind, Status};

/// Nothing stays readable after delivery: the code or link inside is replaced by this.
pub const SCRUBBED: &str = "{}";

#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub destination: &'a str,
    pub account_id: Option<i64>,
    pub challenge_id: Option<i64>,
    /// The recipient's language: the message is put into words in it when it is sent.
    pub lang: Lang,
    pub message: Outbound,
    /// Never send after this (the challenge's own expiry).
    pub expires_at: Option<i64>,
    /// A security notice's "this wasn't me" token (SECURITY.md M8), put into its link when
    /// the message is written.
    pub report: Option<String>,
}

/// What a payload is sealed to: the message's kind, channel and destination.
pub fn seal_context(kind: Kind, channel: Channel, destination: &str) -> String {
    format!("{kind}\n{channel}\n{destination}")
}

/// Queues a message in the caller's transaction, its payload sealed (SECURITY.md S9). One
/// INSERT: a dispatcher never sees the row without its payload.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    m: NewMessage<'_>,
    now: i64,
) -> Result<outbox::Model, DbErr> {
    let queued = Queued {
        lang: m.lang,
        message: m.message,
        report: m.report,
    };
    let plain = serde_json::to_string(&queued).map_err(|e| DbErr::Custom(e.to_string()))?;
    let kind = queued.message.kind();
    let channel = queued.message.channel();
    let sealed = sealer
        .seal(&seal_context(kind, channel, m.destination), &plain)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    outbox::ActiveModel {
        kind: Set(kind),
        channel: Set(channel),
        destination: Set(m.destination.to_owned()),
        account_id: Set(m.account_id),
        challenge_id: Set(m.challenge_id),
        payload: Set(sealed),
        status: Set(Status::Queued),
        attempts: Set(0),
        next_attempt_at: Set(now),
        expires_at: Set(m.expires_at),
        lease_until: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Ids of messages due now, oldest first.
pub async fn due<C: ConnectionTrait>(db: &C, now: i64, limit: u64) -> Result<Vec<i64>, DbErr> {
    outbox::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Status.is_in([Status::Queued, Status::Sending]))
        .filter(Column::NextAttemptAt.lte(now))
        .filter(Column::LeaseUntil.is_null().or(Column::LeaseUntil.lt(now)))
        .order_by_asc(Column::NextAttemptAt)
        .limit(limit)
        .into_tuple::<i64>()
        .all(db)
        .await
}

/// The hold an instance has on a message it claimed: the `lease_until` value it wrote. A claim
/// succeeds only once the previous lease has run out, and writes a later time than that lease,
/// so the value names its holder (SECURITY.md F6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub id: i64,
    pub until: i64,
    /// Renewals the database answered with an error: any of them may have landed, so their
    /// values are ours too until a renewal succeeds. Without them, a renewal that committed
    /// but failed to report would look like a lease taken over.
    pub unsure: Vec<i64>,
}

impl Lease {
    /// Matches the row only while it is still ours: being sent, with a lease value this
    /// instance wrote. Every write a holder makes is conditional on it.
    fn held(&self) -> Condition {
        let values = std::iter::once(self.until).chain(self.unsure.iter().copied());
        Condition::all()
            .add(Column::Id.eq(self.id))
            .add(Column::Status.eq(Status::Sending))
            .add(Column::LeaseUntil.is_in(values))
    }
}

/// Takes the message for `lease_ms`, or returns None if another worker has it.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: i64,
    now: i64,
    lease_ms: i64,
) -> Result<Option<(outbox::Model, Lease)>, DbErr> {
    let until = now + lease_ms;
    let res = outbox::Entity::update_many()
        .col_expr(Column::Status, Expr::value(Status::Sending))
        .col_expr(Column::LeaseUntil, Expr::value(until))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.is_in([Status::Queued, Status::Sending]))
        .filter(Column::NextAttemptAt.lte(now))
        .filter(Column::LeaseUntil.is_null().or(Column::LeaseUntil.lt(now)))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Ok(None);
    }
    let lease = Lease {
        id,
        until,
        unsure: vec![],
    };
    Ok(outbox::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|row| (row, lease)))
}

/// Opens a row's sealed payload.
pub fn open_payload(
    sealer: &Sealer,
    row: &outbox::Model,
) -> Result<String, super::seal::SealError> {
    sealer.open(
        &seal_context(row.kind, row.channel, &row.destination),
        &row.payload,
    )
}

/// Extends the lease to `until` while a send is in flight. Returns false if the message is no
/// longer ours (another instance took it over after our lease ran out): we must not take it
/// back, as that instance may be sending it right now.
pub async fn renew<C: ConnectionTrait>(
    db: &C,
    lease: &mut Lease,
    until: i64,
) -> Result<bool, DbErr> {
    let res = outbox::Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(until))
        .filter(lease.held())
        .exec(db)
        .await;
    match res {
        Ok(r) if r.rows_affected == 1 => {
            *lease = Lease {
                id: lease.id,
                until,
                unsure: vec![],
            };
            Ok(true)
        }
        Ok(_) => Ok(false),
        Err(e) => {
            lease.unsure.push(until);
            Err(e)
        }
    }
}

/// Records the final outcome, if the message is still ours; returns whether it was. A holder
/// whose lease was taken over must not overwrite the outcome of the instance that took it.
/// `keep_payload` holds a voice script until its call is over.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    lease: &Lease,
    status: Status,
    error: Option<String>,
    now: i64,
    keep_payload: bool,
) -> Result<bool, DbErr> {
    let mut upd = outbox::Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .col_expr(Column::LastError, Expr::value(error));
    if status == Status::Sent {
        upd = upd.col_expr(Column::SentAt, Expr::value(now));
    }
    if !keep_payload {
        upd = upd.col_expr(Column::Payload, Expr::value(SCRUBBED));
    }
    let res = upd.filter(lease.held()).exec(db).await?;
    Ok(res.rows_affected == 1)
}

/// Puts the message back in the queue for a later attempt, if it is still ours; returns
/// whether it was.
pub async fn retry_later<C: ConnectionTrait>(
    db: &C,
    lease: &Lease,
    attempts: i32,
    next_at: i64,
    error: String,
) -> Result<bool, DbErr> {
    let res = outbox::Entity::update_many()
        .col_expr(Column::Status, Expr::value(Status::Queued))
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::NextAttemptAt, Expr::value(next_at))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .col_expr(Column::LastError, Expr::value(Some(error)))
        .filter(lease.held())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Scrubs payloads kept for voice calls once their codes have expired.
pub async fn scrub_expired<C: ConnectionTrait>(db: &C, now: i64) -> Result<u64, DbErr> {
    Ok(outbox::Entity::update_many()
        .col_expr(Column::Payload, Expr::value(SCRUBBED))
        .filter(Column::Status.is_in([Status::Sent, Status::Failed, Status::Expired]))
        .filter(Column::Payload.ne(SCRUBBED))
        .filter(Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// Withdraws messages still waiting for `destinations` of this account: the contact they were
/// for has been replaced, and a code or link must not reach an address its owner just left.
/// A message already being sent is left to finish. The payload goes with it.
pub async fn cancel_queued<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    destinations: &[String],
) -> Result<u64, DbErr> {
    if destinations.is_empty() {
        return Ok(0);
    }
    Ok(outbox::Entity::update_many()
        .col_expr(Column::Status, Expr::value(Status::Cancelled))
        .col_expr(Column::Payload, Expr::value(SCRUBBED))
        .col_expr(Column::LastError, Expr::value(Some("contact changed")))
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::Destination.is_in(destinations.iter().cloned()))
        .filter(Column::Status.eq(Status::Queued))
        .exec(db)
        .await?
        .rows_affected)
}
