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
    pub(crate) async fn queue_request(
        &self,
        kind: recovery_request::Kind,
        payload: String,
        reference: String,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        // A flood from one address is dropped here, before anything is stored; the count runs
        // for every request alike and the answer does not change.
        let now = self.now();
        let key = format!("send:ip:{}", limits::address_key(&meta.ip));
        if limits::hit(&self.db, &key, HOUR, now).await? > self.cfg.recovery.limits.ip_per_hour {
            metrics::counter!(names::RECOVERY_REQUESTS, "kind" => kind.as_str(), "outcome" => "address_limit")
                .increment(1);
            return Ok(());
        }
        recovery_request::ActiveModel {
            kind: Set(kind),
            payload: Set(payload),
            reference: Set(reference),
            ip: Set(meta.ip.clone()),
            user_agent: Set(meta.user_agent.chars().take(300).collect()),
            lease_until: Set(None),
            created_at: Set(now),
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
        match &lookup {
            UsernameLookup::Contact { email_or_phone } => {
                self.check_fields(&[email_or_phone])?;
            }
            UsernameLookup::Demographics {
                first_name,
                last_name,
                date_of_birth,
                zip,
            } => self.check_fields(&[first_name, last_name, date_of_birth, zip])?,
        }
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let payload = serde_json::to_string(&UsernamePayload { lookup, lang })
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        self.queue_request(recovery_request::Kind::Username, payload, reference, meta)
            .await
    }
}
