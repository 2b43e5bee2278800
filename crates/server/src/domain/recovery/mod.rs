//! Self-service recovery: forgot password (email link, email code, text, call) and forgot
//! username.
//!
//! Whether someone is a patient here is protected health information. So the request step
//! does the same thing for every visitor: it stores the request and answers with a fresh
//! reference (SECURITY.md E1, E2). The recovery worker then decides, off the request path,
//! whether an account matches, which contact to use, whether a limit was hit, and writes the
//! challenge and its outbox row in one transaction.

use carekey_shared::{
    CodeProblem, IdentifierMode, Lang, RecoveryChannel, RecoveryIdentity, RecoveryOptions,
    UsernameLookup,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::domain::challenges::{self, State};
use crate::domain::limits::{self, DAY, HOUR};
use crate::domain::uow::Uow;
use crate::domain::{DomainError, Services, phone};
use crate::store::entities::{account, contact};

/// What a typed code is counted against: the codes a person may be typing (a link's token is
/// never typed, and a wrong code must not use up a link's life).
const CODE_PURPOSES: &[challenges::Purpose] =
    &[challenges::Purpose::Reset, challenges::Purpose::StaffCode];

/// What a security answer is counted against: the grant it is given with, or the code still
/// out.
const RECOVERY_PURPOSES: &[challenges::Purpose] = &[
    challenges::Purpose::Reset,
    challenges::Purpose::StaffCode,
    challenges::Purpose::Grant,
];

/// Guesses of codes and links one client address may make per hour, whatever the accounts.
const GUESSES_PER_IP_PER_HOUR: u32 = 100;
/// How long a worker owns a request before another instance may take it over.
const REQUEST_LEASE_MS: i64 = 60_000;
/// Longest identifier or answer accepted (an email address is at most 320 characters).
const MAX_FIELD: usize = 320;

/// What a forgot-password request keeps until the worker handles it. `lang` is the page's
/// language: the message is in it when the account has none on file (a request queued by an
/// older release has none and reads as English).
#[derive(Debug, Serialize, Deserialize)]
struct ResetPayload {
    who: RecoveryIdentity,
    channel: RecoveryChannel,
    #[serde(default)]
    lang: Lang,
    /// The asking browser's flow tag (an HMAC of its cookie), when it sent one.
    #[serde(default)]
    flow_tag: Option<String>,
}

/// Who asked for a reset message, which decides what it replaces and whom it is bound to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Asker<'a> {
    /// The clinic: its send replaces everything outstanding, and is bound to no browser.
    Clinic,
    /// The patient's own request in `lang`, from the browser with this flow tag (None: the
    /// caller kept no cookie).
    Patient { lang: Lang, flow: Option<&'a str> },
}

/// A forgot-username request, with the page's language as for a reset.
#[derive(Debug, Serialize, Deserialize)]
struct UsernamePayload {
    lookup: UsernameLookup,
    #[serde(default)]
    lang: Lang,
}

fn problem(s: State) -> CodeProblem {
    match s {
        State::Expired => CodeProblem::Expired,
        State::Used => CodeProblem::AlreadyUsed,
        State::Replaced => CodeProblem::Replaced,
        State::Active | State::Exhausted => CodeProblem::NotAccepted,
    }
}

fn not_accepted() -> DomainError {
    DomainError::CodeRejected(CodeProblem::NotAccepted)
}

fn pause_key(account_id: i64) -> String {
    format!("pause:recovery:{account_id}")
}

/// Which of the account's identifiers a request named: the username, or the email address
/// on file (the only two a request can name).
fn identifier_kind(mode: IdentifierMode, typed: &str) -> &'static str {
    match mode {
        IdentifierMode::Username => "username",
        IdentifierMode::Email => "email",
        IdentifierMode::Both => "both",
        IdentifierMode::Either if typed.contains('@') => "email",
        IdentifierMode::Either => "username",
    }
}

/// The security answer as compared: NFKC, lower case, single spaces ("  Fluffy " = "fluffy").
pub fn normalize_answer(a: &str) -> String {
    carekey_shared::policy::normalize(a)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

mod complete;
mod intake;
mod link;
mod verify;
mod worker;

#[cfg(test)]
mod tests;

impl Services {
    /// The channels this clinic can deliver: the same list for every visitor.
    pub fn recovery_options(&self) -> RecoveryOptions {
        let t = &self.delivery.transports;
        let channels = RecoveryChannel::ALL
            .into_iter()
            .filter(|c| {
                if c.is_email() {
                    t.email.is_some()
                } else {
                    t.phone.is_some()
                }
            })
            .collect();
        let r = &self.cfg.recovery;
        RecoveryOptions {
            identifier: r.identifier,
            channels,
            code_ttl_secs: r.code_ttl.as_secs(),
            link_ttl_secs: r.link_ttl.as_secs(),
            resend_after_secs: r.resend_after.as_secs(),
        }
    }

    /// The tag kept for the caller's flow cookie, if it sent one (R6: codes bound to the
    /// browser that asked).
    pub(crate) fn flow_tag_of(&self, meta: &crate::domain::ClientMeta) -> Option<String> {
        meta.flow
            .as_deref()
            .map(|t| challenges::flow_tag(&self.key, t))
    }

    pub(crate) fn check_fields(&self, fields: &[&str]) -> Result<(), DomainError> {
        if fields.iter().any(|f| f.chars().count() > MAX_FIELD) {
            return Err(DomainError::InvalidInput("field too long".into()));
        }
        Ok(())
    }

    /// The patient account an identity names, per `recovery.identifier`. Staff accounts are
    /// recovered by an administrator, never here; disabled accounts are not recovered.
    pub(crate) async fn find_for_recovery(
        &self,
        who: &RecoveryIdentity,
    ) -> Result<Option<account::Model>, DomainError> {
        let id = who.identifier.trim();
        let found = match self.cfg.recovery.identifier {
            IdentifierMode::Either => self.find_by_identifier(id).await?,
            IdentifierMode::Username => self.find_by_username(id).await?,
            IdentifierMode::Email => self.find_by_email(id).await?,
            IdentifierMode::Both => {
                let by_name = self.find_by_username(id).await?;
                let by_email = self.find_by_email(who.email.trim()).await?;
                by_name.filter(|a| by_email.as_ref().is_some_and(|b| b.id == a.id))
            }
        };
        Ok(found
            .filter(|a| a.kind == account::Kind::Patient && a.status != account::Status::Disabled))
    }

    /// `find_for_recovery` for many identities at once, in three statements whatever their
    /// number (the recovery worker's batch; issue 15: one or two statements per request were
    /// most of what a flood cost). The same answers, one per identity, in order: the tests
    /// compare the two on every kind of identity and every `recovery.identifier`.
    pub(crate) async fn find_many_for_recovery(
        &self,
        whos: &[&RecoveryIdentity],
    ) -> Result<Vec<Option<account::Model>>, DomainError> {
        let mode = self.cfg.recovery.identifier;
        let name = |who: &RecoveryIdentity| who.identifier.trim().to_lowercase();
        // The email each identity is looked up by, if any (as `find_by_email` normalises it).
        let email = |who: &RecoveryIdentity| match mode {
            IdentifierMode::Either | IdentifierMode::Email => Some(name(who)),
            IdentifierMode::Both => Some(who.email.trim().to_lowercase()),
            IdentifierMode::Username => None,
        };
        let by_username = !matches!(mode, IdentifierMode::Email);
        let names: Vec<String> = if by_username {
            whos.iter().copied().map(name).collect()
        } else {
            vec![]
        };
        let emails: Vec<String> = whos.iter().copied().filter_map(email).collect();

        let named: Vec<account::Model> = if names.is_empty() {
            vec![]
        } else {
            account::Entity::find()
                .filter(account::Column::UsernameLower.is_in(names))
                .all(&self.db)
                .await?
        };
        let on_file: Vec<contact::Model> = if emails.is_empty() {
            vec![]
        } else {
            contact::Entity::find()
                .filter(contact::Column::Kind.eq(contact::Kind::Email))
                .filter(contact::Column::ValueNorm.is_in(emails))
                .all(&self.db)
                .await?
        };
        let owner_ids: Vec<i64> = on_file.iter().filter_map(|c| c.account_id).collect();
        let chart_ids: Vec<i64> = on_file.iter().filter_map(|c| c.patient_id).collect();
        let owners: Vec<account::Model> = if owner_ids.is_empty() && chart_ids.is_empty() {
            vec![]
        } else {
            account::Entity::find()
                .filter(
                    Condition::any()
                        .add(account::Column::Id.is_in(owner_ids))
                        .add(account::Column::PatientId.is_in(chart_ids)),
                )
                .all(&self.db)
                .await?
        };
        // The one account an address is on file for; an address several accounts share
        // identifies none (as `find_by_email`).
        let only_owner = |address: &str| -> Option<account::Model> {
            let mut found = owners.iter().filter(|a| {
                on_file.iter().any(|c| {
                    c.value_norm == address
                        && (c.account_id == Some(a.id)
                            || (c.patient_id.is_some() && c.patient_id == a.patient_id))
                })
            });
            match (found.next(), found.next()) {
                (Some(a), None) => Some(a.clone()),
                _ => None,
            }
        };
        let username_of = |who: &RecoveryIdentity| {
            let n = name(who);
            named.iter().find(|a| a.username_lower == n).cloned()
        };
        Ok(whos
            .iter()
            .copied()
            .map(|who| {
                let found = match mode {
                    IdentifierMode::Either => {
                        username_of(who).or_else(|| email(who).and_then(|e| only_owner(&e)))
                    }
                    IdentifierMode::Username => username_of(who),
                    IdentifierMode::Email => email(who).and_then(|e| only_owner(&e)),
                    IdentifierMode::Both => {
                        let by_email = email(who).and_then(|e| only_owner(&e));
                        username_of(who).filter(|a| by_email.as_ref().is_some_and(|b| b.id == a.id))
                    }
                };
                found.filter(|a| {
                    a.kind == account::Kind::Patient && a.status != account::Status::Disabled
                })
            })
            .collect())
    }

    /// Contacts on file for the account: the chart's for a patient, the account's own for staff.
    pub(crate) async fn contacts_of(
        &self,
        db: &impl ConnectionTrait,
        acct: &account::Model,
    ) -> Result<Vec<contact::Model>, DomainError> {
        let mut owner = Condition::any().add(contact::Column::AccountId.eq(acct.id));
        if let Some(pid) = acct.patient_id {
            owner = owner.add(contact::Column::PatientId.eq(pid));
        }
        Ok(contact::Entity::find()
            .filter(owner)
            .order_by_desc(contact::Column::Preferred)
            .order_by_desc(contact::Column::VerifiedAt)
            .order_by_desc(contact::Column::Id)
            .all(db)
            .await?)
    }

    pub(crate) fn contact_for(
        &self,
        contacts: &[contact::Model],
        channel: RecoveryChannel,
    ) -> Option<contact::Model> {
        contacts
            .iter()
            .find(|c| match channel {
                RecoveryChannel::EmailLink | RecoveryChannel::EmailCode => {
                    c.kind == contact::Kind::Email
                }
                RecoveryChannel::Sms => c.kind == contact::Kind::Phone && c.sms_capable,
                RecoveryChannel::Voice => c.kind == contact::Kind::Phone && c.voice_capable,
            })
            .cloned()
    }

    pub(crate) fn phone_allowed(&self, number: &str) -> bool {
        let countries = self
            .cfg
            .twilio
            .as_ref()
            .map(|t| t.allowed_countries.clone())
            // Without Twilio (the development outbox), the default list: the clinic's region.
            .unwrap_or_else(|| vec![self.cfg.clinic_region.code().to_owned()]);
        phone::allowed(number, &countries)
    }

    /// `over_send_limits` for a message to a contact on file, in the caller's unit of work.
    pub(crate) async fn over_send_limits_to(
        &self,
        uow: &Uow,
        account_id: i64,
        c: &contact::Model,
    ) -> Result<bool, DomainError> {
        let by_phone = c.kind == contact::Kind::Phone;
        self.over_send_limits(uow.db(), account_id, &c.value_norm, by_phone, uow.now)
            .await
    }

    /// Sends asked for through one identifier (the username, or the email address) of one
    /// account, counted before the account's own allowance: a stranger who knows only the
    /// username can use up at most this share of it, and the patient, asking by their email
    /// address, still has the rest (issue 14 item 2). True when over.
    pub(crate) async fn over_identifier_limits(
        &self,
        uow: &Uow,
        account_id: i64,
        who: &RecoveryIdentity,
    ) -> Result<bool, DomainError> {
        let l = self.cfg.recovery.limits;
        let by = identifier_kind(self.cfg.recovery.identifier, &who.identifier);
        let mut over = false;
        for (key, window, max) in [
            (
                format!("send:who:{account_id}:{by}"),
                HOUR,
                l.identifier_per_hour,
            ),
            (
                format!("send:who:{account_id}:{by}:day"),
                DAY,
                l.identifier_per_day,
            ),
        ] {
            over |= limits::hit(uow.db(), &key, window, uow.now).await? > max;
        }
        Ok(over)
    }

    /// Counts one send against every limit that applies; true if any is exceeded
    /// (SECURITY.md A2). All counters are bumped, so a refused send still counts.
    pub(crate) async fn over_send_limits(
        &self,
        db: &impl ConnectionTrait,
        account_id: i64,
        destination: &str,
        by_phone: bool,
        now: i64,
    ) -> Result<bool, DomainError> {
        let l = self.cfg.recovery.limits;
        let mut over = false;
        for (key, window, max) in [
            (
                format!("send:account:{account_id}"),
                HOUR,
                l.account_per_hour,
            ),
            (
                format!("send:account:{account_id}:day"),
                DAY,
                l.account_per_day,
            ),
            (
                format!("send:dest:{destination}"),
                HOUR,
                l.destination_per_hour,
            ),
            (
                format!("send:dest:{destination}:day"),
                DAY,
                l.destination_per_day,
            ),
        ] {
            over |= limits::hit(db, &key, window, now).await? > max;
        }
        // The clinic-wide budget counts only texts and calls that will really go: refused
        // requests for one patient must not use up everyone's budget.
        if by_phone && !over {
            over |=
                limits::hit(db, "send:phone:global", HOUR, now).await? > l.phone_per_hour_global;
        }
        Ok(over)
    }
}
