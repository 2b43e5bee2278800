//! "This wasn't me" (issue 12 item 5, SECURITY.md M8; 63B-4 §4.6, ASVS V6.3.7). Every security
//! notice carries a link; opening it changes nothing (mail scanners open links, R7), and its
//! Continue ends every session, forgets remembered browsers, voids every code and link on its
//! way, pauses self-service recovery for a day, locks sign-in, and flags the account for the
//! clinic. The lock matters: whoever made the change may hold the new password or a passkey
//! they added, and ending their session alone would let them straight back in. The person is
//! told to call the clinic: the clinic's own reset, after its identity checks, is the way back
//! in (it lifts the lock); after the pause, so is a reset of their own.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use crate::domain::caller::Staff;
use crate::domain::challenges::{self, Purpose};
use crate::domain::limits::{self, DAY};
use crate::domain::secrets::{self, ServerKey};
use crate::domain::signin::actor_for;
use crate::domain::uow::Uow;
use crate::domain::{ClientMeta, DomainError, Services, sessions, twostep};
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, report_link, session};
use carekey_shared::CodeProblem;
use carekey_shared::staff::PatientChart;

#[cfg(test)]
mod tests;

/// How long a notice's link works: a notice may be read days later (a paper-thin inbox, a
/// phone left off on holiday), and using it is harmless to the person it was sent to.
pub const LINK_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long self-service recovery stays paused after a report: long enough for the person to
/// reach the clinic during opening hours, short enough that a mistaken report heals itself.
pub const RECOVERY_PAUSE: Duration = DAY;

/// Reports a single address may try in an hour: the tokens cannot be guessed, so this only
/// keeps a script from filling the log.
const TRIES_PER_ADDRESS_PER_HOUR: u32 = 30;

/// The lock reason the chart shows for an account locked by a report.
pub const REPORTED: &str = "reported";

fn link_tag(key: &ServerKey, token: &str) -> String {
    key.tag(&["not_me", token])
}

fn pause_key(account_id: i64) -> String {
    format!("pause:reported:{account_id}")
}

/// Whether the person reported unrecognised activity within the last day: self-service
/// recovery sends nothing meanwhile (the clinic still can).
pub(crate) async fn recovery_paused<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    now: i64,
) -> Result<bool, DomainError> {
    Ok(limits::paused(db, &pause_key(account_id), RECOVERY_PAUSE, now).await?)
}

/// When the newest report the clinic has not yet handled was made.
pub(crate) async fn open_report<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<Option<i64>, DomainError> {
    Ok(report_link::Entity::find()
        .filter(report_link::Column::AccountId.eq(account_id))
        .filter(report_link::Column::UsedAt.is_not_null())
        .filter(report_link::Column::HandledAt.is_null())
        .order_by_desc(report_link::Column::UsedAt)
        .one(db)
        .await?
        .and_then(|r| r.used_at))
}

impl Services {
    /// A new "this wasn't me" link for a notice about `account_id`, in the notice's unit of
    /// work: the token goes into the sealed message, its HMAC into the table.
    pub(crate) async fn new_report_link(
        &self,
        uow: &Uow,
        account_id: i64,
    ) -> Result<String, DomainError> {
        let token = secrets::new_short_token(self.entropy.as_ref())?;
        report_link::ActiveModel {
            account_id: Set(account_id),
            token_hmac: Set(link_tag(&self.key, &token)),
            created_at: Set(uow.now),
            expires_at: Set(uow.now + LINK_TTL.as_millis() as i64),
            used_at: Set(None),
            handled_at: Set(None),
            ..Default::default()
        }
        .insert(uow.db())
        .await?;
        Ok(token)
    }

    /// Continue on the "this wasn't me" page. A link already used answers as done (a second
    /// press changes nothing more); an unknown or expired one is refused calmly.
    pub async fn report_not_me(&self, token: &str, meta: &ClientMeta) -> Result<(), DomainError> {
        self.check_fields(&[token])?;
        let now = self.now();
        let tries = limits::hit(
            &self.db,
            &format!("not_me:ip:{}", limits::address_key(&meta.ip)),
            limits::HOUR,
            now,
        )
        .await?;
        if tries > TRIES_PER_ADDRESS_PER_HOUR {
            return Err(DomainError::CodeRejected(CodeProblem::NotAccepted));
        }
        let link = report_link::Entity::find()
            .filter(report_link::Column::TokenHmac.eq(link_tag(&self.key, token)))
            .one(&self.db)
            .await?
            .ok_or(DomainError::CodeRejected(CodeProblem::NotAccepted))?;
        if link.used_at.is_some() {
            return Ok(());
        }
        if link.expires_at <= now {
            return Err(DomainError::CodeRejected(CodeProblem::Expired));
        }
        let uow = self.begin(actor_for(None, meta)).await?;
        uow.lock_account(link.account_id).await?;
        let now = uow.now;
        // Conditional, so two presses at once report once.
        let used = report_link::Entity::update_many()
            .col_expr(report_link::Column::UsedAt, Expr::value(now))
            .filter(report_link::Column::Id.eq(link.id))
            .filter(report_link::Column::UsedAt.is_null())
            .exec(uow.db())
            .await?
            .rows_affected;
        if used == 0 {
            return Ok(());
        }
        let ended = sessions::revoke(
            uow.db(),
            session::Column::AccountId.eq(link.account_id),
            now,
        )
        .await?;
        let forgotten = twostep::forget_devices(uow.db(), link.account_id, now).await?;
        // Codes and links already sent, a reset half-way through, a second step's code and a
        // new contact's confirmation all stop working: whoever made the change may hold one.
        let voided = challenges::supersede(
            uow.db(),
            link.account_id,
            &[
                Purpose::Reset,
                Purpose::StaffCode,
                Purpose::Grant,
                Purpose::SecondStep,
                Purpose::VerifyContact,
            ],
            now,
        )
        .await?;
        // Sign-in is locked until the clinic (or, after the pause, a reset) lifts it; a
        // disabled account stays disabled.
        let locked = account::Entity::update_many()
            .col_expr(
                account::Column::Status,
                Expr::value(account::Status::Locked),
            )
            .col_expr(account::Column::LockReason, Expr::value(REPORTED))
            .col_expr(
                account::Column::LockedUntil,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(account::Column::UpdatedAt, Expr::value(now))
            .filter(account::Column::Id.eq(link.account_id))
            .filter(account::Column::Status.ne(account::Status::Disabled))
            .exec(uow.db())
            .await?
            .rows_affected
            == 1;
        limits::start_pause(uow.db(), &pause_key(link.account_id), now).await?;
        uow.audit(
            Action::NotMeReported,
            Some(link.account_id),
            json!({
                "sessions_ended": ended,
                "devices_forgotten": forgotten,
                "codes_voided": voided,
                "sign_in_locked": locked,
                "recovery_paused_hours": RECOVERY_PAUSE.as_secs() / 3600,
            }),
        )
        .await?;
        uow.commit(self).await?;
        tracing::warn!(account = link.account_id, "unrecognised activity reported");
        Ok(())
    }

    /// The chart's "Mark as handled": the clinic has spoken with the person. The pause runs
    /// its course; the flag goes.
    pub async fn portal_report_handled(
        &self,
        caller: &Staff,
        patient_id: i64,
    ) -> Result<PatientChart, DomainError> {
        let (p, acct) = self.portal_account(patient_id).await?;
        let uow = self.begin(caller.actor()).await?;
        let handled = report_link::Entity::update_many()
            .col_expr(report_link::Column::HandledAt, Expr::value(uow.now))
            .filter(report_link::Column::AccountId.eq(acct.id))
            .filter(report_link::Column::UsedAt.is_not_null())
            .filter(report_link::Column::HandledAt.is_null())
            .exec(uow.db())
            .await?
            .rows_affected;
        if handled > 0 {
            uow.audit(
                Action::NotMeHandled,
                Some(acct.id),
                json!({ "reports": handled }),
            )
            .await?;
        }
        uow.commit(self).await?;
        self.chart(p.id).await
    }

    /// Forgets links that were never used and can no longer be.
    pub(crate) async fn prune_report_links(&self, now: i64) -> Result<u64, DomainError> {
        Ok(report_link::Entity::delete_many()
            .filter(report_link::Column::UsedAt.is_null())
            .filter(report_link::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}
