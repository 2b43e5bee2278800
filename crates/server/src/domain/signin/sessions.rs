//! Server-side sessions (SECURITY.md S1, S2). The browser holds a random token in a cookie; the
//! database holds only its SHA-256, so a leaked dump opens no session.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::clock::Entropy;
use crate::domain::DomainError;
use crate::store::entities::session;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active,
    Revoked,
    /// No request for longer than the idle limit (HIPAA 164.312(a)(2)(iii) automatic logoff).
    IdleExpired,
    /// Older than the absolute lifetime, however active.
    AbsoluteExpired,
}

/// How long a sign-in vouches for the temporary password it proved: the forced change that
/// follows asks only for the new password twice, since the patient typed the temporary one
/// moments ago and may have put the letter away. Longer than that, and a session left open on
/// a shared computer could set a password without anyone proving they hold the letter.
pub const TEMPORARY_PASSWORD_PROOF: Duration = Duration::from_secs(10 * 60);

/// Whole seconds left of the sign-in's proof of the password (0: none, or too old).
pub fn proof_left(proved_at: Option<i64>, now_ms: i64) -> u64 {
    proved_at.map_or(0, |at| {
        let left = at + TEMPORARY_PASSWORD_PROOF.as_millis() as i64 - now_ms;
        (left.max(0) as u64) / 1000
    })
}

#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: Duration,
    pub absolute: Duration,
}

pub fn state(
    created_at: i64,
    last_seen_at: i64,
    revoked_at: Option<i64>,
    now_ms: i64,
    limits: Lifetimes,
) -> SessionState {
    if revoked_at.is_some() {
        SessionState::Revoked
    } else if now_ms - created_at >= limits.absolute.as_millis() as i64 {
        SessionState::AbsoluteExpired
    } else if now_ms - last_seen_at >= limits.idle.as_millis() as i64 {
        SessionState::IdleExpired
    } else {
        SessionState::Active
    }
}

/// Seconds left before idle logoff and before the absolute end, as of `now_ms` with the session
/// just touched.
pub fn remaining(created_at: i64, now_ms: i64, limits: Lifetimes) -> (u64, u64) {
    let absolute_left =
        (created_at + limits.absolute.as_millis() as i64 - now_ms).max(0) as u64 / 1000;
    let idle_left = (limits.idle.as_secs()).min(absolute_left);
    (idle_left, absolute_left)
}

/// A new 256-bit token for the cookie.
pub fn new_token(entropy: &dyn Entropy) -> Result<String, DomainError> {
    let mut raw = [0u8; 32];
    entropy
        .fill(&mut raw)
        .map_err(|e| DomainError::Internal(format!("entropy: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Opens a session row for `token` (only its hash is stored).
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    token: &str,
    stage: session::Stage,
    password_proved_at: Option<i64>,
    meta: &crate::domain::ClientMeta,
    now: i64,
) -> Result<session::Model, DbErr> {
    use sea_orm::{ActiveModelTrait, Set};
    session::ActiveModel {
        token_hash: Set(token_hash(token)),
        account_id: Set(account_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        revoked_at: Set(None),
        password_proved_at: Set(password_proved_at),
        user_agent: Set(meta.user_agent.chars().take(300).collect()),
        ip: Set(meta.ip.clone()),
        stage: Set(stage),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Ends every still-open session matching `which`, in one statement (no read-then-write race
/// with a concurrent request on the same session).
pub async fn revoke<C: ConnectionTrait>(db: &C, which: SimpleExpr, now: i64) -> Result<u64, DbErr> {
    let res = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(which)
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Ends the session a browser brought to a sign-in, if any: a new id at every sign-in, so a
/// token planted before sign-in never becomes a session (session fixation).
pub async fn replace_brought<C: ConnectionTrait>(
    db: &C,
    brought: Option<&str>,
    now: i64,
) -> Result<(), DbErr> {
    if let Some(old) = brought {
        revoke(db, session::Column::TokenHash.eq(token_hash(old)), now).await?;
    }
    Ok(())
}

/// Ends every open session of the account except `keep` (the one that made a change).
pub async fn revoke_others<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    keep: i64,
    now: i64,
) -> Result<u64, DbErr> {
    // In here only: the trait's `min`/`max` would shadow the integers' elsewhere in this file.
    use sea_orm::sea_query::ExprTrait as _;
    revoke(
        db,
        session::Column::AccountId
            .eq(account_id)
            .and(session::Column::Id.ne(keep)),
        now,
    )
    .await
}

/// "Chrome on Android", "Safari on iPhone", "Firefox on Windows": enough for a person to
/// recognise their own device in the signed-in list, nothing more.
pub fn describe_user_agent(ua: &str) -> String {
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("SamsungBrowser") {
        "Samsung Internet"
    } else if ua.contains("Firefox/") || ua.contains("FxiOS") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("CriOS") || ua.contains("Chromium") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "A browser"
    };
    let system = if ua.contains("iPhone") {
        "iPhone"
    } else if ua.contains("iPad") {
        "iPad"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "Mac"
    } else if ua.contains("CrOS") {
        "Chromebook"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "an unknown device"
    };
    format!("{browser} on {system}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn user_agents_become_plain_device_names() {
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
        assert_eq!(describe_user_agent(android), "Chrome on Android");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_user_agent(iphone), "Safari on iPhone");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0";
        assert_eq!(describe_user_agent(edge), "Edge on Windows");
        assert_eq!(
            describe_user_agent("curl/8.0"),
            "A browser on an unknown device"
        );
    }

    fn limits() -> Lifetimes {
        Lifetimes {
            idle: Duration::from_secs(15 * 60),
            absolute: Duration::from_secs(12 * 3600),
        }
    }

    #[test]
    fn idle_logoff_at_fifteen_minutes() {
        let l = limits();
        assert_eq!(state(0, 0, None, 15 * MIN - 1, l), SessionState::Active);
        assert_eq!(state(0, 0, None, 15 * MIN, l), SessionState::IdleExpired);
    }

    #[test]
    fn activity_keeps_it_alive_until_twelve_hours() {
        let l = limits();
        let twelve_h = 12 * 60 * MIN;
        assert_eq!(
            state(0, twelve_h - MIN, None, twelve_h - 1, l),
            SessionState::Active
        );
        assert_eq!(
            state(0, twelve_h - MIN, None, twelve_h, l),
            SessionState::AbsoluteExpired
        );
    }

    #[test]
    fn revoked_is_final() {
        assert_eq!(state(0, 0, Some(1), 2, limits()), SessionState::Revoked);
    }

    #[test]
    fn remaining_time_never_exceeds_the_absolute_end() {
        let l = limits();
        assert_eq!(remaining(0, 0, l), (900, 43_200));
        let near_end = 12 * 60 * MIN - 5 * MIN;
        assert_eq!(remaining(0, near_end, l), (300, 300));
    }

    #[test]
    fn tokens_are_long_random_and_stored_hashed() {
        let a = new_token(&crate::clock::OsEntropy).unwrap();
        let b = new_token(&crate::clock::OsEntropy).unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
