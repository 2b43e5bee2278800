//! The second step of a sign-in whose password was right (SECURITY.md M2, M5, M7).

use carekey_shared::{SecondStepMethod, SecondStepOffer};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use std::time::Duration;

use super::{Proof, backup, device_tag, totp};
use crate::delivery::outbound::TwoStepChange;
use crate::domain::caller::Caller;
use crate::domain::signin::{Attempt, NewSession, sessions};
use crate::domain::{DomainError, Services, challenges, lockout};
use crate::store::entities::audit_log::Action;
use crate::store::entities::session::Stage;
use crate::store::entities::{account, backup_code, remembered_device, second_factor, session};
use crate::telemetry::names;

impl Services {
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
        let now = self.now();
        self.may_answer(&acct, now).await?;
        let proof = match method {
            SecondStepMethod::AuthenticatorApp => {
                let mut found = None;
                for f in self.confirmed_factors(&self.db, acct.id).await? {
                    if f.kind != second_factor::Kind::Totp {
                        continue;
                    }
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
            SecondStepMethod::SentCode => self.sent_code_proof(&acct, code).await?,
            // A passkey's answer is no typed code: it comes through its own call.
            SecondStepMethod::Passkey => {
                return Err(DomainError::InvalidInput(
                    "a passkey answers through verify_second_step_passkey".into(),
                ));
            }
        };
        self.pass_second_step(caller, method, proof, remember).await
    }

    /// The second step answered with a passkey (a ceremony from `second_step_passkey_options`).
    /// A passkey that does not check out counts like a wrong code (M5).
    pub async fn verify_second_step_passkey(
        &self,
        caller: &Caller,
        ceremony: &str,
        answer: &str,
        remember: bool,
    ) -> Result<NewSession, DomainError> {
        let acct = caller.account().clone();
        self.may_answer(&acct, self.now()).await?;
        let proof = self.passkey_proof(acct.id, ceremony, answer).await?;
        self.pass_second_step(caller, SecondStepMethod::Passkey, proof, remember)
            .await
    }

    /// A half-done sign-in of an account paused or disabled meanwhile ends here.
    pub(super) async fn may_answer(
        &self,
        acct: &account::Model,
        now: i64,
    ) -> Result<(), DomainError> {
        if acct.status != account::Status::Active
            || lockout::is_locked(acct.status, acct.locked_until, now)
        {
            self.end_pending_sign_ins(acct.id).await?;
            return Err(DomainError::SecondStepFailed);
        }
        Ok(())
    }

    /// Spends the proof and opens the session, or counts the failure, in one unit of work.
    async fn pass_second_step(
        &self,
        caller: &Caller,
        method: SecondStepMethod,
        proof: Option<Proof>,
        remember: bool,
    ) -> Result<NewSession, DomainError> {
        let acct = caller.account().clone();
        let pending = caller.session().clone();
        let meta = caller.meta().clone();
        let token = sessions::new_token(self.entropy.as_ref())?;
        let device = if remember && self.cfg.mfa.remember > Duration::ZERO {
            Some(crate::domain::secrets::new_token(self.entropy.as_ref())?)
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
            Some(Proof::Passkey { factor_id, updated }) => {
                self.spend_passkey(txn, *factor_id, updated.clone(), now)
                    .await?
            }
            Some(Proof::Sent {
                challenge_id,
                factor_id,
            }) => {
                challenges::consume(txn, *challenge_id, now).await?
                    && second_factor::Entity::update_many()
                        .col_expr(second_factor::Column::LastUsedAt, Expr::value(now))
                        .filter(second_factor::Column::Id.eq(*factor_id))
                        .filter(second_factor::Column::ConfirmedAt.is_not_null())
                        .exec(txn)
                        .await?
                        .rows_affected
                        == 1
            }
            None => false,
        };
        // The sign-in succeeds only if the account is still active and unpaused as it commits.
        let opened = spent && crate::domain::signin::open_sign_in(txn, acct.id, true, now).await?;
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
        let s = sessions::insert(
            txn,
            acct.id,
            &token,
            Stage::Full,
            pending.password_proved_at,
            &meta,
            now,
        )
        .await?;
        let how = match method {
            SecondStepMethod::AuthenticatorApp => "authenticator_app",
            SecondStepMethod::BackupCode => "backup_code",
            SecondStepMethod::Passkey => "passkey",
            SecondStepMethod::SentCode => "sent_code",
        };
        uow.audit(
            Action::SecondStepPassed,
            Some(acct.id),
            json!({ "method": how }),
        )
        .await?;
        let left = match method {
            SecondStepMethod::BackupCode => Some(self.backup_codes_left(txn, acct.id).await?),
            SecondStepMethod::AuthenticatorApp
            | SecondStepMethod::Passkey
            | SecondStepMethod::SentCode => None,
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
}
