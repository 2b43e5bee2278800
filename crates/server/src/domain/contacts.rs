//! Changing an email address or phone number (SECURITY.md A5): the current password first, a
//! code to the *new* contact, and only when that code comes back does the contact change; the
//! contacts on file before the change hear about it, so a taken-over session cannot quietly
//! redirect recovery.

use carekey_shared::{
    CodeProblem, ContactChangeStarted, ContactInfo, ContactKind, RecoveryChannel, mask_email,
    mask_phone, normalize_code,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::{NewContact, Owner, add_contact};
use super::caller::Caller;
use super::challenges::{self, NewChallenge, State};
use super::limits::DAY;
use super::messages::{code_channel, language_of, message_to};
use super::uow::Uow;
use super::{DomainError, Services, phone, secrets, sessions};
use crate::delivery::outbound::{Outbound, TwoStepChange, minutes};
use crate::delivery::outbox::{self, NewMessage};
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, backup_code, challenge, contact, second_factor};

/// The new contact, carried on the challenge until its code comes back.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    kind: ContactKind,
    value: String,
}

pub(crate) fn kind_of(c: &contact::Model) -> ContactKind {
    match (c.kind, c.sms_capable) {
        (contact::Kind::Email, _) => ContactKind::Email,
        (_, true) => ContactKind::Mobile,
        _ => ContactKind::Landline,
    }
}

/// A plausible email address: one @, something on each side, a dot in the domain, no spaces.
/// Whether it really receives mail is what the code proves.
pub fn plausible_email(v: &str) -> bool {
    let Some((local, domain)) = v.rsplit_once('@') else {
        return false;
    };
    v.len() <= 254
        && !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Services {
    pub async fn my_contacts(&self, caller: &Caller) -> Result<Vec<ContactInfo>, DomainError> {
        Ok(self
            .contacts_of(&self.db, caller.account())
            .await?
            .iter()
            .map(|c| ContactInfo {
                kind: kind_of(c),
                value: c.value.clone(),
            })
            .collect())
    }

    /// Checks the password, then sends a code to the new contact.
    pub async fn start_contact_change(
        &self,
        caller: &Caller,
        current: &str,
        kind: ContactKind,
        value: &str,
    ) -> Result<ContactChangeStarted, DomainError> {
        let meta = caller.meta();
        let acct = caller.account().clone();
        let value = value.trim();
        let (destination, norm, masked) = match kind {
            ContactKind::Email if plausible_email(value) => {
                (value.to_owned(), value.to_lowercase(), mask_email(value))
            }
            ContactKind::Mobile | ContactKind::Landline => {
                let p = phone::parse(value, self.cfg.clinic_region)
                    .filter(|p| self.phone_allowed(&p.e164))
                    .ok_or(DomainError::ContactInvalid)?;
                // A "mobile" the numbering plan knows is a landline could never receive the
                // code by text: refused, so the patient picks "home phone" and gets a call.
                // A "home phone" that is really a mobile stays as chosen: calls reach it, and
                // the patient asked for calls.
                if kind == ContactKind::Mobile && !p.texts(true) {
                    return Err(DomainError::ContactInvalid);
                }
                (p.e164.clone(), p.e164.clone(), mask_phone(&p.e164))
            }
            ContactKind::Email => return Err(DomainError::ContactInvalid),
        };
        let channel = match kind {
            ContactKind::Email => RecoveryChannel::EmailCode,
            ContactKind::Mobile => RecoveryChannel::Sms,
            ContactKind::Landline => RecoveryChannel::Voice,
        };
        let transport_ready = if channel.is_email() {
            self.delivery.transports.email.is_some()
        } else {
            self.delivery.transports.phone.is_some()
        };
        if !transport_ready {
            return Err(DomainError::ContactInvalid);
        }
        self.confirm_current_password(&acct, current, meta).await?;
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let code = secrets::new_code(self.entropy.as_ref())?;
        let ttl = self.cfg.recovery.code_ttl;
        let pending = serde_json::to_string(&Pending {
            kind,
            value: destination.clone(),
        })
        .map_err(|e| DomainError::Internal(e.to_string()))?;
        let mut uow = self.begin(caller.actor()).await?;
        let now = uow.now;
        // A flood of "send a code to this number" from one session is held to the same send
        // limits as recovery (A2); the answer then is the same, and nothing is sent.
        let over = self
            .over_send_limits(uow.db(), acct.id, &norm, !channel.is_email(), now)
            .await?;
        if !over {
            challenges::supersede(
                uow.db(),
                acct.id,
                &[challenges::Purpose::VerifyContact],
                now,
            )
            .await?;
            let row = challenges::insert(
                uow.db(),
                NewChallenge {
                    account_id: acct.id,
                    purpose: challenges::Purpose::VerifyContact,
                    channel: channel.as_str(),
                    contact_id: None,
                    secret_hmac: challenges::code_tag(
                        &self.key,
                        acct.id,
                        challenges::Purpose::VerifyContact,
                        &reference,
                        &code,
                    ),
                    reference: &reference,
                    ttl,
                    issued_by: None,
                    checklist: None,
                    pending_value: Some(pending),
                    flow_tag: None,
                },
                now,
            )
            .await?;
            let message = Outbound::ContactCode {
                via: code_channel(channel),
                code,
                reference: reference.clone(),
                expires_in_minutes: minutes(ttl),
            };
            let lang = language_of(uow.db(), &acct, None).await?;
            uow.send(NewMessage {
                challenge_id: Some(row.id),
                expires_at: Some(row.expires_at),
                ..message_to(&acct, lang, &destination, message)
            })
            .await?;
        }
        uow.audit(
            Action::ContactChangeStarted,
            Some(acct.id),
            json!({ "to": masked, "limited": over }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(ContactChangeStarted {
            reference,
            masked_destination: masked,
            expires_in_secs: ttl.as_secs(),
        })
    }

    /// The code from the new contact: the contact changes and the old ones are told, in one
    /// transaction.
    pub async fn confirm_contact_change(
        &self,
        caller: &Caller,
        code: &str,
    ) -> Result<Vec<ContactInfo>, DomainError> {
        let meta = caller.meta();
        let acct = caller.account().clone();
        let now = self.now();
        let not_accepted = DomainError::CodeRejected(CodeProblem::NotAccepted);
        let Some(code) = normalize_code(code) else {
            return Err(not_accepted);
        };
        if self.too_many_guesses_from(meta, now).await? {
            return Err(not_accepted);
        }
        let attempt = self
            .count_attempt(
                Some(&acct),
                &[challenges::Purpose::VerifyContact],
                meta,
                now,
            )
            .await?;
        let rows = challenge::Entity::find()
            .filter(challenge::Column::AccountId.eq(acct.id))
            .filter(challenge::Column::Purpose.eq(challenges::Purpose::VerifyContact))
            .filter(challenge::Column::CreatedAt.gt(now - DAY.as_millis() as i64))
            .all(&self.db)
            .await?;
        let matched = rows
            .iter()
            .find(|r| challenges::code_matches(&self.key, r, &code));
        let row = match matched.map(|r| (r, challenges::state(r, now))) {
            Some((r, State::Active)) if attempt.allows(r) => r.clone(),
            Some((_, s @ (State::Expired | State::Used | State::Replaced))) => {
                return Err(DomainError::CodeRejected(match s {
                    State::Expired => CodeProblem::Expired,
                    State::Used => CodeProblem::AlreadyUsed,
                    _ => CodeProblem::Replaced,
                }));
            }
            _ => {
                self.audit_wrong_guess(Some(&acct), attempt.paused, meta)
                    .await?;
                return Err(not_accepted);
            }
        };
        let pending: Pending = row
            .pending_value
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .ok_or_else(|| DomainError::Internal("contact change without its new value".into()))?;
        let mut uow = self.begin(caller.actor()).await?;
        let now = uow.now;
        if !challenges::consume(uow.db(), row.id, now).await? {
            return Err(DomainError::CodeRejected(CodeProblem::AlreadyUsed));
        }
        // What is on file now, inside the unit of work: a correction staff made a moment ago
        // is what gets replaced and told.
        let before = self.contacts_of(uow.db(), &acct).await?;
        // The other sessions end: whoever else is signed in must not keep using the old
        // recovery route's account.
        sessions::revoke_others(uow.db(), acct.id, caller.session().id, now).await?;
        // The new contact replaces the ones of the same kind (an email replaces emails, a
        // mobile the mobiles, a landline the landlines).
        let replaced: Vec<&contact::Model> = before
            .iter()
            .filter(|c| kind_of(c) == pending.kind)
            .collect();
        self.withdraw_from(&mut uow, &acct, &replaced, now).await?;
        for c in &replaced {
            contact::Entity::delete_by_id(c.id).exec(uow.db()).await?;
        }
        let owner = match acct.patient_id {
            Some(pid) => Owner::Patient(pid),
            None => Owner::Account(acct.id),
        };
        let value = pending.value.as_str();
        let new = match pending.kind {
            ContactKind::Email => NewContact::Email(value),
            ContactKind::Mobile | ContactKind::Landline => NewContact::Phone {
                number: value,
                texts: pending.kind == ContactKind::Mobile,
                calls: true,
            },
        };
        add_contact(uow.db(), owner, new, now).await?;
        let masked = match pending.kind {
            ContactKind::Email => mask_email(&pending.value),
            _ => mask_phone(&pending.value),
        };
        // Everyone on file before the change hears about it, the replaced contact included.
        self.enqueue_contact_notices(&mut uow, &acct, &before, pending.kind, Some(masked.clone()))
            .await?;
        uow.audit(
            Action::ContactChanged,
            Some(acct.id),
            json!({
                "kind": format!("{:?}", pending.kind),
                "to": masked,
                "replaced": replaced.len(),
            }),
        )
        .await?;
        uow.commit(self).await?;
        self.my_contacts(caller).await
    }
}

impl Services {
    /// A contact of the account has been replaced or removed: codes and links sent to it, and
    /// grants proved through it, stop working, and messages still queued for it are withdrawn.
    /// In the unit of work that replaces it, before the notices to the old contacts are
    /// queued (those must still go).
    pub(crate) async fn withdraw_from(
        &self,
        uow: &mut Uow,
        acct: &account::Model,
        replaced: &[&contact::Model],
        now: i64,
    ) -> Result<(), DomainError> {
        let txn = uow.db();
        let ids: Vec<i64> = replaced.iter().map(|c| c.id).collect();
        challenges::supersede_sent_to(txn, &ids, now).await?;
        let destinations: Vec<String> = replaced.iter().map(|c| c.value.clone()).collect();
        outbox::cancel_queued(txn, acct.id, &destinations).await?;
        // A second step that sent codes there goes with it: codes to a number or address the
        // person no longer has would be a second step for whoever has it now.
        let gone = second_factor::Entity::find()
            .filter(second_factor::Column::AccountId.eq(acct.id))
            .filter(second_factor::Column::ContactId.is_in(ids.iter().copied()))
            .all(txn)
            .await?;
        if !gone.is_empty() {
            second_factor::Entity::delete_many()
                .filter(second_factor::Column::Id.is_in(gone.iter().map(|f| f.id)))
                .exec(txn)
                .await?;
            // A change of methods, as when one is removed in Settings: remembered browsers are
            // asked again (M7), and with no method left the recovery codes go too (they would
            // otherwise be a second step on their own).
            crate::domain::twostep::forget_devices(txn, acct.id, now).await?;
            let left = second_factor::Entity::find()
                .filter(second_factor::Column::AccountId.eq(acct.id))
                .filter(second_factor::Column::ConfirmedAt.is_not_null())
                .count(txn)
                .await?;
            if left == 0 {
                backup_code::Entity::delete_many()
                    .filter(backup_code::Column::AccountId.eq(acct.id))
                    .exec(txn)
                    .await?;
            }
            for f in gone.iter().filter(|f| f.confirmed_at.is_some()) {
                uow.audit(
                    Action::TwoStepMethodRemoved,
                    Some(acct.id),
                    json!({ "kind": f.kind, "name": f.name, "methods_left": left, "why": "contact_replaced" }),
                )
                .await?;
            }
            // Every contact on file (the old ones included: they are told before they go)
            // hears that sign-in codes no longer go there.
            if gone.iter().any(|f| f.confirmed_at.is_some()) {
                self.enqueue_two_step_notices(uow, acct, TwoStepChange::SentCodeRemoved)
                    .await?;
            }
        }
        Ok(())
    }

    /// Tells every contact in `before` that the account's `kind` contact is now
    /// `masked_new_value` (`None`: removed): the patient's own change and a staff correction
    /// alike (SECURITY.md A5), since a changed contact is how an account is taken over.
    pub(crate) async fn enqueue_contact_notices(
        &self,
        uow: &mut Uow,
        acct: &account::Model,
        before: &[contact::Model],
        kind: ContactKind,
        masked_new_value: Option<String>,
    ) -> Result<(), DomainError> {
        let expires_at = uow.now + DAY.as_millis() as i64;
        let lang = language_of(uow.db(), acct, None).await?;
        let routes = self.notice_routes(before);
        let report = self.report_for(uow, acct, &routes).await?;
        for (c, via) in routes {
            let message = Outbound::ContactChanged {
                via,
                kind,
                masked_new_value: masked_new_value.clone(),
            };
            uow.send(NewMessage {
                expires_at: Some(expires_at),
                report: report.clone(),
                ..message_to(acct, lang, &c.value, message)
            })
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_checked_for_shape_only() {
        for ok in ["a@b.co", "jane.doe+portal@example.org"] {
            assert!(plausible_email(ok), "{ok}");
        }
        for bad in [
            "",
            "no-at.example",
            "@example.org",
            "a@b",
            "a b@c.org",
            "a@.org",
            "a@org.",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}
