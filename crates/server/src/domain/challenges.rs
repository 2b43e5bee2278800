//! Issued codes, links and grants: storing, superseding and using them up.
//!
//! SECURITY.md R3–R6: the table holds only HMACs; a challenge is used by one conditional
//! UPDATE (`consumed_at IS NULL AND superseded_at IS NULL AND expires_at > now AND attempts <
//! 5`), so of any number of simultaneous submissions exactly one succeeds (F5).

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use super::secrets::ServerKey;
pub use crate::store::entities::challenge::Purpose;
use crate::store::entities::challenge::{self, Column};

/// Guesses one code survives (SECURITY.md R6): attempts are counted before they are
/// compared, so the sixth is refused even if right.
pub const MAX_GUESSES: i32 = 5;
/// Wrong guesses per account per day before recovery pauses for an hour (R6).
pub const MAX_GUESSES_PER_DAY: u32 = 20;
pub const PAUSE: Duration = Duration::from_secs(3600);
/// How long a proved code or link leaves to choose the new password.
pub const GRANT_TTL: Duration = Duration::from_secs(15 * 60);

/// Everything a new request, a successful reset or any password change makes obsolete (R5).
pub const OUTSTANDING: &[Purpose] = &[Purpose::Reset, Purpose::StaffCode, Purpose::Grant];

/// The HMAC stored for a typed code. The account and the reference are part of it, so the same
/// eight digits issued to two people never collide in the unique index.
pub fn code_tag(
    key: &ServerKey,
    account_id: i64,
    purpose: Purpose,
    reference: &str,
    code: &str,
) -> String {
    key.tag(&[
        "code",
        purpose.as_str(),
        &account_id.to_string(),
        reference,
        code,
    ])
}

pub fn code_matches(key: &ServerKey, row: &challenge::Model, code: &str) -> bool {
    key.verify(
        &[
            "code",
            row.purpose.as_str(),
            &row.account_id.to_string(),
            &row.reference,
            code,
        ],
        &row.secret_hmac,
    )
}

/// The HMAC stored for a link token or grant: 256 random bits are unique on their own.
pub fn token_tag(key: &ServerKey, kind: &str, token: &str) -> String {
    key.tag(&["token", kind, token])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Active,
    Expired,
    Used,
    Replaced,
    /// Five wrong guesses: refused even with the right code.
    Exhausted,
}

pub fn state(row: &challenge::Model, now: i64) -> State {
    if row.consumed_at.is_some() {
        State::Used
    } else if row.superseded_at.is_some() {
        State::Replaced
    } else if row.expires_at <= now {
        State::Expired
    } else if row.attempts > MAX_GUESSES {
        // Only reachable by rows written before guesses were capped at five.
        State::Exhausted
    } else {
        State::Active
    }
}

#[derive(Debug, Clone)]
pub struct NewChallenge<'a> {
    pub account_id: i64,
    pub purpose: Purpose,
    pub channel: &'a str,
    pub contact_id: Option<i64>,
    pub secret_hmac: String,
    pub reference: &'a str,
    pub ttl: Duration,
    pub issued_by: Option<i64>,
    pub checklist: Option<String>,
    pub pending_value: Option<String>,
    /// The asking (or, for a grant, proving) browser's flow tag; None when it sent no cookie
    /// or the clinic issued it.
    pub flow_tag: Option<String>,
}

/// The tag kept for a browser's flow cookie: an HMAC, so the database never holds the value a
/// browser presents.
pub fn flow_tag(key: &ServerKey, token: &str) -> String {
    key.tag(&["flow", token])
}

/// Stands for "no flow" in statements that run the same way whether or not the browser sent
/// a cookie (SECURITY.md E2): no tag is ever this value (tags are hex).
pub const NO_FLOW: &str = "-";

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    n: NewChallenge<'_>,
    now: i64,
) -> Result<challenge::Model, DbErr> {
    challenge::ActiveModel {
        account_id: Set(n.account_id),
        purpose: Set(n.purpose),
        channel: Set(n.channel.to_owned()),
        contact_id: Set(n.contact_id),
        secret_hmac: Set(n.secret_hmac),
        reference: Set(n.reference.to_owned()),
        expires_at: Set(now + n.ttl.as_millis() as i64),
        attempts: Set(0),
        consumed_at: Set(None),
        superseded_at: Set(None),
        issued_by: Set(n.issued_by),
        checklist: Set(n.checklist),
        created_at: Set(now),
        pending_value: Set(n.pending_value),
        flow_tag: Set(n.flow_tag),
        stray_attempts: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Marks every outstanding challenge of these purposes as replaced.
pub async fn supersede<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    purposes: &[Purpose],
    now: i64,
) -> Result<u64, DbErr> {
    supersede_where(db, account_id, purposes, Condition::all(), now).await
}

async fn supersede_where<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    purposes: &[Purpose],
    which: Condition,
    now: i64,
) -> Result<u64, DbErr> {
    Ok(challenge::Entity::update_many()
        .col_expr(Column::SupersededAt, Expr::value(now))
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::Purpose.is_in(purposes.iter().copied()))
        .filter(Column::ConsumedAt.is_null())
        .filter(Column::SupersededAt.is_null())
        .filter(which)
        .exec(db)
        .await?
        .rows_affected)
}

/// Marks as replaced what a patient's own new request makes obsolete: the outstanding
/// challenges of the same browser (`flow`), or, for a request without a flow cookie, those of
/// no browser. A stranger's request thus never replaces the code or link another browser is
/// waiting for (SECURITY.md R5 within one browser, R6); the clinic's sends and every password
/// change still replace everything (`supersede`).
pub async fn supersede_flow<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    purposes: &[Purpose],
    flow: Option<&str>,
    now: i64,
) -> Result<u64, DbErr> {
    let same_flow = match flow {
        Some(tag) => Column::FlowTag.eq(tag),
        None => Column::FlowTag.is_null(),
    };
    supersede_where(
        db,
        account_id,
        purposes,
        Condition::all().add(same_flow),
        now,
    )
    .await
}

/// Marks every outstanding challenge sent to (or proved through) one of these contacts as
/// replaced: a link mailed to an address its owner has since left must not work.
pub async fn supersede_sent_to<C: ConnectionTrait>(
    db: &C,
    contact_ids: &[i64],
    now: i64,
) -> Result<u64, DbErr> {
    if contact_ids.is_empty() {
        return Ok(0);
    }
    Ok(challenge::Entity::update_many()
        .col_expr(Column::SupersededAt, Expr::value(now))
        .filter(Column::ContactId.is_in(contact_ids.iter().copied()))
        .filter(Column::ConsumedAt.is_null())
        .filter(Column::SupersededAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Uses the challenge up; true only for the one caller whose UPDATE matched.
pub async fn consume<C: ConnectionTrait>(db: &C, id: i64, now: i64) -> Result<bool, DbErr> {
    let res = challenge::Entity::update_many()
        .col_expr(Column::ConsumedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::ConsumedAt.is_null())
        .filter(Column::SupersededAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .filter(Column::Attempts.lte(MAX_GUESSES))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The filters every guess shares: live, typed (a link is never typed: a guessed code does
/// not shorten its life), of the account and purposes.
fn live_typed(account_id: i64, purposes: &[Purpose], now: i64) -> Condition {
    Condition::all()
        .add(Column::AccountId.eq(account_id))
        .add(Column::Purpose.is_in(purposes.iter().copied()))
        .add(Column::ConsumedAt.is_null())
        .add(Column::SupersededAt.is_null())
        .add(Column::ExpiresAt.gt(now))
        .add(
            Condition::any()
                .add(Column::Purpose.ne(Purpose::Reset))
                .add(Column::Channel.ne("email_link")),
        )
}

/// Takes one of the five guesses of every live code of the account, before the guess is
/// compared: one UPDATE that only matches codes with guesses left, so of any number of
/// simultaneous guesses at most five are ever compared (R6), while one of several
/// simultaneous submissions of the right code still succeeds (F5). Returns whether a guess
/// was available. Runs for unknown accounts too, against an id that never exists, so the work
/// does not depend on whether the account does.
///
/// This is a guess from no browser in particular: it takes from the codes of no browser
/// (`attempts`) and, separately, from codes bound to a browser other than `flow`
/// (`stray_attempts`), so a stranger's guesses never use up the guesses of the page that
/// asked (R6). Both statements always run.
pub async fn take_guess<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    purposes: &[Purpose],
    flow: Option<&str>,
    now: i64,
) -> Result<bool, DbErr> {
    let unbound = take_one(
        db,
        Column::Attempts,
        live_typed(account_id, purposes, now).add(Column::FlowTag.is_null()),
    )
    .await?;
    let others = take_one(
        db,
        Column::StrayAttempts,
        live_typed(account_id, purposes, now)
            .add(Column::FlowTag.is_not_null())
            .add(Column::FlowTag.ne(flow.unwrap_or(NO_FLOW))),
    )
    .await?;
    Ok(unbound || others)
}

/// Takes one of the five guesses of the live codes bound to this browser's flow (SECURITY.md
/// R6): its own page's guesses, apart from everyone else's. Runs whether or not the browser
/// sent a cookie, against a tag no row has when it did not.
pub async fn take_bound_guess<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    purposes: &[Purpose],
    flow: Option<&str>,
    now: i64,
) -> Result<bool, DbErr> {
    take_one(
        db,
        Column::Attempts,
        live_typed(account_id, purposes, now).add(Column::FlowTag.eq(flow.unwrap_or(NO_FLOW))),
    )
    .await
}

/// One UPDATE adding a guess to `counter` of the rows `which` selects that have one left.
async fn take_one<C: ConnectionTrait>(
    db: &C,
    counter: Column,
    which: Condition,
) -> Result<bool, DbErr> {
    let res = challenge::Entity::update_many()
        .col_expr(counter, Expr::col(counter).add(1))
        .filter(which)
        .filter(counter.lt(MAX_GUESSES))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(expires_at: i64) -> challenge::Model {
        challenge::Model {
            id: 1,
            account_id: 7,
            purpose: Purpose::Reset,
            channel: "sms".into(),
            contact_id: None,
            secret_hmac: String::new(),
            reference: "K7QM".into(),
            expires_at,
            attempts: 0,
            consumed_at: None,
            superseded_at: None,
            issued_by: None,
            checklist: None,
            created_at: 0,
            pending_value: None,
            flow_tag: None,
            stray_attempts: 0,
        }
    }

    #[test]
    fn ttl_edge_one_second_either_side() {
        let ttl = 600_000;
        let r = row(ttl);
        assert_eq!(state(&r, ttl - 1_000), State::Active);
        assert_eq!(state(&r, ttl), State::Expired);
        assert_eq!(state(&r, ttl + 1_000), State::Expired);
    }

    #[test]
    fn sixth_guess_is_refused_even_if_right() {
        // `attempts` already includes the guess being checked.
        let mut r = row(600_000);
        r.attempts = MAX_GUESSES;
        assert_eq!(state(&r, 0), State::Active);
        r.attempts = MAX_GUESSES + 1;
        assert_eq!(state(&r, 0), State::Exhausted);
    }

    #[test]
    fn used_and_replaced_outrank_expiry() {
        let mut r = row(10);
        r.consumed_at = Some(5);
        assert_eq!(state(&r, 20), State::Used);
        let mut r = row(10);
        r.superseded_at = Some(5);
        assert_eq!(state(&r, 20), State::Replaced);
    }

    #[test]
    fn code_tags_bind_account_and_reference() {
        let k = ServerKey::from_bytes([1; 32]);
        let mut r = row(1);
        r.secret_hmac = code_tag(&k, 7, Purpose::Reset, "K7QM", "01234567");
        assert!(code_matches(&k, &r, "01234567"));
        assert!(!code_matches(&k, &r, "01234568"));
        r.account_id = 8;
        assert!(!code_matches(&k, &r, "01234567"));
    }
}
