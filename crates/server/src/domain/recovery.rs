//! Self-service recovery: forgot password (email link, email code, text, call) and forgot
//! username.
//!
//! Whether someone is a patient here is protected health information. So the request step
//! does the same thing for every visitor: it stores the request and answers with a fresh
//! reference (SECURITY.md E1, E2). The recovery worker then decides, off the request path,
//! whether an account matches, which contact to use, whether a limit was hit, and writes the
//! challenge and its outbox row in one transaction.

use carekey_shared::{
    CodeProblem, IdentifierMode, LinkPreview, RecoveryAccepted, RecoveryChannel, RecoveryIdentity,
    RecoveryOptions, ResetGrant, UsernameLookup, mask_email, mask_phone, normalize_code,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit::{self, Event};
use super::challenges::{self, NewChallenge, State};
use super::credentials::SetBy;
use super::limits::{self, DAY, HOUR};
use super::messages::{code_channel, message_to};
use super::signin::actor_for;
use super::uow::Uow;
use super::{ClientMeta, DomainError, Services, phone, secrets};
use crate::delivery::outbound::{NoticeChannel, Outbound, PasswordChange, minutes};
use crate::delivery::outbox::{self, NewMessage};
use crate::store::entities::{
    account, challenge, contact, password_credential, patient, recovery_request, security_question,
};

/// What a recovery guess is counted against.
const RECOVERY_PURPOSES: &[&str] = &[challenges::RESET, challenges::STAFF_CODE, challenges::GRANT];

/// Guesses of codes and links one client address may make per hour, whatever the accounts.
const GUESSES_PER_IP_PER_HOUR: u32 = 100;
/// How long a worker owns a request before another instance may take it over.
const REQUEST_LEASE_MS: i64 = 60_000;
/// Longest identifier or answer accepted (an email address is at most 320 characters).
const MAX_FIELD: usize = 320;

#[derive(Debug, Serialize, Deserialize)]
struct ResetPayload {
    who: RecoveryIdentity,
    channel: RecoveryChannel,
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

/// The security answer as compared: NFKC, lower case, single spaces ("  Fluffy " = "fluffy").
pub fn normalize_answer(a: &str) -> String {
    carekey_shared::policy::normalize(a)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

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

    fn check_fields(&self, fields: &[&str]) -> Result<(), DomainError> {
        if fields.iter().any(|f| f.chars().count() > MAX_FIELD) {
            return Err(DomainError::InvalidInput("field too long".into()));
        }
        Ok(())
    }

    async fn queue_request(
        &self,
        kind: &str,
        payload: String,
        reference: String,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        // A flood from one address is dropped here, before anything is stored; the count runs
        // for every request alike and the answer does not change.
        let now = self.now();
        let key = format!("send:ip:{}", limits::address_key(&meta.ip));
        if limits::hit(&self.db, &key, HOUR, now).await? > self.cfg.recovery.limits.ip_per_hour {
            return Ok(());
        }
        recovery_request::ActiveModel {
            kind: Set(kind.to_owned()),
            payload: Set(payload),
            reference: Set(reference),
            ip: Set(meta.ip.clone()),
            user_agent: Set(meta.user_agent.chars().take(300).collect()),
            lease_until: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        self.recovery_wake.notify_one();
        Ok(())
    }

    /// Forgot password, step 1. One INSERT and the same answer for everyone.
    pub async fn request_reset(
        &self,
        who: RecoveryIdentity,
        channel: RecoveryChannel,
        meta: &ClientMeta,
    ) -> Result<RecoveryAccepted, DomainError> {
        self.check_fields(&[&who.identifier, &who.email])?;
        if who.identifier.trim().is_empty() {
            return Err(DomainError::InvalidInput("identifier required".into()));
        }
        let options = self.recovery_options();
        if !options.channels.contains(&channel) {
            return Err(DomainError::InvalidInput("channel not offered".into()));
        }
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let payload = serde_json::to_string(&ResetPayload { who, channel })
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        self.queue_request("reset", payload, reference.clone(), meta)
            .await?;
        Ok(RecoveryAccepted {
            channel,
            reference,
            expires_in_secs: if channel.sends_code() {
                options.code_ttl_secs
            } else {
                options.link_ttl_secs
            },
            resend_after_secs: options.resend_after_secs,
        })
    }

    /// Forgot username. Always `Ok(())`.
    pub async fn request_username(
        &self,
        lookup: UsernameLookup,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        match &lookup {
            UsernameLookup::Contact { email_or_phone } => {
                self.check_fields(&[email_or_phone])?;
            }
            UsernameLookup::Demographics {
                first_name,
                last_name,
                date_of_birth,
                zip,
            } => self.check_fields(&[first_name, last_name, date_of_birth, zip])?,
        }
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let payload =
            serde_json::to_string(&lookup).map_err(|e| DomainError::Internal(e.to_string()))?;
        self.queue_request("username", payload, reference, meta)
            .await
    }

    /// The patient account an identity names, per `recovery.identifier`. Staff accounts are
    /// recovered by an administrator, never here; disabled accounts are not recovered.
    async fn find_for_recovery(
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
        Ok(found.filter(|a| a.kind == "patient" && a.status != "disabled"))
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
                RecoveryChannel::EmailLink | RecoveryChannel::EmailCode => c.kind == "email",
                RecoveryChannel::Sms => c.kind == "phone" && c.sms_capable,
                RecoveryChannel::Voice => c.kind == "phone" && c.voice_capable,
            })
            .cloned()
    }

    pub(crate) fn phone_allowed(&self, number: &str) -> bool {
        let countries = self
            .cfg
            .twilio
            .as_ref()
            .map(|t| t.allowed_countries.clone())
            .unwrap_or_else(|| vec!["US".to_owned()]);
        phone::allowed(number, &countries)
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

    /// Handles queued requests until none is left; returns how many it handled.
    pub async fn process_recovery_requests(&self) -> Result<usize, DomainError> {
        let mut handled = 0;
        loop {
            let now = self.now();
            let due: Vec<recovery_request::Model> = recovery_request::Entity::find()
                .filter(
                    recovery_request::Column::LeaseUntil
                        .is_null()
                        .or(recovery_request::Column::LeaseUntil.lt(now)),
                )
                .order_by_asc(recovery_request::Column::Id)
                .limit(20)
                .all(&self.db)
                .await?;
            if due.is_empty() {
                return Ok(handled);
            }
            let mut progressed = false;
            for req in due {
                // Leased from the moment of this claim, not the batch's read (a lease already
                // run out would let another instance handle the request twice).
                let now = self.now();
                let claimed = recovery_request::Entity::update_many()
                    .col_expr(
                        recovery_request::Column::LeaseUntil,
                        Expr::value(now + REQUEST_LEASE_MS),
                    )
                    .filter(recovery_request::Column::Id.eq(req.id))
                    .filter(
                        recovery_request::Column::LeaseUntil
                            .is_null()
                            .or(recovery_request::Column::LeaseUntil.lt(now)),
                    )
                    .exec(&self.db)
                    .await?;
                if claimed.rows_affected != 1 {
                    continue;
                }
                progressed = true;
                handled += 1;
                let result = match req.kind.as_str() {
                    "reset" => self.handle_reset_request(&req).await,
                    "username" => self.handle_username_request(&req).await,
                    _ => Ok(()),
                };
                if let Err(e) = result {
                    // The lease runs out and the request is tried again; a request that can
                    // never succeed (unreadable) is dropped inside the handlers.
                    tracing::warn!(request = req.id, error = %e, "recovery request not handled yet");
                }
            }
            if !progressed {
                return Ok(handled);
            }
        }
    }

    async fn handle_reset_request(&self, req: &recovery_request::Model) -> Result<(), DomainError> {
        let now = self.now();
        let meta = ClientMeta {
            ip: req.ip.clone(),
            user_agent: req.user_agent.clone(),
        };
        let Ok(p) = serde_json::from_str::<ResetPayload>(&req.payload) else {
            recovery_request::Entity::delete_by_id(req.id)
                .exec(&self.db)
                .await?;
            return Ok(());
        };
        let acct = self.find_for_recovery(&p.who).await?;
        let contacts = match &acct {
            Some(a) => self.contacts_of(&self.db, a).await?,
            None => vec![],
        };
        let txn = self.db.begin().await?;
        let mut sent = false;
        let outcome = match (&acct, self.contact_for(&contacts, p.channel)) {
            (None, _) => "no_account",
            (Some(_), None) => "no_contact",
            (Some(_), Some(c)) if c.kind == "phone" && !self.phone_allowed(&c.value_norm) => {
                "country_not_allowed"
            }
            (Some(a), Some(c)) => {
                if self
                    .over_send_limits(&txn, a.id, &c.value_norm, c.kind == "phone", now)
                    .await?
                {
                    "limited"
                } else {
                    self.issue_reset(&txn, a, &c, p.channel, &req.reference, now)
                        .await?;
                    sent = true;
                    "queued"
                }
            }
        };
        let event = Event {
            action: "recovery_requested",
            target: acct.as_ref().map(|a| a.id),
            details: json!({
                "channel": p.channel.as_str(),
                "reference": req.reference,
                "outcome": outcome,
            }),
        };
        self.finish_request(txn, req, &meta, event, sent, now).await
    }

    /// Audits a handled request, deletes it and commits, in the transaction that did the work;
    /// then wakes the dispatcher if a message was queued.
    async fn finish_request(
        &self,
        txn: sea_orm::DatabaseTransaction,
        req: &recovery_request::Model,
        meta: &ClientMeta,
        event: Event<'_>,
        sent: bool,
        now: i64,
    ) -> Result<(), DomainError> {
        audit::append(&txn, now, &actor_for(None, meta), event).await?;
        recovery_request::Entity::delete_by_id(req.id)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if sent {
            self.delivery.kick();
        }
        Ok(())
    }

    /// Replaces any outstanding code or link with a new one and queues its message, in the
    /// caller's transaction; answers the message's outbox id.
    pub(crate) async fn issue_reset(
        &self,
        txn: &impl ConnectionTrait,
        acct: &account::Model,
        c: &contact::Model,
        channel: RecoveryChannel,
        reference: &str,
        now: i64,
    ) -> Result<i64, DomainError> {
        challenges::supersede(txn, acct.id, challenges::OUTSTANDING, now).await?;
        let r = &self.cfg.recovery;
        // The code or token goes into the sealed message; only its HMAC is kept with the
        // challenge.
        let (secret_hmac, ttl, message) = if channel.sends_code() {
            let code = secrets::new_code(self.entropy.as_ref())?;
            let tag = challenges::code_tag(&self.key, acct.id, challenges::RESET, reference, &code);
            let message = Outbound::ResetCode {
                via: code_channel(channel),
                code,
                reference: reference.to_owned(),
                expires_in_minutes: minutes(r.code_ttl),
            };
            (tag, r.code_ttl, message)
        } else {
            let token = secrets::new_token(self.entropy.as_ref())?;
            let tag = challenges::token_tag(&self.key, "link", &token);
            let message = Outbound::ResetLink {
                token,
                reference: reference.to_owned(),
                expires_in_minutes: minutes(r.link_ttl),
            };
            (tag, r.link_ttl, message)
        };
        let row = challenges::insert(
            txn,
            NewChallenge {
                account_id: acct.id,
                purpose: challenges::RESET,
                channel: channel.as_str(),
                contact_id: Some(c.id),
                secret_hmac,
                reference,
                ttl,
                issued_by: None,
                checklist: None,
                pending_value: None,
            },
            now,
        )
        .await?;
        let message = outbox::enqueue(
            txn,
            &self.delivery.sealer,
            NewMessage {
                challenge_id: Some(row.id),
                expires_at: Some(row.expires_at),
                ..message_to(acct, &c.value, message)
            },
            now,
        )
        .await?;
        Ok(message.id)
    }

    async fn handle_username_request(
        &self,
        req: &recovery_request::Model,
    ) -> Result<(), DomainError> {
        let now = self.now();
        let meta = ClientMeta {
            ip: req.ip.clone(),
            user_agent: req.user_agent.clone(),
        };
        let Ok(lookup) = serde_json::from_str::<UsernameLookup>(&req.payload) else {
            recovery_request::Entity::delete_by_id(req.id)
                .exec(&self.db)
                .await?;
            return Ok(());
        };
        // (account, the contact to send to) when exactly one account matches.
        let found = match &lookup {
            UsernameLookup::Contact { email_or_phone } => {
                self.username_by_contact(email_or_phone).await?
            }
            UsernameLookup::Demographics {
                first_name,
                last_name,
                date_of_birth,
                zip,
            } => {
                self.username_by_demographics(first_name, last_name, date_of_birth, zip)
                    .await?
            }
        };
        let txn = self.db.begin().await?;
        let mut sent = false;
        let outcome = match &found {
            None => "no_single_match",
            Some((a, c)) => {
                if self
                    .over_send_limits(&txn, a.id, &c.value_norm, c.kind == "phone", now)
                    .await?
                {
                    "limited"
                } else {
                    let via = if c.kind == "phone" {
                        NoticeChannel::Sms
                    } else {
                        NoticeChannel::Email
                    };
                    let message = Outbound::Username {
                        via,
                        username: a.username.clone(),
                    };
                    outbox::enqueue(
                        &txn,
                        &self.delivery.sealer,
                        NewMessage {
                            expires_at: Some(now + DAY.as_millis() as i64),
                            ..message_to(a, &c.value, message)
                        },
                        now,
                    )
                    .await?;
                    sent = true;
                    "queued"
                }
            }
        };
        let how = match lookup {
            UsernameLookup::Contact { .. } => "contact",
            UsernameLookup::Demographics { .. } => "demographics",
        };
        let event = Event {
            action: "username_requested",
            target: found.as_ref().map(|(a, _)| a.id),
            details: json!({ "by": how, "outcome": outcome }),
        };
        self.finish_request(txn, req, &meta, event, sent, now).await
    }

    /// The one patient account a typed email or phone number is on file for, and that contact
    /// (the username goes back to the very contact that was typed, SECURITY.md R11).
    async fn username_by_contact(
        &self,
        typed: &str,
    ) -> Result<Option<(account::Model, contact::Model)>, DomainError> {
        let typed = typed.trim();
        let q = contact::Entity::find();
        let matches = if typed.contains('@') {
            q.filter(contact::Column::Kind.eq("email"))
                .filter(contact::Column::ValueNorm.eq(typed.to_lowercase()))
        } else {
            let forms = phone::lookup_forms(typed);
            if forms.is_empty() {
                return Ok(None);
            }
            q.filter(contact::Column::Kind.eq("phone"))
                .filter(contact::Column::SmsCapable.eq(true))
                .filter(contact::Column::ValueNorm.is_in(forms))
        }
        .all(&self.db)
        .await?;
        let mut found: Vec<(account::Model, contact::Model)> = vec![];
        for c in matches {
            let Some(pid) = c.patient_id else { continue };
            let a = account::Entity::find()
                .filter(account::Column::PatientId.eq(pid))
                .one(&self.db)
                .await?;
            if let Some(a) = a.filter(|a| a.status != "disabled")
                && !found.iter().any(|(f, _)| f.id == a.id)
            {
                found.push((a, c));
            }
        }
        Ok(match found.len() {
            1 => found
                .pop()
                .filter(|(_, c)| c.kind == "email" || self.phone_allowed(&c.value_norm)),
            _ => None,
        })
    }

    async fn username_by_demographics(
        &self,
        first: &str,
        last: &str,
        dob: &str,
        zip: &str,
    ) -> Result<Option<(account::Model, contact::Model)>, DomainError> {
        let zip5: String = zip.trim().chars().take(5).collect();
        if zip5.len() != 5 || !zip5.chars().all(|c| c.is_ascii_digit()) {
            return Ok(None);
        }
        let lower = |col: patient::Column| Expr::expr(Func::lower(Expr::col(col)));
        // The ZIP is compared here, not with LIKE, so "%" in the form matches nothing.
        let patients: Vec<patient::Model> = patient::Entity::find()
            .filter(lower(patient::Column::FirstName).eq(first.trim().to_lowercase()))
            .filter(lower(patient::Column::LastName).eq(last.trim().to_lowercase()))
            .filter(patient::Column::DateOfBirth.eq(dob.trim()))
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|p| p.zip.chars().take(5).collect::<String>() == zip5)
            .collect();
        if patients.len() != 1 {
            return Ok(None);
        }
        let Some(a) = account::Entity::find()
            .filter(account::Column::PatientId.eq(patients[0].id))
            .one(&self.db)
            .await?
            .filter(|a| a.status != "disabled")
        else {
            return Ok(None);
        };
        let contacts = self.contacts_of(&self.db, &a).await?;
        // Email first (the patient asked on a web page), else a number that takes texts.
        let c = self
            .contact_for(&contacts, RecoveryChannel::EmailCode)
            .or_else(|| {
                self.contact_for(&contacts, RecoveryChannel::Sms)
                    .filter(|c| self.phone_allowed(&c.value_norm))
            });
        Ok(c.map(|c| (a, c)))
    }

    /// Per-address cap on guesses of any kind; true when over it.
    pub(crate) async fn too_many_guesses_from(
        &self,
        meta: &ClientMeta,
        now: i64,
    ) -> Result<bool, DomainError> {
        Ok(limits::hit(
            &self.db,
            &format!("guess:ip:{}", limits::address_key(&meta.ip)),
            HOUR,
            now,
        )
        .await?
            > GUESSES_PER_IP_PER_HOUR)
    }

    /// Forgot password, step 2 by code.
    pub async fn verify_reset_code(
        &self,
        who: RecoveryIdentity,
        code: &str,
        meta: &ClientMeta,
    ) -> Result<ResetGrant, DomainError> {
        self.check_fields(&[&who.identifier, &who.email, code])?;
        let now = self.now();
        let Some(code) = normalize_code(code) else {
            return Err(not_accepted());
        };
        if self.too_many_guesses_from(meta, now).await? {
            return Err(not_accepted());
        }
        let acct = self.find_for_recovery(&who).await?;
        // Every attempt is counted *before* it is compared, so simultaneous guesses cannot
        // all slip in under the limits (R6); a correct code spends an attempt too.
        let (paused, guess_left) = self
            .count_attempt(acct.as_ref(), RECOVERY_PURPOSES, now)
            .await?;
        let account_id = acct.as_ref().map_or(-1, |a| a.id);
        // Codes that ended within the last day still match, so an expired code gets the calm
        // "expired" answer; the longest-lived are the clinic's (R4: 24 h by default).
        let since = now - (self.cfg.recovery.staff_code_ttl + DAY).as_millis() as i64;
        let rows = challenge::Entity::find()
            .filter(challenge::Column::AccountId.eq(account_id))
            .filter(challenge::Column::Purpose.is_in([challenges::RESET, challenges::STAFF_CODE]))
            .filter(challenge::Column::Channel.ne("email_link"))
            .filter(challenge::Column::CreatedAt.gt(since))
            .all(&self.db)
            .await?;
        let matched = rows
            .iter()
            .find(|r| challenges::code_matches(&self.key, r, &code));
        if let (Some(a), Some(r), false) = (&acct, matched, paused) {
            match challenges::state(r, now) {
                State::Active if guess_left => {
                    return self.grant_for(a, r, "code", meta, now).await;
                }
                // Five guesses used: refused even when right.
                State::Active | State::Exhausted => {}
                // The right code, but an old one: say so, it was this person's own message.
                other => {
                    self.audit_code_problem(a, r, other, meta, now).await?;
                    return Err(DomainError::CodeRejected(problem(other)));
                }
            }
        }
        self.audit_wrong_guess(acct.as_ref(), paused, meta, now)
            .await?;
        Err(not_accepted())
    }

    /// Counts one attempt against the account's day and takes one guess from its live codes.
    /// Answers (recovery paused, a guess was left). The same statements run for unknown
    /// identifiers, against the shared id -1, so the work does not depend on whether the
    /// account exists (E2).
    pub(crate) async fn count_attempt(
        &self,
        acct: Option<&account::Model>,
        purposes: &[&str],
        now: i64,
    ) -> Result<(bool, bool), DomainError> {
        let account_id = acct.map_or(-1, |a| a.id);
        let day_key = format!("guess:account:{account_id}");
        let txn = self.db.begin().await?;
        let n = limits::hit(&txn, &day_key, DAY, now).await?;
        let already = limits::paused(&txn, &pause_key(account_id), challenges::PAUSE, now).await?;
        // The twenty-first attempt in a day starts an hour's pause; the count starts again
        // after it (a new code does not reset it, only the pause does).
        let over = n > challenges::MAX_GUESSES_PER_DAY;
        if over {
            limits::start_pause(&txn, &pause_key(account_id), now).await?;
            limits::reset(&txn, &day_key).await?;
        }
        let guess_left =
            !(already || over) && challenges::take_guess(&txn, account_id, purposes, now).await?;
        txn.commit().await?;
        Ok((acct.is_some() && (already || over), guess_left))
    }

    pub(crate) async fn audit_wrong_guess(
        &self,
        acct: Option<&account::Model>,
        paused: bool,
        meta: &ClientMeta,
        now: i64,
    ) -> Result<(), DomainError> {
        let txn = self.db.begin().await?;
        audit::append(
            &txn,
            now,
            &actor_for(None, meta),
            Event {
                action: "recovery_code_failed",
                target: acct.map(|a| a.id),
                details: json!({ "recovery_paused": paused }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Whether recovery is paused for the account after too many wrong guesses (R6).
    async fn recovery_paused(&self, account_id: i64, now: i64) -> Result<bool, DomainError> {
        Ok(limits::paused(&self.db, &pause_key(account_id), challenges::PAUSE, now).await?)
    }

    async fn audit_code_problem(
        &self,
        a: &account::Model,
        r: &challenge::Model,
        state: State,
        meta: &ClientMeta,
        now: i64,
    ) -> Result<(), DomainError> {
        let txn = self.db.begin().await?;
        audit::append(
            &txn,
            now,
            &actor_for(None, meta),
            Event {
                action: "recovery_code_refused",
                target: Some(a.id),
                details: json!({ "reference": r.reference, "state": format!("{state:?}") }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Uses up the proved challenge and issues a grant in its place, in one transaction.
    async fn grant_for(
        &self,
        a: &account::Model,
        r: &challenge::Model,
        how: &str,
        meta: &ClientMeta,
        now: i64,
    ) -> Result<ResetGrant, DomainError> {
        let token = secrets::new_token(self.entropy.as_ref())?;
        let txn = self.db.begin().await?;
        if !challenges::consume(&txn, r.id, now).await? {
            // Someone else used it a moment ago (F5: exactly one success).
            txn.rollback().await?;
            return Err(DomainError::CodeRejected(CodeProblem::AlreadyUsed));
        }
        challenges::insert(
            &txn,
            NewChallenge {
                account_id: a.id,
                purpose: challenges::GRANT,
                channel: &r.channel,
                contact_id: r.contact_id,
                secret_hmac: challenges::token_tag(&self.key, "grant", &token),
                reference: &r.reference,
                ttl: challenges::GRANT_TTL,
                issued_by: None,
                checklist: None,
                pending_value: None,
            },
            now,
        )
        .await?;
        audit::append(
            &txn,
            now,
            &actor_for(None, meta),
            Event {
                action: "recovery_code_used",
                target: Some(a.id),
                details: json!({ "by": how, "channel": r.channel, "reference": r.reference }),
            },
        )
        .await?;
        txn.commit().await?;
        let masked = self.masked_contact(r.contact_id).await?;
        let question = if self.cfg.recovery.security_question {
            security_question::Entity::find_by_id(a.id)
                .one(&self.db)
                .await?
                .map(|q| q.question)
        } else {
            None
        };
        Ok(ResetGrant {
            grant: token,
            masked_contact: masked,
            expires_in_secs: challenges::GRANT_TTL.as_secs(),
            security_question: question,
        })
    }

    async fn masked_contact(&self, contact_id: Option<i64>) -> Result<String, DomainError> {
        let c = contact::Entity::find_by_id(contact_id.unwrap_or(-1))
            .one(&self.db)
            .await?;
        Ok(match c {
            Some(c) if c.kind == "email" => mask_email(&c.value),
            Some(c) => mask_phone(&c.value),
            None => String::new(),
        })
    }

    /// A live link's row and account, or the reason it cannot be used.
    async fn link_row(
        &self,
        token: &str,
        meta: &ClientMeta,
        now: i64,
    ) -> Result<(account::Model, challenge::Model), DomainError> {
        self.check_fields(&[token])?;
        if self.too_many_guesses_from(meta, now).await? {
            return Err(not_accepted());
        }
        let row = challenge::Entity::find()
            .filter(
                challenge::Column::SecretHmac.eq(challenges::token_tag(&self.key, "link", token)),
            )
            .filter(challenge::Column::Purpose.eq(challenges::RESET))
            .filter(challenge::Column::Channel.eq("email_link"))
            .one(&self.db)
            .await?
            .ok_or_else(not_accepted)?;
        let a = account::Entity::find_by_id(row.account_id)
            .one(&self.db)
            .await?
            .filter(|a| a.status != "disabled")
            .ok_or_else(not_accepted)?;
        if self.recovery_paused(a.id, now).await? {
            return Err(not_accepted());
        }
        match challenges::state(&row, now) {
            State::Active => Ok((a, row)),
            other => Err(DomainError::CodeRejected(problem(other))),
        }
    }

    /// What a link will do, without using it (SECURITY.md R7).
    pub async fn preview_reset_link(
        &self,
        token: &str,
        meta: &ClientMeta,
    ) -> Result<LinkPreview, DomainError> {
        let now = self.now();
        let (_, row) = self.link_row(token, meta, now).await?;
        Ok(LinkPreview {
            masked_contact: self.masked_contact(row.contact_id).await?,
            expires_in_secs: u64::try_from((row.expires_at - now) / 1000).unwrap_or(0),
        })
    }

    /// "Continue" on a link's page: uses the link and issues a grant.
    pub async fn redeem_reset_link(
        &self,
        token: &str,
        meta: &ClientMeta,
    ) -> Result<ResetGrant, DomainError> {
        let now = self.now();
        let (a, row) = self.link_row(token, meta, now).await?;
        self.grant_for(&a, &row, "link", meta, now).await
    }

    /// Forgot password, last step. The new password, the grant's use, the end of every
    /// session, the cleared lock, the audit row and the notices commit together (F4).
    pub async fn complete_reset(
        &self,
        grant: &str,
        security_answer: Option<&str>,
        new: &str,
        repeat: &str,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        self.check_fields(&[grant, security_answer.unwrap_or("")])?;
        let now = self.now();
        let row = challenge::Entity::find()
            .filter(
                challenge::Column::SecretHmac.eq(challenges::token_tag(&self.key, "grant", grant)),
            )
            .filter(challenge::Column::Purpose.eq(challenges::GRANT))
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
            .filter(|a| a.status != "disabled")
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
            // Answers count against the same day's attempts as codes, and a pause stops them.
            let (paused, guess_left) = self
                .count_attempt(Some(&acct), RECOVERY_PURPOSES, now)
                .await?;
            let answer = normalize_answer(security_answer.unwrap_or(""));
            let ok = self.hasher.verify(answer, Some(q.answer_phc)).await?.ok;
            if paused || !guess_left || !ok {
                self.audit_wrong_guess(Some(&acct), paused, meta, now)
                    .await?;
                return Err(if paused || !guess_left {
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
            .set_password(&mut uow, acct.id, phc, SetBy::Recovery)
            .await?;
        uow.audit(
            "password_reset",
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

    /// Periodic clean-up: scrub call scripts whose codes have expired, and forget rate
    /// counters from windows long gone.
    pub async fn housekeeping(&self) -> Result<(), DomainError> {
        let now = self.now();
        let scrubbed = outbox::scrub_expired(&self.db, now).await?;
        let pruned = limits::prune(&self.db, now).await?;
        if scrubbed + pruned > 0 {
            tracing::debug!(scrubbed, pruned, "housekeeping");
        }
        Ok(())
    }

    /// Tells every contact on file the new username (they are where it may be sent, R11).
    pub(crate) async fn enqueue_username_notices(
        &self,
        txn: &impl ConnectionTrait,
        acct: &account::Model,
        contacts: &[contact::Model],
        now: i64,
    ) -> Result<(), DomainError> {
        for (c, via) in self.notice_routes(contacts) {
            let message = Outbound::UsernameChanged {
                via,
                username: acct.username.clone(),
            };
            outbox::enqueue(
                txn,
                &self.delivery.sealer,
                NewMessage {
                    expires_at: Some(now + DAY.as_millis() as i64),
                    ..message_to(acct, &c.value, message)
                },
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// Which contacts can get a notice, and how: email when email is delivered, texts to
    /// allowed mobiles when texts are.
    pub(crate) fn notice_routes<'a>(
        &self,
        contacts: &'a [contact::Model],
    ) -> Vec<(&'a contact::Model, NoticeChannel)> {
        let have_phone = self.delivery.transports.phone.is_some();
        let have_email = self.delivery.transports.email.is_some();
        contacts
            .iter()
            .filter_map(|c| match c.kind.as_str() {
                "email" if have_email => Some((c, NoticeChannel::Email)),
                "phone" if have_phone && c.sms_capable && self.phone_allowed(&c.value_norm) => {
                    Some((c, NoticeChannel::Sms))
                }
                _ => None,
            })
            .collect()
    }

    /// A notice to every contact on file that can receive one (SECURITY.md R9), except where
    /// this unit of work already sends a message (a staff reset's letter email says it).
    pub(crate) async fn enqueue_password_notices(
        &self,
        uow: &mut Uow,
        acct: &account::Model,
        contacts: &[contact::Model],
        how: PasswordChange,
    ) -> Result<(), DomainError> {
        let expires_at = uow.now + DAY.as_millis() as i64;
        for (c, via) in self.notice_routes(contacts) {
            if uow.has_told(&c.value) {
                continue;
            }
            uow.send(NewMessage {
                expires_at: Some(expires_at),
                ..message_to(acct, &c.value, Outbound::PasswordChanged { via, how })
            })
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "recovery_tests.rs"]
mod tests;
