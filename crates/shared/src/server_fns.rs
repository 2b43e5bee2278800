//! The API contract. Each function is a POST to `/api/<endpoint>`; explicit endpoints keep the
//! URL stable between the wasm client and the server however and wherever they were built.
//! Each endpoint is declared once (see `endpoints!`); the server implements `Backend`.

use crate::endpoints::endpoints;
use crate::{
    ApiError, AuthenticatorSetup, ClinicInfo, ContactChangeStarted, ContactInfo, ContactKind,
    DeviceSession, HomeInfo, LinkPreview, PasskeyCeremony, Portal, RecoveryAccepted,
    RecoveryChannel, RecoveryIdentity, RememberedDevice, ResetGrant, SecondStepMethod,
    SecondStepOffer, SentCodeSent, SessionInfo, TwoStepChanged, TwoStepStatus, UsernameLookup,
};
use carekey_i18n::Lang;

endpoints! {
    /// The patient portal's half of the backend: what the server does for each function below.
    /// The server crate implements it with its domain services; this crate never sees HTTP or
    /// the database.
    trait Backend: crate::staff_fns::StaffBackend;
    /// Every endpoint below; the server checks at start-up that each one is registered.
    const ENDPOINTS;

    /// The clinic's name, phone and settings the pages need before anyone signs in.
    #[endpoint("portal_info", args = PortalInfo)]
    fn portal_info() -> Result<ClinicInfo, ApiError>;

    /// Signs in to the patient portal or the staff console; sets the session cookie.
    #[endpoint("sign_in", args = SignIn)]
    fn sign_in(portal: Portal, identifier: String, password: String) -> Result<SessionInfo, ApiError>;

    /// The sign-in page: a passkey ceremony naming no account (the browser offers the passkeys
    /// it holds for this site, in the username field's autofill or on "Sign in with a
    /// passkey"). Refused (403) when the clinic's address has no host name.
    #[endpoint("passkey_sign_in_options", args = PasskeySignInOptions)]
    fn passkey_sign_in_options() -> Result<PasskeyCeremony, ApiError>;

    /// Signs in with a passkey alone (user verification required: two factors, SECURITY.md
    /// M3). `credential` is the browser's `PublicKeyCredential.toJSON()`, as JSON text. Any
    /// failure is the password's `SignInFailed`.
    #[endpoint("passkey_sign_in", args = PasskeySignIn)]
    fn passkey_sign_in(portal: Portal, ceremony: String, credential: String) -> Result<SessionInfo, ApiError>;

    /// Who the session belongs to; also allowed while a password change is forced.
    #[endpoint("whoami", args = Whoami)]
    fn whoami() -> Result<SessionInfo, ApiError>;

    /// Ends this session and clears its cookie.
    #[endpoint("sign_out", args = SignOut)]
    fn sign_out() -> Result<(), ApiError>;

    /// The signed-in patient's home page.
    #[endpoint("home", args = Home)]
    fn home() -> Result<HomeInfo, ApiError>;

    /// Settings, and the forced change after a staff reset: a new password, with the current one.
    #[endpoint("change_password", args = ChangePassword)]
    fn change_password(current: String, new: String, repeat: String) -> Result<SessionInfo, ApiError>;

    /// Settings: a new username (unique whatever the capitalisation); the current password is
    /// required and a wrong one counts toward lockout.
    #[endpoint("change_username", args = ChangeUsername)]
    fn change_username(current: String, new_username: String) -> Result<SessionInfo, ApiError>;

    /// The signed-in account's own email addresses and phone numbers.
    #[endpoint("my_contacts", args = MyContacts)]
    fn my_contacts() -> Result<Vec<ContactInfo>, ApiError>;

    /// Settings: a new email or phone. Needs the current password (a wrong one counts toward
    /// lockout); sends a code to the new contact.
    #[endpoint("start_contact_change", args = StartContactChange)]
    fn start_contact_change(current: String, kind: ContactKind, value: String)
        -> Result<ContactChangeStarted, ApiError>;

    /// The code from the new contact: the change happens, and the old contact hears about it.
    #[endpoint("confirm_contact_change", args = ConfirmContactChange)]
    fn confirm_contact_change(code: String) -> Result<Vec<ContactInfo>, ApiError>;

    /// The account's signed-in browsers (Settings > Manage Login Credentials).
    #[endpoint("list_sessions", args = ListSessions)]
    fn list_sessions() -> Result<Vec<DeviceSession>, ApiError>;

    /// The browsers that skip the second step for now (Settings > signed-in devices).
    #[endpoint("remembered_devices", args = RememberedDevices)]
    fn remembered_devices() -> Result<Vec<RememberedDevice>, ApiError>;

    /// "Sign out everywhere else": ends every other session of the account; returns how many.
    #[endpoint("sign_out_other_sessions", args = SignOutOtherSessions)]
    fn sign_out_other_sessions() -> Result<u32, ApiError>;

    /// Settings: the language on file, which the clinic writes, texts and calls in. None: not
    /// chosen yet (messages then follow the page that asked).
    #[endpoint("my_language", args = MyLanguage)]
    fn my_language() -> Result<Option<Lang>, ApiError>;

    /// Settings: choose the language on file; answers it as it now stands.
    #[endpoint("set_my_language", args = SetMyLanguage)]
    fn set_my_language(lang: Lang) -> Result<Option<Lang>, ApiError>;

    /// Forgot password, step 1. The answer is the same whether or not an account matches and
    /// whether or not it has the chosen channel on file (SECURITY.md E1, E2).
    /// `lang` is the page's language: the message is in it when the account has none on file.
    /// It says nothing about any account, so the answer stays the same (E1). Absent (a page
    /// loaded before the upgrade): English, the only language such a page had.
    #[endpoint("request_reset", args = RequestReset)]
    fn request_reset(who: RecoveryIdentity, channel: RecoveryChannel, lang: Option<Lang>) -> Result<RecoveryAccepted, ApiError>;

    /// Forgot password, step 2 by code: a valid code becomes a short-lived grant.
    #[endpoint("verify_reset_code", args = VerifyResetCode)]
    fn verify_reset_code(who: RecoveryIdentity, code: String) -> Result<ResetGrant, ApiError>;

    /// What a reset link will do, without using it (SECURITY.md R7).
    #[endpoint("preview_reset_link", args = PreviewResetLink)]
    fn preview_reset_link(token: String) -> Result<LinkPreview, ApiError>;

    /// The patient pressed "Continue" on a link's page: only this uses the link up.
    #[endpoint("redeem_reset_link", args = RedeemResetLink)]
    fn redeem_reset_link(token: String) -> Result<ResetGrant, ApiError>;

    /// "This wasn't me": Continue on the page a security notice's link opens (SECURITY.md M8).
    /// Ends every session, forgets remembered browsers, pauses self-service recovery for a
    /// day and tells the clinic. Opening the page uses nothing; only this does.
    #[endpoint("report_not_me", args = ReportNotMe)]
    fn report_not_me(token: String) -> Result<(), ApiError>;

    /// Forgot password, last step: the new password (and the security answer, when asked).
    /// `lang`: the page's, for the notice when the account has no language on file.
    #[endpoint("complete_reset", args = CompleteReset)]
    fn complete_reset(grant: String, security_answer: Option<String>, new: String, repeat: String, lang: Option<Lang>)
        -> Result<(), ApiError>;

    /// Forgot username. Always the same answer; the username goes only to a contact on file
    /// (SECURITY.md R11).
    #[endpoint("request_username", args = RequestUsername)]
    fn request_username(lookup: UsernameLookup, lang: Option<Lang>) -> Result<(), ApiError>;

    /// What the second step of a half-done sign-in may be answered with (the page that asks
    /// for it is loaded apart from the first page, so the first page stays small).
    #[endpoint("second_step_offer", args = SecondStepOfferOf)]
    fn second_step_offer() -> Result<SecondStepOffer, ApiError>;

    /// The second step at sign-in, after the password: a code from the authenticator app or a
    /// backup code. A wrong one counts toward lockout (SECURITY.md M5). Opens the session (a
    /// new cookie) once accepted. `remember`: this browser skips the second step for
    /// `mfa.remember_days` (a cookie the server can revoke; SECURITY.md M7).
    #[endpoint("verify_second_step", args = VerifySecondStep)]
    fn verify_second_step(method: SecondStepMethod, code: String, remember: bool) -> Result<SessionInfo, ApiError>;

    /// The second step with a sent code: sends one to `target` (one of the offer's targets).
    /// Counted against the same send limits as a reset's codes (429 `TooManyMessages`).
    #[endpoint("send_second_step_code", args = SendSecondStepCode)]
    fn send_second_step_code(target: i64) -> Result<SentCodeSent, ApiError>;

    /// The second step with a passkey: a ceremony for this account's passkeys.
    #[endpoint("second_step_passkey_options", args = SecondStepPasskeyOptions)]
    fn second_step_passkey_options() -> Result<PasskeyCeremony, ApiError>;

    /// The second step answered by a passkey (`credential`: `toJSON()` as JSON text); counts
    /// like a code when it fails.
    #[endpoint("verify_second_step_passkey", args = VerifySecondStepPasskey)]
    fn verify_second_step_passkey(ceremony: String, credential: String, remember: bool) -> Result<SessionInfo, ApiError>;

    /// Settings > Two-step verification: the methods added, and backup codes left. Also
    /// allowed while the clinic's policy makes the person add one.
    #[endpoint("two_step_status", args = TwoStepStatusOf)]
    fn two_step_status() -> Result<TwoStepStatus, ApiError>;

    /// Starts adding an authenticator app: a new key, shown once. It counts only once a code
    /// from it is confirmed.
    #[endpoint("start_authenticator", args = StartAuthenticator)]
    fn start_authenticator(name: String) -> Result<AuthenticatorSetup, ApiError>;

    /// Confirms a new authenticator app with one code from it and the current password (not
    /// asked again within minutes of signing in). The first method also makes backup codes.
    #[endpoint("confirm_authenticator", args = ConfirmAuthenticator)]
    fn confirm_authenticator(id: i64, code: String, current: String) -> Result<TwoStepChanged, ApiError>;

    /// Starts adding codes sent to a contact on file (a text to a mobile, a call to a
    /// landline, an email where the clinic allows), with the current password: the first code
    /// goes at once, and typing it back confirms the method.
    #[endpoint("start_sent_code", args = StartSentCode)]
    fn start_sent_code(contact_id: i64, current: String) -> Result<SentCodeSent, ApiError>;

    /// Confirms codes sent to a contact as a second step, with the code `start_sent_code` sent.
    #[endpoint("confirm_sent_code", args = ConfirmSentCode)]
    fn confirm_sent_code(id: i64, code: String) -> Result<TwoStepChanged, ApiError>;

    /// Starts adding a passkey, named by its owner, with the current password (checked before
    /// the browser makes anything; not asked again within minutes of a required sign-in).
    #[endpoint("start_passkey", args = StartPasskey)]
    fn start_passkey(name: String, current: String) -> Result<PasskeyCeremony, ApiError>;

    /// The browser's answer to `start_passkey` (`credential`: `toJSON()` as JSON text). The
    /// first method also makes backup codes.
    #[endpoint("confirm_passkey", args = ConfirmPasskey)]
    fn confirm_passkey(ceremony: String, credential: String) -> Result<TwoStepChanged, ApiError>;

    /// Removes a method, with the current password. The last one cannot go while the clinic
    /// requires a second step.
    #[endpoint("remove_two_step_method", args = RemoveTwoStepMethod)]
    fn remove_two_step_method(id: i64, current: String) -> Result<TwoStepStatus, ApiError>;

    /// A new set of ten backup codes, shown once; the old set stops working.
    #[endpoint("regenerate_backup_codes", args = RegenerateBackupCodes)]
    fn regenerate_backup_codes(current: String) -> Result<Vec<String>, ApiError>;
}
