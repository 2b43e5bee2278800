//! Settings > Manage Login Credentials: a new username, unique whatever the capitalisation.

use carekey_shared::SessionInfo;
use sea_orm::{ActiveModelTrait, Set, SqlErr};
use serde_json::json;

use crate::domain::accounts::valid_username;
use crate::domain::caller::Caller;
use crate::domain::sessions;
use crate::domain::{DomainError, Services};
use crate::store::entities::account;
use crate::store::entities::audit_log::Action;

impl Services {
    /// Settings > Manage Login Credentials: a new username. Unique whatever the capitalisation
    /// (the unique index on `username_lower` decides, so two people racing for one name cannot
    /// both get it); every contact on file hears about it.
    pub async fn change_username(
        &self,
        caller: &Caller,
        current: &str,
        new_username: &str,
    ) -> Result<SessionInfo, DomainError> {
        let meta = caller.meta();
        let acct = caller.account().clone();
        let new_username = new_username.trim();
        if !valid_username(new_username) {
            return Err(DomainError::UsernameInvalid);
        }
        self.confirm_current_password(&acct, current, meta).await?;
        let mut uow = self.begin(caller.actor()).await?;
        let now = uow.now;
        // Read in the unit of work: a contact changed a moment ago is the one to tell.
        let contacts = self.contacts_of(uow.db(), &acct).await?;
        let mut am: account::ActiveModel = acct.clone().into();
        am.username = Set(new_username.to_owned());
        am.username_lower = Set(new_username.to_lowercase());
        am.updated_at = Set(now);
        let updated = am.update(uow.db()).await.map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => DomainError::UsernameTaken,
            _ => DomainError::Database(e),
        })?;
        self.enqueue_username_notices(&mut uow, &updated, &contacts)
            .await?;
        // After any change to how the account signs in, the other sessions end.
        sessions::revoke_others(uow.db(), acct.id, caller.session().id, now).await?;
        uow.audit(
            Action::UsernameChanged,
            Some(acct.id),
            json!({ "from": acct.username, "to": updated.username }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(self.session_info(&updated, caller.session(), now))
    }
}
