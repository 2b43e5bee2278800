//! The one way a password is stored, whoever sets it: the person in Settings or at the forced
//! change, a recovery reset, or staff (Admin > Users, the chart's Portal / API Access).
//!
//! Inside the caller's unit of work, and only with writes that state what they expect to find
//! (ARCHITECTURE.md principle 8), so two racing changes can never both win:
//! - the credential is replaced `WHERE phc = :current`: of two changes typed with the same
//!   current password exactly one commits, and one history row is written;
//! - the person's own change re-checks its session inside the transaction: a reset that ended
//!   that session wins, and the change answers "not signed in";
//! - the account is updated `WHERE status <> 'disabled'` where it must be usable, and a lock is
//!   lifted with `CASE WHEN status = 'locked'`, so a reset never turns a disabled account on.
//!
//! Then, in the same transaction: other sessions end, outstanding codes and links are
//! superseded (SECURITY.md R5) and every contact on file is told (R9).

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::delivery::outbound::PasswordChange;
use crate::domain::uow::Uow;
use crate::domain::{DomainError, Services, challenges, sessions};
use crate::store::entities::{account, password_credential, password_history, session};
use carekey_i18n::Lang;

/// Who is setting the password, which decides what else changes with it.
#[derive(Debug, Clone)]
pub enum SetBy {
    /// The person, signed in, who typed their current password: it was verified against
    /// `verified_phc`, and `session_id` stays signed in while every other session ends.
    Owner {
        session_id: i64,
        verified_phc: String,
    },
    /// A recovery reset (a proved code or link): every session ends, any lock is lifted, and a
    /// disabled account stays refused. `asked`: the language of the page the reset was made on,
    /// for the notice when the account has none on file.
    Recovery { asked: Option<Lang> },
    /// Staff set a temporary password: every session ends, any lock is lifted, the change is
    /// forced at next sign-in.
    Staff,
}

/// What `set_password` found and did, for the caller's audit row.
#[derive(Debug, Clone)]
pub struct PasswordSet {
    pub account: account::Model,
    pub lock_cleared: bool,
}

impl Services {
    /// Stores `phc` (already checked and hashed, before the unit of work opened) as the
    /// account's password. The notice to the contacts on file says who set it, from `by`.
    pub(crate) async fn set_password(
        &self,
        uow: &mut Uow,
        account_id: i64,
        phc: String,
        by: SetBy,
    ) -> Result<PasswordSet, DomainError> {
        let now = uow.now;
        uow.lock_account(account_id).await?;
        // The person's own session must still be open now, inside the transaction: a reset
        // or "sign out everywhere" that committed while we were hashing has ended it.
        if let SetBy::Owner { session_id, .. } = &by {
            let alive = session::Entity::update_many()
                .col_expr(session::Column::LastSeenAt, Expr::value(now))
                .filter(session::Column::Id.eq(*session_id))
                .filter(session::Column::AccountId.eq(account_id))
                .filter(session::Column::RevokedAt.is_null())
                .exec(uow.db())
                .await?;
            if alive.rows_affected != 1 {
                return Err(DomainError::NotSignedIn);
            }
        }

        let current = password_credential::Entity::find_by_id(account_id)
            .one(uow.db())
            .await?;
        if let SetBy::Owner { verified_phc, .. } = &by
            && current.as_ref().map(|c| &c.phc) != Some(verified_phc)
        {
            // Another change landed since the current password was checked: the password
            // this person typed is no longer the current one.
            return Err(DomainError::CurrentPasswordIncorrect);
        }
        match current {
            Some(cur) => {
                let replaced = password_credential::Entity::update_many()
                    .col_expr(password_credential::Column::Phc, Expr::value(phc))
                    .col_expr(password_credential::Column::CreatedAt, Expr::value(now))
                    .filter(password_credential::Column::AccountId.eq(account_id))
                    .filter(password_credential::Column::Phc.eq(cur.phc.clone()))
                    .exec(uow.db())
                    .await?;
                if replaced.rows_affected != 1 {
                    return Err(match by {
                        SetBy::Owner { .. } => DomainError::CurrentPasswordIncorrect,
                        _ => DomainError::Conflict,
                    });
                }
                password_history::ActiveModel {
                    account_id: Set(account_id),
                    phc: Set(cur.phc),
                    created_at: Set(cur.created_at),
                    ..Default::default()
                }
                .insert(uow.db())
                .await?;
            }
            // An account waiting for activation has no password yet; the primary key refuses a
            // second insert if two activations race.
            None => {
                password_credential::ActiveModel {
                    account_id: Set(account_id),
                    phc: Set(phc),
                    created_at: Set(now),
                }
                .insert(uow.db())
                .await
                .map_err(|e| match e.sql_err() {
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => DomainError::Conflict,
                    _ => DomainError::Database(e),
                })?;
            }
        }

        let before = account::Entity::find_by_id(account_id)
            .one(uow.db())
            .await?
            .ok_or_else(|| DomainError::NotFound("account".into()))?;
        let lock_cleared = before.status == account::Status::Locked
            || before.locked_until.is_some_and(|t| t > now);
        let mut update = account::Entity::update_many()
            .col_expr(
                account::Column::MustChangePassword,
                Expr::value(matches!(by, SetBy::Staff)),
            )
            .col_expr(account::Column::UpdatedAt, Expr::value(now))
            .filter(account::Column::Id.eq(account_id));
        if !matches!(by, SetBy::Owner { .. }) {
            // A reset is the way out a lock message points to; it lifts every kind of lock
            // but never re-enables an account someone turned off.
            update = update
                .col_expr(account::Column::FailedSignIns, Expr::value(0))
                .col_expr(
                    account::Column::LockedUntil,
                    Expr::value(Option::<i64>::None),
                )
                .col_expr(
                    account::Column::LockReason,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    account::Column::Status,
                    Expr::case(
                        account::Column::Status.eq(account::Status::Locked),
                        account::Status::Active,
                    )
                    .finally(Expr::col(account::Column::Status))
                    .into(),
                );
        }
        if !matches!(by, SetBy::Staff) {
            update = update.filter(account::Column::Status.ne(account::Status::Disabled));
        }
        if update.exec(uow.db()).await?.rows_affected != 1 {
            return Err(match by {
                SetBy::Owner { .. } => DomainError::NotSignedIn,
                _ => DomainError::CodeRejected(carekey_shared::CodeProblem::NotAccepted),
            });
        }
        let account = account::Entity::find_by_id(account_id)
            .one(uow.db())
            .await?
            .ok_or_else(|| DomainError::NotFound("account".into()))?;

        match &by {
            SetBy::Owner { session_id, .. } => {
                sessions::revoke_others(uow.db(), account_id, *session_id, now).await?;
            }
            SetBy::Recovery { .. } | SetBy::Staff => {
                sessions::revoke(uow.db(), session::Column::AccountId.eq(account_id), now).await?;
            }
        }
        // A remembered browser stood in for the second step alongside the old password: a new
        // password asks for the second step again everywhere (SECURITY.md M7).
        crate::domain::twostep::forget_devices(uow.db(), account_id, now).await?;
        challenges::supersede(uow.db(), account_id, challenges::OUTSTANDING, now).await?;
        let contacts = self.contacts_of(uow.db(), &account).await?;
        let how = match &by {
            SetBy::Owner { .. } => PasswordChange::ByOwner,
            SetBy::Recovery { .. } => PasswordChange::Reset,
            SetBy::Staff => PasswordChange::ResetByClinic,
        };
        let asked = match by {
            SetBy::Recovery { asked } => asked,
            SetBy::Owner { .. } | SetBy::Staff => None,
        };
        self.enqueue_password_notices(uow, &account, &contacts, how, asked)
            .await?;
        Ok(PasswordSet {
            account,
            lock_cleared,
        })
    }
}
