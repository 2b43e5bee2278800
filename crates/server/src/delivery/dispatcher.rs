//! The dispatcher: empties the outbox. Woken at once when a request enqueues a message, and
//! polling as a fallback (and for rows another instance left behind).
//!
//! SECURITY.md F2/F3: a failed send is retried with exponential backoff and jitter, a bounded
//! number of times; a message whose code has expired is dropped, never sent late; the channel
//! never silently changes (an SMS that cannot go is not turned into an email).
//!
//! SECURITY.md F6: a claimed message is leased, and the lease is renewed while its send is in
//! flight, so a send slower than the lease does not let another instance send it again; an
//! instance that dies mid-send lets the lease run out, and another instance takes over.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use super::outbox::{self, Lease};
use super::{Channel, Delivery, Outgoing, Queued, SendError};
use crate::clock::{Clock, Entropy};
use crate::store::entities::outbox::Status;
use crate::telemetry::names;

/// The first retry waits about this long; each later one twice as long, up to `MAX_BACKOFF`.
const BASE_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// An upper bound on one send, whatever the transport's own timeout.
const SEND_DEADLINE: Duration = Duration::from_secs(60);
/// Bounds on a lease, whoever built the dispatcher (configuration allows 2 s to 600 s): a
/// zero lease would renew in a busy loop.
const LEASE_MS_MIN: i64 = 1_000;
const LEASE_MS_MAX: i64 = 3_600_000;

/// Longest one of the dispatcher's database calls may take (SECURITY.md F1). A connection
/// that went silent (a failover, a stalled network) would otherwise hold the dispatcher for
/// as long as TCP takes to give up, a quarter of an hour, while every message waits; cut
/// short, the round fails, the call's transaction is dropped, and the next round tries again
/// on a fresh connection. The send itself is bounded by `SEND_DEADLINE`, not by this.
const DB_CALL: Duration = Duration::from_secs(5);

/// Tries at recording a message as sent, a second apart.
const SENT_RECORD_TRIES: u32 = 10;

async fn bounded<T>(
    call: impl std::future::Future<Output = Result<T, sea_orm::DbErr>>,
) -> Result<T, sea_orm::DbErr> {
    tokio::time::timeout(DB_CALL, call)
        .await
        .unwrap_or_else(|_| {
            Err(sea_orm::DbErr::Custom(
                "the database did not answer in time".into(),
            ))
        })
}

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
    /// How long a claim lasts unless renewed (`delivery.lease_seconds`). Renewed every third
    /// of it while a send is in flight, so only an instance that stopped renewing (dead, or cut
    /// off from the database) loses a message, and another instance sends it after at most
    /// this long.
    pub lease: Duration,
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

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis())
            .unwrap_or(LEASE_MS_MAX)
            .clamp(LEASE_MS_MIN, LEASE_MS_MAX)
    }

    /// Delivers everything that is due now; returns how many messages it handled.
    pub async fn tick(&self) -> Result<usize, sea_orm::DbErr> {
        let mut handled = 0;
        loop {
            let now = self.clock.now_ms();
            let ids = bounded(outbox::due(&self.db, now, 20)).await?;
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
                if let Some((row, lease)) =
                    bounded(outbox::claim(&self.db, id, claimed_at, self.lease_ms())).await?
                {
                    self.deliver(row, lease).await?;
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
        mut lease: Lease,
    ) -> Result<(), sea_orm::DbErr> {
        let now = self.clock.now_ms();
        if row.expires_at.is_some_and(|t| t <= now) {
            tracing::info!(
                id = row.id,
                "outbox: expired before it could be sent; dropped"
            );
            let done = bounded(outbox::finish(
                &self.db,
                &lease,
                Status::Expired,
                row.last_error,
                now,
                false,
            ))
            .await?;
            counted(row.channel, "expired", done);
            return recorded(row.id, done);
        }
        // A payload that does not open (another key, an altered row) or no longer parses will
        // not open on a later attempt either: it is marked failed, not retried.
        let opened = outbox::open_payload(&self.delivery.sealer, &row).map_err(|e| e.to_string());
        let queued: Queued =
            match opened.and_then(|p| serde_json::from_str(&p).map_err(|e| e.to_string())) {
                Ok(q) => q,
                Err(e) => {
                    let err = Some(format!("unreadable: {e}"));
                    let done = bounded(outbox::finish(
                        &self.db,
                        &lease,
                        Status::Failed,
                        err,
                        now,
                        false,
                    ))
                    .await?;
                    counted(row.channel, "unreadable", done);
                    return recorded(row.id, done);
                }
            };
        let channel = queued.message.channel();
        let Some(transport) = self.delivery.transports.for_channel(channel).cloned() else {
            // Configuration changed after it was queued; do not switch channel.
            let err = format!("no transport configured for {}", channel.as_str());
            let done = bounded(outbox::finish(
                &self.db,
                &lease,
                Status::Failed,
                Some(err),
                now,
                false,
            ))
            .await?;
            counted(row.channel, "no_transport", done);
            return recorded(row.id, done);
        };
        // Words now, not when it was queued: the language stored with it, the letterhead as
        // configured today.
        let body = self.delivery.renderer.render(&queued);
        let voice = channel == Channel::Voice;
        let msg = Outgoing {
            id: row.id,
            created_at: row.created_at,
            kind: row.kind,
            destination: row.destination.clone(),
            body,
            voice_url: voice.then(|| (self.voice_url)(row.id)),
        };
        let send = async {
            match tokio::time::timeout(SEND_DEADLINE, transport.send(&msg)).await {
                Ok(r) => r,
                Err(_) => Err(SendError::Temporary("no answer within 60 s".into())),
            }
        };
        let result = self.send_holding(&mut lease, send).await;
        let now = self.clock.now_ms();
        let attempts = row.attempts + 1;
        let (outcome, done) = match result {
            Ok(()) => {
                tracing::info!(id = row.id, via = transport.name(), kind = %row.kind, "outbox: sent");
                // A call's script is fetched by Twilio after this; it is scrubbed on expiry.
                // The message is out: recording that must not be given up after one slow
                // call, or the lease runs out and the message goes again. Each try is bounded
                // (a silent connection is left behind), and tried again on a fresh one.
                let mut tries = 0;
                let done = loop {
                    match bounded(outbox::finish(
                        &self.db,
                        &lease,
                        Status::Sent,
                        None,
                        now,
                        voice,
                    ))
                    .await
                    {
                        Ok(done) => break done,
                        Err(e) if tries < SENT_RECORD_TRIES => {
                            tries += 1;
                            tracing::warn!(id = row.id, error = %e, "outbox: sent, but not yet recorded; trying again");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        Err(e) => return Err(e),
                    }
                };
                ("sent", done)
            }
            Err(SendError::Permanent(e)) => {
                tracing::warn!(id = row.id, via = transport.name(), error = %e, "outbox: refused; not retried");
                let done = bounded(outbox::finish(
                    &self.db,
                    &lease,
                    Status::Failed,
                    Some(e),
                    now,
                    false,
                ))
                .await?;
                ("refused", done)
            }
            Err(SendError::Temporary(e)) if attempts as u32 >= self.max_attempts => {
                tracing::warn!(id = row.id, via = transport.name(), error = %e, attempts, "outbox: giving up");
                let done = bounded(outbox::finish(
                    &self.db,
                    &lease,
                    Status::Failed,
                    Some(e),
                    now,
                    false,
                ))
                .await?;
                ("gave_up", done)
            }
            Err(SendError::Temporary(e)) => {
                let wait = backoff(attempts as u32, self.jitter());
                let next = now + wait.as_millis() as i64;
                tracing::info!(id = row.id, via = transport.name(), error = %e, attempts, retry_in_ms = wait.as_millis() as u64, "outbox: will retry");
                let done =
                    bounded(outbox::retry_later(&self.db, &lease, attempts, next, e)).await?;
                ("retry", done)
            }
        };
        counted(channel, outcome, done);
        recorded(row.id, done)
    }

    /// Runs `send` while holding the message: every third of the lease, a renewal that only
    /// matches the lease this instance wrote (SECURITY.md F6). A lease taken over by another
    /// instance (ours ran out while the database was unreachable) is not taken back, and its
    /// outcome is not ours to record; the send itself is still let finish, because cutting a
    /// transport off mid-message can leave its pooled SMTP connection inside a message, and
    /// the next message sent on it would be appended to that one, to that recipient.
    async fn send_holding(
        &self,
        lease: &mut Lease,
        send: impl Future<Output = Result<(), SendError>>,
    ) -> Result<(), SendError> {
        tokio::pin!(send);
        let every = Duration::from_millis((self.lease_ms() / 3).unsigned_abs());
        let mut answer = None;
        loop {
            tokio::select! {
                r = &mut send => return r,
                _ = tokio::time::sleep(every) => {}
            }
            let until = self.clock.now_ms() + self.lease_ms();
            // The renewal runs to its end, never dropped half-way (we would no longer know
            // which lease value the row carries); the send goes on meanwhile.
            let renewed = {
                let renewal = outbox::renew(&self.db, lease, until);
                tokio::pin!(renewal);
                loop {
                    tokio::select! {
                        r = &mut renewal => break r,
                        r = &mut send, if answer.is_none() => answer = Some(r),
                    }
                }
            };
            match renewed {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(
                        id = lease.id,
                        "outbox: lease taken over by another instance while sending"
                    );
                    return match answer {
                        Some(r) => r,
                        None => send.await,
                    };
                }
                Err(e) => {
                    tracing::warn!(id = lease.id, error = %e, "outbox: could not renew a lease; will retry");
                }
            }
            if let Some(r) = answer {
                return r;
            }
        }
    }
}

/// Counts a delivery attempt's outcome, when it was ours to record (an instance that lost its
/// lease leaves the count to the one that took over, so a message is counted once).
fn counted(channel: Channel, outcome: &'static str, done: bool) {
    if done {
        metrics::counter!(names::DELIVERIES, "channel" => channel.as_str(), "outcome" => outcome)
            .increment(1);
    }
}

/// Logs when the outcome was not ours to record: our lease had been taken over, and the
/// instance that holds the message now records what happened to it (SECURITY.md F6).
fn recorded(id: i64, done: bool) -> Result<(), sea_orm::DbErr> {
    if !done {
        tracing::warn!(
            id,
            "outbox: lease lost; the outcome of the instance that took over stands"
        );
    }
    Ok(())
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
