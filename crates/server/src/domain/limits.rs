//! Counters for send limits and guess limits, kept in the database so that several server
//! instances agree (SECURITY.md A2, R6, F6).
//!
//! A limit reads the last hour or the last 24 hours, not the calendar one (issue 14): each
//! counter keeps its current fixed window and the one before it, and the count is the
//! current window's plus the part of the previous window still inside the last `window`
//! (the sliding-window counter; the previous window's events are taken as evenly spread,
//! rounded down). Forty guesses no longer fit in two minutes across midnight: twenty-one do. Window boundaries
//! are fixed, so every instance computes the same answer, and one atomic upsert both counts
//! and answers.

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

/// The count over the last `window` ending at `into` ms into the current window: all of the
/// current window, and of the previous one the share still inside, rounded down. Rounding up
/// would hold a burst for most of another window (five sends at 9:00 would still refuse at
/// 10:11); down, the estimate is at most one event short.
fn sliding(current: u32, previous: u32, into: i64, window: Duration) -> u32 {
    let w = window.as_millis() as i64;
    let left = (w - into.clamp(0, w)) as u64;
    let share = (u64::from(previous) * left) / (w as u64);
    current.saturating_add(u32::try_from(share).unwrap_or(u32::MAX))
}

/// Counts one event under `key` and returns the count over the last `window`, this one
/// included.
pub async fn hit<C: ConnectionTrait>(
    db: &C,
    key: &str,
    window: Duration,
    now: i64,
) -> Result<u32, DbErr> {
    let w = window.as_millis() as i64;
    let start = window_start(now, window);
    let stored_start = || Expr::col((rate_limit::Entity, Column::WindowStart));
    let stored_count = || Expr::col((rate_limit::Entity, Column::Count));
    // A request whose clock read falls just before a window boundary may land after one from
    // the next window (or another instance's clock runs a little ahead): it is counted in the
    // newer window, never allowed to take the row back and wipe its count.
    let count = CaseStatement::new()
        .case(stored_start().gte(start), stored_count().add(1))
        .finally(Expr::val(1));
    // The row moves on to a new window: what was current becomes the previous window when
    // the two are adjacent, and nothing when a whole window passed without an event.
    let previous = CaseStatement::new()
        .case(
            stored_start().gte(start),
            Expr::col((rate_limit::Entity, Column::PrevCount)),
        )
        .case(stored_start().eq(start - w), stored_count())
        .finally(Expr::val(0));
    let newest_start = CaseStatement::new()
        .case(stored_start().gt(start), stored_start())
        .finally(Expr::val(start));
    let stmt = Query::insert()
        .into_table(rate_limit::Entity)
        .columns([
            Column::Key,
            Column::WindowStart,
            Column::Count,
            Column::PrevCount,
        ])
        .values([key.into(), start.into(), 1.into(), 0.into()])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::column(Column::Key)
                .values([
                    (Column::Count, count.into()),
                    (Column::PrevCount, previous.into()),
                    (Column::WindowStart, newest_start.into()),
                ])
                .to_owned(),
        )
        .returning(Query::returning().columns([Column::Count, Column::PrevCount]))
        .to_owned();
    let row = db
        .query_one(&stmt)
        .await?
        .ok_or_else(|| DbErr::Custom("upsert returned no row".into()))?;
    let n: i32 = row.try_get("", "count")?;
    let prev: i32 = row.try_get("", "prev_count")?;
    Ok(sliding(
        u32::try_from(n).unwrap_or(0),
        u32::try_from(prev).unwrap_or(0),
        now - start,
        window,
    ))
}

/// The count under `key` over the last `window`, without counting.
pub async fn peek<C: ConnectionTrait>(
    db: &C,
    key: &str,
    window: Duration,
    now: i64,
) -> Result<u32, DbErr> {
    let w = window.as_millis() as i64;
    let start = window_start(now, window);
    let Some(r) = rate_limit::Entity::find()
        .filter(Column::Key.eq(key))
        .one(db)
        .await?
    else {
        return Ok(0);
    };
    let (count, prev) = (
        u32::try_from(r.count).unwrap_or(0),
        u32::try_from(r.prev_count).unwrap_or(0),
    );
    Ok(if r.window_start == start {
        sliding(count, prev, now - start, window)
    } else if r.window_start == start - w {
        sliding(0, count, now - start, window)
    } else {
        0
    })
}

/// Starts (or restarts) a pause under `key` at `now`.
pub async fn start_pause<C: ConnectionTrait>(db: &C, key: &str, now: i64) -> Result<(), DbErr> {
    pause_upsert(db, key, now, None).await?;
    Ok(())
}

/// Starts a pause under `key` at `now` unless one started within `length`; true if this call
/// started it. One statement: of requests racing to start it, exactly one does.
pub async fn start_pause_unless_running<C: ConnectionTrait>(
    db: &C,
    key: &str,
    length: Duration,
    now: i64,
) -> Result<bool, DbErr> {
    let ended = now - length.as_millis() as i64;
    Ok(pause_upsert(db, key, now, Some(ended)).await? == 1)
}

/// The pause row's one statement: written at `now`, over an earlier pause only if that began
/// at or before `only_over` (when given). Answers the rows written.
async fn pause_upsert<C: ConnectionTrait>(
    db: &C,
    key: &str,
    now: i64,
    only_over: Option<i64>,
) -> Result<u64, DbErr> {
    let stmt = Query::insert()
        .into_table(rate_limit::Entity)
        .columns([
            Column::Key,
            Column::WindowStart,
            Column::Count,
            Column::PrevCount,
        ])
        .values([key.into(), now.into(), 1.into(), 0.into()])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::column(Column::Key)
                .update_columns([Column::WindowStart, Column::Count, Column::PrevCount])
                .action_and_where_option(
                    only_over.map(|t| Expr::col((rate_limit::Entity, Column::WindowStart)).lte(t)),
                )
                .to_owned(),
        )
        .to_owned();
    Ok(db.execute(&stmt).await?.rows_affected())
}

/// When the last pause under `key` started, running or not (kept until pruned).
pub async fn pause_started<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<i64>, DbErr> {
    Ok(rate_limit::Entity::find()
        .filter(Column::Key.eq(key))
        .one(db)
        .await?
        .map(|r| r.window_start))
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
    fn the_previous_window_counts_for_the_share_still_inside() {
        let h = HOUR.as_millis() as i64;
        // At the start of a window, all of the previous one is within the last hour.
        assert_eq!(sliding(0, 20, 0, HOUR), 20);
        // Halfway, half of it (rounded down).
        assert_eq!(sliding(3, 20, h / 2, HOUR), 13);
        assert_eq!(sliding(0, 5, h / 2, HOUR), 2);
        // Five in a burst at the start of the last window, a minute into this one: four of
        // them still count, so a sixth send is allowed only as the fifth.
        assert_eq!(sliding(1, 5, 60_000, HOUR), 5);
        // At its very end, nothing of it.
        assert_eq!(sliding(7, 20, h, HOUR), 7);
    }

    #[tokio::test]
    async fn forty_guesses_do_not_fit_in_two_minutes_across_midnight() {
        let db = crate::store::connect_memory(&format!("limits{}", std::process::id()))
            .await
            .unwrap();
        let d = DAY.as_millis() as i64;
        let midnight = 20_000 * d;
        let mut last = 0;
        for i in 0..20 {
            last = hit(&db, "guess:account:7", DAY, midnight - 60_000 + i)
                .await
                .unwrap();
        }
        assert_eq!(last, 20);
        // Just past midnight the day's twenty are still counted (all but a fraction of one):
        // the second guess of the new day is the 21st, over the limit.
        let n = hit(&db, "guess:account:7", DAY, midnight + 60_000)
            .await
            .unwrap();
        assert_eq!(n, 20);
        let n = hit(&db, "guess:account:7", DAY, midnight + 60_001)
            .await
            .unwrap();
        assert_eq!(n, 21);
        assert_eq!(
            peek(&db, "guess:account:7", DAY, midnight + 60_001)
                .await
                .unwrap(),
            21
        );
        // A whole day later they have all slid out.
        assert_eq!(
            peek(&db, "guess:account:7", DAY, midnight + d + 61_000)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            peek(&db, "guess:account:7", DAY, midnight + d + d / 2)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            peek(&db, "guess:account:7", DAY, midnight + 2 * d + 61_000)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            hit(&db, "guess:account:7", DAY, midnight + 3 * d)
                .await
                .unwrap(),
            1
        );
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
