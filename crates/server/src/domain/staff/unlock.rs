//! Unlock a paused or locked portal account, with the lock's reason shown first.

use carekey_shared::staff::PatientChart;
use sea_orm::TransactionTrait;
use serde_json::json;

use crate::domain::audit::{self, Event};
use crate::domain::caller::Staff;
use crate::domain::signin::actor_for;
use crate::domain::{DomainError, Services};

use super::clear_lock;

impl Services {
    /// Unlock: clears a hard lock and a temporary pause, and the failure count.
    pub async fn portal_unlock(
        &self,
        caller: &Staff,
        patient_id: i64,
    ) -> Result<PatientChart, DomainError> {
        let meta = caller.meta();
        let staff = caller.account().clone();
        let (p, acct) = self.portal_account(patient_id).await?;
        let now = self.now();
        let txn = self.db.begin().await?;
        clear_lock(&txn, &acct, acct.must_change_password, now).await?;
        audit::append(
            &txn,
            now,
            &actor_for(Some(&staff), meta),
            Event {
                action: "account_unlocked",
                target: Some(acct.id),
                details: json!({
                    "was": acct.lock_reason,
                    "failures": acct.failed_sign_ins,
                }),
            },
        )
        .await?;
        txn.commit().await?;
        self.chart(p.id).await
    }
}
