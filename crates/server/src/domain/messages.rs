//! What the domain sends: `Outbound` values addressed to one of an account's contacts, in the
//! account's language. Data only; `delivery` puts them into words when it sends them
//! (ARCHITECTURE.md principle 9), so no wording lives in the domain.

use carekey_shared::{ContactKind, RecoveryChannel};

use crate::delivery::outbound::{
    Channel, Lang, NoticeChannel, Outbound, PasswordChange, TwoStepChange,
};
use crate::delivery::outbox::NewMessage;
use crate::domain::limits::DAY;
use crate::domain::uow::Uow;
use crate::domain::{DomainError, Services};
use crate::store::entities::{account, contact, patient};
use sea_orm::{ConnectionTrait, EntityTrait};

/// The catalogues' language for the store's word.
pub(crate) fn lang_of(l: patient::Language) -> Lang {
    match l {
        patient::Language::English => Lang::En,
        patient::Language::Spanish => Lang::Es,
    }
}

/// The store's word for a catalogue language.
pub(crate) fn language_word(l: Lang) -> patient::Language {
    match l {
        Lang::En => patient::Language::English,
        Lang::Es => patient::Language::Spanish,
    }
}

/// The language on file for `account`'s patient, if any (staff accounts have none).
pub(crate) async fn language_on_file<C: ConnectionTrait>(
    db: &C,
    account: &account::Model,
) -> Result<Option<Lang>, DomainError> {
    let Some(pid) = account.patient_id else {
        return Ok(None);
    };
    Ok(patient::Entity::find_by_id(pid)
        .one(db)
        .await?
        .and_then(|p| p.language)
        .map(lang_of))
}

/// The language `account`'s messages are written in: the one on file, else `asked` (the
/// language of the page that asked, sent with a recovery request), else English. This is the
/// one place the domain decides it.
pub(crate) async fn language_of<C: ConnectionTrait>(
    db: &C,
    account: &account::Model,
    asked: Option<Lang>,
) -> Result<Lang, DomainError> {
    Ok(language_on_file(db, account)
        .await?
        .or(asked)
        .unwrap_or_default())
}

/// A message about `account` to `destination` (one of its contacts), in `lang` (from
/// `language_of`). Callers add the challenge it carries and when it stops being worth sending.
pub(crate) fn message_to<'a>(
    account: &account::Model,
    lang: Lang,
    destination: &'a str,
    message: Outbound,
) -> NewMessage<'a> {
    NewMessage {
        destination,
        account_id: Some(account.id),
        challenge_id: None,
        lang,
        message,
        expires_at: None,
        report: None,
    }
}

/// How a code asked for on this channel travels (a link goes by email too).
pub(crate) fn code_channel(c: RecoveryChannel) -> Channel {
    match c {
        RecoveryChannel::Sms => Channel::Sms,
        RecoveryChannel::Voice => Channel::Voice,
        RecoveryChannel::EmailCode | RecoveryChannel::EmailLink => Channel::Email,
    }
}

impl Services {
    /// Tells every contact on file the new username (they are where it may be sent, R11).
    pub(crate) async fn enqueue_username_notices(
        &self,
        uow: &mut Uow,
        acct: &account::Model,
        contacts: &[contact::Model],
    ) -> Result<(), DomainError> {
        let expires_at = uow.now + DAY.as_millis() as i64;
        let lang = language_of(uow.db(), acct, None).await?;
        let routes = self.notice_routes(contacts);
        let report = self.report_for(uow, acct, &routes).await?;
        for (c, via) in routes {
            let message = Outbound::UsernameChanged {
                via,
                username: acct.username.clone(),
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

    /// One "this wasn't me" token for a notice going out on `routes` (SECURITY.md M8), shared
    /// by its messages; none when no route can carry a link (a call reads out who to call
    /// instead).
    pub(crate) async fn report_for(
        &self,
        uow: &Uow,
        acct: &account::Model,
        routes: &[(&contact::Model, NoticeChannel)],
    ) -> Result<Option<String>, DomainError> {
        if routes.iter().all(|(_, via)| *via == NoticeChannel::Voice) {
            return Ok(None);
        }
        Ok(Some(self.new_report_link(uow, acct.id).await?))
    }

    /// Which contacts can get a notice, and how: email when email is delivered, texts to
    /// allowed mobiles when texts are. A patient with neither gets a call on a landline, or
    /// they would never hear of a change they did not make (SECURITY.md R9); anyone else is
    /// not called, since a call is read to whoever picks up.
    pub(crate) fn notice_routes<'a>(
        &self,
        contacts: &'a [contact::Model],
    ) -> Vec<(&'a contact::Model, NoticeChannel)> {
        let have_phone = self.delivery.transports.phone.is_some();
        let have_email = self.delivery.transports.email.is_some();
        let routes: Vec<_> = contacts
            .iter()
            .filter_map(|c| match c.kind {
                contact::Kind::Email if have_email => Some((c, NoticeChannel::Email)),
                contact::Kind::Phone
                    if have_phone && c.sms_capable && self.phone_allowed(&c.value_norm) =>
                {
                    Some((c, NoticeChannel::Sms))
                }
                _ => None,
            })
            .collect();
        if !routes.is_empty() || !have_phone {
            return routes;
        }
        contacts
            .iter()
            .filter(|c| self.takes_calls(c))
            .map(|c| (c, NoticeChannel::Voice))
            .collect()
    }

    /// A phone on file that can be called, in a country calls may go to.
    pub(crate) fn takes_calls(&self, c: &contact::Model) -> bool {
        c.kind == contact::Kind::Phone && c.voice_capable && self.phone_allowed(&c.value_norm)
    }

    /// How a username or notice reaches `c`: its own kind decides (a number that takes texts
    /// gets a text, a landline a call).
    pub(crate) fn route_to(c: &contact::Model) -> NoticeChannel {
        match super::contacts::kind_of(c) {
            ContactKind::Email => NoticeChannel::Email,
            ContactKind::Mobile => NoticeChannel::Sms,
            ContactKind::Landline => NoticeChannel::Voice,
        }
    }

    /// A notice to every contact on file that can receive one (SECURITY.md R9), except where
    /// this unit of work already sends a message (a staff reset's letter email says it).
    pub(crate) async fn enqueue_password_notices(
        &self,
        uow: &mut Uow,
        acct: &account::Model,
        contacts: &[contact::Model],
        how: PasswordChange,
        asked: Option<Lang>,
    ) -> Result<(), DomainError> {
        let expires_at = uow.now + DAY.as_millis() as i64;
        let lang = language_of(uow.db(), acct, asked).await?;
        let routes: Vec<_> = self
            .notice_routes(contacts)
            .into_iter()
            .filter(|(c, _)| !uow.has_told(&c.value))
            .collect();
        let report = self.report_for(uow, acct, &routes).await?;
        for (c, via) in routes {
            uow.send(NewMessage {
                expires_at: Some(expires_at),
                report: report.clone(),
                ..message_to(acct, lang, &c.value, Outbound::PasswordChanged { via, how })
            })
            .await?;
        }
        Ok(())
    }

    /// A notice to every contact on file that the account's second step changed or a saved
    /// recovery code was used (ASVS V6.3.5, V6.3.7; 63B-4 asks that recovery be notified).
    pub(crate) async fn enqueue_two_step_notices(
        &self,
        uow: &mut Uow,
        acct: &account::Model,
        what: TwoStepChange,
    ) -> Result<(), DomainError> {
        let expires_at = uow.now + DAY.as_millis() as i64;
        let contacts = self.contacts_of(uow.db(), acct).await?;
        let lang = language_of(uow.db(), acct, None).await?;
        let routes = self.notice_routes(&contacts);
        let report = self.report_for(uow, acct, &routes).await?;
        for (c, via) in routes {
            uow.send(NewMessage {
                expires_at: Some(expires_at),
                report: report.clone(),
                ..message_to(acct, lang, &c.value, Outbound::TwoStepChanged { via, what })
            })
            .await?;
        }
        Ok(())
    }
}
