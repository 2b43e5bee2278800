//! Two-step verification on the wire (issue 12, SECURITY.md M1–M6).
//!
//! "Backup codes" here are the saved recovery codes of M1: ten single-use codes a person keeps
//! on paper. They are named apart from the reset codes of forgotten-password recovery, which
//! this crate calls recovery codes.

use serde::{Deserialize, Serialize};

/// A kind of second step, as the sign-in page offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecondStepMethod {
    /// A six-digit code from an authenticator app (TOTP).
    AuthenticatorApp,
    /// One of the saved backup codes.
    BackupCode,
    /// A passkey (WebAuthn, user verification required). It also signs in on its own, without
    /// the password, as it is two factors in one (SECURITY.md M3).
    Passkey,
    /// A code sent when asked for: a text to a mobile, a call to a landline, an email only
    /// where the clinic allows it. Offered only once the password is proved.
    SentCode,
}

/// How a sent code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeRoute {
    Text,
    Call,
    Email,
}

/// Where a sent code can go, masked (`•••-•••-0123`, `m•••@example.org`). In a second step
/// `id` is the method's; in Settings, before it is added, the contact's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentCodeTarget {
    pub id: i64,
    pub masked: String,
    pub route: CodeRoute,
}

/// A code is on its way: where, its reference (named in the message too), and how long it
/// works. `id`: when adding the method, what confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentCodeSent {
    pub id: i64,
    pub target: SentCodeTarget,
    pub reference: String,
    pub expires_in_secs: u64,
}

/// What the sign-in page asks for after the password was right. Only ever sent once the
/// password has been proved (M6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondStepOffer {
    /// The kinds this account has, the usual one first.
    pub methods: Vec<SecondStepMethod>,
    /// The kind used last: asked for first, with "try another way" for the rest.
    pub preferred: SecondStepMethod,
    /// Where a sent code can go (with `SentCode` among the methods).
    #[serde(default)]
    pub targets: Vec<SentCodeTarget>,
}

/// One added method, as its owner sees it in Settings (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepMethod {
    pub id: i64,
    pub kind: SecondStepMethod,
    pub name: String,
    pub added_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
}

/// Settings > Two-step verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepStatus {
    pub methods: Vec<TwoStepMethod>,
    /// Unused backup codes left (0: none, or never made).
    pub backup_codes_left: u32,
    /// The clinic requires a second step for this account: the last method cannot be removed.
    pub required: bool,
    /// The clinic lets this account add one (false when `mfa.patients = off`).
    pub available: bool,
    /// Passkeys can be added here: the clinic's `public_url` names a host (WebAuthn binds a
    /// passkey to a domain name, never to an IP address).
    pub passkeys: bool,
    /// Contacts on file a sent code could go to and does not yet (phones that can take a text
    /// or a call; email addresses only where the clinic allows).
    #[serde(default)]
    pub can_send_to: Vec<SentCodeTarget>,
}

/// One WebAuthn ceremony handed to the browser: `options` is the JSON the server made for
/// `navigator.credentials.create` or `.get` (`{"publicKey": {...}}`), passed on to
/// `PublicKeyCredential.parse…OptionsFromJSON` as it is, so the browser apps carry no WebAuthn
/// types of their own. `id` names the server's half when the answer comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyCeremony {
    pub id: String,
    pub options: String,
}

/// A browser that skips the second step for a while ("remember this device"), listed with
/// the signed-in devices; "sign out everywhere else" forgets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedDevice {
    /// "Chrome on Android".
    pub device: String,
    pub remembered_at_ms: i64,
    pub until_ms: i64,
}

/// A new authenticator app, not yet confirmed: the key to scan or type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorSetup {
    /// Confirms it (`confirm_authenticator`).
    pub id: i64,
    /// The key in base32, in groups of four for typing by hand.
    pub key: String,
    /// The `otpauth://` address the QR code holds (for a phone's own browser).
    pub uri: String,
    /// The QR code as an SVG image, drawn on the server so the browser apps stay small.
    pub qr_svg: String,
}

/// After a method was added: where things stand, the backup codes when this made the first
/// set (shown once), and the session (a required enrolment has now finished).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepChanged {
    pub status: TwoStepStatus,
    pub backup_codes: Vec<String>,
    pub session: crate::SessionInfo,
}
