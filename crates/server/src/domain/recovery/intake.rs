//! Forgot password and forgot username, step 1: one INSERT and the same answer for everyone
//! (SECURITY.md E1, E2). Nothing is decided here.

use carekey_shared::{Lang, RecoveryAccepted, RecoveryChannel, RecoveryIdentity, UsernameLookup};
use sea_orm::{ActiveModelTrait, Set};

use crate::domain::limits::{self, HOUR};
use crate::domain::{ClientMeta, DomainError, Services, secrets};
use crate::store::entities::recovery_request;
use crate::telemetry::names;

use super::{ResetPayload, UsernamePayload};

impl Services {
    /// Stores one request, after the per-address flood check, and wakes the worker.
    /// `identifier` is what the visitor typed to be found by, for the queue's order.
    pub(crate) async fn queue_request(
        &self,
        kind: recovery_request::Kind,
        payload: String,
        reference: String,
        identifier: &str,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        // SQLite has one write lock, and a writer that finds it taken sleeps in growing steps
        // (1, 2, 5, 10, 15, 20, 25 ms, ...) before it looks again. Eight requests of a flood
        // racing for it with their three writes each gave a p99 of 80-90 ms at a p50 of 3 ms
        // (issue 15 item 3, budget 50 ms); taking turns here, in arrival order, 19-20 ms. A
        // flood is then answered about half as fast (900 instead of 2,000 requests a second
        // from one address on the benchmark machine); a patient's request takes its turn
        // among the flood's, each turn about a millisecond, and their code still reached the
        // outbox within 35-60 ms p99 in the same benchmark (28-70 ms before). (One
        // transaction for the three writes instead held the lock across the awaits between
        // them and made it worse: p99 300 ms.)
        let _turn = match &self.intake_turn {
            Some(turn) => Some(turn.lock().await),
            None => None,
        };
        // A flood from one address is dropped here, before anything is stored; the count runs
        // for every request alike and the answer does not change.
        let now = self.now();
        let key = format!("send:ip:{}", limits::address_key(&meta.ip));
        let from_address = limits::hit(&self.db, &key, HOUR, now).await?;
        if from_address > self.cfg.recovery.limits.ip_per_hour {
            metrics::counter!(names::RECOVERY_REQUESTS, "kind" => kind.as_str(), "outcome" => "address_limit")
                .increment(1);
            return Ok(());
        }
        // The queue's order (issue 15 item 3): a request goes behind as many as its address or
        // its identifier asked for in the last hour, so a flood from one address, or aimed at
        // one patient's username, waits behind everyone else's first request instead of
        // delaying them by minutes. The identifier is counted under a keyed hash, never as
        // typed, and the same statements run whatever it names (SECURITY.md E2).
        let who = self
            .key
            .tag(&["recovery-queue", &identifier.trim().to_lowercase()]);
        let who = format!("queue:who:{}", &who[..who.len().min(32)]);
        let for_identifier = limits::hit(&self.db, &who, HOUR, now).await?;
        recovery_request::ActiveModel {
            kind: Set(kind),
            payload: Set(payload),
            reference: Set(reference),
            ip: Set(meta.ip.clone()),
            user_agent: Set(meta.user_agent.chars().take(300).collect()),
            lease_until: Set(None),
            created_at: Set(now),
            fair_rank: Set(i64::from(from_address.max(for_identifier))),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        metrics::counter!(names::RECOVERY_REQUESTS, "kind" => kind.as_str(), "outcome" => "queued")
            .increment(1);
        self.recovery_wake.notify_one();
        Ok(())
    }

    /// Forgot password, step 1. One INSERT and the same answer for everyone.
    pub async fn request_reset(
        &self,
        who: RecoveryIdentity,
        channel: RecoveryChannel,
        lang: Lang,
        meta: &ClientMeta,
    ) -> Result<RecoveryAccepted, DomainError> {
        self.check_fields(&[&who.identifier, &who.email])?;
        if who.identifier.trim().is_empty() {
            return Err(DomainError::InvalidInput("identifier required".into()));
        }
        let options = self.recovery_options();
        if !options.channels.contains(&channel) {
            return Err(DomainError::InvalidInput("channel not offered".into()));
        }
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let flow_tag = self.flow_tag_of(meta);
        let identity_text = format!("{}\u{1f}{}", who.identifier, who.email);
        let payload = serde_json::to_string(&ResetPayload {
            who,
            channel,
            lang,
            flow_tag,
        })
        .map_err(|e| DomainError::Internal(e.to_string()))?;
        self.queue_request(
            recovery_request::Kind::Reset,
            payload,
            reference.clone(),
            &identity_text,
            meta,
        )
        .await?;
        Ok(RecoveryAccepted {
            channel,
            reference,
            expires_in_secs: if channel.sends_code() {
                options.code_ttl_secs
            } else {
                options.link_ttl_secs
            },
            resend_after_secs: options.resend_after_secs,
        })
    }

    /// Forgot username. Always `Ok(())`.
    pub async fn request_username(
        &self,
        lookup: UsernameLookup,
        lang: Lang,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        let identity_text = match &lookup {
            UsernameLookup::Contact { email_or_phone } => {
                self.check_fields(&[email_or_phone])?;
                email_or_phone.clone()
            }
            UsernameLookup::Demographics {
                first_name,
                last_name,
                date_of_birth,
                zip,
            } => {
                self.check_fields(&[first_name, last_name, date_of_birth, zip])?;
                [first_name, last_name, date_of_birth, zip]
                    .map(|f| f.trim())
                    .join("\u{1f}")
            }
        };
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let payload = serde_json::to_string(&UsernamePayload { lookup, lang })
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        self.queue_request(
            recovery_request::Kind::Username,
            payload,
            reference,
            &identity_text,
            meta,
        )
        .await
    }
}
