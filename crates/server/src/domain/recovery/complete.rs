//! Forgot password, last step: the new password through the one `set_password`, the grant
//! spent in the same unit of work (F4).

use carekey_i18n::Lang;
use carekey_shared::CodeProblem;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::domain::challenges::{self, State};
use crate::domain::credentials::SetBy;
use crate::domain::signin::actor_for;
use crate::domain::{ClientMeta, DomainError, Services};
use crate::store::entities::{account, challenge, password_credential, security_question};

use super::{RECOVERY_PURPOSES, normalize_answer, not_accepted, problem};
use crate::store::entities::audit_log::Action;

impl Services {
    /// Forgot password, last step. The new password, the grant's use, the end of every
    /// session, the cleared lock, the audit row and the notices commit together (F4).
    pub async fn complete_reset(
        &self,
        grant: &str,
        security_answer: Option<&str>,
        new: &str,
        repeat: &str,
        asked: Option<Lang>,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        self.check_fields(&[grant, security_answer.unwrap_or("")])?;
        let now = self.now();
        let row = challenge::Entity::find()
            .filter(
                challenge::Column::SecretHmac.eq(challenges::token_tag(&self.key, "grant", grant)),
            )
            .filter(challenge::Column::Purpose.eq(challenges::Purpose::Grant))
            .one(&self.db)
            .await?
            .ok_or_else(not_accepted)?;
        match challenges::state(&row, now) {
            State::Active => {}
            other => return Err(DomainError::CodeRejected(problem(other))),
        }
        let acct = account::Entity::find_by_id(row.account_id)
            .one(&self.db)
            .await?
            .filter(|a| a.status != account::Status::Disabled)
            .ok_or_else(not_accepted)?;
        if new != repeat {
            return Err(DomainError::PasswordsDiffer);
        }
        self.check_new_password(&acct, new, None).await?;
        if self.cfg.recovery.security_question
            && let Some(q) = security_question::Entity::find_by_id(acct.id)
                .one(&self.db)
                .await?
        {
            // Answers count against the same day's attempts as codes, and a pause stops them
            // everywhere but on the page that proved the code or link (its grant's browser).
            let attempt = self
                .count_attempt(Some(&acct), RECOVERY_PURPOSES, meta, now)
                .await?;
            let allowed = attempt.allows(&row);
            let answer = normalize_answer(security_answer.unwrap_or(""));
            let ok = self.hasher.verify(answer, Some(q.answer_phc)).await?.ok;
            if !allowed || !ok {
                self.audit_wrong_guess(Some(&acct), attempt.paused, meta)
                    .await?;
                return Err(if !allowed {
                    not_accepted()
                } else {
                    DomainError::SecurityAnswerIncorrect
                });
            }
        }
        let stored = password_credential::Entity::find_by_id(acct.id)
            .one(&self.db)
            .await?;
        let phc = self
            .hash_unless_recent(acct.id, stored.as_ref(), new)
            .await?;
        let mut uow = self.begin(actor_for(None, meta)).await?;
        uow.lock_account(acct.id).await?;
        if !challenges::consume(uow.db(), row.id, uow.now).await? {
            return Err(DomainError::CodeRejected(CodeProblem::AlreadyUsed));
        }
        let set = self
            .set_password(&mut uow, acct.id, phc, SetBy::Recovery { asked })
            .await?;
        uow.audit(
            Action::PasswordReset,
            Some(acct.id),
            json!({
                "channel": row.channel,
                "reference": row.reference,
                "lock_cleared": set.lock_cleared,
            }),
        )
        .await?;
        uow.commit(self).await?;
        tracing::info!(account = acct.id, "password reset");
        Ok(())
    }
}
