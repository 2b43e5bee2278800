//! Codes staff issue (at the desk, on the phone, in an activation letter) and resets they send
//! to a contact on file; the patient finishes on their own recovery page.

use carekey_shared::RecoveryChannel;
use carekey_shared::staff::{DeskCode, IdentityChecks, SentToPatient};
use serde_json::json;

use crate::domain::caller::Staff;
use crate::domain::challenges::{self, NewChallenge};
use crate::domain::recovery::Asker;
use crate::domain::uow::Uow;
use crate::domain::{DomainError, Services, secrets};
use crate::store::entities::{account, contact};

use super::masked;
use crate::store::entities::audit_log::Action;

impl Services {
    /// A code for the patient to choose their own password with, through the recovery page's
    /// "I have a code from the clinic". Good for `recovery.staff_code_hours` (R4: 24 h), once;
    /// replaces any code or link outstanding. The checklist of identity facts staff checked
    /// is stored with the challenge and the audit row, in the caller's unit of work.
    pub(crate) async fn insert_staff_code(
        &self,
        uow: &Uow,
        acct: &account::Model,
        how: &str,
        checks: &IdentityChecks,
    ) -> Result<DeskCode, DomainError> {
        let now = uow.now;
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let code = secrets::new_code(self.entropy.as_ref())?;
        let tag = challenges::code_tag(
            &self.key,
            acct.id,
            challenges::Purpose::StaffCode,
            &reference,
            &code,
        );
        let checklist = json!(checks.words()).to_string();
        challenges::supersede(uow.db(), acct.id, challenges::OUTSTANDING, now).await?;
        let row = challenges::insert(
            uow.db(),
            NewChallenge {
                account_id: acct.id,
                purpose: challenges::Purpose::StaffCode,
                channel: how,
                contact_id: None,
                secret_hmac: tag,
                reference: &reference,
                ttl: self.cfg.recovery.staff_code_ttl,
                issued_by: uow.actor().account_id,
                checklist: Some(checklist),
                pending_value: None,
                flow_tag: None,
            },
            now,
        )
        .await?;
        uow.audit(
            if how == "letter" {
                Action::ActivationCodeIssued
            } else {
                Action::DeskCodeIssued
            },
            Some(acct.id),
            json!({ "checked": checks.words(), "expires_at": row.expires_at }),
        )
        .await?;
        Ok(DeskCode {
            username: acct.username.clone(),
            code,
            expires_at_ms: row.expires_at,
        })
    }

    /// Generate one-time code, for a patient on the phone or at the desk, after staff ticked
    /// which identity facts they checked. Shown once.
    pub async fn portal_desk_code(
        &self,
        caller: &Staff,
        patient_id: i64,
        checks: IdentityChecks,
    ) -> Result<DeskCode, DomainError> {
        if !checks.any() {
            return Err(DomainError::InvalidInput("identity_checklist".into()));
        }
        let (_, acct) = self.portal_account(patient_id).await?;
        let uow = self.begin(caller.actor()).await?;
        let code = self.insert_staff_code(&uow, &acct, "desk", &checks).await?;
        uow.commit(self).await?;
        Ok(code)
    }

    /// Send reset link / send code to a contact on file; the patient continues on their own
    /// device. The same send limits as self-service apply (A2).
    pub async fn portal_send_reset(
        &self,
        caller: &Staff,
        patient_id: i64,
        channel: RecoveryChannel,
    ) -> Result<SentToPatient, DomainError> {
        let (_, acct) = self.portal_account(patient_id).await?;
        let contacts = self.contacts_of(&self.db, &acct).await?;
        let c = self
            .contact_for(&contacts, channel)
            .filter(|c| c.kind != contact::Kind::Phone || self.phone_allowed(&c.value_norm))
            .ok_or(DomainError::ContactInvalid)?;
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let mut uow = self.begin(caller.actor()).await?;
        if self.over_send_limits_to(&uow, acct.id, &c).await? {
            return Err(DomainError::TooManyMessages);
        }
        let message_id = self
            .issue_reset(&mut uow, &acct, &c, channel, &reference, Asker::Clinic)
            .await?;
        uow.audit(
            Action::StaffSentReset,
            Some(acct.id),
            json!({ "channel": channel.as_str(), "reference": reference }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(SentToPatient {
            channel,
            to: masked(&c.value),
            message_id,
        })
    }
}
