//! Passkeys (WebAuthn Level 3 through webauthn-rs; SECURITY.md M1, M3, M6).
//!
//! A passkey is added in Settings, signs in on its own from the sign-in page (discoverable, with
//! user verification required: something you have plus a PIN or body part, two factors, NIST
//! SP 800-63B-4 App. B), and answers the second step after a password too.
//!
//! Each ceremony's server half (the challenge and what it allows) is kept in the database for
//! five minutes and taken exactly once, so an answer cannot be replayed and a ceremony started
//! through one instance finishes through another. The passkey itself (public key, counter) is
//! sealed like an authenticator key, bound to its account.
//!
//! Enumeration (M6): the sign-in page's ceremony names no account (the browser offers whatever
//! passkeys it holds for this site), and every failure of a passkey sign-in ends in the same
//! `SignInFailed` as a wrong password.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use carekey_shared::{PasskeyCeremony, Portal, TwoStepChanged};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn,
    WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::{NAME_MAX_CHARS, Proof};
use crate::config::{Config, MfaPolicy};
use crate::delivery::outbound::TwoStepChange;
use crate::domain::caller::Caller;
use crate::domain::signin::{Attempt, NewSession, actor_for, kind_of, open_sign_in, sessions};
use crate::domain::{ClientMeta, DomainError, Services, limits};
use crate::store::entities::audit_log::Action;
use crate::store::entities::session::Stage;
use crate::store::entities::webauthn_ceremony::{self, Purpose};
use crate::store::entities::{account, second_factor};
use crate::telemetry::names;

/// How long a ceremony may take: the browser's own timeout in the options (webauthn-rs's
/// default), so the server never keeps a ceremony the browser has given up on.
const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);

/// The largest answer a browser sends for a ceremony (attestation objects of real authenticators
/// are a few kilobytes; certificate chains can be larger).
const ANSWER_MAX_BYTES: usize = 64 * 1024;

/// Passkey ceremonies one client address may start from the sign-in page in an hour. The page
/// starts one each time it opens (for autofill); this allows a busy shared computer a page
/// load every 12 seconds while keeping a flood from filling the table.
const SIGN_IN_CEREMONIES_PER_HOUR: u32 = 300;

/// The relying party for this clinic, or None when `public_url` names an IP address: WebAuthn
/// binds a passkey to a domain name (an "effective domain"), so passkeys need a host name
/// (`localhost` for a clinic trying CareKey on one computer).
pub(crate) fn relying_party(cfg: &Config) -> Option<Arc<Webauthn>> {
    let url = Url::parse(&cfg.public_url).ok()?;
    let host = url.domain()?.to_owned();
    let built = WebauthnBuilder::new(&host, &url)
        .and_then(|b| b.rp_name(&cfg.clinic_name).timeout(CEREMONY_TTL).build());
    match built {
        Ok(rp) => Some(Arc::new(rp)),
        Err(err) => {
            tracing::warn!(%err, "passkeys are off: public_url is not usable for WebAuthn");
            None
        }
    }
}

/// The WebAuthn user handle of an account: keyed, so it says nothing about the account (not its
/// id, not its username) to anyone reading an authenticator, and stable, so every passkey of the
/// account carries the same one.
fn user_handle(key: &crate::domain::secrets::ServerKey, account_id: i64) -> Uuid {
    let tag = key.tag(&["webauthn_user", &account_id.to_string()]);
    let mut bytes = [0u8; 16];
    if let Ok(raw) = hex::decode(&tag[..32]) {
        bytes.copy_from_slice(&raw);
    }
    Uuid::from_bytes(bytes)
}

/// A passkey's new counter to store: (the sealed state it was checked against, the new one).
pub(super) type Recount = (String, String);

fn seal_context(account_id: i64) -> String {
    format!("passkey:{account_id}")
}

/// The browser's answer (`toJSON()` as text): refused outright when oversized, None when it is
/// not a credential at all (a failure like any other to the caller).
fn read_answer<T: DeserializeOwned>(answer: &str) -> Result<Option<T>, DomainError> {
    if answer.len() > ANSWER_MAX_BYTES {
        return Err(DomainError::InvalidInput("passkey answer too long".into()));
    }
    Ok(serde_json::from_str(answer).ok())
}

/// A passkey being added: its name waits with the ceremony.
#[derive(Serialize, Deserialize)]
struct Adding {
    name: String,
    state: PasskeyRegistration,
}

impl Services {
    fn rp(&self) -> Result<&Webauthn, DomainError> {
        self.passkeys.as_deref().ok_or(DomainError::Forbidden)
    }

    /// Keeps a ceremony's server half and hands the browser its options and handle.
    async fn put_ceremony<C: ConnectionTrait, T: Serialize, O: Serialize>(
        &self,
        db: &C,
        purpose: Purpose,
        account_id: Option<i64>,
        state: &T,
        options: &O,
    ) -> Result<PasskeyCeremony, DomainError> {
        let options = serde_json::to_string(options)
            .map_err(|e| DomainError::Internal(format!("passkey options: {e}")))?;
        let handle = sessions::new_token(self.entropy.as_ref())?;
        let now = self.now();
        let state = serde_json::to_string(state)
            .map_err(|e| DomainError::Internal(format!("passkey state: {e}")))?;
        webauthn_ceremony::ActiveModel {
            handle_hash: Set(sessions::token_hash(&handle)),
            purpose: Set(purpose),
            account_id: Set(account_id),
            state: Set(state),
            created_at: Set(now),
            expires_at: Set(now + CEREMONY_TTL.as_millis() as i64),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(PasskeyCeremony {
            id: handle,
            options,
        })
    }

    /// Takes a ceremony once: the delete that takes it is the only way to read it, so two
    /// answers racing for one challenge cannot both be checked.
    async fn take_ceremony<T: DeserializeOwned>(
        &self,
        handle: &str,
        purpose: Purpose,
        account_id: Option<i64>,
    ) -> Result<Option<T>, DomainError> {
        if handle.len() > 64 {
            return Ok(None);
        }
        let now = self.now();
        let Some(row) = webauthn_ceremony::Entity::find()
            .filter(webauthn_ceremony::Column::HandleHash.eq(sessions::token_hash(handle)))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let taken = webauthn_ceremony::Entity::delete_many()
            .filter(webauthn_ceremony::Column::Id.eq(row.id))
            .exec(&self.db)
            .await?
            .rows_affected
            == 1;
        if !taken || row.purpose != purpose || row.account_id != account_id || row.expires_at <= now
        {
            return Ok(None);
        }
        Ok(serde_json::from_str(&row.state).ok())
    }

    /// Forgets ceremonies nobody finished (run with the other housekeeping).
    pub(crate) async fn prune_ceremonies(&self, now: i64) -> Result<u64, DomainError> {
        Ok(webauthn_ceremony::Entity::delete_many()
            .filter(webauthn_ceremony::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    fn seal_passkey(&self, account_id: i64, pk: &Passkey) -> Result<String, DomainError> {
        let json = serde_json::to_string(pk)
            .map_err(|e| DomainError::Internal(format!("passkey: {e}")))?;
        self.delivery
            .sealer
            .seal(&seal_context(account_id), &json)
            .map_err(|e| DomainError::Internal(format!("seal: {e}")))
    }

    fn open_passkey(&self, f: &second_factor::Model) -> Result<Passkey, DomainError> {
        let json = self
            .delivery
            .sealer
            .open(&seal_context(f.account_id), &f.secret)
            .map_err(|e| DomainError::Internal(format!("passkey: {e}")))?;
        serde_json::from_str(&json).map_err(|e| DomainError::Internal(format!("passkey: {e}")))
    }

    async fn passkeys_of<C: ConnectionTrait>(
        &self,
        db: &C,
        account_id: i64,
    ) -> Result<Vec<(second_factor::Model, Passkey)>, DomainError> {
        let mut out = vec![];
        for f in self.confirmed_factors(db, account_id).await? {
            if f.kind == second_factor::Kind::Passkey {
                let pk = self.open_passkey(&f)?;
                out.push((f, pk));
            }
        }
        Ok(out)
    }

    /// Settings: starts adding a passkey, with the current password (asked before the browser
    /// makes the credential, so a wrong password never leaves a passkey on the device that the
    /// account does not know).
    pub async fn start_passkey(
        &self,
        caller: &Caller,
        name: &str,
        current: &str,
    ) -> Result<PasskeyCeremony, DomainError> {
        let acct = caller.account();
        if self.mfa_policy(acct) == MfaPolicy::Off {
            return Err(DomainError::Forbidden);
        }
        let rp = self.rp()?;
        let name = name.trim();
        if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
            return Err(DomainError::InvalidInput("name".into()));
        }
        let name = if name.is_empty() { "Passkey" } else { name };
        self.authorise_change(caller, current).await?;
        // The account's own passkeys are excluded: one authenticator, one passkey per account.
        let exclude = self
            .passkeys_of(&self.db, acct.id)
            .await?
            .into_iter()
            .map(|(_, pk)| pk.cred_id().clone())
            .collect();
        let (mut options, state) = rp
            .start_passkey_registration(
                user_handle(&self.key, acct.id),
                &acct.username,
                &acct.display_name,
                Some(exclude),
            )
            .map_err(|e| DomainError::Internal(format!("passkey options: {e}")))?;
        // Discoverable ("resident"), so it can sign in with no username typed; webauthn-rs's
        // passkey default leaves that to the authenticator.
        if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
            sel.resident_key = Some(ResidentKeyRequirement::Required);
            sel.require_resident_key = true;
        }
        let adding = Adding {
            name: name.to_owned(),
            state,
        };
        self.put_ceremony(
            &self.db,
            Purpose::Register,
            Some(acct.id),
            &adding,
            &options,
        )
        .await
    }

    /// Settings: the browser's answer to `start_passkey`. The account's first method also gets
    /// its backup codes, shown once; a required enrolment ends here.
    pub async fn confirm_passkey(
        &self,
        caller: &Caller,
        ceremony: &str,
        answer: &str,
    ) -> Result<TwoStepChanged, DomainError> {
        let acct = caller.account().clone();
        let rp = self.rp()?;
        let credential: RegisterPublicKeyCredential =
            read_answer(answer)?.ok_or(DomainError::PasskeyNotAccepted)?;
        let adding: Adding = self
            .take_ceremony(ceremony, Purpose::Register, Some(acct.id))
            .await?
            .ok_or(DomainError::PasskeyNotAccepted)?;
        let pk = rp
            .finish_passkey_registration(&credential, &adding.state)
            .map_err(|e| {
                tracing::info!(account = acct.id, err = %e, "passkey not added");
                DomainError::PasskeyNotAccepted
            })?;
        let sealed = self.seal_passkey(acct.id, &pk)?;
        let credential_id = URL_SAFE_NO_PAD.encode(pk.cred_id().as_ref());
        let new_codes = self.new_backup_codes()?;
        let uow = self.begin(caller.actor()).await?;
        uow.lock_account(acct.id).await?;
        let taken = second_factor::Entity::find()
            .filter(second_factor::Column::CredentialId.eq(credential_id.as_str()))
            .one(uow.db())
            .await?
            .is_some();
        if taken {
            return Err(DomainError::PasskeyNotAccepted);
        }
        let row = second_factor::ActiveModel {
            account_id: Set(acct.id),
            kind: Set(second_factor::Kind::Passkey),
            name: Set(adding.name),
            secret: Set(sealed),
            credential_id: Set(Some(credential_id)),
            last_step: Set(None),
            confirmed_at: Set(Some(uow.now)),
            created_at: Set(uow.now),
            last_used_at: Set(None),
            ..Default::default()
        }
        .insert(uow.db())
        .await
        .map_err(|e| match e.sql_err() {
            // Another account registered the same credential in the same moment.
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => DomainError::PasskeyNotAccepted,
            _ => DomainError::Database(e),
        })?;
        self.method_added(
            uow,
            caller,
            &acct,
            &row,
            TwoStepChange::PasskeyAdded,
            new_codes,
        )
        .await
    }

    /// The sign-in page: a ceremony for whatever passkey the browser holds for this site. It
    /// names no account, so it says nothing about who is a patient here (M6).
    pub async fn passkey_sign_in_options(
        &self,
        meta: &ClientMeta,
    ) -> Result<PasskeyCeremony, DomainError> {
        let rp = self.rp()?;
        let now = self.now();
        let key = format!("passkey_options:{}", limits::address_key(&meta.ip));
        if limits::hit(&self.db, &key, limits::HOUR, now).await? > SIGN_IN_CEREMONIES_PER_HOUR {
            return Err(DomainError::Busy);
        }
        let (options, state) = rp
            .start_discoverable_authentication()
            .map_err(|e| DomainError::Internal(format!("passkey options: {e}")))?;
        self.put_ceremony(&self.db, Purpose::SignIn, None, &state, &options)
            .await
    }

    /// Signs in with a passkey alone (M3): user verification is required by the options and
    /// checked on the answer, so this is two factors. The account's pause and status apply as
    /// to a password; every failure is the password's `SignInFailed`.
    pub async fn passkey_sign_in(
        &self,
        portal: Portal,
        ceremony: &str,
        answer: &str,
        previous_token: Option<&str>,
        meta: &ClientMeta,
    ) -> Result<NewSession, DomainError> {
        let now = self.now();
        let found = self.check_passkey_sign_in(portal, ceremony, answer).await?;
        let Some((acct, factor, updated)) = found else {
            self.record_failure(None, "passkey_not_accepted", Attempt::SignIn, meta, now)
                .await?;
            return Err(DomainError::SignInFailed);
        };
        let token = sessions::new_token(self.entropy.as_ref())?;
        let uow = self.begin(actor_for(Some(&acct), meta)).await?;
        uow.lock_account(acct.id).await?;
        let now = uow.now;
        let txn = uow.db();
        if !open_sign_in(txn, acct.id, true, now).await?
            || !self.spend_passkey(txn, factor.id, updated, now).await?
        {
            drop(uow);
            self.record_failure(Some(&acct), "locked", Attempt::SignIn, meta, now)
                .await?;
            return Err(DomainError::SignInFailed);
        }
        sessions::replace_brought(txn, previous_token, now).await?;
        // No password was proved: a forced change after a staff reset still asks for the
        // temporary password.
        let s = sessions::insert(txn, acct.id, &token, Stage::Full, None, meta, now).await?;
        uow.audit(
            Action::SignIn,
            Some(acct.id),
            json!({ "session": s.id, "method": "passkey", "passkey": factor.name }),
        )
        .await?;
        let acct = account::Entity::find_by_id(acct.id)
            .one(uow.db())
            .await?
            .ok_or(DomainError::SignInFailed)?;
        uow.commit(self).await?;
        metrics::counter!(names::SIGNIN_SUCCESSES).increment(1);
        Ok(NewSession {
            token,
            info: self.session_info(&acct, &s, now),
            remember: None,
        })
    }

    /// The checks of a passkey sign-in that need no write: the ceremony (taken once), the
    /// credential, its account and the signature. None for any failure, all alike.
    async fn check_passkey_sign_in(
        &self,
        portal: Portal,
        ceremony: &str,
        answer: &str,
    ) -> Result<Option<(account::Model, second_factor::Model, Option<Recount>)>, DomainError> {
        let rp = self.rp()?;
        let Some(credential) = read_answer::<PublicKeyCredential>(answer)? else {
            return Ok(None);
        };
        let Some(state) = self
            .take_ceremony::<DiscoverableAuthentication>(ceremony, Purpose::SignIn, None)
            .await?
        else {
            return Ok(None);
        };
        let Ok((handle, _)) = rp.identify_discoverable_authentication(&credential) else {
            return Ok(None);
        };
        let credential_id = URL_SAFE_NO_PAD.encode(credential.raw_id.as_ref());
        let Some(factor) = second_factor::Entity::find()
            .filter(second_factor::Column::CredentialId.eq(credential_id.as_str()))
            .filter(second_factor::Column::Kind.eq(second_factor::Kind::Passkey))
            .filter(second_factor::Column::ConfirmedAt.is_not_null())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(acct) = account::Entity::find_by_id(factor.account_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        // A clinic that turned two-step verification off for patients turned their passkeys
        // off with it (Settings no longer shows or adds them).
        if handle != user_handle(&self.key, acct.id)
            || kind_of(&acct).portal() != portal
            || self.mfa_policy(&acct) == MfaPolicy::Off
        {
            return Ok(None);
        }
        let mut pk = self.open_passkey(&factor)?;
        let result = match rp.finish_discoverable_authentication(
            &credential,
            state,
            &[DiscoverableKey::from(&pk)],
        ) {
            Ok(r) if r.user_verified() => r,
            Ok(_) | Err(_) => return Ok(None),
        };
        let updated = match pk.update_credential(&result) {
            Some(true) => Some((factor.secret.clone(), self.seal_passkey(acct.id, &pk)?)),
            _ => None,
        };
        Ok(Some((acct, factor, updated)))
    }

    /// Records a passkey's use (and its new counter) in the unit of work that signs in. The
    /// new counter is written only over the state it was checked against: of two sign-ins
    /// racing with one authenticator, the later-committing one cannot lower the counter (the
    /// counter is how a cloned authenticator shows itself, WebAuthn §6.1.1).
    pub(super) async fn spend_passkey<C: ConnectionTrait>(
        &self,
        db: &C,
        factor_id: i64,
        updated: Option<Recount>,
        now: i64,
    ) -> Result<bool, DomainError> {
        let mut spend = second_factor::Entity::update_many()
            .col_expr(second_factor::Column::LastUsedAt, Expr::value(now))
            .filter(second_factor::Column::Id.eq(factor_id))
            .filter(second_factor::Column::ConfirmedAt.is_not_null());
        if let Some((checked, sealed)) = updated {
            spend = spend
                .col_expr(second_factor::Column::Secret, Expr::value(sealed))
                .filter(second_factor::Column::Secret.eq(checked));
        }
        Ok(spend.exec(db).await?.rows_affected == 1)
    }

    /// The second step with a passkey: a ceremony for this account's passkeys only (its
    /// password was proved, so naming them reveals nothing, M6).
    pub async fn second_step_passkey_options(
        &self,
        pending: &Caller,
    ) -> Result<PasskeyCeremony, DomainError> {
        let rp = self.rp()?;
        let acct = pending.account();
        let keys: Vec<Passkey> = self
            .passkeys_of(&self.db, acct.id)
            .await?
            .into_iter()
            .map(|(_, pk)| pk)
            .collect();
        if keys.is_empty() {
            return Err(DomainError::SecondStepFailed);
        }
        let (options, state) = rp
            .start_passkey_authentication(&keys)
            .map_err(|e| DomainError::Internal(format!("passkey options: {e}")))?;
        self.put_ceremony(
            &self.db,
            Purpose::SecondStep,
            Some(acct.id),
            &state,
            &options,
        )
        .await
    }

    /// What a passkey's answer at the second step proves, if anything.
    pub(super) async fn passkey_proof(
        &self,
        account_id: i64,
        ceremony: &str,
        answer: &str,
    ) -> Result<Option<Proof>, DomainError> {
        let rp = self.rp()?;
        let Some(credential) = read_answer::<PublicKeyCredential>(answer)? else {
            return Ok(None);
        };
        let Some(state) = self
            .take_ceremony::<PasskeyAuthentication>(ceremony, Purpose::SecondStep, Some(account_id))
            .await?
        else {
            return Ok(None);
        };
        let Ok(result) = rp.finish_passkey_authentication(&credential, &state) else {
            return Ok(None);
        };
        for (f, mut pk) in self.passkeys_of(&self.db, account_id).await? {
            if pk.cred_id() == result.cred_id() {
                let updated = match pk.update_credential(&result) {
                    Some(true) => Some((f.secret.clone(), self.seal_passkey(account_id, &pk)?)),
                    _ => None,
                };
                return Ok(Some(Proof::Passkey {
                    factor_id: f.id,
                    updated,
                }));
            }
        }
        Ok(None)
    }
}
