//! Append-only audit trail, hash-chained so that an edited or deleted row is detectable
//! (HIPAA 45 CFR 164.312(b), SECURITY.md S6). Never given a secret: callers pass only
//! identifiers, outcomes and reasons.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
    sea_query::{Expr, ExprTrait},
};
use sha2::{Digest, Sha256};

use crate::store::entities::audit_head::{self, GENESIS};
use crate::store::entities::audit_log::{self, Action};

/// Who did it and from where.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub account_id: Option<i64>,
    pub name: String,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub action: Action,
    pub target: Option<i64>,
    /// A JSON object of non-secret detail.
    pub details: serde_json::Value,
}

fn row_hash(prev: &str, m: &audit_log::Model) -> String {
    let mut h = Sha256::new();
    // Length-prefixed fields: no two different rows can serialise to the same bytes.
    for field in [
        prev.to_owned(),
        m.seq.to_string(),
        m.at.to_string(),
        m.actor_account_id
            .map(|v| v.to_string())
            .unwrap_or_default(),
        m.actor.clone(),
        m.target_account_id
            .map(|v| v.to_string())
            .unwrap_or_default(),
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

/// Appends one row inside the caller's transaction, so the event and the change it records
/// commit together or not at all.
pub async fn append<C: ConnectionTrait>(
    db: &C,
    now_ms: i64,
    actor: &Actor,
    event: Event,
) -> Result<(), DbErr> {
    // Bumping the head first takes the write lock (row lock on PostgreSQL, database lock on
    // SQLite) before we read it, so concurrent writers queue instead of forking the chain.
    audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::Seq,
            Expr::col(audit_head::Column::Seq).add(1),
        )
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;
    let mut row = audit_log::Model {
        id: 0,
        seq: head.seq,
        at: now_ms,
        actor_account_id: actor.account_id,
        actor: if actor.name.is_empty() {
            "anonymous".into()
        } else {
            actor.name.clone()
        },
        target_account_id: event.target,
        // The stored word is what the row hash covers, exactly as before the enum.
        action: event.action.as_str().to_owned(),
        ip: actor.ip.clone(),
        user_agent: actor.user_agent.chars().take(300).collect(),
        details: event.details.to_string(),
        prev_hash: head.hash.clone(),
        hash: String::new(),
    };
    row.hash = row_hash(&head.hash, &row);
    audit_log::ActiveModel {
        seq: Set(row.seq),
        at: Set(row.at),
        actor_account_id: Set(row.actor_account_id),
        actor: Set(row.actor.clone()),
        target_account_id: Set(row.target_account_id),
        action: Set(row.action.clone()),
        ip: Set(row.ip.clone()),
        user_agent: Set(row.user_agent.clone()),
        details: Set(row.details.clone()),
        prev_hash: Set(row.prev_hash.clone()),
        hash: Set(row.hash.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit_head::ActiveModel {
        id: Set(1),
        hash: Set(row.hash),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum ChainCheck {
    Intact { rows: usize },
    Broken { at_seq: i64 },
}

/// Recomputes the chain from the genesis value, then compares its end with `audit_head`: rows
/// cut from the end leave a chain that is whole on its own, and only the head, written in the
/// same unit of work as each row, knows how far it went. `Broken { at_seq }` then names the
/// first missing row.
pub async fn verify_chain<C: ConnectionTrait>(db: &C) -> Result<ChainCheck, DbErr> {
    // The head is read first: a row appended meanwhile is newer than it and still verified,
    // so a check beside a busy server never mistakes a new row for a cut.
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;
    let rows = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .all(db)
        .await?;
    let mut prev = GENESIS.to_owned();
    for (i, r) in rows.iter().enumerate() {
        if r.seq != i as i64 + 1 || r.prev_hash != prev || row_hash(&prev, r) != r.hash {
            return Ok(ChainCheck::Broken { at_seq: r.seq });
        }
        if r.seq == head.seq && r.hash != head.hash {
            return Ok(ChainCheck::Broken { at_seq: r.seq });
        }
        prev = r.hash.clone();
    }
    let last = rows.len() as i64;
    if last < head.seq {
        return Ok(ChainCheck::Broken { at_seq: last + 1 });
    }
    Ok(ChainCheck::Intact { rows: rows.len() })
}
