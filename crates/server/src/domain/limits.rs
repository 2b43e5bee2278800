//! Counters for send limits and guess limits, kept in the database so that several server
//! instances agree (SECURITY.md A2, R6, F6).
//!
//! Windows are fixed (the hour or day a request falls in), so every instance computes the same
//! window for the same moment, and one atomic upsert both counts and answers.

use std::time::Duration;

use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::store::entities::rate_limit::{self, Column};

pub const HOUR: Duration = Duration::from_secs(3600);
pub const DAY: Duration = Duration::from_secs(24 * 3600);

fn window_start(now: i64, window: Duration) -> i64 {
    let w = window.as_millis() as i64;
    now - now.rem_euclid(w)
}

/// The part of a client address that limits are counted under: the whole IPv4 address, or
/// the /64 network of an IPv6 one (a single home or phone is given a whole /64, so counting
/// single v6 addresses would give an attacker billions of fresh ones).
pub fn address_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        _ => ip.to_owned(),
    }
}

/// Counts one event under `key` in the current window and returns the count including it.
pub async fn hit<C: ConnectionTrait>(
    db: &C,
    key: &str,
    window: Duration,
    now: i64,
) -> Result<u32, DbErr> {
    let start = window_start(now, window);
    let same_window = Expr::col((rate_limit::Entity, Column::WindowStart)).eq(start);
    let count = CaseStatement::new()
        .case(
            same_window,
            Expr::col((rate_limit::Entity, Column::Count)).add(1),
        )
        .finally(Expr::val(1));
    let stmt = Query::insert()
        .into_table(rate_limit::Entity)
        .columns([Column::Key, Column::WindowStart, Column::Count])
        .values([key.into(), start.into(), 1.into()])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::column(Column::Key)
                .values([
                    (Column::Count, count.into()),
                    (Column::WindowStart, Expr::val(start)),
                ])
                .to_owned(),
        )
        .returning_col(Column::Count)
        .to_owned();
    let row = db
        .query_one(&stmt)
        .await?
        .ok_or_else(|| DbErr::Custom("upsert returned no row".into()))?;
    let n: i32 = row.try_get("", "count")?;
    Ok(u32::try_from(n).unwrap_or(0))
}

/// The count under `key` in the current window, without counting.
pub async fn peek<C: ConnectionTrait>(
    db: &C,
    key: &str,
    window: Duration,
    now: i64,
) -> Result<u32, DbErr> {
    let start = window_start(now, window);
    Ok(rate_limit::Entity::find()
        .filter(Column::Key.eq(key))
        .filter(Column::WindowStart.eq(start))
        .one(db)
        .await?
        .map_or(0, |r| u32::try_from(r.count).unwrap_or(0)))
}

/// Starts (or restarts) a pause under `key` at `now`.
pub async fn start_pause<C: ConnectionTrait>(db: &C, key: &str, now: i64) -> Result<(), DbErr> {
    let stmt = Query::insert()
        .into_table(rate_limit::Entity)
        .columns([Column::Key, Column::WindowStart, Column::Count])
        .values([key.into(), now.into(), 1.into()])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::column(Column::Key)
                .update_columns([Column::WindowStart, Column::Count])
                .to_owned(),
        )
        .to_owned();
    db.execute(&stmt).await?;
    Ok(())
}

/// Forgets the count under `key` (a pause that has started restarts the count after it).
pub async fn reset<C: ConnectionTrait>(db: &C, key: &str) -> Result<(), DbErr> {
    rate_limit::Entity::delete_many()
        .filter(Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Whether a pause started under `key` is still running.
pub async fn paused<C: ConnectionTrait>(
    db: &C,
    key: &str,
    length: Duration,
    now: i64,
) -> Result<bool, DbErr> {
    Ok(rate_limit::Entity::find()
        .filter(Column::Key.eq(key))
        .one(db)
        .await?
        .is_some_and(|r| now < r.window_start + length.as_millis() as i64))
}

/// Forgets counters whose window ended long ago (they would otherwise grow with every client
/// address ever seen).
pub async fn prune<C: ConnectionTrait>(db: &C, now: i64) -> Result<u64, DbErr> {
    let cutoff = now - 2 * DAY.as_millis() as i64;
    Ok(rate_limit::Entity::delete_many()
        .filter(Column::WindowStart.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_network() {
        assert_eq!(address_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:203.0.113.7"), "203.0.113.7");
    }

    #[test]
    fn windows_are_the_same_for_every_instance() {
        let h = HOUR.as_millis() as i64;
        assert_eq!(window_start(0, HOUR), 0);
        assert_eq!(window_start(h - 1, HOUR), 0);
        assert_eq!(window_start(h, HOUR), h);
        assert_eq!(window_start(5 * h + 17, HOUR), 5 * h);
    }
}
