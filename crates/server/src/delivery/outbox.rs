//! The outbox table: enqueue inside the caller's transaction; claim, finish and retry for the
//! dispatcher.
//!
//! Claiming is a conditional UPDATE on the row's status and lease: on SQLite and on PostgreSQL
//! only one instance's UPDATE matches, so each message is sent by one instance (SECURITY.md F6),
//! and a lease that runs out (a crashed instance) makes the row claimable again.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::outbound::{Lang, Outbound, Queued};
use super::seal::Sealer;
use crate::store::entities::outbox::{self, Column};

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
}

/// Queues a message in the caller's transaction. Its payload is sealed to the row's id
/// (SECURITY.md S9), so the row is written first and the sealed payload after.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    m: NewMessage<'_>,
    now: i64,
) -> Result<outbox::Model, DbErr> {
    let queued = Queued {
        lang: m.lang,
        message: m.message,
    };
    let plain = serde_json::to_string(&queued).map_err(|e| DbErr::Custom(e.to_string()))?;
    let mut row = outbox::ActiveModel {
        kind: Set(queued.message.kind().to_owned()),
        channel: Set(queued.message.channel().as_str().to_owned()),
        destination: Set(m.destination.to_owned()),
        account_id: Set(m.account_id),
        challenge_id: Set(m.challenge_id),
        payload: Set(SCRUBBED.to_owned()),
        status: Set("queued".into()),
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
    .await?;
    let sealed = sealer
        .seal(row.id, &plain)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    outbox::Entity::update_many()
        .col_expr(Column::Payload, Expr::value(sealed.clone()))
        .filter(Column::Id.eq(row.id))
        .exec(db)
        .await?;
    row.payload = sealed;
    Ok(row)
}

/// Ids of messages due now, oldest first.
pub async fn due<C: ConnectionTrait>(db: &C, now: i64, limit: u64) -> Result<Vec<i64>, DbErr> {
    outbox::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Status.is_in(["queued", "sending"]))
        .filter(Column::NextAttemptAt.lte(now))
        .filter(Column::LeaseUntil.is_null().or(Column::LeaseUntil.lt(now)))
        .order_by_asc(Column::NextAttemptAt)
        .limit(limit)
        .into_tuple::<i64>()
        .all(db)
        .await
}

/// Takes the message for `lease_ms`, or returns None if another worker has it.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: i64,
    now: i64,
    lease_ms: i64,
) -> Result<Option<outbox::Model>, DbErr> {
    let res = outbox::Entity::update_many()
        .col_expr(Column::Status, Expr::value("sending"))
        .col_expr(Column::LeaseUntil, Expr::value(now + lease_ms))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.is_in(["queued", "sending"]))
        .filter(Column::NextAttemptAt.lte(now))
        .filter(Column::LeaseUntil.is_null().or(Column::LeaseUntil.lt(now)))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Ok(None);
    }
    outbox::Entity::find_by_id(id).one(db).await
}

/// Records the final outcome. `keep_payload` holds a voice script until its call is over.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    id: i64,
    status: &str,
    error: Option<String>,
    now: i64,
    keep_payload: bool,
) -> Result<(), DbErr> {
    let mut upd = outbox::Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .col_expr(Column::LastError, Expr::value(error));
    if status == "sent" {
        upd = upd.col_expr(Column::SentAt, Expr::value(now));
    }
    if !keep_payload {
        upd = upd.col_expr(Column::Payload, Expr::value(SCRUBBED));
    }
    upd.filter(Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// Puts the message back in the queue for a later attempt.
pub async fn retry_later<C: ConnectionTrait>(
    db: &C,
    id: i64,
    attempts: i32,
    next_at: i64,
    error: String,
) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(Column::Status, Expr::value("queued"))
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::NextAttemptAt, Expr::value(next_at))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .col_expr(Column::LastError, Expr::value(Some(error)))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Scrubs payloads kept for voice calls once their codes have expired.
pub async fn scrub_expired<C: ConnectionTrait>(db: &C, now: i64) -> Result<u64, DbErr> {
    Ok(outbox::Entity::update_many()
        .col_expr(Column::Payload, Expr::value(SCRUBBED))
        .filter(Column::Status.is_in(["sent", "failed", "expired"]))
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
        .col_expr(Column::Status, Expr::value("cancelled"))
        .col_expr(Column::Payload, Expr::value(SCRUBBED))
        .col_expr(Column::LastError, Expr::value(Some("contact changed")))
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::Destination.is_in(destinations.iter().cloned()))
        .filter(Column::Status.eq("queued"))
        .exec(db)
        .await?
        .rows_affected)
}
