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
        let (paused, guess_left) = self
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
        if let (Some(a), Some(r), false) = (&acct, matched, paused) {
            match challenges::state(r, now) {
                State::Active if guess_left => {
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
        self.audit_wrong_guess(acct.as_ref(), paused, meta).await?;
        Err(not_accepted())
    }

    /// Takes one guess from the account's live codes and, only when there was one to take,
    /// counts it against the account's last 24 hours (SECURITY.md R6: guesses count only
    /// against a live code, so a stranger guessing while none is out pauses nothing). The
    /// twenty-first such guess in 24 hours is refused and starts an hour's pause. The count
    /// is not restarted by the pause, nor by a new code: after the pause one guess is
    /// compared and starts the next hour's pause, so past twenty the rate is one an hour,
    /// where a restarted count allowed twenty. Answers (recovery paused, a guess was left).
    ///
    /// The same statements run whatever the identifier names, known or not, paused or not,
    /// code out or not (E2): the guess is taken under the account's id, or under -1 (which
    /// matches no code) when there is no account or it is paused; the count goes to the
    /// account's key or, when nothing was charged, to the address's own.
    pub(crate) async fn count_attempt(
        &self,
        acct: Option<&account::Model>,
        purposes: &[challenges::Purpose],
        meta: &ClientMeta,
        now: i64,
    ) -> Result<(bool, bool), DomainError> {
        let account_id = acct.map_or(-1, |a| a.id);
        // Nothing here is audited: the caller records the outcome with its own answer.
        let uow = self.begin(Actor::default()).await?;
        let txn = uow.db();
        let pause = pause_key(account_id);
        let last_pause = limits::pause_started(txn, &pause).await?;
        let already = last_pause.is_some_and(|t| now < t + challenges::PAUSE.as_millis() as i64);
        let charge_to = if already { -1 } else { account_id };
        let took = challenges::take_guess(txn, charge_to, purposes, now).await?;
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
        Ok((acct.is_some() && (already || refused), took && !refused))
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
