//! What the staff console sends and receives: staff users, patient charts, the Patient Portal /
//! API Access widget, letters, desk codes and the audit log (SECURITY.md S5, S6).

use serde::{Deserialize, Serialize};

use crate::api::ContactKind;
use crate::recovery::RecoveryChannel;

/// What a staff account may do. Front-desk staff help patients; administrators also manage
/// staff users and read the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaffRole {
    Staff,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountStatus {
    Active,
    /// Paused after failed sign-ins, or locked until a reset or unlock.
    Locked,
    Disabled,
}

/// A staff member, as Admin > Users lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: StaffRole,
    pub status: AccountStatus,
    pub must_change_password: bool,
    pub last_sign_in_at_ms: Option<i64>,
}

/// Admin > Users > New user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStaffUser {
    pub username: String,
    pub display_name: String,
    pub role: StaffRole,
}

/// One row of a patient search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientSummary {
    pub id: i64,
    pub mrn: String,
    pub first_name: String,
    pub last_name: String,
    /// YYYY-MM-DD
    pub date_of_birth: String,
    pub has_portal_account: bool,
}

/// A patient added by hand (and by `carekey import-patients`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NewPatient {
    pub mrn: String,
    pub first_name: String,
    pub last_name: String,
    /// YYYY-MM-DD
    pub date_of_birth: String,
    pub zip: String,
    pub email: String,
    pub phone: String,
    /// The phone takes texts; otherwise it is called.
    pub phone_is_mobile: bool,
    /// The language on file; None: not chosen.
    #[serde(default)]
    pub language: Option<crate::Lang>,
}

/// A contact on the chart. Staff see it whole: they are already in the patient's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartContact {
    pub kind: ContactKind,
    pub value: String,
    pub sms_capable: bool,
    pub voice_capable: bool,
}

/// The Patient Portal / API Access widget's picture of the portal account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalAccess {
    pub username: String,
    pub status: AccountStatus,
    /// Why it is locked, in a word the console translates: "failed_sign_ins" or "staff".
    pub lock_reason: Option<String>,
    /// End of a temporary pause after failed sign-ins.
    pub locked_until_ms: Option<i64>,
    pub must_change_password: bool,
    /// Whether the patient has ever chosen a password (an activation letter may be pending).
    pub has_password: bool,
    pub last_sign_in_at_ms: Option<i64>,
    /// Failed sign-ins in a row since the last success.
    pub failed_sign_ins: u32,
    pub recent_failures: Vec<FailedSignIn>,
    /// The kinds of second step the patient has (never a secret); empty: none.
    #[serde(default)]
    pub two_step: Vec<crate::SecondStepMethod>,
    /// When the patient reported activity they did not recognise ("this wasn't me"), until
    /// staff mark it handled.
    #[serde(default)]
    pub reported_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedSignIn {
    pub at_ms: i64,
    pub ip: String,
}

/// A message to this patient and how its delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    /// What the message was: "reset_code", "credentials_letter", …
    pub kind: String,
    /// email | sms | voice
    pub channel: String,
    /// Masked: the chart shows the contacts in full, this list only needs to tell them apart.
    pub destination: String,
    pub status: DeliveryStatus,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryStatus {
    Queued,
    Sending,
    Sent,
    Failed,
    Expired,
    /// Not sent because the contact it was for changed first.
    Cancelled,
}

impl DeliveryStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            "cancelled" => Self::Cancelled,
            _ => Self::Queued,
        }
    }

    /// Nothing more will happen to the message.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Sent | Self::Failed | Self::Expired | Self::Cancelled
        )
    }
}

/// Everything the chart shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientChart {
    pub patient: PatientSummary,
    pub zip: String,
    pub contacts: Vec<ChartContact>,
    /// `None`: the patient has no portal account yet.
    pub portal: Option<PortalAccess>,
    /// A suggestion for a new account's username (editable).
    pub suggested_username: String,
    pub deliveries: Vec<DeliveryRow>,
    /// The language the clinic writes to this patient in; None: not chosen.
    #[serde(default)]
    pub language: Option<crate::Lang>,
}

/// How the new portal password is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PasswordChoice {
    /// Made by CareKey: meets the policy, no look-alike characters, easy to read aloud.
    Generated,
    /// Typed by staff; the same policy applies.
    Chosen(String),
    /// No password: the letter carries a one-time activation code instead (R4, 24 h) and the
    /// patient chooses their own.
    ActivationCode,
}

/// The printable credentials (or activation) letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsLetter {
    pub clinic_name: String,
    pub clinic_address: String,
    pub clinic_phone: String,
    pub portal_url: String,
    pub patient_name: String,
    pub username: String,
    /// Shown once, on this letter; never stored in clear.
    pub temporary_password: Option<String>,
    pub activation_code: Option<String>,
    pub activation_expires_at_ms: Option<i64>,
    /// The email with the same news, if one went to the contact email on file.
    pub email: Option<LetterEmail>,
    /// Every word printed for the patient, in their language on file.
    #[serde(default)]
    pub text: LetterText,
}

/// The printed letter's words for the patient, in the patient's language on file (English when
/// none), rendered by the server from its message catalogue. The staff screen around the
/// letter stays in the staff console's English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LetterText {
    /// The letter's language: the printed article's `lang`, and the format of its dates.
    pub lang: crate::Lang,
    /// "Dear Lucía Ramírez,"
    pub dear: String,
    pub intro: String,
    /// Labels of the credentials: the portal's address, the username, the temporary password
    /// or activation code (whichever the letter holds) and how long a code works.
    pub portal_label: String,
    pub username_label: String,
    pub secret_label: String,
    pub good_until_label: String,
    /// "First sign-in" and its steps, in order.
    pub steps_title: String,
    pub steps: Vec<String>,
    pub keep_safe: String,
    pub email: LetterEmailLines,
    /// The language-help lines, in the same order as on the sign-in page.
    pub language_help: Vec<crate::api::Tagline>,
}

/// The printed sentence about the letter's email, one for each state it can be in, so the staff
/// page can print the one that is true when the letter is printed (the email's status changes
/// while the letter is on screen). With no email on file only `none` is filled in, and the other
/// three otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LetterEmailLines {
    pub sent: String,
    pub queued: String,
    pub failed: String,
    pub none: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterEmail {
    pub message_id: i64,
    /// Masked address.
    pub to: String,
    pub status: DeliveryStatus,
}

/// The identity facts staff checked before reading out a code (stored with the audit row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IdentityChecks {
    pub date_of_birth: bool,
    pub zip: bool,
    pub callback_number: bool,
    pub photo_id: bool,
}

impl IdentityChecks {
    pub fn any(&self) -> bool {
        self.date_of_birth || self.zip || self.callback_number || self.photo_id
    }

    /// Stable words for the audit row.
    pub fn words(&self) -> Vec<&'static str> {
        [
            (self.date_of_birth, "date_of_birth"),
            (self.zip, "zip"),
            (self.callback_number, "callback_number"),
            (self.photo_id, "photo_id"),
        ]
        .into_iter()
        .filter_map(|(on, w)| on.then_some(w))
        .collect()
    }
}

/// A code made at the desk: shown once, good for 24 hours (R4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskCode {
    pub username: String,
    pub code: String,
    pub expires_at_ms: i64,
}

/// What a staff member asked to send to the patient's own device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentToPatient {
    pub channel: RecoveryChannel,
    pub to: String,
    pub message_id: i64,
}

/// Audit log filter; empty fields match everything. Dates are YYYY-MM-DD (UTC), inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuditFilter {
    pub person: String,
    pub action: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub target: String,
    pub action: String,
    pub ip: String,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_checks_name_what_was_checked() {
        let c = IdentityChecks {
            date_of_birth: true,
            photo_id: true,
            ..Default::default()
        };
        assert!(c.any());
        assert_eq!(c.words(), ["date_of_birth", "photo_id"]);
        assert!(!IdentityChecks::default().any());
    }

    #[test]
    fn delivery_statuses_parse_the_outbox_words() {
        assert_eq!(DeliveryStatus::parse("sent"), DeliveryStatus::Sent);
        assert_eq!(DeliveryStatus::parse("queued"), DeliveryStatus::Queued);
        assert!(DeliveryStatus::Expired.is_final());
        assert_eq!(
            DeliveryStatus::parse("cancelled"),
            DeliveryStatus::Cancelled
        );
        assert!(DeliveryStatus::Cancelled.is_final());
        assert!(!DeliveryStatus::Sending.is_final());
    }
}
