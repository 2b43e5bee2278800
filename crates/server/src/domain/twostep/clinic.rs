//! What the clinic does: reset two-step verification from the chart, and the demo's methods.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::{forget_devices, seal_context};
use crate::delivery::outbound::TwoStepChange;
use crate::domain::signin::sessions;
use crate::domain::uow::Uow;
use crate::domain::{DomainError, Services};
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, backup_code, second_factor, session};

impl Services {
    /// Reset two-step verification (the chart's Portal / API Access widget): for a patient
    /// who lost their phone and their recovery codes, after staff ticked which identity facts
    /// they checked (the same checklist as a desk code). Every method and code goes, every
    /// session ends, every contact is told (a caller pretending to be the patient is found
    /// out at once); with `mfa.patients = required` the next sign-in adds one again.
    pub async fn portal_reset_two_step(
        &self,
        caller: &crate::domain::caller::Staff,
        patient_id: i64,
        checks: carekey_shared::staff::IdentityChecks,
    ) -> Result<carekey_shared::staff::PatientChart, DomainError> {
        if !checks.any() {
            return Err(DomainError::InvalidInput("identity_checklist".into()));
        }
        let (p, acct) = self.portal_account(patient_id).await?;
        let mut uow = self.begin(caller.actor()).await?;
        self.clear_two_step(&mut uow, &acct, json!({ "checked": checks.words() }))
            .await?;
        uow.commit(self).await?;
        self.chart(p.id).await
    }

    /// The clinic's reset of an account's two-step verification, in the caller's unit of
    /// work: every method and recovery code removed, every session ended, remembered browsers
    /// forgotten, every contact told, one audit row (`details` says what authorised it).
    pub(crate) async fn clear_two_step(
        &self,
        uow: &mut Uow,
        acct: &account::Model,
        mut details: serde_json::Value,
    ) -> Result<(), DomainError> {
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
        details["methods_removed"] = json!(removed);
        details["sessions_ended"] = json!(ended);
        uow.audit(Action::TwoStepResetByStaff, Some(acct.id), details)
            .await?;
        // A change of methods asks every remembered browser for the second step again (M7).
        forget_devices(uow.db(), acct.id, uow.now).await?;
        self.enqueue_two_step_notices(uow, acct, TwoStepChange::ResetByClinic)
            .await
    }

    /// Demo data only (`carekey demo-data`): an authenticator app with a known key and a known
    /// set of recovery codes, so a person trying CareKey can go through the second step.
    pub(crate) async fn add_demo_two_step(
        &self,
        account_id: i64,
        key: &[u8],
        codes: &[String],
        meta: &crate::domain::ClientMeta,
    ) -> Result<(), DomainError> {
        let sealed = self
            .delivery
            .sealer
            .seal(
                &seal_context(account_id),
                &data_encoding::BASE32_NOPAD.encode(key),
            )
            .map_err(|e| DomainError::Internal(format!("seal: {e}")))?;
        let uow = self
            .begin(crate::domain::signin::actor_for(None, meta))
            .await?;
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
