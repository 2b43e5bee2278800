//! Self-service recovery on the wire: what the patient asks for and what the server may say back.
//!
//! Whether someone is a patient here is protected health information, so every answer before a
//! code or link has been proved says the same thing for every identifier (SECURITY.md E1).
//! Masked contacts appear only in answers that require a valid code or link.

use serde::{Deserialize, Serialize};

/// Digits in a recovery code (SECURITY.md R1).
pub const CODE_DIGITS: usize = 8;

/// How the patient asks to receive a reset. Offered identically for every identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecoveryChannel {
    EmailLink,
    EmailCode,
    Sms,
    Voice,
}

impl RecoveryChannel {
    pub const ALL: [RecoveryChannel; 4] = [
        RecoveryChannel::EmailLink,
        RecoveryChannel::EmailCode,
        RecoveryChannel::Sms,
        RecoveryChannel::Voice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryChannel::EmailLink => "email_link",
            RecoveryChannel::EmailCode => "email_code",
            RecoveryChannel::Sms => "sms",
            RecoveryChannel::Voice => "voice",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn is_email(self) -> bool {
        matches!(
            self,
            RecoveryChannel::EmailLink | RecoveryChannel::EmailCode
        )
    }

    /// A code is typed in; a link is opened.
    pub fn sends_code(self) -> bool {
        self != RecoveryChannel::EmailLink
    }
}

/// What the forgot-password form asks for (configuration `recovery.identifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentifierMode {
    Username,
    Email,
    /// One field that takes a username or an email address.
    Either,
    /// Two fields; both must name the same account.
    Both,
}

impl IdentifierMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "username" => Some(Self::Username),
            "email" => Some(Self::Email),
            "either" => Some(Self::Either),
            "both" => Some(Self::Both),
            _ => None,
        }
    }
}

/// Everything the recovery pages need to know about this clinic's set-up. The same for every
/// visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryOptions {
    pub identifier: IdentifierMode,
    /// The channels this clinic can deliver (email needs SMTP, text and call need Twilio, or
    /// the development outbox).
    pub channels: Vec<RecoveryChannel>,
    pub code_ttl_secs: u64,
    pub link_ttl_secs: u64,
    /// How long the "send a new code" button waits after a send.
    pub resend_after_secs: u64,
}

/// Who is asking. `email` is used only when the mode is `Both`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryIdentity {
    pub identifier: String,
    pub email: String,
}

/// The answer to every forgot-password request, whoever asked: the reference that will also be
/// in the message (SECURITY.md R10), so the patient can tell the newest code from older ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryAccepted {
    pub channel: RecoveryChannel,
    pub reference: String,
    pub expires_in_secs: u64,
    pub resend_after_secs: u64,
}

/// Proof that a code or link was valid: a short-lived grant to choose a new password, and now
/// that control of the contact is proved, which contact it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetGrant {
    pub grant: String,
    pub masked_contact: String,
    pub expires_in_secs: u64,
    /// The account's security question, when the clinic asks one after the code.
    pub security_question: Option<String>,
}

/// What a link shows before the patient presses "Continue". Looking does not use the link
/// (SECURITY.md R7: mail scanners open links and run scripts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPreview {
    pub masked_contact: String,
    pub expires_in_secs: u64,
}

/// Why a code or link was not accepted. Only a secret that matched an issued one can be
/// "expired", "used" or "replaced"; every other failure is `NotAccepted`, whatever the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeProblem {
    NotAccepted,
    Expired,
    AlreadyUsed,
    Replaced,
}

/// Forgot username: by a contact on file, or by the facts on the patient's chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UsernameLookup {
    Contact {
        email_or_phone: String,
    },
    Demographics {
        first_name: String,
        last_name: String,
        /// YYYY-MM-DD
        date_of_birth: String,
        zip: String,
    },
}

/// A code as typed or pasted: spaces, dashes and dots are dropped; anything else but digits
/// makes it not a code. Returns the digits only when there are exactly `CODE_DIGITS` of them.
pub fn normalize_code(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '\u{2010}'..='\u{2015}'))
        .collect();
    (digits.chars().count() == CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit()))
        .then_some(digits)
}

/// `jane.doe@example.com` → `j•••@example.com`: enough for the owner to recognise, too little
/// for anyone else to use.
pub fn mask_email(email: &str) -> String {
    match email.trim().rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        _ => "•••".into(),
    }
}

/// `+15035550123` → `•••-•••-0123`: the last four digits only.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return "•••".into();
    }
    let last: String = digits[digits.len() - 4..].iter().collect();
    format!("•••-•••-{last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_accept_spaces_and_dashes_but_only_eight_digits() {
        assert_eq!(normalize_code("1234 5678").as_deref(), Some("12345678"));
        assert_eq!(normalize_code(" 1234-5678 ").as_deref(), Some("12345678"));
        assert_eq!(normalize_code("01234567").as_deref(), Some("01234567"));
        assert_eq!(normalize_code("1234567"), None);
        assert_eq!(normalize_code("123456789"), None);
        assert_eq!(normalize_code("1234567a"), None);
        // Arabic-Indic digits are digits to `char::is_numeric` but not to the server.
        assert_eq!(normalize_code("١٢٣٤٥٦٧٨"), None);
    }

    #[test]
    fn masks_show_only_what_the_owner_recognises() {
        assert_eq!(mask_email("jane.doe@example.com"), "j•••@example.com");
        assert_eq!(mask_email("x@y.org"), "x•••@y.org");
        assert_eq!(mask_email("not-an-email"), "•••");
        assert_eq!(mask_phone("+15035550123"), "•••-•••-0123");
        assert_eq!(mask_phone("(503) 555-0199"), "•••-•••-0199");
        assert_eq!(mask_phone("12"), "•••");
    }

    #[test]
    fn channels_round_trip_through_their_names() {
        for c in RecoveryChannel::ALL {
            assert_eq!(RecoveryChannel::parse(c.as_str()), Some(c));
        }
        assert_eq!(RecoveryChannel::parse("fax"), None);
    }
}
