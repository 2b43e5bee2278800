//! Append-only audit trail, chained by an HMAC under the audit key so that an edited, deleted
//! or cut row is detectable, and a rewritten chain cannot be made to verify without the key
//! (HIPAA 45 CFR 164.312(b), SECURITY.md S6, S7). Never given a secret: callers pass only
//! identifiers, outcomes and reasons.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use sha2::{Digest, Sha256};

use crate::domain::rules::secrets::ServerKey;
use crate::store::entities::audit_head::{self, GENESIS};
use crate::store::entities::audit_log::{self, Action};

/// The key the chain is computed under (`audit_key_file`). Kept apart from the server key:
/// whoever holds the codes' key need not be able to rewrite history, and the audit key can be
/// held by whoever checks the trail.
#[derive(Clone, Debug)]
pub struct AuditKey(ServerKey);

impl AuditKey {
    pub fn new(key: ServerKey) -> Self {
        Self(key)
    }

    /// Names the key without giving it away: what `audit_head.key_id` holds.
    pub fn id(&self) -> String {
        self.0.tag(&["audit-key-id"])[..16].to_owned()
    }
}

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

fn fields(prev: &str, m: &audit_log::Model) -> [String; 10] {
    [
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
    ]
}

/// HMAC-SHA256 over the previous row's MAC and every field of this row, length-prefixed so no
/// two different rows serialise alike; the purpose word keeps it apart from any other tag.
fn row_mac(key: &AuditKey, prev: &str, m: &audit_log::Model) -> String {
    let f = fields(prev, m);
    let mut parts: Vec<&str> = vec!["audit-row-v2"];
    parts.extend(f.iter().map(String::as_str));
    key.0.tag(&parts)
}

/// The unkeyed SHA-256 of the rows written before m0011; read only to check those rows once,
/// when they are re-chained under the key.
fn legacy_hash(prev: &str, m: &audit_log::Model) -> String {
    let mut h = Sha256::new();
    for field in fields(prev, m) {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Takes the chain's write lock: bumping (or touching) the head first takes the row lock on
/// PostgreSQL and the write lock on SQLite before it is read, so concurrent writers queue
/// instead of forking the chain.
async fn lock_head<C: ConnectionTrait>(db: &C, by: i64) -> Result<audit_head::Model, DbErr> {
    audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::Seq,
            Expr::col(audit_head::Column::Seq).add(by),
        )
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))
}

/// Appends one row inside the caller's transaction, so the event and the change it records
/// commit together or not at all.
pub async fn append<C: ConnectionTrait>(
    db: &C,
    key: &AuditKey,
    now_ms: i64,
    actor: &Actor,
    event: Event,
) -> Result<(), DbErr> {
    append_all(db, key, now_ms, &[(actor.clone(), event)]).await
}

/// Rows a statement carries at most (11 values each, well inside SQLite's and PostgreSQL's
/// limits on bound values).
const ROWS_PER_INSERT: usize = 500;

/// Appends `events` in order inside the caller's transaction: the head is taken once for all
/// of them, the rows are chained in memory and written in as few statements as fit, and the
/// head moves once. A unit of work that records many rows (the recovery worker's batch) then
/// costs three statements more than its rows, not three per row (issue 15).
pub async fn append_all<C: ConnectionTrait>(
    db: &C,
    key: &AuditKey,
    now_ms: i64,
    events: &[(Actor, Event)],
) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let n = events.len() as i64;
    let head = lock_head(db, n).await?;
    let mut prev = head.hash.clone();
    let mut rows = Vec::with_capacity(events.len());
    for (i, (actor, event)) in events.iter().enumerate() {
        let mut row = audit_log::Model {
            id: 0,
            seq: head.seq - n + 1 + i as i64,
            at: now_ms,
            actor_account_id: actor.account_id,
            actor: if actor.name.is_empty() {
                "anonymous".into()
            } else {
                actor.name.clone()
            },
            target_account_id: event.target,
            // The stored word is what the row MAC covers, exactly as before the enum.
            action: event.action.as_str().to_owned(),
            ip: actor.ip.clone(),
            user_agent: actor.user_agent.chars().take(300).collect(),
            details: event.details.to_string(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        row.hash = row_mac(key, &prev, &row);
        prev = row.hash.clone();
        rows.push(audit_log::ActiveModel {
            seq: Set(row.seq),
            at: Set(row.at),
            actor_account_id: Set(row.actor_account_id),
            actor: Set(row.actor),
            target_account_id: Set(row.target_account_id),
            action: Set(row.action),
            ip: Set(row.ip),
            user_agent: Set(row.user_agent),
            details: Set(row.details),
            prev_hash: Set(row.prev_hash),
            hash: Set(row.hash),
            ..Default::default()
        });
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        audit_log::Entity::insert_many(chunk).exec(db).await?;
    }
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(prev))
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum ChainCheck {
    Intact { rows: usize },
    Broken { at_seq: i64 },
}

/// What is wrong at the first bad row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// A row's fields or MAC do not match the key: edited, or written without the key.
    Altered,
    /// A sequence number is skipped: a row was deleted.
    Missing,
    /// The newest rows are gone: the chain ends before the head says it does.
    Truncated,
    /// The row the head names does not carry the head's MAC.
    HeadMismatch,
    /// An earlier checkpoint (`--anchor`) is not in the chain as it was recorded.
    AnchorMismatch,
}

impl Damage {
    pub fn describe(self) -> &'static str {
        match self {
            Damage::Altered => "a row was altered, or written without the audit key",
            Damage::Missing => "a row is missing (deleted)",
            Damage::Truncated => "the newest rows are missing (the log was cut short)",
            Damage::HeadMismatch => "the last row does not match the chain head",
            Damage::AnchorMismatch => "the row of the recorded checkpoint differs from it",
        }
    }
}

/// The full answer of a verification: what `carekey audit verify` prints and the export's
/// proof carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact {
        rows: usize,
        /// The head as read when the check began: every row up to it was verified.
        head_seq: i64,
        head_mac: String,
    },
    Broken {
        at_seq: i64,
        damage: Damage,
        head_seq: i64,
    },
}

impl Verification {
    pub fn check(&self) -> ChainCheck {
        match self {
            Verification::Intact { rows, .. } => ChainCheck::Intact { rows: *rows },
            Verification::Broken { at_seq, .. } => ChainCheck::Broken { at_seq: *at_seq },
        }
    }
}

/// A row recorded earlier (`seq:mac`, as `carekey audit verify` prints the head): a chain
/// rewound to before it, and re-headed, is caught only against such an outside record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub mac: String,
}

impl std::str::FromStr for Anchor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (seq, mac) = s
            .split_once(':')
            .ok_or("expected SEQ:MAC, as `carekey audit verify` prints the head")?;
        let seq = seq
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or("SEQ must be a row number (1 or more)")?;
        let mac = mac.trim().to_ascii_lowercase();
        if mac.len() != 64 || !mac.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("MAC must be 64 hex digits".into());
        }
        Ok(Anchor { seq, mac })
    }
}

/// Rows read per query while verifying or re-chaining: memory stays flat however long the log.
const BATCH: u64 = 1_000;

async fn batch<C: ConnectionTrait>(db: &C, after: i64) -> Result<Vec<audit_log::Model>, DbErr> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Seq.gt(after))
        .order_by_asc(audit_log::Column::Seq)
        .limit(BATCH)
        .all(db)
        .await
}

/// Recomputes the chain from the genesis value under the key, then compares its end with
/// `audit_head`: rows cut from the end leave a chain that is whole on its own, and only the
/// head, written in the same unit of work as each row, knows how far it went.
pub async fn verify<C: ConnectionTrait>(
    db: &C,
    key: &AuditKey,
    anchor: Option<&Anchor>,
) -> Result<Verification, DbErr> {
    walk(db, &|prev, r| row_mac(key, prev, r), anchor).await
}

/// As `verify`, but a database whose head is not keyed yet (a copy made before m0011, or
/// before its first start on this version) is checked as it was chained then.
pub async fn verify_any<C: ConnectionTrait>(db: &C, key: &AuditKey) -> Result<Verification, DbErr> {
    if head(db).await?.keyed {
        verify(db, key, None).await
    } else {
        walk(db, &legacy_hash, None).await
    }
}

/// The newest row's seq, as the head records it.
pub async fn head_seq<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    Ok(head(db).await?.seq)
}

/// Whether the trail is chained under an audit key yet (m0011 adopted).
pub async fn is_keyed<C: ConnectionTrait>(db: &C) -> Result<bool, DbErr> {
    Ok(head(db).await?.keyed)
}

async fn head<C: ConnectionTrait>(db: &C) -> Result<audit_head::Model, DbErr> {
    audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))
}

async fn walk<C: ConnectionTrait>(
    db: &C,
    mac: &(dyn Fn(&str, &audit_log::Model) -> String + Sync),
    anchor: Option<&Anchor>,
) -> Result<Verification, DbErr> {
    // The head is read first: a row appended meanwhile is newer than it and still verified,
    // so a check beside a busy server never mistakes a new row for a cut.
    let head = head(db).await?;
    let broken = |at_seq, damage| Verification::Broken {
        at_seq,
        damage,
        head_seq: head.seq,
    };
    let mut prev = GENESIS.to_owned();
    let mut last = 0i64;
    loop {
        let rows = batch(db, last).await?;
        let full = rows.len() as u64 == BATCH;
        for r in &rows {
            if r.seq != last + 1 {
                return Ok(broken(last + 1, Damage::Missing));
            }
            if r.prev_hash != prev || mac(&prev, r) != r.hash {
                return Ok(broken(r.seq, Damage::Altered));
            }
            if r.seq == head.seq && r.hash != head.hash {
                return Ok(broken(r.seq, Damage::HeadMismatch));
            }
            if anchor.is_some_and(|a| a.seq == r.seq && a.mac != r.hash) {
                return Ok(broken(r.seq, Damage::AnchorMismatch));
            }
            prev = r.hash.clone();
            last = r.seq;
        }
        if !full {
            break;
        }
    }
    if last < head.seq {
        return Ok(broken(last + 1, Damage::Truncated));
    }
    if let Some(a) = anchor.filter(|a| a.seq > last) {
        return Ok(broken(a.seq, Damage::AnchorMismatch));
    }
    Ok(Verification::Intact {
        rows: last as usize,
        head_seq: head.seq,
        head_mac: head.hash,
    })
}

/// `verify` without a checkpoint, as the backup and the tests ask it.
pub async fn verify_chain<C: ConnectionTrait>(db: &C, key: &AuditKey) -> Result<ChainCheck, DbErr> {
    Ok(verify(db, key, None).await?.check())
}

/// What became of the rows written before the audit key existed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adoption {
    /// The chain was keyed already (the usual start).
    AlreadyKeyed,
    /// The old rows were checked as they were chained (unkeyed SHA-256) and re-chained under
    /// the key; `broken_at` is the first old row that did not check out, recorded in the
    /// trail itself.
    Rechained { rows: usize, broken_at: Option<i64> },
    /// The head says unkeyed but the key was not created now: someone may have put an unkeyed
    /// chain in place of a keyed one. Nothing is re-chained; `audit verify` reports it.
    Refused { rows: usize },
    /// The chain is keyed under another key (`audit_head.key_id`).
    OtherKey,
}

/// Brings a chain from before m0011 under the key, once: only the instance that has just
/// created the key may do it (`key_is_new`), so a chain someone rewrote unkeyed later is never
/// laundered by a restart.
pub async fn adopt_key(
    db: &DatabaseConnection,
    key: &AuditKey,
    key_is_new: bool,
    now_ms: i64,
) -> Result<Adoption, DbErr> {
    let txn = db.begin().await?;
    let head = lock_head(&txn, 0).await?;
    if head.keyed {
        return Ok(if head.key_id == key.id() {
            Adoption::AlreadyKeyed
        } else {
            Adoption::OtherKey
        });
    }
    // The rows themselves, not the head, say whether there is anything to adopt: a head set
    // back to nothing in front of rewritten rows must not pass for an empty trail.
    let any_row = audit_log::Entity::find().one(&txn).await?.is_some();
    if any_row && !key_is_new {
        return Ok(Adoption::Refused {
            rows: Ord::max(head.seq, 1) as usize,
        });
    }
    let mut legacy_prev = GENESIS.to_owned();
    let mut prev = GENESIS.to_owned();
    let mut last = 0i64;
    let mut broken_at = None;
    loop {
        let rows = batch(&txn, last).await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            if broken_at.is_none()
                && (r.seq != last + 1
                    || r.prev_hash != legacy_prev
                    || legacy_hash(&legacy_prev, &r) != r.hash)
            {
                broken_at = Some(last + 1);
            }
            legacy_prev = r.hash.clone();
            let mac = row_mac(key, &prev, &r);
            audit_log::ActiveModel {
                id: Set(r.id),
                prev_hash: Set(prev.clone()),
                hash: Set(mac.clone()),
                ..Default::default()
            }
            .update(&txn)
            .await?;
            prev = mac;
            last = r.seq;
        }
    }
    if last < head.seq && broken_at.is_none() {
        broken_at = Some(last + 1);
    }
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(prev))
        .col_expr(audit_head::Column::Seq, Expr::value(last))
        .col_expr(audit_head::Column::Keyed, Expr::value(true))
        .col_expr(audit_head::Column::KeyId, Expr::value(key.id()))
        .filter(audit_head::Column::Id.eq(1))
        .exec(&txn)
        .await?;
    if last > 0 {
        append(
            &txn,
            key,
            now_ms,
            &Actor {
                name: "carekey".into(),
                ..Default::default()
            },
            Event {
                action: Action::AuditKeyed,
                target: None,
                details: serde_json::json!({
                    "earlier_rows": last,
                    "earlier_chain": if broken_at.is_some() { "broken" } else { "intact" },
                    "broken_at_seq": broken_at,
                }),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Adoption::Rechained {
        rows: last as usize,
        broken_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store;
    use sea_orm::DatabaseConnection;
    use std::sync::atomic::{AtomicU32, Ordering};

    static NEXT: AtomicU32 = AtomicU32::new(0);

    fn key(b: u8) -> AuditKey {
        AuditKey::new(ServerKey::from_bytes([b; 32]))
    }

    async fn db() -> DatabaseConnection {
        let name = format!(
            "audit{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let db = store::connect_memory(&name).await.unwrap();
        store::migrate(&db).await.unwrap();
        db
    }

    fn event(n: i64) -> Event {
        Event {
            action: Action::SignIn,
            target: Some(n),
            details: serde_json::json!({ "n": n }),
        }
    }

    async fn write(db: &DatabaseConnection, key: &AuditKey, rows: i64) {
        for n in 0..rows {
            append(db, key, 1_000 + n, &Actor::default(), event(n))
                .await
                .unwrap();
        }
    }

    async fn exec(db: &DatabaseConnection, sql: &str) {
        db.execute_unprepared(sql).await.unwrap();
    }

    fn broken(v: Verification) -> (i64, Damage) {
        match v {
            Verification::Broken { at_seq, damage, .. } => (at_seq, damage),
            intact => panic!("expected damage, got {intact:?}"),
        }
    }

    #[tokio::test]
    async fn an_untouched_chain_verifies_and_names_its_head() {
        let (db, k) = (db().await, key(1));
        write(&db, &k, 5).await;
        match verify(&db, &k, None).await.unwrap() {
            Verification::Intact {
                rows,
                head_seq,
                head_mac,
            } => {
                assert_eq!((rows, head_seq), (5, 5));
                let last = audit_log::Entity::find()
                    .filter(audit_log::Column::Seq.eq(5))
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(head_mac, last.hash);
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn each_kind_of_damage_is_found_and_named() {
        let k = key(1);
        // An edited field.
        let db1 = db().await;
        write(&db1, &k, 5).await;
        exec(&db1, "UPDATE audit_log SET ip = '10.0.0.9' WHERE seq = 3").await;
        assert_eq!(
            broken(verify(&db1, &k, None).await.unwrap()),
            (3, Damage::Altered)
        );
        // A deleted row in the middle.
        let db2 = db().await;
        write(&db2, &k, 5).await;
        exec(&db2, "DELETE FROM audit_log WHERE seq = 2").await;
        assert_eq!(
            broken(verify(&db2, &k, None).await.unwrap()),
            (2, Damage::Missing)
        );
        // The newest rows cut off: the rest is a whole chain, only the head knows.
        let db3 = db().await;
        write(&db3, &k, 5).await;
        exec(&db3, "DELETE FROM audit_log WHERE seq >= 4").await;
        assert_eq!(
            broken(verify(&db3, &k, None).await.unwrap()),
            (4, Damage::Truncated)
        );
        // A head moved to another MAC.
        let db4 = db().await;
        write(&db4, &k, 3).await;
        exec(&db4, "UPDATE audit_head SET hash = 'ff' WHERE id = 1").await;
        assert_eq!(
            broken(verify(&db4, &k, None).await.unwrap()),
            (3, Damage::HeadMismatch)
        );
    }

    /// Whoever can write the database but lacks the key cannot make a rewritten chain verify:
    /// a whole chain recomputed under another key, head included, fails at its first row.
    #[tokio::test]
    async fn a_chain_rewritten_without_the_key_does_not_verify() {
        let (db, k) = (db().await, key(1));
        write(&db, &k, 4).await;
        let forged = db_with_rows_under(&key(2), 4).await;
        let rows = audit_log::Entity::find()
            .order_by_asc(audit_log::Column::Seq)
            .all(&forged)
            .await
            .unwrap();
        for r in &rows {
            audit_log::ActiveModel {
                id: Set(r.seq),
                prev_hash: Set(r.prev_hash.clone()),
                hash: Set(r.hash.clone()),
                ..Default::default()
            }
            .update(&db)
            .await
            .unwrap();
        }
        let head = audit_head::Entity::find_by_id(1)
            .one(&forged)
            .await
            .unwrap()
            .unwrap();
        audit_head::ActiveModel {
            id: Set(1),
            hash: Set(head.hash),
            ..Default::default()
        }
        .update(&db)
        .await
        .unwrap();
        assert_eq!(
            broken(verify(&db, &k, None).await.unwrap()),
            (1, Damage::Altered)
        );
    }

    async fn db_with_rows_under(k: &AuditKey, rows: i64) -> DatabaseConnection {
        let db = db().await;
        write(&db, k, rows).await;
        db
    }

    /// A chain rewound to an earlier state, head and all, is whole on its own; only a head
    /// recorded outside the database (`--anchor`) shows it.
    #[tokio::test]
    async fn an_anchor_catches_a_chain_rewound_with_its_head() {
        let (db, k) = (db().await, key(1));
        write(&db, &k, 3).await;
        let anchor = match verify(&db, &k, None).await.unwrap() {
            Verification::Intact {
                head_seq, head_mac, ..
            } => Anchor {
                seq: head_seq,
                mac: head_mac,
            },
            other => panic!("{other:?}"),
        };
        let at_two = audit_log::Entity::find()
            .filter(audit_log::Column::Seq.eq(2))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        exec(&db, "DELETE FROM audit_log WHERE seq = 3").await;
        audit_head::ActiveModel {
            id: Set(1),
            seq: Set(2),
            hash: Set(at_two.hash),
            ..Default::default()
        }
        .update(&db)
        .await
        .unwrap();
        assert!(matches!(
            verify(&db, &k, None).await.unwrap(),
            Verification::Intact { rows: 2, .. }
        ));
        assert_eq!(
            broken(verify(&db, &k, Some(&anchor)).await.unwrap()),
            (3, Damage::AnchorMismatch)
        );
        assert!("3:abc".parse::<Anchor>().is_err());
        assert_eq!(
            format!("{}:{}", anchor.seq, anchor.mac).parse::<Anchor>(),
            Ok(anchor)
        );
    }

    /// Rows written before m0011 (unkeyed SHA-256) are brought under the key once, by the
    /// start that created the key, and the trail says so; a later start never re-keys.
    #[tokio::test]
    async fn earlier_rows_are_adopted_once_and_only_with_a_new_key() {
        let db = db().await;
        let mut prev = GENESIS.to_owned();
        for n in 1..=3i64 {
            let mut m = audit_log::Model {
                id: 0,
                seq: n,
                at: n,
                actor_account_id: None,
                actor: "anonymous".into(),
                target_account_id: None,
                action: "sign_in".into(),
                ip: String::new(),
                user_agent: String::new(),
                details: "{}".into(),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            m.hash = legacy_hash(&prev, &m);
            prev = m.hash.clone();
            let mut am: audit_log::ActiveModel = m.into();
            am.id = sea_orm::NotSet;
            am.insert(&db).await.unwrap();
        }
        exec(
            &db,
            &format!("UPDATE audit_head SET seq = 3, hash = '{prev}', keyed = false WHERE id = 1"),
        )
        .await;
        let k = key(1);
        assert!(matches!(
            verify_any(&db, &k).await.unwrap(),
            Verification::Intact { rows: 3, .. }
        ));
        // The key existed already: someone may have put an unkeyed chain there. Refused,
        // also when the head was set back to nothing in front of the rows.
        assert_eq!(
            adopt_key(&db, &k, false, 9).await.unwrap(),
            Adoption::Refused { rows: 3 }
        );
        exec(&db, "UPDATE audit_head SET seq = 0 WHERE id = 1").await;
        assert!(matches!(
            adopt_key(&db, &k, false, 9).await.unwrap(),
            Adoption::Refused { .. }
        ));
        exec(&db, "UPDATE audit_head SET seq = 3 WHERE id = 1").await;
        assert_eq!(
            adopt_key(&db, &k, true, 9).await.unwrap(),
            Adoption::Rechained {
                rows: 3,
                broken_at: None
            }
        );
        assert!(matches!(
            verify(&db, &k, None).await.unwrap(),
            Verification::Intact { rows: 4, .. }
        ));
        let note = audit_log::Entity::find()
            .filter(audit_log::Column::Seq.eq(4))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(note.action, "audit_keyed");
        assert!(
            note.details.contains("\"earlier_chain\":\"intact\""),
            "{}",
            note.details
        );
        assert_eq!(
            adopt_key(&db, &k, true, 10).await.unwrap(),
            Adoption::AlreadyKeyed
        );
        // Another key (an instance given a key file of its own) is told apart.
        assert_eq!(
            adopt_key(&db, &key(2), true, 10).await.unwrap(),
            Adoption::OtherKey
        );
        assert!("0:".parse::<Anchor>().is_err());
    }
}
