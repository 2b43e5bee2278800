//! Request and response types carried by the server functions.

use serde::{Deserialize, Serialize};

/// Which front door a sign-in came through. A staff account cannot sign in on the patient
/// portal and a patient cannot sign in on the staff console; both get the generic failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Portal {
    Patient,
    Staff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountKind {
    Patient,
    Staff,
    Admin,
}

impl AccountKind {
    pub fn portal(self) -> Portal {
        match self {
            AccountKind::Patient => Portal::Patient,
            AccountKind::Staff | AccountKind::Admin => Portal::Staff,
        }
    }
}

/// What the signed-in browser may know about its own session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// First name for patients, username for staff: used only for a greeting.
    pub display_name: String,
    pub kind: AccountKind,
    /// When true the browser shows only the change-password page, and the server refuses every
    /// other call for this session.
    pub must_change_password: bool,
    /// Seconds until the idle logoff if nothing else happens; the browser warns before it.
    pub idle_expires_in_secs: u64,
    /// Seconds until the absolute session lifetime ends.
    pub absolute_expires_in_secs: u64,
    /// During the forced change: seconds for which this session's sign-in still vouches for
    /// the temporary password, so the page asks only for the new one. 0: type it again.
    #[serde(default)]
    pub temporary_password_proof_secs: u64,
    /// The password was right and a second step is still to come: this session reaches
    /// nothing else (SECURITY.md M2). Only ever set once the password was proved (M6).
    #[serde(default)]
    pub second_step: Option<crate::SecondStepOffer>,
    /// The clinic requires a second step this account does not have yet: the browser shows
    /// only the page that adds one, and the server refuses every other call.
    #[serde(default)]
    pub must_add_second_step: bool,
}

/// Public facts about the clinic shown on the sign-in and help pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicInfo {
    pub clinic_name: String,
    pub clinic_phone: String,
    /// Seconds of inactivity before sign-out; the browser warns `idle_warning_secs` before.
    pub idle_timeout_secs: u64,
    pub idle_warning_secs: u64,
    /// The clinic's minimum password length, so the browser's hints match the server.
    pub password_min_length: usize,
    /// The clinic's optional "letters, digits and symbols" rule.
    pub password_require_mix: bool,
    /// The clinic's pause rule, said on the sign-in page to everyone alike after any failure:
    /// this many failures in a row pause sign-in for `lockout_minutes` (longer if they go on).
    /// A rule, not any account's state (SECURITY.md E1).
    #[serde(default)]
    pub lockout_threshold: u32,
    #[serde(default)]
    pub lockout_minutes: u64,
    pub dev_mode: bool,
    /// Days a browser may be remembered after its second step (`mfa.remember_days`); 0: the
    /// second step is asked at every sign-in.
    #[serde(default)]
    pub remember_days: u32,
    /// Passkeys can sign in to the patient portal (`public_url` names a host and
    /// `mfa.patients` is not off): its sign-in page offers them.
    pub passkeys: bool,
    /// The same for the staff console (`mfa.staff`).
    #[serde(default)]
    pub staff_passkeys: bool,
    pub recovery: crate::recovery::RecoveryOptions,
    /// The language-help lines (ACA Section 1557 taglines) the sign-in page shows: English and
    /// Spanish, then the clinic's own lines for other languages, in that order everywhere.
    #[serde(default)]
    pub language_help: Vec<Tagline>,
}

/// One line telling patients that free language help is available and how to ask for it, in
/// the language it is written in. Pages mark each line with its `lang` (WCAG 3.1.2), so a
/// screen reader reads it with the right voice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tagline {
    /// A BCP 47 language tag (`es`, `vi`, `zh-Hant`).
    pub lang: String,
    pub text: String,
}

/// One signed-in browser, for "Signed-in devices" in Settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSession {
    pub id: i64,
    /// "Chrome on Android": from the browser's user agent.
    pub device: String,
    pub signed_in_at_ms: i64,
    pub last_active_at_ms: i64,
    /// The browser asking.
    pub current: bool,
}

/// What kind of contact a person is changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContactKind {
    Email,
    /// Takes texts (and calls).
    Mobile,
    /// Takes calls only.
    Landline,
}

/// A contact on file, shown to its own signed-in owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInfo {
    pub kind: ContactKind,
    pub value: String,
}

/// A code is on its way to the new contact; it becomes the contact on file when the code
/// comes back (SECURITY.md A5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactChangeStarted {
    pub reference: String,
    pub masked_destination: String,
    pub expires_in_secs: u64,
}

/// The patient's portal home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeInfo {
    pub display_name: String,
    /// Unix milliseconds of the sign-in before this one, if any.
    pub previous_sign_in_at_ms: Option<i64>,
    /// Failed sign-in attempts since the previous successful sign-in.
    pub failed_attempts_since: u32,
}
