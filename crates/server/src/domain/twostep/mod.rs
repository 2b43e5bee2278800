//! Two-step verification (issue 12; SECURITY.md M1–M6): authenticator apps and saved backup
//! codes, the second step at sign-in, and Settings > Two-step verification.
//!
//! A sign-in whose password was right, for an account with a second step, opens a session in
//! stage `second_step`: it reaches nothing but `verify_second_step`, for `PENDING` at most, and
//! the account's sign-in counters are left as they were, so a person who knows the password
//! cannot clear the failure count by signing in again between wrong codes (M5). A right code
//! ends that session and opens a new one (a new token at every raise of privilege).

pub mod backup;
pub mod totp;

use std::time::Duration;

use carekey_shared::{
    AuthenticatorSetup, SecondStepMethod, SecondStepOffer, TwoStepChanged, TwoStepMethod,
    TwoStepStatus,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use super::caller::Caller;
use super::signin::{Attempt, NewSession, sessions};
use super::{DomainError, Services, lockout};
use crate::config::MfaPolicy;
use crate::delivery::outbound::TwoStepChange;
use crate::store::entities::audit_log::Action;
use crate::store::entities::session::Stage;
use crate::store::entities::{account, backup_code, remembered_device, second_factor, session};
use crate::telemetry::names;

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

/// What a second step was proved with, decided before the unit of work that spends it.
enum Proof {
    App { factor_id: i64, step: i64 },
    Backup { tag: String },
}

fn kind_of(f: &second_factor::Model) -> SecondStepMethod {
    match f.kind {
        second_factor::Kind::Totp => SecondStepMethod::AuthenticatorApp,
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
        let mut methods = vec![];
        if !factors.is_empty() {
            methods.push(SecondStepMethod::AuthenticatorApp);
        }
        if codes > 0 {
            methods.push(SecondStepMethod::BackupCode);
        }
        let Some(&preferred) = methods.first() else {
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
            }),
            remembered: false,
        })
    }

    /// What a half-done sign-in's second step may be answered with: the same offer its
    /// password step answered with, for the page that asks for it.
    pub async fn second_step_offer(
        &self,
        pending: &Caller,
    ) -> Result<SecondStepOffer, DomainError> {
        self.stage_after_password(&self.db, pending.account(), None, self.now())
            .await?
            .offer
            .ok_or(DomainError::NotSignedIn)
    }

    /// The second step at sign-in. `caller` is the half-done sign-in (`Allow::SecondStep`).
    pub async fn verify_second_step(
        &self,
        caller: &Caller,
        method: SecondStepMethod,
        code: &str,
        remember: bool,
    ) -> Result<NewSession, DomainError> {
        if code.len() > 64 {
            return Err(DomainError::InvalidInput("code too long".into()));
        }
        let acct = caller.account().clone();
        let pending = caller.session().clone();
        let meta = caller.meta().clone();
        let now = self.now();
        if acct.status != account::Status::Active
            || lockout::is_locked(acct.status, acct.locked_until, now)
        {
            self.end_pending_sign_ins(acct.id).await?;
            return Err(DomainError::SecondStepFailed);
        }
        let proof = match method {
            SecondStepMethod::AuthenticatorApp => {
                let mut found = None;
                for f in self.confirmed_factors(&self.db, acct.id).await? {
                    let key = self.open_key(&f)?;
                    if let Some(step) = totp::matching_step(&key, code, now, f.last_step) {
                        found = Some(Proof::App {
                            factor_id: f.id,
                            step,
                        });
                    }
                }
                found
            }
            SecondStepMethod::BackupCode => backup::normalize(code).map(|n| Proof::Backup {
                tag: backup::tag(&self.key, acct.id, &n),
            }),
        };
        let token = sessions::new_token(self.entropy.as_ref())?;
        let device = if remember && self.cfg.mfa.remember > Duration::ZERO {
            Some(super::secrets::new_token(self.entropy.as_ref())?)
        } else {
            None
        };
        let mut uow = self.begin(caller.actor()).await?;
        uow.lock_account(acct.id).await?;
        let txn = uow.db();
        let now = uow.now;
        // Spent in one conditional statement each, so two requests racing with one code (or
        // one step's code) cannot both get in.
        let spent = match &proof {
            Some(Proof::App { factor_id, step }) => {
                second_factor::Entity::update_many()
                    .col_expr(second_factor::Column::LastStep, Expr::value(*step))
                    .col_expr(second_factor::Column::LastUsedAt, Expr::value(now))
                    .filter(second_factor::Column::Id.eq(*factor_id))
                    .filter(second_factor::Column::ConfirmedAt.is_not_null())
                    .filter(
                        second_factor::Column::LastStep
                            .is_null()
                            .or(second_factor::Column::LastStep.lt(*step)),
                    )
                    .exec(txn)
                    .await?
                    .rows_affected
                    == 1
            }
            Some(Proof::Backup { tag }) => {
                backup_code::Entity::update_many()
                    .col_expr(backup_code::Column::UsedAt, Expr::value(now))
                    .filter(backup_code::Column::AccountId.eq(acct.id))
                    .filter(backup_code::Column::CodeHmac.eq(tag.as_str()))
                    .filter(backup_code::Column::UsedAt.is_null())
                    .exec(txn)
                    .await?
                    .rows_affected
                    == 1
            }
            None => false,
        };
        // The sign-in succeeds only if the account is still active and unpaused as it commits.
        let opened = spent
            && account::Entity::update_many()
                .col_expr(
                    account::Column::PreviousSignInAt,
                    Expr::col(account::Column::LastSignInAt),
                )
                .col_expr(
                    account::Column::FailuresBeforeLastSignIn,
                    Expr::col(account::Column::FailedSignIns),
                )
                .col_expr(account::Column::LastSignInAt, Expr::value(now))
                .col_expr(account::Column::FailedSignIns, Expr::value(0))
                .col_expr(
                    account::Column::LockedUntil,
                    Expr::value(Option::<i64>::None),
                )
                .filter(account::Column::Id.eq(acct.id))
                .filter(account::Column::Status.eq(account::Status::Active))
                .filter(
                    account::Column::LockedUntil
                        .is_null()
                        .or(account::Column::LockedUntil.lte(now)),
                )
                .exec(txn)
                .await?
                .rows_affected
                == 1;
        if !opened {
            drop(uow);
            self.record_failure(
                Some(&acct),
                "wrong_second_step",
                Attempt::SecondStep,
                &meta,
                now,
            )
            .await?;
            let fresh = account::Entity::find_by_id(acct.id).one(&self.db).await?;
            if fresh.is_none_or(|a| lockout::is_locked(a.status, a.locked_until, self.now())) {
                self.end_pending_sign_ins(acct.id).await?;
            }
            return Err(DomainError::SecondStepFailed);
        }
        sessions::revoke(txn, session::Column::Id.eq(pending.id), now).await?;
        let s = session::ActiveModel {
            token_hash: Set(sessions::token_hash(&token)),
            account_id: Set(acct.id),
            created_at: Set(now),
            last_seen_at: Set(now),
            revoked_at: Set(None),
            password_proved_at: pending
                .password_proved_at
                .map_or(sea_orm::ActiveValue::Set(None), |at| {
                    sea_orm::ActiveValue::Set(Some(at))
                }),
            user_agent: Set(meta.user_agent.chars().take(300).collect()),
            ip: Set(meta.ip.clone()),
            stage: Set(Stage::Full),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let how = match method {
            SecondStepMethod::AuthenticatorApp => "authenticator_app",
            SecondStepMethod::BackupCode => "backup_code",
        };
        uow.audit(
            Action::SecondStepPassed,
            Some(acct.id),
            json!({ "method": how }),
        )
        .await?;
        let left = match method {
            SecondStepMethod::BackupCode => Some(self.backup_codes_left(txn, acct.id).await?),
            SecondStepMethod::AuthenticatorApp => None,
        };
        uow.audit(Action::SignIn, Some(acct.id), json!({ "session": s.id }))
            .await?;
        let acct = account::Entity::find_by_id(acct.id)
            .one(txn)
            .await?
            .ok_or(DomainError::SignInFailed)?;
        if let Some(device) = &device {
            let row = remembered_device::ActiveModel {
                account_id: Set(acct.id),
                token_hmac: Set(device_tag(&self.key, acct.id, device)),
                created_at: Set(now),
                expires_at: Set(now + self.cfg.mfa.remember.as_millis() as i64),
                revoked_at: Set(None),
                device: Set(sessions::describe_user_agent(&meta.user_agent)),
                ..Default::default()
            }
            .insert(uow.db())
            .await?;
            uow.audit(
                Action::DeviceRemembered,
                Some(acct.id),
                json!({ "device": row.device, "until": row.expires_at }),
            )
            .await?;
            // A browser that skips the second step is worth a word to every contact.
            self.enqueue_two_step_notices(&mut uow, &acct, TwoStepChange::DeviceRemembered)
                .await?;
        }
        if let Some(left) = left {
            uow.audit(
                Action::BackupCodeUsed,
                Some(acct.id),
                json!({ "left": left }),
            )
            .await?;
            // A recovery code used is a recovery: every contact hears of it (63B-4 §4.2).
            self.enqueue_two_step_notices(&mut uow, &acct, TwoStepChange::BackupCodeUsed { left })
                .await?;
        }
        uow.commit(self).await?;
        metrics::counter!(names::SIGNIN_SUCCESSES).increment(1);
        tracing::info!(account = acct.id, "signed in with a second step");
        Ok(NewSession {
            token,
            info: self.session_info(&acct, &s, now),
            remember: device,
        })
    }

    /// Ends every half-done sign-in of the account (it was paused meanwhile).
    async fn end_pending_sign_ins(&self, account_id: i64) -> Result<(), DomainError> {
        sessions::revoke(
            &self.db,
            session::Column::AccountId
                .eq(account_id)
                .and(session::Column::Stage.eq(Stage::SecondStep)),
            self.now(),
        )
        .await?;
        Ok(())
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

    /// The browsers that skip the second step for now, newest first.
    pub async fn remembered_devices(
        &self,
        caller: &Caller,
    ) -> Result<Vec<carekey_shared::RememberedDevice>, DomainError> {
        let now = self.now();
        Ok(remembered_device::Entity::find()
            .filter(remembered_device::Column::AccountId.eq(caller.account().id))
            .filter(remembered_device::Column::RevokedAt.is_null())
            .filter(remembered_device::Column::ExpiresAt.gt(now))
            .order_by_desc(remembered_device::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| carekey_shared::RememberedDevice {
                device: d.device,
                remembered_at_ms: d.created_at,
                until_ms: d.expires_at,
            })
            .collect())
    }

    /// Settings > Two-step verification.
    pub async fn two_step_status(&self, caller: &Caller) -> Result<TwoStepStatus, DomainError> {
        self.status_of(&self.db, caller.account()).await
    }

    async fn status_of<C: ConnectionTrait>(
        &self,
        db: &C,
        acct: &account::Model,
    ) -> Result<TwoStepStatus, DomainError> {
        let policy = self.mfa_policy(acct);
        let methods = self
            .confirmed_factors(db, acct.id)
            .await?
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
        })
    }

    /// Starts adding an authenticator app: a fresh key, kept sealed until a code confirms it.
    /// An earlier unconfirmed key of the account is dropped (one setup at a time).
    pub async fn start_authenticator(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<AuthenticatorSetup, DomainError> {
        let acct = caller.account();
        if self.mfa_policy(acct) == MfaPolicy::Off {
            return Err(DomainError::Forbidden);
        }
        let name = name.trim();
        if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
            return Err(DomainError::InvalidInput("name".into()));
        }
        let name = if name.is_empty() {
            "Authenticator app"
        } else {
            name
        };
        let mut key = [0u8; totp::KEY_BYTES];
        self.entropy
            .fill(&mut key)
            .map_err(|e| DomainError::Internal(format!("random: {e}")))?;
        let sealed = self
            .delivery
            .sealer
            .seal(
                &seal_context(acct.id),
                &data_encoding::BASE32_NOPAD.encode(&key),
            )
            .map_err(|e| DomainError::Internal(format!("seal: {e}")))?;
        let uri = totp::otpauth_uri(&key, &self.cfg.clinic_name, &acct.username);
        let qr_svg = totp::qr_svg(&uri).map_err(|e| DomainError::Internal(format!("qr: {e}")))?;
        let uow = self.begin(caller.actor()).await?;
        second_factor::Entity::delete_many()
            .filter(second_factor::Column::AccountId.eq(acct.id))
            .filter(second_factor::Column::ConfirmedAt.is_null())
            .exec(uow.db())
            .await?;
        let row = second_factor::ActiveModel {
            account_id: Set(acct.id),
            kind: Set(second_factor::Kind::Totp),
            name: Set(name.to_owned()),
            secret: Set(sealed),
            last_step: Set(None),
            confirmed_at: Set(None),
            created_at: Set(uow.now),
            last_used_at: Set(None),
            ..Default::default()
        }
        .insert(uow.db())
        .await?;
        uow.commit(self).await?;
        Ok(AuthenticatorSetup {
            id: row.id,
            key: totp::display_key(&key),
            uri,
            qr_svg,
        })
    }

    /// The current password authorising a change of methods, or (when the clinic made this
    /// sign-in add one) the sign-in moments ago that proved it.
    async fn authorise_change(&self, caller: &Caller, current: &str) -> Result<(), DomainError> {
        let s = caller.session();
        if current.is_empty()
            && s.stage == Stage::Enrol
            && sessions::proof_left(s.password_proved_at, self.now()) > 0
        {
            return Ok(());
        }
        if current.is_empty() {
            return Err(DomainError::CurrentPasswordIncorrect);
        }
        self.confirm_current_password(caller.account(), current, caller.meta())
            .await?
            .ok_or(DomainError::CurrentPasswordIncorrect)?;
        Ok(())
    }

    /// Confirms a new authenticator app with a code from it. The account's first method also
    /// gets its backup codes, shown once; a required enrolment ends here.
    pub async fn confirm_authenticator(
        &self,
        caller: &Caller,
        id: i64,
        code: &str,
        current: &str,
    ) -> Result<TwoStepChanged, DomainError> {
        let acct = caller.account().clone();
        let row = second_factor::Entity::find_by_id(id)
            .filter(second_factor::Column::AccountId.eq(acct.id))
            .filter(second_factor::Column::ConfirmedAt.is_null())
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::NotFound("authenticator".into()))?;
        let key = self.open_key(&row)?;
        let step = totp::matching_step(&key, code, self.now(), None).ok_or(
            DomainError::CodeRejected(carekey_shared::CodeProblem::NotAccepted),
        )?;
        self.authorise_change(caller, current).await?;
        let new_codes = (0..backup::COUNT)
            .map(|_| backup::new_code(self.entropy.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut uow = self.begin(caller.actor()).await?;
        uow.lock_account(acct.id).await?;
        let now = uow.now;
        let confirmed = second_factor::Entity::update_many()
            .col_expr(second_factor::Column::ConfirmedAt, Expr::value(now))
            .col_expr(second_factor::Column::LastStep, Expr::value(step))
            .filter(second_factor::Column::Id.eq(id))
            .filter(second_factor::Column::ConfirmedAt.is_null())
            .exec(uow.db())
            .await?;
        if confirmed.rows_affected != 1 {
            return Err(DomainError::NotFound("authenticator".into()));
        }
        let backup_codes = if self.backup_codes_left(uow.db(), acct.id).await? == 0 {
            self.replace_backup_codes(uow.db(), acct.id, &new_codes, now)
                .await?;
            new_codes
        } else {
            vec![]
        };
        let mut s = caller.session().clone();
        if s.stage == Stage::Enrol {
            s = session::ActiveModel {
                id: Set(s.id),
                stage: Set(Stage::Full),
                ..Default::default()
            }
            .update(uow.db())
            .await?;
        }
        uow.audit(
            Action::TwoStepMethodAdded,
            Some(acct.id),
            json!({ "kind": row.kind, "name": row.name, "backup_codes_made": !backup_codes.is_empty() }),
        )
        .await?;
        // A change of methods asks every remembered browser for the second step again (M7).
        forget_devices(uow.db(), acct.id, uow.now).await?;
        self.enqueue_two_step_notices(&mut uow, &acct, TwoStepChange::AppAdded)
            .await?;
        let status = self.status_of(uow.db(), &acct).await?;
        uow.commit(self).await?;
        Ok(TwoStepChanged {
            status,
            backup_codes,
            session: self.session_info(&acct, &s, now),
        })
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

    /// Removes a method. The last one cannot go while the clinic requires a second step; with
    /// the last one gone the backup codes go too (they would otherwise be a second step alone).
    pub async fn remove_two_step_method(
        &self,
        caller: &Caller,
        id: i64,
        current: &str,
    ) -> Result<TwoStepStatus, DomainError> {
        let acct = caller.account().clone();
        let factors = self.confirmed_factors(&self.db, acct.id).await?;
        let Some(row) = factors.iter().find(|f| f.id == id).cloned() else {
            return Err(DomainError::NotFound("method".into()));
        };
        if factors.len() == 1 && self.mfa_policy(&acct) == MfaPolicy::Required {
            return Err(DomainError::LastSecondStep);
        }
        self.authorise_change(caller, current).await?;
        let mut uow = self.begin(caller.actor()).await?;
        uow.lock_account(acct.id).await?;
        let removed = second_factor::Entity::delete_many()
            .filter(second_factor::Column::Id.eq(id))
            .filter(second_factor::Column::AccountId.eq(acct.id))
            .exec(uow.db())
            .await?;
        if removed.rows_affected != 1 {
            return Err(DomainError::NotFound("method".into()));
        }
        let left = self.confirmed_factors(uow.db(), acct.id).await?;
        if left.is_empty() {
            if self.mfa_policy(&acct) == MfaPolicy::Required {
                // Another request removed the other one meanwhile.
                return Err(DomainError::LastSecondStep);
            }
            backup_code::Entity::delete_many()
                .filter(backup_code::Column::AccountId.eq(acct.id))
                .exec(uow.db())
                .await?;
        }
        // Whoever else is signed in signed in with the old set of methods.
        sessions::revoke_others(uow.db(), acct.id, caller.session().id, uow.now).await?;
        uow.audit(
            Action::TwoStepMethodRemoved,
            Some(acct.id),
            json!({ "kind": row.kind, "name": row.name, "methods_left": left.len() }),
        )
        .await?;
        // A change of methods asks every remembered browser for the second step again (M7).
        forget_devices(uow.db(), acct.id, uow.now).await?;
        self.enqueue_two_step_notices(&mut uow, &acct, TwoStepChange::AppRemoved)
            .await?;
        let status = self.status_of(uow.db(), &acct).await?;
        uow.commit(self).await?;
        Ok(status)
    }

    /// A new set of backup codes; the old set stops working in the same commit.
    pub async fn regenerate_backup_codes(
        &self,
        caller: &Caller,
        current: &str,
    ) -> Result<Vec<String>, DomainError> {
        let acct = caller.account().clone();
        if self.confirmed_factors(&self.db, acct.id).await?.is_empty() {
            return Err(DomainError::InvalidInput(
                "backup codes need a second step".into(),
            ));
        }
        self.authorise_change(caller, current).await?;
        let codes = (0..backup::COUNT)
            .map(|_| backup::new_code(self.entropy.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut uow = self.begin(caller.actor()).await?;
        uow.lock_account(acct.id).await?;
        self.replace_backup_codes(uow.db(), acct.id, &codes, uow.now)
            .await?;
        uow.audit(Action::BackupCodesRegenerated, Some(acct.id), json!({}))
            .await?;
        // A change of methods asks every remembered browser for the second step again (M7).
        forget_devices(uow.db(), acct.id, uow.now).await?;
        self.enqueue_two_step_notices(&mut uow, &acct, TwoStepChange::BackupCodesRenewed)
            .await?;
        uow.commit(self).await?;
        Ok(codes)
    }
}

impl Services {
    /// Reset two-step verification (the chart's Portal / API Access widget): for a patient
    /// who lost their phone and their recovery codes, after staff ticked which identity facts
    /// they checked (the same checklist as a desk code). Every method and code goes, every
    /// session ends, every contact is told (a caller pretending to be the patient is found
    /// out at once); with `mfa.patients = required` the next sign-in adds one again.
    pub async fn portal_reset_two_step(
        &self,
        caller: &super::caller::Staff,
        patient_id: i64,
        checks: carekey_shared::staff::IdentityChecks,
    ) -> Result<carekey_shared::staff::PatientChart, DomainError> {
        if !checks.any() {
            return Err(DomainError::InvalidInput("identity_checklist".into()));
        }
        let (p, acct) = self.portal_account(patient_id).await?;
        let mut uow = self.begin(caller.actor()).await?;
        uow.lock_account(acct.id).await?;
        let removed = second_factor::Entity::delete_many()
            .filter(second_factor::Column::AccountId.eq(acct.id))
            .filter(second_factor::Column::ConfirmedAt.is_not_null())
            .exec(uow.db())
            .await?
            .rows_affected;
        backup_code::Entity::delete_many()
            .filter(backup_code::Column::AccountId.eq(acct.id))
            .exec(uow.db())
            .await?;
        let ended =
            sessions::revoke(uow.db(), session::Column::AccountId.eq(acct.id), uow.now).await?;
        uow.audit(
            Action::TwoStepResetByStaff,
            Some(acct.id),
            json!({ "checked": checks.words(), "methods_removed": removed, "sessions_ended": ended }),
        )
        .await?;
        // A change of methods asks every remembered browser for the second step again (M7).
        forget_devices(uow.db(), acct.id, uow.now).await?;
        self.enqueue_two_step_notices(&mut uow, &acct, TwoStepChange::ResetByClinic)
            .await?;
        uow.commit(self).await?;
        self.chart(p.id).await
    }

    /// Demo data only (`carekey demo-data`): an authenticator app with a known key and a known
    /// set of recovery codes, so a person trying CareKey can go through the second step.
    pub(crate) async fn add_demo_two_step(
        &self,
        account_id: i64,
        key: &[u8],
        codes: &[String],
        meta: &super::ClientMeta,
    ) -> Result<(), DomainError> {
        let sealed = self
            .delivery
            .sealer
            .seal(
                &seal_context(account_id),
                &data_encoding::BASE32_NOPAD.encode(key),
            )
            .map_err(|e| DomainError::Internal(format!("seal: {e}")))?;
        let uow = self.begin(super::signin::actor_for(None, meta)).await?;
        second_factor::ActiveModel {
            account_id: Set(account_id),
            kind: Set(second_factor::Kind::Totp),
            name: Set("Demo phone".into()),
            secret: Set(sealed),
            last_step: Set(None),
            confirmed_at: Set(Some(uow.now)),
            created_at: Set(uow.now),
            last_used_at: Set(None),
            ..Default::default()
        }
        .insert(uow.db())
        .await?;
        self.replace_backup_codes(uow.db(), account_id, codes, uow.now)
            .await?;
        uow.audit(
            Action::TwoStepMethodAdded,
            Some(account_id),
            json!({ "kind": second_factor::Kind::Totp, "name": "Demo phone", "demo": true }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
