//! Creating patients and accounts (the CLI, the demo data, Admin > Users, the import), and
//! the contacts they start with. New passwords pass `credentials::policy` like every other.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, SqlErr};
use serde_json::json;

use super::signin::actor_for;
use super::{ClientMeta, DomainError, Services};
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, contact, password_credential, patient};

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
    /// The language on file; None: not chosen.
    pub language: Option<carekey_shared::Lang>,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub kind: account::Kind,
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
            kind: Set(n.kind),
            username_lower: Set(n.username.to_lowercase()),
            username: Set(n.username),
            display_name: Set(n.display_name),
            status: Set(account::Status::Active),
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
            add_contact(txn, Owner::Account(a.id), NewContact::Email(&email), now).await?;
        }
        uow.audit(
            Action::AccountCreated,
            Some(a.id),
            json!({ "kind": a.kind }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(a)
    }
}

/// Whose a contact is: a patient's belong to the chart (staff correct them there), a staff
/// member's to their own account.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    Patient(i64),
    Account(i64),
}

/// A contact to add: an address, or a number with what it can receive.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NewContact<'a> {
    Email(&'a str),
    Phone {
        number: &'a str,
        texts: bool,
        calls: bool,
    },
}

/// Adds a contact, verified now (staff entered it, or its owner proved it with a code).
pub(crate) async fn add_contact<C: ConnectionTrait>(
    db: &C,
    owner: Owner,
    new: NewContact<'_>,
    now: i64,
) -> Result<(), DomainError> {
    let (kind, value, value_norm, sms, voice) = match new {
        NewContact::Email(v) => (
            contact::Kind::Email,
            v,
            v.trim().to_lowercase(),
            false,
            false,
        ),
        NewContact::Phone {
            number,
            texts,
            calls,
        } => (
            contact::Kind::Phone,
            number,
            number
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect(),
            texts,
            calls,
        ),
    };
    let (patient_id, account_id) = match owner {
        Owner::Patient(id) => (Some(id), None),
        Owner::Account(id) => (None, Some(id)),
    };
    contact::ActiveModel {
        patient_id: Set(patient_id),
        account_id: Set(account_id),
        kind: Set(kind),
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
