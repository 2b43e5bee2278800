//! Portal / API Access > Create / Reset credentials: a generated or chosen password, or an
//! activation letter, with the letter's email, in one unit of work.

use carekey_shared::mask_email;
use carekey_shared::staff::{CredentialsLetter, IdentityChecks, LetterEmail, PasswordChoice};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::delivery::letter::LetterFacts;
use crate::delivery::outbound::{LetterHolds, Outbound};
use crate::delivery::outbox::NewMessage;
use crate::domain::accounts::valid_username;
use crate::domain::caller::Staff;
use crate::domain::credentials::SetBy;
use crate::domain::limits::DAY;
use crate::domain::messages::{language_of, message_to};
use crate::domain::signin::actor_for;
use crate::domain::uow::Uow;
use crate::domain::{DomainError, Services, secrets};
use crate::store::entities::{account, contact, patient};

use super::taken;
use crate::store::entities::audit_log::Action;

impl Services {
    /// Create or Reset credentials. With a password (generated or chosen) the patient must
    /// change it at first sign-in; with an activation code they choose their own. Either way
    /// the letter is returned once, and an email saying so goes to the email on file (never
    /// the password: it is only on the printed letter).
    ///
    /// Everything is checked and hashed first; then the new or renamed account, the password
    /// or code, the letter's email and the audit rows commit in one unit of work. A refused
    /// password, a busy hasher or a taken username leave the account exactly as it was.
    pub async fn portal_credentials(
        &self,
        caller: &Staff,
        patient_id: i64,
        username: &str,
        choice: PasswordChoice,
    ) -> Result<CredentialsLetter, DomainError> {
        let meta = caller.meta();
        let staff = caller.account().clone();
        let (p, existing) = self.patient_and_account(patient_id).await?;
        let username = username.trim();
        let renamed = existing.as_ref().is_none_or(|a| a.username != username);
        if renamed && !valid_username(username) {
            return Err(DomainError::UsernameInvalid);
        }
        let contacts = contact::Entity::find()
            .filter(contact::Column::PatientId.eq(p.id))
            .all(&self.db)
            .await?;
        let email = contacts
            .iter()
            .find(|c| c.kind == contact::Kind::Email)
            .cloned();
        // What a guesser would try first, with the username the account is about to have.
        let mut words = vec![
            username.to_owned(),
            p.first_name.clone(),
            p.last_name.clone(),
            self.cfg.clinic_name.clone(),
        ];
        words.extend(existing.iter().map(|a| a.username.clone()));
        words.extend(
            contacts
                .iter()
                .filter(|c| c.kind == contact::Kind::Email)
                .map(|c| c.value.clone()),
        );
        let ctx = self.policy_context(words, None);
        let password = match choice {
            PasswordChoice::Generated => Some(self.generated_password(&ctx)?),
            PasswordChoice::Chosen(pw) => {
                let issues = self.policy().check_with(&pw, &ctx);
                if !issues.is_empty() {
                    return Err(DomainError::PasswordRejected(issues));
                }
                Some(pw)
            }
            PasswordChoice::ActivationCode => None,
        };
        let phc = match (&password, &existing) {
            (Some(pw), Some(a)) => Some(self.hash_for(a.id, pw).await?),
            (Some(pw), None) => Some(
                self.hasher
                    .hash(carekey_shared::policy::normalize(pw))
                    .await?,
            ),
            (None, _) => None,
        };

        let mut uow = self.begin(actor_for(Some(&staff), meta)).await?;
        let acct = match existing {
            Some(a) if !renamed => a,
            Some(a) => rename(&uow, &a, username).await?,
            None => create_portal_account(&uow, &p, username).await?,
        };
        // The letter's email first: it also tells the patient their password was reset, so
        // the reset's own notice is not sent to that address a second time.
        let holds = if phc.is_none() {
            LetterHolds::ActivationCode
        } else {
            LetterHolds::TemporaryPassword
        };
        // The patient's language on file decides the letter and its email alike.
        let lang = language_of(uow.db(), &acct, None).await?;
        let letter_email = match &email {
            Some(c) => {
                let message = Outbound::CredentialsSetUp {
                    username: acct.username.clone(),
                    letter: holds,
                };
                let expires_at = uow.now + DAY.as_millis() as i64;
                // It stands in for the reset's notice at this address, so it carries the
                // notice's "this wasn't me" link (SECURITY.md M8).
                let report = Some(self.new_report_link(&uow, acct.id).await?);
                let row = uow
                    .send(NewMessage {
                        expires_at: Some(expires_at),
                        report,
                        ..message_to(&acct, lang, &c.value, message)
                    })
                    .await?;
                Some(LetterEmail {
                    message_id: row.id,
                    to: mask_email(&c.value),
                    status: super::delivery_status(row.status),
                })
            }
            None => None,
        };
        let activation = match phc {
            Some(phc) => {
                self.set_password(&mut uow, acct.id, phc, SetBy::Staff)
                    .await?;
                uow.audit(
                    Action::PortalPasswordReset,
                    Some(acct.id),
                    json!({ "must_change_password": true }),
                )
                .await?;
                None
            }
            None => Some(
                self.insert_staff_code(&uow, &acct, "letter", &IdentityChecks::default())
                    .await?,
            ),
        };
        uow.commit(self).await?;
        let patient_name = format!("{} {}", p.first_name, p.last_name);
        let text = self.delivery.renderer.letter(
            lang,
            &LetterFacts {
                patient_name: &patient_name,
                holds,
                email_to: letter_email.as_ref().map(|e| e.to.as_str()),
                min_length: self.cfg.password_min_length,
            },
        );
        Ok(CredentialsLetter {
            clinic_name: self.cfg.clinic_name.clone(),
            clinic_address: self.cfg.clinic_address.clone(),
            clinic_phone: self.cfg.clinic_phone.clone(),
            portal_url: self.cfg.public_url.clone(),
            patient_name,
            username: acct.username.clone(),
            temporary_password: password,
            activation_code: activation.as_ref().map(|d| d.code.clone()),
            activation_expires_at_ms: activation.map(|d| d.expires_at_ms),
            email: letter_email,
            text,
        })
    }

    /// A temporary password that meets this clinic's policy by construction: as long as
    /// `password.min_length` asks. A draw that happens to spell a word on file is drawn again,
    /// a bounded number of times (the odds of even one are tiny).
    pub(crate) fn generated_password(
        &self,
        ctx: &carekey_shared::policy::PolicyContext,
    ) -> Result<String, DomainError> {
        for _ in 0..20 {
            let pw =
                secrets::temporary_password(self.entropy.as_ref(), self.cfg.password_min_length)?;
            if self.policy().check_with(&pw, ctx).is_empty() {
                return Ok(pw);
            }
        }
        Err(DomainError::Internal(
            "no generated password met the policy in 20 draws".into(),
        ))
    }
}

/// A staff member's change of a portal username, in their unit of work. The unique index
/// decides a name two people race for.
async fn rename(
    uow: &Uow,
    a: &account::Model,
    username: &str,
) -> Result<account::Model, DomainError> {
    let mut am: account::ActiveModel = a.clone().into();
    am.username = Set(username.to_owned());
    am.username_lower = Set(username.to_lowercase());
    am.updated_at = Set(uow.now);
    let updated = am.update(uow.db()).await.map_err(taken)?;
    uow.audit(Action::UsernameChangedByStaff, Some(a.id), json!({}))
        .await?;
    Ok(updated)
}

/// A new portal account with no password yet; the same unit of work gives it one, or an
/// activation code.
async fn create_portal_account(
    uow: &Uow,
    p: &patient::Model,
    username: &str,
) -> Result<account::Model, DomainError> {
    let now = uow.now;
    let a = account::ActiveModel {
        kind: Set(account::Kind::Patient),
        username: Set(username.to_owned()),
        username_lower: Set(username.to_lowercase()),
        display_name: Set(p.first_name.clone()),
        status: Set(account::Status::Active),
        lock_reason: Set(None),
        must_change_password: Set(true),
        failed_sign_ins: Set(0),
        locked_until: Set(None),
        last_sign_in_at: Set(None),
        previous_sign_in_at: Set(None),
        failures_before_last_sign_in: Set(0),
        patient_id: Set(Some(p.id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(uow.db())
    .await
    .map_err(taken)?;
    uow.audit(
        Action::PortalAccountCreated,
        Some(a.id),
        json!({ "patient": p.id }),
    )
    .await?;
    Ok(a)
}
