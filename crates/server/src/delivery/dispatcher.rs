//! The dispatcher: empties the outbox. Woken at once when a request enqueues a message, and
//! polling as a fallback (and for rows another instance left behind).
//!
//! SECURITY.md F2/F3: a failed send is retried with exponential backoff and jitter, a bounded
//! number of times; a message whose code has expired is dropped, never sent late; the channel
//! never silently changes (an SMS that cannot go is not turned into an email).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use super::outbox;
use super::{Channel, Delivery, Outgoing, Queued, SendError};
use crate::clock::{Clock, Entropy};

/// How long a claimed message is ours before another instance may take it over: at least twice
/// the longest a send may take, so a live instance never loses a message it is sending.
const LEASE_MS: i64 = 120_000;
/// The first retry waits about this long; each later one twice as long, up to `MAX_BACKOFF`.
const BASE_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// An upper bound on one send, whatever the transport's own timeout.
const SEND_DEADLINE: Duration = Duration::from_secs(60);

const _: () = assert!(LEASE_MS >= 2 * SEND_DEADLINE.as_millis() as i64);

pub type VoiceUrl = Arc<dyn Fn(i64) -> String + Send + Sync>;

pub struct Dispatcher {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub delivery: Delivery,
    pub max_attempts: u32,
    /// Builds the signed URL Twilio fetches a call's script from.
    pub voice_url: VoiceUrl,
    pub poll: Duration,
}

/// Delay before attempt `attempt + 1` (attempt counts from 1): exponential, capped, with the
/// upper half randomised so that many messages failing together do not retry together.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let exp = BASE_BACKOFF.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    let capped = exp.min(MAX_BACKOFF);
    capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

impl Dispatcher {
    /// Runs until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "outbox: could not read the queue; will retry");
            }
            tokio::select! {
                _ = &mut stop => break,
                _ = self.delivery.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Delivers everything that is due now; returns how many messages it handled.
    pub async fn tick(&self) -> Result<usize, sea_orm::DbErr> {
        let mut handled = 0;
        loop {
            let now = self.clock.now_ms();
            let ids = outbox::due(&self.db, now, 20).await?;
            if ids.is_empty() {
                return Ok(handled);
            }
            let mut progressed = false;
            for id in ids {
                // The lease runs from the moment of this claim, not from when the batch was
                // read: after slow sends earlier in the batch, a lease computed from the
                // batch's time would already have run out, and another instance would send
                // the same message again.
                let claimed_at = self.clock.now_ms();
                if let Some(row) = outbox::claim(&self.db, id, claimed_at, LEASE_MS).await? {
                    self.deliver(row).await?;
                    handled += 1;
                    progressed = true;
                }
            }
            if !progressed {
                return Ok(handled);
            }
        }
    }

    fn jitter(&self) -> f64 {
        let mut b = [0u8; 4];
        if self.entropy.fill(&mut b).is_err() {
            return 1.0;
        }
        f64::from(u32::from_be_bytes(b)) / f64::from(u32::MAX)
    }

    async fn deliver(
        &self,
        row: crate::store::entities::outbox::Model,
    ) -> Result<(), sea_orm::DbErr> {
        let now = self.clock.now_ms();
        if row.expires_at.is_some_and(|t| t <= now) {
            tracing::info!(
                id = row.id,
                "outbox: expired before it could be sent; dropped"
            );
            return outbox::finish(&self.db, row.id, "expired", row.last_error, now, false).await;
        }
        // A payload that does not open (another key, an altered row) or no longer parses will
        // not open on a later attempt either: it is marked failed, not retried.
        let opened = self
            .delivery
            .sealer
            .open(row.id, &row.payload)
            .map_err(|e| e.to_string());
        let queued: Queued =
            match opened.and_then(|p| serde_json::from_str(&p).map_err(|e| e.to_string())) {
                Ok(q) => q,
                Err(e) => {
                    return outbox::finish(
                        &self.db,
                        row.id,
                        "failed",
                        Some(format!("unreadable: {e}")),
                        now,
                        false,
                    )
                    .await;
                }
            };
        let channel = queued.message.channel();
        let Some(transport) = self.delivery.transports.for_channel(channel).cloned() else {
            // Configuration changed after it was queued; do not switch channel.
            let err = format!("no transport configured for {}", channel.as_str());
            return outbox::finish(&self.db, row.id, "failed", Some(err), now, false).await;
        };
        // Words now, not when it was queued: the language stored with it, the letterhead as
        // configured today.
        let body = self.delivery.renderer.render(&queued);
        let voice = channel == Channel::Voice;
        let msg = Outgoing {
            id: row.id,
            kind: row.kind.clone(),
            destination: row.destination.clone(),
            body,
            voice_url: voice.then(|| (self.voice_url)(row.id)),
        };
        let result = match tokio::time::timeout(SEND_DEADLINE, transport.send(&msg)).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Temporary("no answer within 60 s".into())),
        };
        let now = self.clock.now_ms();
        let attempts = row.attempts + 1;
        match result {
            Ok(()) => {
                tracing::info!(id = row.id, via = transport.name(), kind = %row.kind, "outbox: sent");
                // A call's script is fetched by Twilio after this; it is scrubbed on expiry.
                outbox::finish(&self.db, row.id, "sent", None, now, voice).await
            }
            Err(SendError::Permanent(e)) => {
                tracing::warn!(id = row.id, via = transport.name(), error = %e, "outbox: refused; not retried");
                outbox::finish(&self.db, row.id, "failed", Some(e), now, false).await
            }
            Err(SendError::Temporary(e)) if attempts as u32 >= self.max_attempts => {
                tracing::warn!(id = row.id, via = transport.name(), error = %e, attempts, "outbox: giving up");
                outbox::finish(&self.db, row.id, "failed", Some(e), now, false).await
            }
            Err(SendError::Temporary(e)) => {
                let wait = backoff(attempts as u32, self.jitter());
                let next = now + wait.as_millis() as i64;
                tracing::info!(id = row.id, via = transport.name(), error = %e, attempts, retry_in_ms = wait.as_millis() as u64, "outbox: will retry");
                outbox::retry_later(&self.db, row.id, attempts, next, e).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_the_upper_half() {
        assert_eq!(backoff(1, 1.0), Duration::from_secs(5));
        assert_eq!(backoff(2, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(3, 1.0), Duration::from_secs(20));
        assert_eq!(backoff(1, 0.0), Duration::from_millis(2500));
        assert_eq!(backoff(30, 1.0), MAX_BACKOFF);
        assert_eq!(backoff(30, 0.0), MAX_BACKOFF / 2);
    }
}
