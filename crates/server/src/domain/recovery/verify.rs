//! Forgot password, step 2 by code: guesses counted before they are compared (SECURITY.md R6),
//! a proved code exchanged for a grant in one transaction (F5).

use carekey_shared::{
    CodeProblem, RecoveryIdentity, ResetGrant, mask_email, mask_phone, normalize_code,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::domain::audit::Actor;
use crate::domain::challenges::{self, NewChallenge, State};
use crate::domain::limits::{self, DAY, HOUR};
use crate::domain::signin::actor_for;
use crate::domain::{ClientMeta, DomainError, Services, secrets};
use crate::store::entities::{account, challenge, contact, security_question};

use super::{CODE_PURPOSES, GUESSES_PER_IP_PER_HOUR, not_accepted, pause_key, problem};
use crate::store::entities::audit_log::Action;

/// What one counted guess may do.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    /// The guessing browser's flow tag, if it sent a cookie.
    pub flow: Option<String>,
    /// A guess was taken from a live code bound to this browser.
    pub bound: bool,
    /// Recovery is paused (for every guess but the bound page's at its own code).
    pub paused: bool,
    /// A guess was taken from the account's other live codes, within the daily count.
    pub unbound_left: bool,
}

impl Attempt {
    /// Whether the challenge was sent for (or proved on) this very browser.
    fn is_mine(&self, row: &challenge::Model) -> bool {
        matches!((&row.flow_tag, &self.flow), (Some(tag), Some(mine)) if tag == mine)
    }

    /// Whether the answer may say anything about the challenge matched ("expired", "used"):
    /// its own page always may; anyone else, only while not paused.
    pub fn may_see(&self, row: &challenge::Model) -> bool {
        self.is_mine(row) || !self.paused
    }

    /// Whether this guess may use the challenge it matched: the bound page's guess its own
    /// code, any other guess the others, while not paused.
    pub fn allows(&self, row: &challenge::Model) -> bool {
        if self.is_mine(row) {
            self.bound
        } else {
            self.unbound_left && !self.paused
        }
    }
}

impl Services {
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
        let attempt = self
            .count_attempt(acct.as_ref(), CODE_PURPOSES, meta, now)
            .await?;
        let account_id = acct.as_ref().map_or(-1, |a| a.id);
        // Codes that ended within the last day still match, so an expired code gets the calm
        // "expired" answer; the longest-lived are the clinic's (R4: 24 h by default).
        let since = now - (self.cfg.recovery.staff_code_ttl + DAY).as_millis() as i64;
        let rows = challenge::Entity::find()
            .filter(challenge::Column::AccountId.eq(account_id))
            .filter(
                challenge::Column::Purpose
                    .is_in([challenges::Purpose::Reset, challenges::Purpose::StaffCode]),
            )
            .filter(challenge::Column::Channel.ne("email_link"))
            .filter(challenge::Column::CreatedAt.gt(since))
            .all(&self.db)
            .await?;
        let matched = rows
            .iter()
            .find(|r| challenges::code_matches(&self.key, r, &code));
        if let (Some(a), Some(r)) = (&acct, matched.filter(|r| attempt.may_see(r))) {
            match challenges::state(r, now) {
                State::Active if attempt.allows(r) => {
                    return self.grant_for(a, r, "code", meta, now).await;
                }
                // Five guesses used: refused even when right.
                State::Active | State::Exhausted => {}
                // The right code, but an old one: say so, it was this person's own message.
                other => {
                    self.audit_code_problem(a, r, other, meta).await?;
                    return Err(DomainError::CodeRejected(problem(other)));
                }
            }
        }
        self.audit_wrong_guess(acct.as_ref(), attempt.paused, meta)
            .await?;
        Err(not_accepted())
    }

    /// Takes one guess and counts it, before anything is compared (SECURITY.md R6).
    ///
    /// A guess from the browser a code is bound to (the one that asked for it) takes one of
    /// that code's own five guesses, and neither the account's daily count nor its pause
    /// stops it at that code, so a stranger's guessing elsewhere cannot keep the patient from
    /// finishing on their own page with the code sent to their own contact. Such a guess is
    /// worth little to a stranger: five per code, and codes come only within the send limits.
    ///
    /// Any other guess takes one from the account's other live codes (see `take_guess`) and,
    /// only when there was one to take, counts against the account's last 24 hours (guesses
    /// count only against a live code, so a stranger guessing while none is out pauses
    /// nothing). The twenty-first such guess in 24 hours is refused and starts an hour's
    /// pause. The count is not restarted by the pause, nor by a new code: after the pause one
    /// guess is compared and starts the next hour's pause, so past twenty the rate is one an
    /// hour, where a restarted count allowed twenty.
    ///
    /// The same statements run whatever the identifier names, known or not, paused or not,
    /// code out or not, cookie or not (E2): guesses are taken under the account's id, or
    /// under -1 (which matches no code) when there is no account or it is paused; the count
    /// goes to the account's key or, when nothing was charged
    /// to it, to the address's own.
    pub(crate) async fn count_attempt(
        &self,
        acct: Option<&account::Model>,
        purposes: &[challenges::Purpose],
        meta: &ClientMeta,
        now: i64,
    ) -> Result<Attempt, DomainError> {
        let account_id = acct.map_or(-1, |a| a.id);
        let flow = self.flow_tag_of(meta);
        // Nothing here is audited: the caller records the outcome with its own answer.
        let uow = self.begin(Actor::default()).await?;
        let txn = uow.db();
        let pause = pause_key(account_id);
        let last_pause = limits::pause_started(txn, &pause).await?;
        let already = last_pause.is_some_and(|t| now < t + challenges::PAUSE.as_millis() as i64);
        let bound =
            challenges::take_bound_guess(txn, account_id, purposes, flow.as_deref(), now).await?;
        let charge_to = if already { -1 } else { account_id };
        let took = challenges::take_guess(txn, charge_to, purposes, flow.as_deref(), now).await?;
        let key = if took {
            format!("guess:account:{account_id}")
        } else {
            format!("guess:nocode:{}", limits::address_key(&meta.ip))
        };
        let n = limits::hit(txn, &key, DAY, now).await?;
        let over = took && n > challenges::MAX_GUESSES_PER_DAY;
        // Past the limit, the one guess that starts the next pause after an ended one is
        // compared; the guess that first crosses the limit is not, nor any that raced it to
        // start the pause and lost (one statement decides, on both databases).
        let started =
            over && limits::start_pause_unless_running(txn, &pause, challenges::PAUSE, now).await?;
        let refused = over && (last_pause.is_none() || !started);
        uow.commit(self).await?;
        Ok(Attempt {
            flow,
            bound,
            paused: acct.is_some() && (already || refused),
            unbound_left: took && !refused,
        })
    }

    pub(crate) async fn audit_wrong_guess(
        &self,
        acct: Option<&account::Model>,
        paused: bool,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        let uow = self.begin(actor_for(None, meta)).await?;
        uow.audit(
            Action::RecoveryCodeFailed,
            acct.map(|a| a.id),
            json!({ "recovery_paused": paused }),
        )
        .await?;
        uow.commit(self).await
    }

    pub(crate) async fn audit_code_problem(
        &self,
        a: &account::Model,
        r: &challenge::Model,
        state: State,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        let uow = self.begin(actor_for(None, meta)).await?;
        uow.audit(
            Action::RecoveryCodeRefused,
            Some(a.id),
            json!({ "reference": r.reference, "state": format!("{state:?}") }),
        )
        .await?;
        uow.commit(self).await
    }

    /// Uses up the proved challenge and issues a grant in its place, in one transaction.
    pub(crate) async fn grant_for(
        &self,
        a: &account::Model,
        r: &challenge::Model,
        how: &str,
        meta: &ClientMeta,
        now: i64,
    ) -> Result<ResetGrant, DomainError> {
        let token = secrets::new_token(self.entropy.as_ref())?;
        let uow = self.begin(actor_for(None, meta)).await?;
        // The account's lock first, as every change to its credentials takes it: a password
        // set by the clinic meanwhile then either sees this grant and supersedes it, or
        // commits first and leaves nothing to exchange (SECURITY.md R5; found by the F4 load
        // in tests/kill.rs on PostgreSQL, where the grant otherwise outlived the reset).
        uow.lock_account(a.id).await?;
        if !challenges::consume(uow.db(), r.id, now).await? {
            // Someone else used it a moment ago (F5: exactly one success).
            return Err(DomainError::CodeRejected(CodeProblem::AlreadyUsed));
        }
        challenges::insert(
            uow.db(),
            NewChallenge {
                account_id: a.id,
                purpose: challenges::Purpose::Grant,
                channel: &r.channel,
                contact_id: r.contact_id,
                secret_hmac: challenges::token_tag(&self.key, "grant", &token),
                reference: &r.reference,
                ttl: challenges::GRANT_TTL,
                issued_by: None,
                checklist: None,
                pending_value: None,
                // The grant belongs to the browser that proved the code or link: its answer
                // step is its own page's, as the code was (R6).
                flow_tag: self.flow_tag_of(meta),
            },
            now,
        )
        .await?;
        uow.audit(
            Action::RecoveryCodeUsed,
            Some(a.id),
            json!({ "by": how, "channel": r.channel, "reference": r.reference }),
        )
        .await?;
        uow.commit(self).await?;
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

    pub(crate) async fn masked_contact(
        &self,
        contact_id: Option<i64>,
    ) -> Result<String, DomainError> {
        let c = contact::Entity::find_by_id(contact_id.unwrap_or(-1))
            .one(&self.db)
            .await?;
        Ok(match c {
            Some(c) if c.kind == contact::Kind::Email => mask_email(&c.value),
            Some(c) => mask_phone(&c.value),
            None => String::new(),
        })
    }
}
