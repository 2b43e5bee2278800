//! The person's own password change (Settings, staff "Change Password", the forced change):
//! the current password is required and a wrong one counts toward lockout (SECURITY.md P9).

use carekey_shared::SessionInfo;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::domain::caller::Caller;
use crate::domain::credentials::SetBy;
use crate::domain::signin::{Attempt, actor_for, sessions};
use crate::domain::{ClientMeta, DomainError, Services};
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, password_credential};

impl Services {
    /// Changes the signed-in account's own password (Settings, staff "Change Password", and the
    /// forced change after a staff reset). The current password is required (ASVS 6.2.3) and a
    /// wrong one counts toward lockout (SECURITY.md P9), except in the forced change within
    /// minutes of the sign-in that proved the temporary password (`TEMPORARY_PASSWORD_PROOF`).
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
        repeat: &str,
    ) -> Result<SessionInfo, DomainError> {
        let meta = caller.meta();
        let acct = caller.account().clone();
        let forced = acct.must_change_password;
        if new != repeat {
            return Err(DomainError::PasswordsDiffer);
        }
        let stored = match self.proved_at_sign_in(caller, current).await? {
            Some(stored) => {
                self.check_new_password(&acct, new, None).await?;
                stored
            }
            // Nothing typed is no guess at the password: refused, not counted toward lockout.
            None if current.is_empty() => return Err(DomainError::CurrentPasswordIncorrect),
            None => {
                self.check_new_password(&acct, new, Some(current)).await?;
                self.confirm_current_password(&acct, current, meta)
                    .await?
                    .ok_or(DomainError::CurrentPasswordIncorrect)?
            }
        };
        let phc = self.hash_unless_recent(acct.id, Some(&stored), new).await?;
        let mut uow = self.begin(actor_for(Some(&acct), meta)).await?;
        let set = self
            .set_password(
                &mut uow,
                acct.id,
                phc,
                SetBy::Owner {
                    session_id: caller.session().id,
                    verified_phc: stored.phc,
                },
            )
            .await?;
        uow.audit(
            Action::PasswordChanged,
            Some(acct.id),
            json!({ "forced": forced }),
        )
        .await?;
        let now = uow.now;
        uow.commit(self).await?;
        let acct = set.account;
        Ok(self.session_info(&acct, caller.session(), now))
    }

    /// The forced change with no temporary password typed: the credential this session's
    /// sign-in proved, if that was minutes ago and it is still the one on file. Only the forced
    /// change leans on the sign-in; a change in Settings always asks (ASVS 6.2.3).
    async fn proved_at_sign_in(
        &self,
        caller: &Caller,
        current: &str,
    ) -> Result<Option<password_credential::Model>, DomainError> {
        let acct = caller.account();
        let proved_at = caller.session().password_proved_at;
        if !acct.must_change_password
            || !current.is_empty()
            || sessions::proof_left(proved_at, self.now()) == 0
        {
            return Ok(None);
        }
        let stored = password_credential::Entity::find_by_id(acct.id)
            .one(&self.db)
            .await?
            .filter(|c| proved_at.is_some_and(|at| at >= c.created_at));
        Ok(stored)
    }

    /// Checks the current password typed to authorise a change; a wrong one counts toward
    /// lockout (SECURITY.md P9), and a paused account cannot keep guessing through a session.
    pub(crate) async fn confirm_current_password(
        &self,
        acct: &account::Model,
        current: &str,
        meta: &ClientMeta,
    ) -> Result<Option<password_credential::Model>, DomainError> {
        if crate::domain::lockout::is_locked(acct.status, acct.locked_until, self.now()) {
            return Err(DomainError::CurrentPasswordIncorrect);
        }
        let stored = password_credential::Entity::find_by_id(acct.id)
            .one(&self.db)
            .await?;
        let ok = self
            .hasher
            .verify(
                carekey_shared::policy::normalize(current),
                stored.as_ref().map(|c| c.phc.clone()),
            )
            .await?
            .ok;
        if !ok {
            self.record_failure(
                Some(acct),
                "wrong_password",
                Attempt::PasswordChange,
                meta,
                self.now(),
            )
            .await?;
            return Err(DomainError::CurrentPasswordIncorrect);
        }
        Ok(stored)
    }
}
