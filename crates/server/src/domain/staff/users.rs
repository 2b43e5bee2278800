//! Admin > Users (administrators only): find, reset with the administrator's own password as
//! the check, create, turn off or on, change role.

use carekey_shared::staff::{NewStaffUser, StaffRole, StaffUser};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::json;

use crate::domain::accounts::NewAccount;
use crate::domain::caller::Admin;
use crate::domain::credentials::SetBy;
use crate::domain::signin::actor_for;
use crate::domain::{ClientMeta, DomainError, Services, sessions};
use crate::store::entities::{account, password_credential, session};

use super::{SEARCH_LIMIT, like_pattern, lower_like, role_kind, staff_user};
use crate::store::entities::audit_log::Action;

impl Services {
    pub async fn staff_users(
        &self,
        _caller: &Admin,
        query: &str,
    ) -> Result<Vec<StaffUser>, DomainError> {
        let now = self.now();
        let q = query.trim().to_lowercase();
        let mut cond = Condition::any()
            .add(account::Column::Kind.eq(account::Kind::Staff))
            .add(account::Column::Kind.eq(account::Kind::Admin));
        if !q.is_empty() {
            let pattern = like_pattern(&q);
            cond = Condition::all().add(cond).add(
                Condition::any()
                    .add(lower_like(account::Column::Username, &pattern))
                    .add(lower_like(account::Column::DisplayName, &pattern)),
            );
        }
        let rows = account::Entity::find()
            .filter(cond)
            .order_by_asc(account::Column::UsernameLower)
            .limit(SEARCH_LIMIT)
            .all(&self.db)
            .await?;
        Ok(rows.iter().map(|a| staff_user(a, now)).collect())
    }

    /// Admin > Users > reset: the administrator types the user's new password and, as the
    /// seed's security check, their own. A wrong own password is refused and counts toward the
    /// administrator's lockout (P9). The user's sessions end and they must choose their own
    /// password at next sign-in.
    pub async fn admin_reset_password(
        &self,
        caller: &Admin,
        user_id: i64,
        new: &str,
        repeat: &str,
        your_password: &str,
    ) -> Result<StaffUser, DomainError> {
        let meta = caller.meta();
        let admin = caller.account().clone();
        let target = self.staff_target(user_id).await?;
        if target.id == admin.id {
            // Their own password is changed with the current one, from the user menu.
            return Err(DomainError::Forbidden);
        }
        if new != repeat {
            return Err(DomainError::PasswordsDiffer);
        }
        self.confirm_current_password(&admin, your_password, meta)
            .await?;
        let updated = self
            .set_temporary_password(&admin, &target, new, Action::StaffPasswordReset, meta)
            .await?;
        Ok(staff_user(&updated, self.now()))
    }

    /// Admin > Users > Reset two-step verification (issue 12): for a member of staff who lost
    /// their phone and their recovery codes. The administrator types their own password as the
    /// check, as for a password reset; the user's methods and codes go, their sessions end,
    /// every contact is told, and with `mfa.staff = required` their next sign-in adds one.
    pub async fn admin_reset_two_step(
        &self,
        caller: &Admin,
        user_id: i64,
        your_password: &str,
    ) -> Result<StaffUser, DomainError> {
        let admin = caller.account().clone();
        let target = self.staff_target(user_id).await?;
        if target.id == admin.id {
            // Their own methods are changed in Settings > Two-step verification.
            return Err(DomainError::Forbidden);
        }
        self.confirm_current_password(&admin, your_password, caller.meta())
            .await?;
        let mut uow = self.begin(actor_for(Some(&admin), caller.meta())).await?;
        self.clear_two_step(
            &mut uow,
            &target,
            json!({ "checked": ["administrator_password"] }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(staff_user(&target, self.now()))
    }

    /// Checks `new` against the policy for `target` and stores it as a temporary password
    /// (change forced at next sign-in) through the one `set_password`; audited as `action` by
    /// `by`. The hash is made before the unit of work opens.
    pub(crate) async fn set_temporary_password(
        &self,
        by: &account::Model,
        target: &account::Model,
        new: &str,
        action: Action,
        meta: &ClientMeta,
    ) -> Result<account::Model, DomainError> {
        self.check_new_password(target, new, None).await?;
        let phc = self.hash_for(target.id, new).await?;
        let mut uow = self.begin(actor_for(Some(by), meta)).await?;
        let set = self
            .set_password(&mut uow, target.id, phc, SetBy::Staff)
            .await?;
        uow.audit(
            action,
            Some(target.id),
            json!({ "must_change_password": true }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(set.account)
    }

    /// The hash to store for `new` on this account (none yet for an account waiting for
    /// activation), unless it is one of its recent passwords (P5). Read-only and slow: before
    /// any unit of work opens.
    pub(crate) async fn hash_for(&self, account_id: i64, new: &str) -> Result<String, DomainError> {
        let stored = password_credential::Entity::find_by_id(account_id)
            .one(&self.db)
            .await?;
        self.hash_unless_recent(account_id, stored.as_ref(), new)
            .await
    }

    /// Admin > Users > New user, with a first password the administrator hands over (change
    /// forced at first sign-in).
    pub async fn create_staff_user(
        &self,
        caller: &Admin,
        n: NewStaffUser,
        password: &str,
    ) -> Result<StaffUser, DomainError> {
        let meta = caller.meta();
        let admin = caller.account().clone();
        let display_name = n.display_name.trim().to_owned();
        if display_name.is_empty() || display_name.chars().count() > 100 {
            return Err(DomainError::InvalidInput("display name".into()));
        }
        let created = self
            .create_account(
                NewAccount {
                    kind: role_kind(n.role),
                    username: n.username.trim().to_owned(),
                    display_name,
                    patient_id: None,
                    email: None,
                    must_change_password: true,
                },
                password,
                Some(&admin),
                meta,
            )
            .await?;
        Ok(staff_user(&created, self.now()))
    }

    /// Disable or enable a staff user. Disabling ends their sessions at once.
    pub async fn set_staff_enabled(
        &self,
        caller: &Admin,
        user_id: i64,
        enabled: bool,
    ) -> Result<StaffUser, DomainError> {
        let action = if enabled {
            Action::StaffUserEnabled
        } else {
            Action::StaffUserDisabled
        };
        self.change_staff_user(caller, user_id, action, !enabled, |_, am| {
            am.status = Set(if enabled {
                account::Status::Active
            } else {
                account::Status::Disabled
            });
            am.lock_reason = Set(None);
            am.locked_until = Set(None);
            am.failed_sign_ins = Set(0);
            json!({})
        })
        .await
    }

    pub async fn set_staff_role(
        &self,
        caller: &Admin,
        user_id: i64,
        role: StaffRole,
    ) -> Result<StaffUser, DomainError> {
        self.change_staff_user(caller, user_id, Action::StaffRoleChanged, false, |t, am| {
            am.kind = Set(role_kind(role));
            json!({ "from": t.kind, "to": role_kind(role) })
        })
        .await
    }

    /// An administrator's change to another staff user and its audit row, in one transaction.
    /// `apply` edits the row and answers the audit detail. Nobody changes their own account
    /// here, so an administrator cannot turn themselves off or remove the last admin by
    /// accident.
    pub(crate) async fn change_staff_user(
        &self,
        caller: &Admin,
        user_id: i64,
        action: Action,
        end_sessions: bool,
        apply: impl FnOnce(&account::Model, &mut account::ActiveModel) -> serde_json::Value,
    ) -> Result<StaffUser, DomainError> {
        let admin = caller.account().clone();
        let target = self.staff_target(user_id).await?;
        if target.id == admin.id {
            return Err(DomainError::Forbidden);
        }
        let uow = self.begin(caller.actor()).await?;
        let now = uow.now;
        let mut am: account::ActiveModel = target.clone().into();
        let details = apply(&target, &mut am);
        am.updated_at = Set(now);
        let updated = am.update(uow.db()).await?;
        if end_sessions {
            sessions::revoke(uow.db(), session::Column::AccountId.eq(target.id), now).await?;
        }
        uow.audit(action, Some(target.id), details).await?;
        uow.commit(self).await?;
        Ok(staff_user(&updated, now))
    }
}
