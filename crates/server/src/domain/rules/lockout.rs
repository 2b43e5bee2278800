//! Sign-in lockout per account, not per IP, so failures spread over many addresses still lock
//! (63B §3.2.2, SECURITY.md A1).

use crate::config::LockoutConfig;
use crate::store::entities::account::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockDecision {
    /// Keep going.
    None,
    /// Refuse sign-in until this time (unix ms).
    Until(i64),
    /// Locked until a password reset or a staff unlock.
    Hard,
}

/// What to do after a failed sign-in that brought the consecutive count to `failures`.
/// The first lock lasts `base`; each further failure after a lock doubles it, up to `max`.
pub fn after_failure(cfg: &LockoutConfig, failures: u32, now_ms: i64) -> LockDecision {
    if failures >= cfg.hard_lock_after {
        return LockDecision::Hard;
    }
    if failures < cfg.threshold {
        return LockDecision::None;
    }
    let doublings = (failures - cfg.threshold).min(20);
    let ms = (cfg.base.as_millis() as i64).saturating_mul(1i64 << doublings);
    let ms = ms.min(cfg.max.as_millis() as i64);
    LockDecision::Until(now_ms.saturating_add(ms))
}

/// Whether an account with this state may attempt to sign in now.
pub fn is_locked(status: Status, locked_until: Option<i64>, now_ms: i64) -> bool {
    status == Status::Locked || locked_until.is_some_and(|t| t > now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    #[test]
    fn four_failures_do_not_lock() {
        let c = LockoutConfig::default();
        for n in 1..=4 {
            assert_eq!(after_failure(&c, n, 0), LockDecision::None);
        }
    }

    #[test]
    fn fifth_failure_locks_fifteen_minutes_then_doubles_to_a_day() {
        let c = LockoutConfig::default();
        let now = 1_000_000;
        let expect = [
            15 * MIN,
            30 * MIN,
            HOUR,
            2 * HOUR,
            4 * HOUR,
            8 * HOUR,
            16 * HOUR,
            24 * HOUR,
        ];
        for (i, d) in expect.iter().enumerate() {
            assert_eq!(
                after_failure(&c, 5 + i as u32, now),
                LockDecision::Until(now + d)
            );
        }
        for n in 13..20 {
            assert_eq!(
                after_failure(&c, n, now),
                LockDecision::Until(now + 24 * HOUR)
            );
        }
    }

    #[test]
    fn twentieth_consecutive_failure_locks_until_reset() {
        let c = LockoutConfig::default();
        assert_eq!(after_failure(&c, 20, 0), LockDecision::Hard);
        assert_eq!(after_failure(&c, 21, 0), LockDecision::Hard);
    }

    #[test]
    fn lock_ends_exactly_at_its_time() {
        let until = 15 * MIN;
        assert!(is_locked(Status::Active, Some(until), until - 1));
        assert!(!is_locked(Status::Active, Some(until), until));
        assert!(is_locked(Status::Locked, None, 0));
        assert!(!is_locked(Status::Active, None, 0));
    }
}
