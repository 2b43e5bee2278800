//! Unlock a paused or locked portal account, with the lock's reason shown first.

use carekey_shared::staff::PatientChart;
use serde_json::json;

use crate::domain::caller::Staff;
use crate::domain::{DomainError, Services};

use super::clear_lock;
use crate::store::entities::audit_log::Action;

impl Services {
    /// Unlock: clears a hard lock and a temporary pause, and the failure count.
    pub async fn portal_unlock(
        &self,
        caller: &Staff,
        patient_id: i64,
    ) -> Result<PatientChart, DomainError> {
        let (p, acct) = self.portal_account(patient_id).await?;
        let uow = self.begin(caller.actor()).await?;
        clear_lock(uow.db(), &acct, acct.must_change_password, uow.now).await?;
        uow.audit(
            Action::AccountUnlocked,
            Some(acct.id),
            json!({
                "was": acct.lock_reason,
                "failures": acct.failed_sign_ins,
            }),
        )
        .await?;
        uow.commit(self).await?;
        self.chart(p.id).await
    }
}
