//! A code sent to a contact on file as the second step (issue 12, SECURITY.md M1, M4, M5): a
//! text to a mobile, a call to a landline, an email only where the clinic turned it on
//! (`mfa.allow_email`; 63B-4 does not count email as out of band). The code goes only when the
//! person asks for it, and only once their password is proved; it is eight digits, lives five
//! minutes, survives five guesses (R6) and is kept as an HMAC like every code (R3).

use std::time::Duration;

use carekey_shared::{
    CodeProblem, CodeRoute, ContactKind, SentCodeSent, SentCodeTarget, TwoStepChanged, mask_email,
    mask_phone,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::Proof;
use crate::config::MfaPolicy;
use crate::delivery::outbound::{Channel, Outbound, TwoStepChange, minutes};
use crate::delivery::outbox::NewMessage;
use crate::domain::caller::Caller;
use crate::domain::challenges::{self, NewChallenge, Purpose};
use crate::domain::limits::{self, DAY, HOUR};
use crate::domain::messages::{language_of, message_to};
use crate::domain::uow::Uow;
use crate::domain::{DomainError, Services, secrets};
use crate::store::entities::{account, challenge, contact, password_credential, second_factor};

/// How long a sent code works: long enough for a text to arrive or a call to be answered. The
/// second-step page says "5 minutes" (`second-step-sent`): change both together.
pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);

fn route_word(r: CodeRoute) -> &'static str {
    match r {
        CodeRoute::Text => "sms",
        CodeRoute::Call => "voice",
        CodeRoute::Email => "email_code",
    }
}

fn channel_of(r: CodeRoute) -> Channel {
    match r {
        CodeRoute::Text => Channel::Sms,
        CodeRoute::Call => Channel::Voice,
        CodeRoute::Email => Channel::Email,
    }
}

fn mask(c: &contact::Model) -> String {
    match c.kind {
        contact::Kind::Email => mask_email(&c.value),
        contact::Kind::Phone => mask_phone(&c.value_norm),
    }
}

impl Services {
    /// How a code would reach `c` here, if it can: its own kind decides (a mobile gets a text,
    /// a landline a call); email only when the clinic allows it.
    pub(super) fn code_route(&self, c: &contact::Model) -> Option<CodeRoute> {
        let t = &self.delivery.transports;
        match crate::domain::contacts::kind_of(c) {
            ContactKind::Email => {
                (self.cfg.mfa.allow_email && t.email.is_some()).then_some(CodeRoute::Email)
            }
            _ if t.phone.is_none() || !self.phone_allowed(&c.value_norm) => None,
            ContactKind::Mobile => Some(CodeRoute::Text),
            ContactKind::Landline => c.voice_capable.then_some(CodeRoute::Call),
        }
    }

    fn target(&self, id: i64, c: &contact::Model) -> Option<SentCodeTarget> {
        Some(SentCodeTarget {
            id,
            masked: mask(c),
            route: self.code_route(c)?,
        })
    }

    /// Settings: contacts on file a code could go to that no method of the account uses yet.
    pub(super) async fn can_send_to<C: ConnectionTrait>(
        &self,
        db: &C,
        acct: &account::Model,
        factors: &[second_factor::Model],
    ) -> Result<Vec<SentCodeTarget>, DomainError> {
        Ok(self
            .contacts_of(db, acct)
            .await?
            .iter()
            .filter(|c| !factors.iter().any(|f| f.contact_id == Some(c.id)))
            .filter_map(|c| self.target(c.id, c))
            .collect())
    }

    /// The second step's targets: each sent-code method whose contact can still get a code,
    /// except one a reset was just proved through (M4).
    pub(super) async fn second_step_targets<C: ConnectionTrait>(
        &self,
        db: &C,
        acct: &account::Model,
        factors: &[second_factor::Model],
    ) -> Result<Vec<SentCodeTarget>, DomainError> {
        if !factors
            .iter()
            .any(|f| f.kind == second_factor::Kind::SentCode)
        {
            return Ok(vec![]);
        }
        let contacts = self.contacts_of(db, acct).await?;
        let mut out = vec![];
        for f in factors
            .iter()
            .filter(|f| f.kind == second_factor::Kind::SentCode)
        {
            let Some(c) = contacts.iter().find(|c| Some(c.id) == f.contact_id) else {
                continue;
            };
            if password_proved_through(db, acct.id, c.id).await? {
                continue;
            }
            if let Some(t) = self.target(f.id, c) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Replaces the account's outstanding second-step code with a new one to `c`, and queues
    /// its message, in the caller's unit of work. Counted against limits of its own, as many
    /// as a reset's (A2), so the second step cannot flood a phone, and a stranger spending
    /// the reset's quota with forgotten-password requests cannot stop the person's own
    /// sign-in (these are counted only once the password is proved).
    async fn send_code(
        &self,
        uow: &mut Uow,
        acct: &account::Model,
        c: &contact::Model,
        route: CodeRoute,
    ) -> Result<String, DomainError> {
        if self.over_code_limits(uow, acct.id, c).await? {
            return Err(DomainError::TooManyMessages);
        }
        let now = uow.now;
        challenges::supersede(uow.db(), acct.id, &[Purpose::SecondStep], now).await?;
        let code = secrets::new_code(self.entropy.as_ref())?;
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let row = challenges::insert(
            uow.db(),
            NewChallenge {
                account_id: acct.id,
                purpose: Purpose::SecondStep,
                channel: route_word(route),
                contact_id: Some(c.id),
                secret_hmac: challenges::code_tag(
                    &self.key,
                    acct.id,
                    Purpose::SecondStep,
                    &reference,
                    &code,
                ),
                reference: &reference,
                ttl: CODE_TTL,
                issued_by: None,
                checklist: None,
                pending_value: None,
                flow_tag: None,
            },
            now,
        )
        .await?;
        let lang = language_of(uow.db(), acct, None).await?;
        let message = Outbound::SignInCode {
            via: channel_of(route),
            code,
            reference: reference.clone(),
            expires_in_minutes: minutes(CODE_TTL),
        };
        uow.send(NewMessage {
            challenge_id: Some(row.id),
            expires_at: Some(row.expires_at),
            ..message_to(acct, lang, &c.value, message)
        })
        .await?;
        Ok(reference)
    }

    /// The account's contact `contact_id` as it is now, in the unit of work: one replaced a
    /// moment ago gets nothing.
    async fn contact_now(
        &self,
        uow: &Uow,
        acct: &account::Model,
        contact_id: i64,
    ) -> Result<contact::Model, DomainError> {
        self.contacts_of(uow.db(), acct)
            .await?
            .into_iter()
            .find(|c| c.id == contact_id)
            .ok_or_else(|| DomainError::InvalidInput("contact".into()))
    }

    /// Counts one sent code against the account's and the destination's hourly and daily
    /// limits (`recovery.limits`, the reset's numbers, counted apart); true if any is over.
    async fn over_code_limits(
        &self,
        uow: &Uow,
        account_id: i64,
        c: &contact::Model,
    ) -> Result<bool, DomainError> {
        let l = self.cfg.recovery.limits;
        let mut over = false;
        for (key, window, max) in [
            (
                format!("send2:account:{account_id}"),
                HOUR,
                l.account_per_hour,
            ),
            (
                format!("send2:account:{account_id}:day"),
                DAY,
                l.account_per_day,
            ),
            (
                format!("send2:dest:{}", c.value_norm),
                HOUR,
                l.destination_per_hour,
            ),
            (
                format!("send2:dest:{}:day", c.value_norm),
                DAY,
                l.destination_per_day,
            ),
        ] {
            // Every counter is bumped, so a refused send still counts.
            over |= limits::hit(uow.db(), &key, window, uow.now).await? > max;
        }
        Ok(over)
    }

    /// Settings: starts adding codes sent to `contact_id` (a contact on file). The current
    /// password is checked first; the first code is sent at once and confirms the method.
    pub async fn start_sent_code(
        &self,
        caller: &Caller,
        contact_id: i64,
        current: &str,
    ) -> Result<SentCodeSent, DomainError> {
        let acct = caller.account().clone();
        if self.mfa_policy(&acct) == MfaPolicy::Off {
            return Err(DomainError::Forbidden);
        }
        let factors = self.confirmed_factors(&self.db, acct.id).await?;
        let Some(target) = self
            .can_send_to(&self.db, &acct, &factors)
            .await?
            .into_iter()
            .find(|t| t.id == contact_id)
        else {
            return Err(DomainError::InvalidInput("contact".into()));
        };
        self.authorise_change(caller, current).await?;
        let mut uow = self.begin(caller.actor()).await?;
        uow.lock_account(acct.id).await?;
        let c = self.contact_now(&uow, &acct, contact_id).await?;
        // One setup at a time, as for an app.
        super::drop_unconfirmed(uow.db(), acct.id).await?;
        let row = second_factor::ActiveModel {
            account_id: Set(acct.id),
            kind: Set(second_factor::Kind::SentCode),
            name: Set(target.masked.clone()),
            contact_id: Set(Some(c.id)),
            secret: Set(String::new()),
            last_step: Set(None),
            confirmed_at: Set(None),
            created_at: Set(uow.now),
            last_used_at: Set(None),
            ..Default::default()
        }
        .insert(uow.db())
        .await?;
        let reference = self.send_code(&mut uow, &acct, &c, target.route).await?;
        uow.commit(self).await?;
        Ok(SentCodeSent {
            id: row.id,
            target,
            reference,
            expires_in_secs: CODE_TTL.as_secs(),
        })
    }

    /// Settings: the code that `start_sent_code` sent, typed back: the method counts from now.
    pub async fn confirm_sent_code(
        &self,
        caller: &Caller,
        id: i64,
        code: &str,
    ) -> Result<TwoStepChanged, DomainError> {
        let acct = caller.account().clone();
        let row = second_factor::Entity::find_by_id(id)
            .filter(second_factor::Column::AccountId.eq(acct.id))
            .filter(second_factor::Column::Kind.eq(second_factor::Kind::SentCode))
            .filter(second_factor::Column::ConfirmedAt.is_null())
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::NotFound("sent code".into()))?;
        let contacts: Vec<i64> = row.contact_id.into_iter().collect();
        let Some((challenge_id, _)) = self.matching_code(&acct, code, &contacts).await? else {
            return Err(DomainError::CodeRejected(CodeProblem::NotAccepted));
        };
        let new_codes = self.new_backup_codes()?;
        let uow = self.begin(caller.actor()).await?;
        uow.lock_account(acct.id).await?;
        let now = uow.now;
        if !challenges::consume(uow.db(), challenge_id, now).await? {
            return Err(DomainError::CodeRejected(CodeProblem::AlreadyUsed));
        }
        let confirmed = second_factor::Entity::update_many()
            .col_expr(second_factor::Column::ConfirmedAt, Expr::value(now))
            .filter(second_factor::Column::Id.eq(id))
            .filter(second_factor::Column::ConfirmedAt.is_null())
            .exec(uow.db())
            .await?;
        if confirmed.rows_affected != 1 {
            return Err(DomainError::NotFound("sent code".into()));
        }
        self.method_added(
            uow,
            caller,
            &acct,
            &row,
            TwoStepChange::SentCodeAdded,
            new_codes,
        )
        .await
    }

    /// The second step: sends a code to one of the account's sent-code methods. `caller` is
    /// the half-done sign-in, so nothing here is reachable before the password is proved (M6).
    pub async fn send_second_step_code(
        &self,
        caller: &Caller,
        target_id: i64,
    ) -> Result<SentCodeSent, DomainError> {
        let acct = caller.account().clone();
        let now = self.now();
        self.may_answer(&acct, now).await?;
        let factors = self.confirmed_factors(&self.db, acct.id).await?;
        let Some(target) = self
            .second_step_targets(&self.db, &acct, &factors)
            .await?
            .into_iter()
            .find(|t| t.id == target_id)
        else {
            return Err(DomainError::InvalidInput("target".into()));
        };
        let Some(contact_id) = factors
            .iter()
            .find(|f| f.id == target_id)
            .and_then(|f| f.contact_id)
        else {
            return Err(DomainError::InvalidInput("target".into()));
        };
        let mut uow = self.begin(caller.actor()).await?;
        uow.lock_account(acct.id).await?;
        let c = self.contact_now(&uow, &acct, contact_id).await?;
        let reference = self.send_code(&mut uow, &acct, &c, target.route).await?;
        uow.commit(self).await?;
        Ok(SentCodeSent {
            id: target_id,
            target,
            reference,
            expires_in_secs: CODE_TTL.as_secs(),
        })
    }

    /// The second step answered with a sent code: which code and method it proves, if any.
    pub(super) async fn sent_code_proof(
        &self,
        acct: &account::Model,
        code: &str,
    ) -> Result<Option<Proof>, DomainError> {
        let factors = self.confirmed_factors(&self.db, acct.id).await?;
        let live: Vec<(i64, i64)> = self
            .second_step_targets(&self.db, acct, &factors)
            .await?
            .iter()
            .filter_map(|t| factors.iter().find(|f| f.id == t.id))
            .filter_map(|f| Some((f.contact_id?, f.id)))
            .collect();
        let contacts: Vec<i64> = live.iter().map(|(c, _)| *c).collect();
        Ok(self.matching_code(acct, code, &contacts).await?.and_then(
            |(challenge_id, contact_id)| {
                let (_, factor_id) = live.iter().find(|(c, _)| *c == contact_id)?;
                Some(Proof::Sent {
                    challenge_id,
                    factor_id: *factor_id,
                })
            },
        ))
    }

    /// The account's live second-step code sent to one of `contacts`, if `code` is it: the
    /// challenge and its contact. Takes one of the code's five guesses first, right or wrong
    /// (R6), so simultaneous guesses cannot all slip in.
    async fn matching_code(
        &self,
        acct: &account::Model,
        code: &str,
        contacts: &[i64],
    ) -> Result<Option<(i64, i64)>, DomainError> {
        let now = self.now();
        let Some(code) = carekey_shared::normalize_code(code) else {
            return Ok(None);
        };
        if contacts.is_empty()
            || !challenges::take_guess(&self.db, acct.id, &[Purpose::SecondStep], None, now).await?
        {
            return Ok(None);
        }
        let rows = challenge::Entity::find()
            .filter(challenge::Column::AccountId.eq(acct.id))
            .filter(challenge::Column::Purpose.eq(Purpose::SecondStep))
            .filter(challenge::Column::ContactId.is_in(contacts.iter().copied()))
            .filter(challenge::Column::ConsumedAt.is_null())
            .filter(challenge::Column::SupersededAt.is_null())
            .filter(challenge::Column::ExpiresAt.gt(now))
            .all(&self.db)
            .await?;
        Ok(rows
            .iter()
            .find(|r| {
                challenges::state(r, now) == challenges::State::Active
                    && challenges::code_matches(&self.key, r, &code)
            })
            .and_then(|r| Some((r.id, r.contact_id?))))
    }
}

/// Whether the account's current password was set by a reset proved through a code or link
/// sent to `contact_id` (SECURITY.md M4): that contact is then not its second step, for as
/// long as that password stands, or one stolen phone would do for both. (The grant a proved
/// code becomes carries its contact, and is spent in the unit of work that sets the password,
/// at the same moment.)
async fn password_proved_through<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    contact_id: i64,
) -> Result<bool, DomainError> {
    let Some(pw) = password_credential::Entity::find_by_id(account_id)
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    Ok(challenge::Entity::find()
        .filter(challenge::Column::AccountId.eq(account_id))
        .filter(challenge::Column::Purpose.eq(Purpose::Grant))
        .filter(challenge::Column::ContactId.eq(contact_id))
        .filter(challenge::Column::ConsumedAt.eq(pw.created_at))
        .one(db)
        .await?
        .is_some())
}
