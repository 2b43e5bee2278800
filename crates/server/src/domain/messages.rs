//! What the domain sends: `Outbound` values addressed to one of an account's contacts, in the
//! account's language. Data only; `delivery` puts them into words when it sends them
//! (ARCHITECTURE.md principle 9), so no wording lives in the domain.

use carekey_shared::RecoveryChannel;

use crate::delivery::outbound::{Channel, Lang, Outbound};
use crate::delivery::outbox::NewMessage;
use crate::store::entities::account;

/// The language `account`'s messages are written in. Accounts have no language yet, so it is
/// English for everyone. This is the one place the domain decides it: the Spanish issue gives
/// accounts a language and reads it here.
pub(crate) fn language_of(_account: &account::Model) -> Lang {
    Lang::En
}

/// A message about `account` to `destination` (one of its contacts), in its language. Callers
/// add the challenge it carries and when it stops being worth sending.
pub(crate) fn message_to<'a>(
    account: &account::Model,
    destination: &'a str,
    message: Outbound,
) -> NewMessage<'a> {
    NewMessage {
        destination,
        account_id: Some(account.id),
        challenge_id: None,
        lang: language_of(account),
        message,
        expires_at: None,
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
