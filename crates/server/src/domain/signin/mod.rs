//! Sign-in, session checks and sign-out.
//!
//! Enumeration (SECURITY.md E1, E2): an unknown identifier, a wrong password, a locked, disabled
//! or wrong-portal account all end in the same `SignInFailed` after the same argon2 work and an
//! audit write, so neither the answer nor its timing says whether someone is a patient here.

pub mod pacer;
pub mod sessions;

use carekey_shared::policy::MAX_BYTES;
use carekey_shared::{AccountKind, DeviceSession, HomeInfo, Portal, SessionInfo};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::domain::audit::Actor;
use crate::domain::caller::{Caller, Patient};
use crate::domain::lockout::{self, LockDecision};
use crate::domain::{ClientMeta, DomainError, Services};
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, contact, password_credential, session};
use crate::telemetry::names;
use sessions::SessionState;

/// A signed-in session: the token for the cookie and what the browser may know.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub info: SessionInfo,
    /// A "remember this device" token for its cookie, when the person asked for one.
    pub remember: Option<String>,
}

/// What a failed password check was for, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    SignIn,
    PasswordChange,
    /// A wrong code at the second step of a sign-in (SECURITY.md M5).
    SecondStep,
}

/// Whether a call may proceed while the account must change its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// Only the change-password page's own calls (and whoami, sign-out).
    DuringForcedChange,
    /// Everything else: refused until the password has been changed.
    FullSessionOnly,
    /// Only the second step of a sign-in whose password was right (issue 12): the one call
    /// such a session may make.
    SecondStep,
    /// The pages that add a second step, which a sign-in the clinic requires one of reaches
    /// before anything else (after a forced password change).
    Enrolment,
}

/// Whether a call counts as the person's activity for the idle logoff (HIPAA
/// 164.312(a)(2)(iii)). A page's own background refresh does not: otherwise a chart left open
/// while a message is on its way would keep the session alive forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Counts,
    Background,
}

/// Records a sign-in on the account in the statement that re-checks it may sign in (active,
/// not paused), so a lock that lands while the hash ran is never slipped past (SECURITY.md
/// A1). `whole`: the sign-in is complete (the counters are cleared and the times moved);
/// otherwise only the check is made. False: the account may not sign in now.
pub(crate) async fn open_sign_in<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    whole: bool,
    now: i64,
) -> Result<bool, DomainError> {
    let mut opening = account::Entity::update_many();
    if whole {
        opening = opening
            .col_expr(
                account::Column::PreviousSignInAt,
                Expr::col(account::Column::LastSignInAt),
            )
            .col_expr(
                account::Column::FailuresBeforeLastSignIn,
                Expr::col(account::Column::FailedSignIns),
            )
            .col_expr(account::Column::LastSignInAt, Expr::value(now))
            .col_expr(account::Column::FailedSignIns, Expr::value(0))
            .col_expr(
                account::Column::LockedUntil,
                Expr::value(Option::<i64>::None),
            );
    }
    let opened = opening
        .col_expr(account::Column::UpdatedAt, Expr::value(now))
        .filter(account::Column::Id.eq(account_id))
        .filter(account::Column::Status.eq(account::Status::Active))
        .filter(
            account::Column::LockedUntil
                .is_null()
                .or(account::Column::LockedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(opened.rows_affected == 1)
}

/// What the browser signing in brings: the session token it had (replaced, never promoted) and
/// its "remember this device" token.
#[derive(Debug, Clone, Copy)]
struct Browser<'a> {
    previous_token: Option<&'a str>,
    device: Option<&'a str>,
}

pub fn kind_of(a: &account::Model) -> AccountKind {
    match a.kind {
        account::Kind::Admin => AccountKind::Admin,
        account::Kind::Staff => AccountKind::Staff,
        account::Kind::Patient => AccountKind::Patient,
    }
}

pub(crate) fn actor_for(a: Option<&account::Model>, meta: &ClientMeta) -> Actor {
    Actor {
        account_id: a.map(|a| a.id),
        name: a.map(|a| a.username.clone()).unwrap_or_default(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
    }
}

impl Services {
    /// Finds the account an identifier names: a username, or an email on file that belongs to
    /// exactly one account. The same queries run whatever the outcome.
    pub async fn find_by_identifier(
        &self,
        identifier: &str,
    ) -> Result<Option<account::Model>, DomainError> {
        let by_name = self.find_by_username(identifier).await?;
        let by_email = self.find_by_email(identifier).await?;
        Ok(by_name.or(by_email))
    }

    pub async fn find_by_username(
        &self,
        username: &str,
    ) -> Result<Option<account::Model>, DomainError> {
        Ok(account::Entity::find()
            .filter(account::Column::UsernameLower.eq(username.trim().to_lowercase()))
            .one(&self.db)
            .await?)
    }

    /// The one account an email address is on file for. A family often shares one address; an
    /// email that matches several accounts identifies none of them, and the person must use
    /// their username.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<account::Model>, DomainError> {
        // One statement whether or not the address is on file, and however many times: the
        // work does not tell an onlooker that it is (SECURITY.md E2).
        let on_file = |col: contact::Column| {
            Query::select()
                .column(col)
                .from(contact::Entity)
                .and_where(contact::Column::Kind.eq(contact::Kind::Email))
                .and_where(contact::Column::ValueNorm.eq(email.trim().to_lowercase()))
                .and_where(col.is_not_null())
                .to_owned()
        };
        let mut found = account::Entity::find()
            .filter(
                Condition::any()
                    .add(account::Column::Id.in_subquery(on_file(contact::Column::AccountId)))
                    .add(
                        account::Column::PatientId.in_subquery(on_file(contact::Column::PatientId)),
                    ),
            )
            .limit(2)
            .all(&self.db)
            .await?;
        Ok(if found.len() == 1 { found.pop() } else { None })
    }

    pub async fn sign_in(
        &self,
        portal: Portal,
        identifier: &str,
        password: &str,
        previous_token: Option<&str>,
        meta: &ClientMeta,
    ) -> Result<NewSession, DomainError> {
        self.sign_in_on_device(portal, identifier, password, previous_token, None, meta)
            .await
    }

    /// Sign-in from a browser that may carry a "remember this device" token: a live one for
    /// this account stands in for the second step (SECURITY.md M7), never for the password.
    pub async fn sign_in_on_device(
        &self,
        portal: Portal,
        identifier: &str,
        password: &str,
        previous_token: Option<&str>,
        device: Option<&str>,
        meta: &ClientMeta,
    ) -> Result<NewSession, DomainError> {
        // Oversized input is refused before any lookup or hashing (SECURITY.md P2).
        if password.len() > MAX_BYTES || identifier.len() > 320 {
            return Err(DomainError::InvalidInput("sign-in field too long".into()));
        }
        let now = self.now();
        let account = self.find_by_identifier(identifier).await?;
        // The credential query runs for unknown identifiers too (against an id that never
        // exists), so the database work does not depend on whether the account does.
        let credential =
            password_credential::Entity::find_by_id(account.as_ref().map_or(-1, |a| a.id))
                .one(&self.db)
                .await?
                .map(|c| c.phc);
        // Why this attempt cannot succeed even with the right password, if it cannot.
        let blocked = match &account {
            None => Some("unknown_identifier"),
            Some(a) if kind_of(a).portal() != portal => Some("wrong_portal"),
            Some(a) if a.status == account::Status::Disabled => Some("disabled"),
            Some(a) if lockout::is_locked(a.status, a.locked_until, now) => Some("locked"),
            Some(_) if credential.is_none() => Some("no_password"),
            Some(_) => None,
        };
        let normalized = carekey_shared::policy::normalize(password);
        let phc = if blocked.is_none() { credential } else { None };
        // Behind the address's own gate: one client cannot hold every argon2 slot.
        let client = crate::domain::limits::address_key(&meta.ip);
        // Spraying: past its free share of failures this hour, an address gets one attempt a
        // second. The count and the wait depend on the address alone, never on the account.
        let failed = crate::domain::limits::peek(
            &self.db,
            &spray_key(&client),
            crate::domain::limits::HOUR,
            now,
        )
        .await?;
        if failed > pacer::FREE_FAILURES_PER_HOUR {
            metrics::counter!(names::SIGNIN_PACED).increment(1);
            match self.pacer.turn(&client) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(DomainError::Busy),
            }
        }
        let verified = self
            .hasher
            .verify_from(&client, normalized.clone(), phc.clone())
            .await?;

        match (account, blocked, verified.ok, phc) {
            (Some(acct), None, true, Some(verified_phc)) => {
                let rehash = if verified.needs_rehash {
                    Some(self.hasher.hash(normalized).await?)
                } else {
                    None
                };
                let done = self
                    .complete_sign_in(
                        &acct,
                        &verified_phc,
                        rehash,
                        Browser {
                            previous_token,
                            device,
                        },
                        meta,
                        now,
                    )
                    .await?;
                match done {
                    Some(session) => {
                        if session.info.second_step.is_none() {
                            metrics::counter!(names::SIGNIN_SUCCESSES).increment(1);
                        }
                        Ok(session)
                    }
                    None => {
                        // Locked, disabled or re-keyed while the hash ran: the right password
                        // still does not get in.
                        self.record_failure(Some(&acct), "locked", Attempt::SignIn, meta, now)
                            .await?;
                        Err(DomainError::SignInFailed)
                    }
                }
            }
            (acct, reason, _, _) => {
                let reason = reason.unwrap_or("wrong_password");
                self.record_failure(acct.as_ref(), reason, Attempt::SignIn, meta, now)
                    .await?;
                Err(DomainError::SignInFailed)
            }
        }
    }

    /// Opens the session, or returns None if the account was locked or disabled, or its password
    /// changed, while the hash was being checked: the state is re-checked in the same statement
    /// that records the success, so parallel guesses cannot slip past a lock that just landed.
    async fn complete_sign_in(
        &self,
        acct: &account::Model,
        verified_phc: &str,
        rehash: Option<String>,
        browser: Browser<'_>,
        meta: &ClientMeta,
        now: i64,
    ) -> Result<Option<NewSession>, DomainError> {
        let Browser {
            previous_token,
            device,
        } = browser;
        let token = sessions::new_token(self.entropy.as_ref())?;
        let uow = self.begin(actor_for(Some(acct), meta)).await?;
        let txn = uow.db();
        let after = self.stage_after_password(txn, acct, device, now).await?;
        let (stage, offer) = (after.stage, after.offer);
        // With a second step still to come, the sign-in counters stay as they are: they are
        // cleared only once the sign-in is whole, so re-entering a known password between
        // wrong codes never resets the count toward a pause (SECURITY.md M5).
        let opened = open_sign_in(txn, acct.id, stage != session::Stage::SecondStep, now).await?;
        let still_same = password_credential::Entity::find_by_id(acct.id)
            .one(txn)
            .await?
            .is_some_and(|c| c.phc == verified_phc);
        if !opened || !still_same {
            return Ok(None);
        }
        let acct = account::Entity::find_by_id(acct.id)
            .one(txn)
            .await?
            .ok_or(DomainError::SignInFailed)?;
        if let Some(phc) = rehash {
            // Only over the hash that was verified: a change that lands meanwhile stands.
            password_credential::Entity::update_many()
                .col_expr(password_credential::Column::Phc, Expr::value(phc))
                .filter(password_credential::Column::AccountId.eq(acct.id))
                .filter(password_credential::Column::Phc.eq(verified_phc))
                .exec(txn)
                .await?;
        }
        sessions::replace_brought(txn, previous_token, now).await?;
        let s = sessions::insert(txn, acct.id, &token, stage, Some(now), meta, now).await?;
        // Half a sign-in is not a sign-in: the audit row comes with the second step.
        if stage != session::Stage::SecondStep {
            let details = if after.remembered {
                json!({ "session": s.id, "second_step": "remembered_device" })
            } else {
                json!({ "session": s.id })
            };
            uow.audit(Action::SignIn, Some(acct.id), details).await?;
        }
        uow.commit(self).await?;
        let mut info = self.session_info(&acct, &s, now);
        info.second_step = offer;
        if stage == session::Stage::SecondStep {
            tracing::info!(account = acct.id, "password proved; second step asked");
        } else {
            tracing::info!(account = acct.id, "signed in");
        }
        Ok(Some(NewSession {
            token,
            info,
            remember: None,
        }))
    }

    /// Counts a failure toward the account's lockout (when it is one that can be counted) and
    /// writes the audit row. The same statements run for unknown, locked and disabled accounts
    /// (the counter update then matches no row), so the database work is alike (SECURITY.md E2).
    pub(crate) async fn record_failure(
        &self,
        acct: Option<&account::Model>,
        reason: &'static str,
        attempt: Attempt,
        meta: &ClientMeta,
        now: i64,
    ) -> Result<(), DomainError> {
        let (action, actor) = match attempt {
            Attempt::SignIn => (Action::SignInFailed, actor_for(None, meta)),
            // The person is signed in: they are the actor, not an anonymous visitor.
            Attempt::PasswordChange => (Action::PasswordChangeFailed, actor_for(acct, meta)),
            // The password was proved: the account's holder, or someone who has its password.
            Attempt::SecondStep => (Action::SecondStepFailed, actor_for(acct, meta)),
        };
        let uow = self.begin(actor).await?;
        let txn = uow.db();
        if matches!(attempt, Attempt::SignIn) {
            let client = crate::domain::limits::address_key(&meta.ip);
            crate::domain::limits::hit(txn, &spray_key(&client), crate::domain::limits::HOUR, now)
                .await?;
        }
        let counted = acct.filter(|_| matches!(reason, "wrong_password" | "wrong_second_step"));
        account::Entity::update_many()
            .col_expr(
                account::Column::FailedSignIns,
                Expr::col(account::Column::FailedSignIns).add(1),
            )
            .filter(account::Column::Id.eq(counted.map_or(-1, |a| a.id)))
            .exec(txn)
            .await?;
        let fresh = account::Entity::find_by_id(counted.map_or(-1, |a| a.id))
            .one(txn)
            .await?;
        let mut locked = None;
        let mut lock_kind = None;
        if let Some(fresh) = fresh {
            let failures = u32::try_from(fresh.failed_sign_ins).unwrap_or(0);
            let decision = lockout::after_failure(&self.cfg.lockout, failures, now);
            let mut am: account::ActiveModel = fresh.into();
            match decision {
                LockDecision::None => {}
                LockDecision::Until(t) => {
                    am.locked_until = Set(Some(t));
                    locked = Some(json!({ "until": t, "failures": failures }));
                    lock_kind = Some("temporary");
                }
                LockDecision::Hard => {
                    am.status = Set(account::Status::Locked);
                    am.lock_reason = Set(Some("too_many_failed_sign_ins".into()));
                    locked = Some(json!({ "until": "reset_or_unlock", "failures": failures }));
                    lock_kind = Some("hard");
                }
            }
            if locked.is_some() {
                am.updated_at = Set(now);
                am.update(txn).await?;
            }
        }
        uow.audit(action, acct.map(|a| a.id), json!({ "reason": reason }))
            .await?;
        if let (Some(a), Some(details)) = (acct, locked) {
            uow.audit_as(
                &actor_for(None, meta),
                Action::AccountLocked,
                Some(a.id),
                details,
            )
            .await?;
            tracing::warn!(account = a.id, "account locked after failed sign-ins");
        }
        uow.commit(self).await?;
        // Counted once committed. The reason is one of a fixed set of words; the metrics
        // listener is never the portal's (config `metrics.bind`), as these counts moving
        // would tell whoever made the attempt whether the account exists.
        let attempt = match attempt {
            Attempt::SignIn => "sign_in",
            Attempt::PasswordChange => "password_change",
            Attempt::SecondStep => "second_step",
        };
        metrics::counter!(names::SIGNIN_FAILURES, "attempt" => attempt, "reason" => reason)
            .increment(1);
        if let Some(kind) = lock_kind {
            metrics::counter!(names::LOCKOUTS, "kind" => kind).increment(1);
        }
        Ok(())
    }

    pub fn session_info(&self, a: &account::Model, s: &session::Model, now: i64) -> SessionInfo {
        let (idle, absolute) = sessions::remaining(s.created_at, now, self.lifetimes());
        SessionInfo {
            display_name: a.display_name.clone(),
            kind: kind_of(a),
            must_change_password: a.must_change_password,
            idle_expires_in_secs: idle,
            absolute_expires_in_secs: absolute,
            temporary_password_proof_secs: if a.must_change_password {
                sessions::proof_left(s.password_proved_at, now)
            } else {
                0
            },
            second_step: None,
            must_add_second_step: s.stage == session::Stage::Enrol,
        }
    }

    /// Resolves a session token, enforcing idle and absolute lifetimes and the forced change.
    /// Each successful call counts as activity.
    /// `signed_in` (domain/caller.rs) is the only caller: the result becomes a typed caller.
    pub(super) async fn authenticate(
        &self,
        token: Option<&str>,
        allow: Allow,
        activity: Activity,
    ) -> Result<(account::Model, session::Model), DomainError> {
        let token = token.ok_or(DomainError::NotSignedIn)?;
        let now = self.now();
        let s = session::Entity::find()
            .filter(session::Column::TokenHash.eq(sessions::token_hash(token)))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotSignedIn)?;
        match sessions::state(
            s.created_at,
            s.last_seen_at,
            s.revoked_at,
            now,
            self.lifetimes(),
        ) {
            SessionState::Active => {}
            SessionState::Revoked => return Err(DomainError::NotSignedIn),
            expired => {
                sessions::revoke(&self.db, session::Column::Id.eq(s.id), now).await?;
                tracing::info!(session = s.id, ?expired, "session ended");
                return Err(DomainError::NotSignedIn);
            }
        }
        // A half-done sign-in reaches its second step and nothing else, and only for a few
        // minutes; every other call answers as if there were no session (SECURITY.md M2).
        let pending_for = now - s.created_at;
        match (s.stage, allow) {
            (session::Stage::SecondStep, Allow::SecondStep)
                if pending_for >= crate::domain::twostep::PENDING.as_millis() as i64 =>
            {
                sessions::revoke(&self.db, session::Column::Id.eq(s.id), now).await?;
                return Err(DomainError::NotSignedIn);
            }
            (session::Stage::SecondStep, Allow::SecondStep) => {}
            (session::Stage::SecondStep, _) | (_, Allow::SecondStep) => {
                return Err(DomainError::NotSignedIn);
            }
            _ => {}
        }
        let a = account::Entity::find_by_id(s.account_id)
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotSignedIn)?;
        if a.status == account::Status::Disabled {
            return Err(DomainError::NotSignedIn);
        }
        if a.must_change_password && matches!(allow, Allow::FullSessionOnly | Allow::Enrolment) {
            return Err(DomainError::PasswordChangeRequired);
        }
        if s.stage == session::Stage::Enrol && allow == Allow::FullSessionOnly {
            return Err(DomainError::SecondStepSetupRequired);
        }
        if activity == Activity::Background {
            return Ok((a, s));
        }
        let s = session::ActiveModel {
            id: Set(s.id),
            last_seen_at: Set(now),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        Ok((a, s))
    }

    pub fn whoami(&self, caller: &Caller) -> SessionInfo {
        self.session_info(caller.account(), caller.session(), self.now())
    }

    pub fn home(&self, patient: &Patient) -> HomeInfo {
        let a = patient.caller().account().clone();
        HomeInfo {
            display_name: a.display_name,
            previous_sign_in_at_ms: a.previous_sign_in_at,
            failed_attempts_since: u32::try_from(a.failures_before_last_sign_in).unwrap_or(0),
        }
    }

    pub async fn sign_out(
        &self,
        token: Option<&str>,
        meta: &ClientMeta,
    ) -> Result<(), DomainError> {
        let Some(token) = token else { return Ok(()) };
        let now = self.now();
        let Some(s) = session::Entity::find()
            .filter(session::Column::TokenHash.eq(sessions::token_hash(token)))
            .filter(session::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?
        else {
            return Ok(());
        };
        let a = account::Entity::find_by_id(s.account_id)
            .one(&self.db)
            .await?;
        let uow = self.begin(actor_for(a.as_ref(), meta)).await?;
        sessions::revoke(uow.db(), session::Column::Id.eq(s.id), now).await?;
        uow.audit(
            Action::SignOut,
            Some(s.account_id),
            json!({ "session": s.id }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(())
    }

    /// The account's live sessions, newest activity first (Settings > signed-in devices).
    pub async fn list_sessions(&self, caller: &Caller) -> Result<Vec<DeviceSession>, DomainError> {
        let now = self.now();
        let rows = session::Entity::find()
            .filter(session::Column::AccountId.eq(caller.account().id))
            .filter(session::Column::RevokedAt.is_null())
            .order_by_desc(session::Column::LastSeenAt)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|s| {
                sessions::state(
                    s.created_at,
                    s.last_seen_at,
                    s.revoked_at,
                    now,
                    self.lifetimes(),
                ) == SessionState::Active
            })
            .map(|s| DeviceSession {
                id: s.id,
                device: sessions::describe_user_agent(&s.user_agent),
                signed_in_at_ms: s.created_at,
                last_active_at_ms: s.last_seen_at,
                current: s.id == caller.session().id,
            })
            .collect())
    }

    /// Ends every session of the account but this one.
    pub async fn sign_out_other_sessions(&self, caller: &Caller) -> Result<u32, DomainError> {
        let id = caller.account().id;
        let uow = self.begin(caller.actor()).await?;
        let ended = sessions::revoke_others(uow.db(), id, caller.session().id, uow.now).await?;
        // Remembered browsers too: "everywhere else" includes the ones that skip the second
        // step (SECURITY.md M7). This browser is asked again at its next sign-in.
        crate::domain::twostep::forget_devices(uow.db(), id, uow.now).await?;
        uow.audit(
            Action::SignedOutElsewhere,
            Some(id),
            json!({ "sessions_ended": ended }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(u32::try_from(ended).unwrap_or(u32::MAX))
    }
}

/// Failed sign-ins from one address in the last hour, whatever the accounts.
fn spray_key(client: &str) -> String {
    format!("signin:fail:{client}")
}

#[cfg(test)]
mod tests;
