//! Two-step verification (issue 12; SECURITY.md M1–M6): authenticator apps and saved backup
//! codes, the second step at sign-in, and Settings > Two-step verification.
//!
//! A sign-in whose password was right, for an account with a second step, opens a session in
//! stage `second_step`: it reaches nothing but `verify_second_step`, for `PENDING` at most, and
//! the account's sign-in counters are left as they were, so a person who knows the password
//! cannot clear the failure count by signing in again between wrong codes (M5). A right code
//! ends that session and opens a new one (a new token at every raise of privilege).

pub mod backup;
mod clinic;
mod passkey;
mod second_step;
mod sent_code;
mod settings;
pub mod totp;

pub(crate) use passkey::relying_party;

use carekey_shared::{SecondStepMethod, SecondStepOffer, TwoStepMethod, TwoStepStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use std::time::Duration;

use super::{DomainError, Services};
use crate::config::MfaPolicy;
use crate::store::entities::session::Stage;
use crate::store::entities::{account, backup_code, remembered_device, second_factor};

/// How long the second step may take after the password. Long enough to find a phone or the
/// sheet of backup codes; short enough that a sign-in left half-done on a shared computer
/// cannot be finished by the next person much later.
pub const PENDING: Duration = Duration::from_secs(5 * 60);

/// The longest name a person can give a method.
const NAME_MAX_CHARS: usize = 40;

/// Where a sign-in whose password was right stands.
pub struct AfterPassword {
    pub stage: Stage,
    /// What the second step may be answered with (only when it is asked).
    pub offer: Option<SecondStepOffer>,
    /// A remembered browser stood in for the second step.
    pub remembered: bool,
}

fn device_tag(key: &super::secrets::ServerKey, account_id: i64, token: &str) -> String {
    key.tag(&["remembered_device", &account_id.to_string(), token])
}

/// Forgets every remembered browser of the account: after a password reset or change, any
/// change of methods, "sign out everywhere else" (SECURITY.md M7).
pub(crate) async fn forget_devices<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    now: i64,
) -> Result<u64, DomainError> {
    Ok(remembered_device::Entity::update_many()
        .col_expr(remembered_device::Column::RevokedAt, Expr::value(now))
        .filter(remembered_device::Column::AccountId.eq(account_id))
        .filter(remembered_device::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Drops the account's method that was started and never confirmed: one setup at a time, so
/// an abandoned one never lingers beside a new one.
pub(crate) async fn drop_unconfirmed<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<(), DomainError> {
    second_factor::Entity::delete_many()
        .filter(second_factor::Column::AccountId.eq(account_id))
        .filter(second_factor::Column::ConfirmedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// What a second step was proved with, decided before the unit of work that spends it.
enum Proof {
    App {
        factor_id: i64,
        step: i64,
    },
    Backup {
        tag: String,
    },
    /// A passkey's signature checked; `updated`: its new counter, sealed, to store.
    Passkey {
        factor_id: i64,
        updated: Option<passkey::Recount>,
    },
    /// A sent code matched: the code to use up and the method it came through.
    Sent {
        challenge_id: i64,
        factor_id: i64,
    },
}

fn kind_of(f: &second_factor::Model) -> SecondStepMethod {
    match f.kind {
        second_factor::Kind::Totp => SecondStepMethod::AuthenticatorApp,
        second_factor::Kind::Passkey => SecondStepMethod::Passkey,
        second_factor::Kind::SentCode => SecondStepMethod::SentCode,
    }
}

/// The sealed key's context: a key copied onto another account's row does not open.
fn seal_context(account_id: i64) -> String {
    format!("totp:{account_id}")
}

impl Services {
    /// The clinic's policy for this account (`mfa.patients` or `mfa.staff`).
    pub fn mfa_policy(&self, a: &account::Model) -> MfaPolicy {
        match a.kind {
            account::Kind::Patient => self.cfg.mfa.patients,
            account::Kind::Staff | account::Kind::Admin => self.cfg.mfa.staff,
        }
    }

    async fn confirmed_factors<C: ConnectionTrait>(
        &self,
        db: &C,
        account_id: i64,
    ) -> Result<Vec<second_factor::Model>, DomainError> {
        Ok(second_factor::Entity::find()
            .filter(second_factor::Column::AccountId.eq(account_id))
            .filter(second_factor::Column::ConfirmedAt.is_not_null())
            .order_by_asc(second_factor::Column::Id)
            .all(db)
            .await?)
    }

    async fn backup_codes_left<C: ConnectionTrait>(
        &self,
        db: &C,
        account_id: i64,
    ) -> Result<u32, DomainError> {
        let n = backup_code::Entity::find()
            .filter(backup_code::Column::AccountId.eq(account_id))
            .filter(backup_code::Column::UsedAt.is_null())
            .count(db)
            .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The stage a sign-in reaches once its password was right, and what the second step may
    /// be answered with. Read inside the sign-in's unit of work, so a method added or removed
    /// meanwhile is counted or not, never half.
    pub(crate) async fn stage_after_password<C: ConnectionTrait>(
        &self,
        db: &C,
        acct: &account::Model,
        device: Option<&str>,
        now: i64,
    ) -> Result<AfterPassword, DomainError> {
        let policy = self.mfa_policy(acct);
        let done = |stage| AfterPassword {
            stage,
            offer: None,
            remembered: false,
        };
        if policy == MfaPolicy::Off {
            return Ok(done(Stage::Full));
        }
        let factors = self.confirmed_factors(db, acct.id).await?;
        let codes = self.backup_codes_left(db, acct.id).await?;
        // Passkeys first (they cannot be phished), then apps, then the codes on paper; the
        // kind used last is asked for first.
        let targets = self.second_step_targets(db, acct, &factors).await?;
        let mut methods = vec![];
        for kind in [
            SecondStepMethod::Passkey,
            SecondStepMethod::AuthenticatorApp,
            SecondStepMethod::SentCode,
        ] {
            // Passkeys cannot answer where the clinic's address has no host name (any more);
            // a sent code only where one can go now (and not through a contact a reset was
            // just proved through, M4).
            let usable = match kind {
                SecondStepMethod::Passkey => self.passkeys.is_some(),
                SecondStepMethod::SentCode => !targets.is_empty(),
                SecondStepMethod::AuthenticatorApp | SecondStepMethod::BackupCode => true,
            };
            if usable && factors.iter().any(|f| kind_of(f) == kind) {
                methods.push(kind);
            }
        }
        if codes > 0 {
            methods.push(SecondStepMethod::BackupCode);
        }
        // Only methods that cannot answer here and now: still asked (closed, never skipped);
        // the clinic's two-step reset is the way back.
        if methods.is_empty()
            && let Some(f) = factors.first()
        {
            methods.push(kind_of(f));
        }
        let used_last = factors
            .iter()
            .filter(|f| f.last_used_at.is_some())
            .max_by_key(|f| f.last_used_at)
            .map(kind_of)
            .filter(|k| methods.contains(k));
        let Some(&preferred) = used_last.as_ref().or(methods.first()) else {
            return Ok(done(if policy == MfaPolicy::Required {
                Stage::Enrol
            } else {
                Stage::Full
            }));
        };
        if let Some(token) = device
            && self.cfg.mfa.remember > Duration::ZERO
        {
            let live = remembered_device::Entity::find()
                .filter(remembered_device::Column::AccountId.eq(acct.id))
                .filter(
                    remembered_device::Column::TokenHmac.eq(device_tag(&self.key, acct.id, token)),
                )
                .filter(remembered_device::Column::RevokedAt.is_null())
                .filter(remembered_device::Column::ExpiresAt.gt(now))
                .count(db)
                .await?;
            if live > 0 {
                return Ok(AfterPassword {
                    stage: Stage::Full,
                    offer: None,
                    remembered: true,
                });
            }
        }
        Ok(AfterPassword {
            stage: Stage::SecondStep,
            offer: Some(SecondStepOffer {
                methods: methods.clone(),
                preferred,
                targets,
            }),
            remembered: false,
        })
    }

    fn open_key(&self, f: &second_factor::Model) -> Result<Vec<u8>, DomainError> {
        let b32 = self
            .delivery
            .sealer
            .open(&seal_context(f.account_id), &f.secret)
            .map_err(|e| DomainError::Internal(format!("authenticator key: {e}")))?;
        data_encoding::BASE32_NOPAD
            .decode(b32.as_bytes())
            .map_err(|e| DomainError::Internal(format!("authenticator key: {e}")))
    }

    async fn status_of<C: ConnectionTrait>(
        &self,
        db: &C,
        acct: &account::Model,
    ) -> Result<TwoStepStatus, DomainError> {
        let policy = self.mfa_policy(acct);
        let factors = self.confirmed_factors(db, acct.id).await?;
        let can_send_to = if policy == MfaPolicy::Off {
            vec![]
        } else {
            self.can_send_to(db, acct, &factors).await?
        };
        let methods = factors
            .into_iter()
            .map(|f| TwoStepMethod {
                id: f.id,
                kind: kind_of(&f),
                name: f.name,
                added_at_ms: f.confirmed_at.unwrap_or(f.created_at),
                last_used_at_ms: f.last_used_at,
            })
            .collect();
        Ok(TwoStepStatus {
            methods,
            backup_codes_left: self.backup_codes_left(db, acct.id).await?,
            required: policy == MfaPolicy::Required,
            available: policy != MfaPolicy::Off,
            passkeys: policy != MfaPolicy::Off && self.passkeys.is_some(),
            can_send_to,
        })
    }

    /// A fresh set of backup codes, made before the unit of work that may store them.
    fn new_backup_codes(&self) -> Result<Vec<String>, DomainError> {
        (0..backup::COUNT)
            .map(|_| backup::new_code(self.entropy.as_ref()))
            .collect()
    }

    async fn replace_backup_codes<C: ConnectionTrait>(
        &self,
        db: &C,
        account_id: i64,
        codes: &[String],
        now: i64,
    ) -> Result<(), DomainError> {
        backup_code::Entity::delete_many()
            .filter(backup_code::Column::AccountId.eq(account_id))
            .exec(db)
            .await?;
        let rows =
            codes
                .iter()
                .filter_map(|c| backup::normalize(c))
                .map(|n| backup_code::ActiveModel {
                    account_id: Set(account_id),
                    code_hmac: Set(backup::tag(&self.key, account_id, &n)),
                    created_at: Set(now),
                    used_at: Set(None),
                    ..Default::default()
                });
        backup_code::Entity::insert_many(rows).exec(db).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
