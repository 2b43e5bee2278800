//! Settings > Two-step verification: add, list and remove methods, recovery codes, remembered
//! browsers (SECURITY.md M1, M7).

use carekey_shared::{AuthenticatorSetup, TwoStepChanged, TwoStepStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::{NAME_MAX_CHARS, forget_devices, seal_context, totp};
use crate::config::MfaPolicy;
use crate::delivery::outbound::TwoStepChange;
use crate::domain::caller::Caller;
use crate::domain::signin::sessions;
use crate::domain::{DomainError, Services};
use crate::store::entities::audit_log::Action;
use crate::store::entities::session::Stage;
use crate::store::entities::{backup_code, remembered_device, second_factor, session};

impl Services {
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
        super::drop_unconfirmed(uow.db(), acct.id).await?;
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
    pub(super) async fn authorise_change(
        &self,
        caller: &Caller,
        current: &str,
    ) -> Result<(), DomainError> {
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
        let new_codes = self.new_backup_codes()?;
        let uow = self.begin(caller.actor()).await?;
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
        self.method_added(uow, caller, &acct, &row, TwoStepChange::AppAdded, new_codes)
            .await
    }

    /// The rest of adding a method, in its unit of work: the first backup codes, the end of a
    /// required enrolment, the audit row, remembered browsers forgotten, every contact told.
    pub(super) async fn method_added(
        &self,
        mut uow: crate::domain::uow::Uow,
        caller: &Caller,
        acct: &crate::store::entities::account::Model,
        row: &second_factor::Model,
        change: TwoStepChange,
        new_codes: Vec<String>,
    ) -> Result<TwoStepChanged, DomainError> {
        let now = uow.now;
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
        self.enqueue_two_step_notices(&mut uow, acct, change)
            .await?;
        let status = self.status_of(uow.db(), acct).await?;
        uow.commit(self).await?;
        Ok(TwoStepChanged {
            status,
            backup_codes,
            session: self.session_info(acct, &s, now),
        })
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
        let change = match row.kind {
            second_factor::Kind::Totp => TwoStepChange::AppRemoved,
            second_factor::Kind::Passkey => TwoStepChange::PasskeyRemoved,
            second_factor::Kind::SentCode => TwoStepChange::SentCodeRemoved,
        };
        self.enqueue_two_step_notices(&mut uow, &acct, change)
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
        let codes = self.new_backup_codes()?;
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
