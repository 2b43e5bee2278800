//! Slows password spraying from one address (issue 14 item 2). Lockout (A1) counts failures
//! per account, so four guesses at each of a thousand accounts lock none of them; here an
//! address past its free share of failed sign-ins in the last hour gets one attempt a second,
//! queued, whatever the accounts. Real patients mistyping stay far below the share; the
//! per-address gate of the hasher still keeps a flood from holding every argon2 slot.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Failed sign-ins an address may make in an hour before it is paced.
pub const FREE_FAILURES_PER_HOUR: u32 = 20;
/// One attempt this often from a paced address.
pub const STEP: Duration = Duration::from_secs(1);
/// The longest a paced attempt waits in line; past it the answer is "busy, try again in a
/// moment" at once, so a flood does not hold connections open up to the API deadline.
pub const MAX_WAIT: Duration = Duration::from_secs(5);
/// Addresses remembered before stale ones are dropped.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Default)]
pub struct Pacer {
    next: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    /// Takes the address's next turn: how long to wait for it, or None when the line is
    /// already longer than `MAX_WAIT`.
    pub fn turn(&self, address: &str) -> Option<Duration> {
        self.turn_at(address, Instant::now())
    }

    fn turn_at(&self, address: &str, now: Instant) -> Option<Duration> {
        // A poisoned lock only means another attempt panicked mid-update: the map is still a
        // map of instants.
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        if next.len() >= MAX_ADDRESSES {
            next.retain(|_, t| *t > now);
        }
        let at = next
            .get(address)
            .copied()
            .filter(|t| *t > now)
            .unwrap_or(now);
        let wait = at - now;
        if wait > MAX_WAIT {
            return None;
        }
        next.insert(address.to_owned(), at + STEP);
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_turn_a_second_per_address_and_busy_past_the_line() {
        let p = Pacer::default();
        let t0 = Instant::now();
        let waits: Vec<_> = (0..6).map(|_| p.turn_at("198.51.100.1", t0)).collect();
        assert_eq!(waits, (0..6).map(|i| Some(STEP * i)).collect::<Vec<_>>());
        assert_eq!(
            p.turn_at("198.51.100.1", t0),
            None,
            "the line is past five seconds"
        );
        // Another address has its own line.
        assert_eq!(p.turn_at("198.51.100.2", t0), Some(Duration::ZERO));
        // Time passing shortens the line.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(p.turn_at("198.51.100.1", later), Some(Duration::ZERO));
    }
}
