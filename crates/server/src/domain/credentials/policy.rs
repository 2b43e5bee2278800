//! The checks every new password passes, whoever sets it (SECURITY.md P1–P6): the policy with
//! what is known about the person, and no reuse of recent passwords.

use carekey_shared::policy::PolicyContext;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{DomainError, Services};
use crate::store::entities::{account, contact, password_credential, password_history, patient};

impl Services {
    /// Normalises, checks the policy with what is known about the person, and hashes.
    pub async fn checked_hash(
        &self,
        password: &str,
        ctx: &PolicyContext,
    ) -> Result<String, DomainError> {
        let issues = self.policy().check_with(password, ctx);
        if !issues.is_empty() {
            return Err(DomainError::PasswordRejected(issues));
        }
        self.hasher
            .hash(carekey_shared::policy::normalize(password))
            .await
    }

    /// Refuses `new` if it breaks the policy for this person (P1–P6). `current` is the current
    /// password where the person just typed it, so "too similar" can be judged (P5).
    pub(crate) async fn check_new_password(
        &self,
        acct: &account::Model,
        new: &str,
        current: Option<&str>,
    ) -> Result<(), DomainError> {
        let ctx = self.policy_context(self.personal_words(acct).await?, current);
        let issues = self.policy().check_with(new, &ctx);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(DomainError::PasswordRejected(issues))
        }
    }

    /// The hash to store for `new`, unless it is the current password (`stored`) or one of the
    /// ones before it (P5, `password.history`). The new hash is made while the old ones are
    /// compared, all on the hashing pool at once: the check costs about one hash's time on a
    /// quiet server, and one wait in the queue on a busy one.
    pub(crate) async fn hash_unless_recent(
        &self,
        account_id: i64,
        stored: Option<&password_credential::Model>,
        new: &str,
    ) -> Result<String, DomainError> {
        let normalized = carekey_shared::policy::normalize(new);
        let recent = self.recent_hashes(account_id, stored).await?;
        let (used, hashed) = futures_util::future::join(
            self.hasher.matches_any(normalized.clone(), recent),
            self.hasher.hash(normalized),
        )
        .await;
        if used? {
            return Err(DomainError::PasswordRejected(vec![
                carekey_shared::policy::PolicyIssue::RecentlyUsed,
            ]));
        }
        hashed
    }

    /// Everything about the person a guesser would try first: username, names, every email on
    /// file, and the clinic's name.
    pub async fn personal_words(&self, acct: &account::Model) -> Result<Vec<String>, DomainError> {
        let mut words = vec![
            acct.username.clone(),
            acct.display_name.clone(),
            self.cfg.clinic_name.clone(),
        ];
        // A patient's emails belong to the chart; a staff member's to the account.
        let mut owner = contact::Column::AccountId.eq(acct.id);
        if let Some(pid) = acct.patient_id {
            if let Some(p) = patient::Entity::find_by_id(pid).one(&self.db).await? {
                words.push(p.first_name);
                words.push(p.last_name);
            }
            owner = owner.or(contact::Column::PatientId.eq(pid));
        }
        let emails = contact::Entity::find()
            .filter(contact::Column::Kind.eq(contact::Kind::Email))
            .filter(owner);
        words.extend(emails.all(&self.db).await?.into_iter().map(|c| c.value));
        Ok(words)
    }

    /// The current password's hash and the ones before it, `password.history` in all, newest
    /// first (SECURITY.md P5). Read outside any unit of work: the comparisons are slow.
    pub(crate) async fn recent_hashes(
        &self,
        account_id: i64,
        stored: Option<&password_credential::Model>,
    ) -> Result<Vec<String>, DomainError> {
        let depth = u64::from(self.cfg.password_history);
        if depth == 0 {
            return Ok(Vec::new());
        }
        let mut previous: Vec<String> = stored.iter().map(|c| c.phc.clone()).collect();
        previous.extend(
            password_history::Entity::find()
                .filter(password_history::Column::AccountId.eq(account_id))
                .order_by_desc(password_history::Column::CreatedAt)
                // Ties (two changes in one millisecond, or a frozen test clock) go by insertion
                // order; otherwise PostgreSQL may return any of them.
                .order_by_desc(password_history::Column::Id)
                .limit(depth - previous.len() as u64)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|h| h.phc),
        );
        Ok(previous)
    }
}
