//! Creating accounts and changing passwords. Every path that sets a password goes through
//! `checked_hash`, so the policy applies everywhere (SECURITY.md P1–P6).

use carekey_shared::SessionInfo;
use carekey_shared::policy::PolicyContext;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr,
};
use serde_json::json;

use super::caller::Caller;
use super::credentials::SetBy;
use super::sessions;
use super::signin::{Attempt, actor_for};
use super::{ClientMeta, DomainError, Services};
use crate::store::entities::{account, contact, password_credential, password_history, patient};

/// How many previous passwords may not be reused (SECURITY.md P5).
pub const HISTORY_DEPTH: u64 = 5;

#[derive(Debug, Clone)]
pub struct NewPatient {
    pub mrn: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: String,
    pub zip: String,
    pub email: Option<String>,
    /// E.164, with whether it takes texts and calls.
    pub phone: Option<(String, bool, bool)>,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub kind: &'static str,
    pub username: String,
    pub display_name: String,
    pub patient_id: Option<i64>,
    pub email: Option<String>,
    pub must_change_password: bool,
}

pub fn valid_username(u: &str) -> bool {
    (3..=64).contains(&u.chars().count())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

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
    /// ones before it (P5).
    pub(crate) async fn hash_unless_recent(
        &self,
        account_id: i64,
        stored: Option<&password_credential::Model>,
        new: &str,
    ) -> Result<String, DomainError> {
        let normalized = carekey_shared::policy::normalize(new);
        if self.recently_used(account_id, stored, &normalized).await? {
            return Err(DomainError::PasswordRejected(vec![
                carekey_shared::policy::PolicyIssue::RecentlyUsed,
            ]));
        }
        self.hasher.hash(normalized).await
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
            .filter(contact::Column::Kind.eq("email"))
            .filter(owner);
        words.extend(emails.all(&self.db).await?.into_iter().map(|c| c.value));
        Ok(words)
    }

    pub async fn create_patient(&self, p: NewPatient) -> Result<patient::Model, DomainError> {
        self.insert_patient(p, None, &ClientMeta::default()).await
    }

    /// Creates an account with `password` (chosen by an administrator, the CLI or the demo);
    /// `by` is the staff member who did it, for the audit row.
    pub async fn create_account(
        &self,
        n: NewAccount,
        password: &str,
        by: Option<&account::Model>,
        meta: &ClientMeta,
    ) -> Result<account::Model, DomainError> {
        if !valid_username(&n.username) {
            return Err(DomainError::UsernameInvalid);
        }
        let ctx = self.policy_context(
            [
                Some(n.username.clone()),
                Some(n.display_name.clone()),
                n.email.clone(),
                Some(self.cfg.clinic_name.clone()),
            ]
            .into_iter()
            .flatten()
            .collect(),
            None,
        );
        let phc = self.checked_hash(password, &ctx).await?;
        let uow = self.begin(actor_for(by, meta)).await?;
        let (txn, now) = (uow.db(), uow.now);
        // No "is it taken?" read first: a read before the write in a SQLite transaction can
        // fail under a concurrent writer, and the unique index answers the question anyway.
        let a = account::ActiveModel {
            kind: Set(n.kind.to_owned()),
            username_lower: Set(n.username.to_lowercase()),
            username: Set(n.username),
            display_name: Set(n.display_name),
            status: Set("active".into()),
            lock_reason: Set(None),
            must_change_password: Set(n.must_change_password),
            failed_sign_ins: Set(0),
            locked_until: Set(None),
            last_sign_in_at: Set(None),
            previous_sign_in_at: Set(None),
            failures_before_last_sign_in: Set(0),
            patient_id: Set(n.patient_id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(msg)) if msg.contains("username_lower") => {
                DomainError::UsernameTaken
            }
            _ => DomainError::Database(e),
        })?;
        password_credential::ActiveModel {
            account_id: Set(a.id),
            phc: Set(phc),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
        if let Some(email) = n.email {
            add_contact(txn, None, Some(a.id), "email", &email, false, false, now).await?;
        }
        uow.audit("account_created", Some(a.id), json!({ "kind": a.kind }))
            .await?;
        uow.commit(self).await?;
        Ok(a)
    }

    /// Changes the signed-in account's own password (Settings, staff "Change Password", and the
    /// forced change after a staff reset). The current password is always required (ASVS 6.2.3)
    /// and a wrong one counts toward lockout (SECURITY.md P9).
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
        self.check_new_password(&acct, new, Some(current)).await?;
        let stored = self
            .confirm_current_password(&acct, current, meta)
            .await?
            .ok_or(DomainError::CurrentPasswordIncorrect)?;
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
            "password_changed",
            Some(acct.id),
            json!({ "forced": forced }),
        )
        .await?;
        let now = uow.now;
        uow.commit(self).await?;
        let acct = set.account;
        Ok(self.session_info(&acct, caller.session(), now))
    }
}

impl Services {
    /// Checks the current password typed to authorise a change; a wrong one counts toward
    /// lockout (SECURITY.md P9), and a paused account cannot keep guessing through a session.
    pub(crate) async fn confirm_current_password(
        &self,
        acct: &account::Model,
        current: &str,
        meta: &ClientMeta,
    ) -> Result<Option<password_credential::Model>, DomainError> {
        if super::lockout::is_locked(&acct.status, acct.locked_until, self.now()) {
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
        let uow = self.begin(caller.actor()).await?;
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
        self.enqueue_username_notices(uow.db(), &updated, &contacts, now)
            .await?;
        // After any change to how the account signs in, the other sessions end.
        sessions::revoke_others(uow.db(), acct.id, caller.session().id, now).await?;
        uow.audit(
            "username_changed",
            Some(acct.id),
            json!({ "from": acct.username, "to": updated.username }),
        )
        .await?;
        uow.commit(self).await?;
        // The notices above were queued on the transaction, not through the unit of work.
        self.delivery.kick();
        Ok(self.session_info(&updated, caller.session(), now))
    }
}

impl Services {
    /// Whether `normalized` is the current password or one of the last `HISTORY_DEPTH - 1`
    /// before it (SECURITY.md P5).
    pub(crate) async fn recently_used(
        &self,
        account_id: i64,
        stored: Option<&password_credential::Model>,
        normalized: &str,
    ) -> Result<bool, DomainError> {
        let mut previous: Vec<String> = stored.iter().map(|c| c.phc.clone()).collect();
        previous.extend(
            password_history::Entity::find()
                .filter(password_history::Column::AccountId.eq(account_id))
                .order_by_desc(password_history::Column::CreatedAt)
                // Ties (two changes in one millisecond, or a frozen test clock) go by insertion
                // order; otherwise PostgreSQL may return any four of them.
                .order_by_desc(password_history::Column::Id)
                .limit(HISTORY_DEPTH - 1)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|h| h.phc),
        );
        for phc in previous {
            if self
                .hasher
                .verify(normalized.to_owned(), Some(phc))
                .await?
                .ok
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Adds a contact, verified now (staff entered it, or its owner proved it with a code).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_contact<C: ConnectionTrait>(
    db: &C,
    patient_id: Option<i64>,
    account_id: Option<i64>,
    kind: &str,
    value: &str,
    sms: bool,
    voice: bool,
    now: i64,
) -> Result<(), DomainError> {
    let value_norm = match kind {
        "email" => value.trim().to_lowercase(),
        _ => value
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect(),
    };
    contact::ActiveModel {
        patient_id: Set(patient_id),
        account_id: Set(account_id),
        kind: Set(kind.to_owned()),
        value: Set(value.trim().to_owned()),
        value_norm: Set(value_norm),
        sms_capable: Set(sms),
        voice_capable: Set(voice),
        verified_at: Set(Some(now)),
        preferred: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
