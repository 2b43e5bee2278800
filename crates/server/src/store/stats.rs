//! Queue sizes for the metrics scrape (`telemetry::scrape`): the outbox by channel and state,
//! the oldest message not yet sent, and the recovery requests waiting for the worker. Counts
//! and times only; no row's contents leave these queries.

use sea_orm::{ActiveEnum, ConnectionTrait, DbErr, QueryResult, Statement};

use crate::store::entities::outbox::{Channel, Status};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queues {
    /// Messages per channel and state; combinations with none are absent.
    pub outbox: Vec<(Channel, Status, i64)>,
    /// Per channel, when the oldest message still waiting to be sent (queued, or being sent)
    /// was queued (ms).
    pub oldest_waiting: Vec<(Channel, i64)>,
    pub recovery_waiting: i64,
    /// When the oldest waiting recovery request arrived (ms).
    pub recovery_oldest: Option<i64>,
}

/// Plain SQL both databases read alike: aggregates over two tables, no parameters.
async fn rows<C: ConnectionTrait>(db: &C, sql: &str) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
}

pub async fn queues<C: ConnectionTrait>(db: &C) -> Result<Queues, DbErr> {
    // The words are read as text and mapped back: a word this release does not know (a newer
    // release's, during a rolling upgrade) is left out rather than failing the scrape.
    let mut outbox = vec![];
    for row in rows(
        db,
        "SELECT channel, status, COUNT(*) AS n FROM outbox GROUP BY channel, status",
    )
    .await?
    {
        let channel: String = row.try_get("", "channel")?;
        let status: String = row.try_get("", "status")?;
        let n: i64 = row.try_get("", "n")?;
        if let (Ok(c), Ok(s)) = (
            Channel::try_from_value(&channel),
            Status::try_from_value(&status),
        ) {
            outbox.push((c, s, n));
        }
    }
    let mut oldest_waiting = vec![];
    for row in rows(
        db,
        "SELECT channel, MIN(created_at) AS oldest FROM outbox \
         WHERE status IN ('queued', 'sending') GROUP BY channel",
    )
    .await?
    {
        let channel: String = row.try_get("", "channel")?;
        let oldest: Option<i64> = row.try_get("", "oldest")?;
        if let (Ok(c), Some(t)) = (Channel::try_from_value(&channel), oldest) {
            oldest_waiting.push((c, t));
        }
    }
    let (recovery_waiting, recovery_oldest) = match rows(
        db,
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM recovery_requests",
    )
    .await?
    .first()
    {
        Some(row) => (row.try_get("", "n")?, row.try_get("", "oldest")?),
        None => (0, None),
    };
    Ok(Queues {
        outbox,
        oldest_waiting,
        recovery_waiting,
        recovery_oldest,
    })
}
