//! What the domain queues: a typed message that carries only data (ARCHITECTURE.md principle 9;
//! kanidm's `OutboundMessage` is the model). The words are chosen when the message is sent
//! (`render`), in the recipient's language and with the clinic's letterhead as configured then,
//! so the domain holds no wording and a queued message never holds stale English.
//!
//! A queued message is stored sealed (SECURITY.md S9): several variants carry a live code or
//! link token.

use std::time::Duration;

pub use carekey_i18n::Lang;
use carekey_shared::ContactKind;
use serde::{Deserialize, Serialize};

/// How a message travels: the outbox column's own type, so the payload and the row name the
/// channel with one word (`store` declares it; `store` never imports `delivery`).
pub use crate::store::entities::outbox::Channel;
use crate::store::entities::outbox::Kind;

/// How a notice or a username travels: email or text, and a call only to a patient who has
/// neither (a landline-only patient would otherwise never hear that their password changed,
/// SECURITY.md R9). A call reads whatever it says to whoever picks up a shared landline, so a
/// call names no new contact and no new username; only the username a patient asked for is
/// spelled out, as codes are (A4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeChannel {
    Email,
    Sms,
    Voice,
}

impl From<NoticeChannel> for Channel {
    fn from(c: NoticeChannel) -> Self {
        match c {
            NoticeChannel::Email => Channel::Email,
            NoticeChannel::Sms => Channel::Sms,
            NoticeChannel::Voice => Channel::Voice,
        }
    }
}

/// What the printed letter from the clinic holds. The email says where to look and never
/// carries the secret itself: a mailbox someone else reads must not open the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterHolds {
    TemporaryPassword,
    ActivationCode,
}

/// Why a password changed; the notice to every contact on file says which (SECURITY.md R9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordChange {
    /// The person changed it, signed in (Settings or the forced change).
    ByOwner,
    /// A recovery reset with a code or link.
    Reset,
    /// Staff set a temporary password.
    ResetByClinic,
}

/// What changed in a person's two-step verification (issue 12); the notice to every contact on
/// file says which (ASVS V6.3.5, V6.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum TwoStepChange {
    AppAdded,
    AppRemoved,
    /// A passkey (WebAuthn) was added; it signs in on its own (SECURITY.md M3).
    PasskeyAdded,
    PasskeyRemoved,
    /// A saved recovery code was used to sign in; `left` are still unused.
    BackupCodeUsed {
        left: u32,
    },
    BackupCodesRenewed,
    /// The clinic removed every second step (the person lost their phone and codes).
    ResetByClinic,
    /// A browser will skip the second step for a while ("remember this device").
    DeviceRemembered,
    /// Codes sent to a phone (or, where allowed, an email address) on file became a second step.
    SentCodeAdded,
    SentCodeRemoved,
}

/// One message, as data. Codes, references and usernames are inserted into the words as they
/// are; masked contact values are masked before they get here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outbound {
    /// A code for a password reset (SECURITY.md R10: purpose, expiry and reference).
    ResetCode {
        via: Channel,
        code: String,
        reference: String,
        expires_in_minutes: u32,
    },
    /// A password-reset link, by email only. The token travels in the link's fragment
    /// (SECURITY.md R2).
    ResetLink {
        token: String,
        reference: String,
        expires_in_minutes: u32,
    },
    /// The username, to a contact on file only (SECURITY.md R11).
    Username {
        via: NoticeChannel,
        username: String,
    },
    /// Staff set up or reset sign-in; by email to the address on file.
    CredentialsSetUp {
        username: String,
        letter: LetterHolds,
    },
    /// A code confirming a new email address or phone number (SECURITY.md A5).
    ContactCode {
        via: Channel,
        code: String,
        reference: String,
        expires_in_minutes: u32,
    },
    /// A second step's code, sent when asked for at sign-in or to confirm the method when it
    /// is added (issue 12, SECURITY.md M1): purpose, expiry and reference, as every code (R10).
    SignInCode {
        via: Channel,
        code: String,
        reference: String,
        expires_in_minutes: u32,
    },
    /// To the contacts on file before an email or phone change. `None`: the contact was
    /// removed.
    ContactChanged {
        via: NoticeChannel,
        kind: ContactKind,
        masked_new_value: Option<String>,
    },
    /// To every contact on file after the username changed.
    UsernameChanged {
        via: NoticeChannel,
        username: String,
    },
    /// To every contact on file after the password changed (SECURITY.md R9).
    PasswordChanged {
        via: NoticeChannel,
        how: PasswordChange,
    },
    /// To every contact on file after a change to how the account's second step works.
    TwoStepChanged {
        via: NoticeChannel,
        what: TwoStepChange,
    },
}

impl Outbound {
    pub fn channel(&self) -> Channel {
        match self {
            Outbound::ResetCode { via, .. }
            | Outbound::ContactCode { via, .. }
            | Outbound::SignInCode { via, .. } => *via,
            Outbound::ResetLink { .. } | Outbound::CredentialsSetUp { .. } => Channel::Email,
            Outbound::Username { via, .. }
            | Outbound::ContactChanged { via, .. }
            | Outbound::UsernameChanged { via, .. }
            | Outbound::PasswordChanged { via, .. }
            | Outbound::TwoStepChanged { via, .. } => (*via).into(),
        }
    }

    /// The outbox's `kind` column: what staff see under "Recent messages" and what the
    /// letter's delivery status is looked up by.
    pub fn kind(&self) -> Kind {
        match self {
            Outbound::ResetCode { .. } => Kind::ResetCode,
            Outbound::ResetLink { .. } => Kind::ResetLink,
            Outbound::Username { .. } => Kind::Username,
            Outbound::CredentialsSetUp { .. } => Kind::CredentialsLetter,
            Outbound::ContactCode { .. } => Kind::ContactCode,
            Outbound::SignInCode { .. } => Kind::SignInCode,
            Outbound::ContactChanged { .. } => Kind::ContactNotice,
            Outbound::UsernameChanged { .. } => Kind::UsernameNotice,
            Outbound::PasswordChanged { .. } => Kind::PasswordNotice,
            Outbound::TwoStepChanged { .. } => Kind::TwoStepNotice,
        }
    }
}

/// A lifetime as the message states it: whole minutes, rounded up, so a message never
/// promises more time than the code has.
pub fn minutes(ttl: Duration) -> u32 {
    u32::try_from(ttl.as_secs().div_ceil(60)).unwrap_or(u32::MAX)
}

/// What the outbox seals: the message and the language to say it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    pub lang: Lang,
    pub message: Outbound,
    /// The "this wasn't me" token of a security notice (SECURITY.md M8): the notice's email
    /// and text carry a link with it. Absent from messages queued before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_round_up() {
        assert_eq!(minutes(Duration::from_secs(600)), 10);
        assert_eq!(minutes(Duration::from_secs(601)), 11);
        assert_eq!(minutes(Duration::from_secs(10)), 1);
    }

    #[test]
    fn the_stored_form_names_the_language_and_the_kind() {
        let q = Queued {
            lang: Lang::En,
            message: Outbound::PasswordChanged {
                via: NoticeChannel::Sms,
                how: PasswordChange::ResetByClinic,
            },
            report: None,
        };
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(
            json,
            r#"{"lang":"en","message":{"type":"password_changed","via":"sms","how":"reset_by_clinic"}}"#
        );
        assert_eq!(serde_json::from_str::<Queued>(&json).unwrap(), q);
        assert_eq!(q.message.channel(), Channel::Sms);
    }
}
