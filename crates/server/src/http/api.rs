//! The server-function backend: `carekey_shared` declares each endpoint once and generates the
//! `Backend` trait from those declarations; here each method resolves the caller, calls the
//! domain and turns domain errors into the wire's `ApiError`. Detail goes to the log; the browser
//! gets only the kind of failure. A declaration without its method here does not compile.

use std::sync::Arc;

use async_trait::async_trait;
use carekey_shared::backend::{Backend, RequestCtx};
// The arguments structs (`SignIn`, …) that `#[server]` generates, one per endpoint.
use carekey_shared::server_fns::*;
use carekey_shared::{
    ApiError, AuthenticatorSetup, ClinicInfo, ContactChangeStarted, ContactInfo, DeviceSession,
    HomeInfo, Lang, LinkPreview, PasskeyCeremony, RecoveryAccepted, ResetGrant, SentCodeSent,
    SessionInfo, TwoStepChanged, TwoStepStatus,
};

use super::cookies;
use crate::domain::caller::{Admin, Caller, Staff};
use crate::domain::signin::Allow;
use crate::domain::{ClientMeta, DomainError, Services};
use crate::telemetry::names;

pub struct Api {
    pub services: Arc<Services>,
}

impl Api {
    /// Resolves the request's session cookie once into a typed caller; endpoints narrow it to
    /// `Patient`, `Staff` or `Admin` before calling the domain (ARCHITECTURE.md principle 10).
    pub(super) async fn caller(&self, ctx: &RequestCtx, allow: Allow) -> Result<Caller, ApiError> {
        Ok(self
            .services
            .signed_in(ctx.session_token.as_deref(), allow, &meta(ctx))
            .await?)
    }

    pub(super) async fn staff(&self, ctx: &RequestCtx) -> Result<Staff, ApiError> {
        Ok(self.caller(ctx, Allow::FullSessionOnly).await?.staff()?)
    }

    /// A member of staff whose page refreshes itself: not counted as their activity.
    pub(super) async fn staff_background(&self, ctx: &RequestCtx) -> Result<Staff, ApiError> {
        Ok(self
            .services
            .signed_in_background(ctx.session_token.as_deref(), &meta(ctx))
            .await?
            .staff()?)
    }

    /// A passed second step: the session's cookie, and the "remember this device" cookie
    /// when one was asked for (SECURITY.md M7).
    fn second_step_passed(
        &self,
        ctx: &RequestCtx,
        s: crate::domain::signin::NewSession,
    ) -> SessionInfo {
        let cfg = &self.services.cfg;
        ctx.set_cookie(cookies::session_cookie(cfg, &s.token));
        if let Some(device) = &s.remember {
            ctx.set_cookie(cookies::device_cookie(
                cfg,
                device,
                cfg.mfa.remember.as_secs(),
            ));
        }
        s.info
    }

    pub(super) async fn admin(&self, ctx: &RequestCtx) -> Result<Admin, ApiError> {
        Ok(self.caller(ctx, Allow::FullSessionOnly).await?.admin()?)
    }
}

/// What every endpoint answers: its value, or the kind of failure the browser may see.
pub(super) type Answer<T> = Result<T, ApiError>;

pub(super) fn meta(ctx: &RequestCtx) -> ClientMeta {
    ClientMeta {
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
        flow: ctx.flow_token.clone(),
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::SignInFailed => ApiError::SignInFailed,
            DomainError::NotSignedIn => ApiError::NotSignedIn,
            DomainError::PasswordChangeRequired => ApiError::PasswordChangeRequired,
            DomainError::Forbidden => ApiError::Forbidden,
            DomainError::SecondStepFailed => ApiError::SecondStepFailed,
            DomainError::SecondStepSetupRequired => ApiError::SecondStepSetupRequired,
            DomainError::LastSecondStep => ApiError::LastSecondStep,
            DomainError::CurrentPasswordIncorrect => ApiError::CurrentPasswordIncorrect,
            DomainError::PasskeyNotAccepted => ApiError::PasskeyNotAccepted,
            DomainError::PasswordRejected(issues) => ApiError::PasswordRejected(issues),
            DomainError::PasswordsDiffer => ApiError::PasswordsDiffer,
            DomainError::InvalidInput(m) => ApiError::InvalidInput(m),
            DomainError::UsernameTaken => ApiError::UsernameTaken,
            DomainError::UsernameInvalid => ApiError::UsernameInvalid,
            DomainError::ContactInvalid => ApiError::ContactInvalid,
            DomainError::CodeRejected(p) => ApiError::CodeRejected(p),
            DomainError::SecurityAnswerIncorrect => ApiError::SecurityAnswerIncorrect,
            // "Try again in a moment" is the honest answer to both.
            DomainError::Busy => {
                metrics::counter!(names::BUSY_ANSWERS, "cause" => "hashing_queue").increment(1);
                ApiError::Busy
            }
            DomainError::Conflict => {
                metrics::counter!(names::BUSY_ANSWERS, "cause" => "conflict").increment(1);
                ApiError::Busy
            }
            DomainError::NotFound(what) => ApiError::NotFound(what),
            DomainError::AlreadyExists(what) => ApiError::AlreadyExists(what),
            DomainError::TooManyMessages => ApiError::TooManyMessages,
            DomainError::Database(err) => {
                tracing::error!(%err, "database error");
                ApiError::Unavailable
            }
            DomainError::Hashing(err) | DomainError::Internal(err) => {
                tracing::error!(%err, "internal error");
                ApiError::Unavailable
            }
        }
    }
}

/// What every page is told of the clinic (`portal_info`), and what the server draws the
/// sign-in page with: configuration only, the same for everyone.
pub fn clinic_info(services: &Services) -> ClinicInfo {
    let c = &services.cfg;
    ClinicInfo {
        clinic_name: c.clinic_name.clone(),
        clinic_phone: c.clinic_phone.clone(),
        idle_timeout_secs: c.session_idle.as_secs(),
        idle_warning_secs: c.session_warning.as_secs(),
        password_min_length: c.password_min_length,
        password_require_mix: c.password_require_mix,
        lockout_threshold: c.lockout.threshold,
        lockout_minutes: c.lockout.base.as_secs().div_ceil(60),
        dev_mode: c.dev_mode,
        remember_days: u32::try_from(c.mfa.remember.as_secs() / 86_400).unwrap_or(0),
        // A clinic that turned two-step off for one side turned its passkeys off too:
        // a passkey sign-in there is refused, so it is not offered.
        passkeys: services.passkeys.is_some() && c.mfa.patients != crate::config::MfaPolicy::Off,
        staff_passkeys: services.passkeys.is_some() && c.mfa.staff != crate::config::MfaPolicy::Off,
        recovery: services.recovery_options(),
        language_help: services.delivery.renderer.language_help(),
    }
}

#[async_trait]
impl Backend for Api {
    async fn portal_info(&self, ctx: &RequestCtx, _: PortalInfo) -> Answer<ClinicInfo> {
        let c = &self.services.cfg;
        // Every page asks this first: the browser gets its recovery flow cookie before it can
        // ask for a code, so the code is bound to it (SECURITY.md R6).
        if ctx.flow_token.is_none() {
            let token = crate::domain::secrets::new_token(self.services.entropy.as_ref())?;
            ctx.set_cookie(cookies::flow_cookie(c, &token));
        }
        Ok(clinic_info(&self.services))
    }

    async fn sign_in(&self, ctx: &RequestCtx, a: SignIn) -> Answer<SessionInfo> {
        let token = ctx.session_token.as_deref();
        let s = self
            .services
            .sign_in_on_device(
                a.portal,
                &a.identifier,
                &a.password,
                token,
                ctx.device_token.as_deref(),
                &meta(ctx),
            )
            .await?;
        ctx.set_cookie(cookies::session_cookie(&self.services.cfg, &s.token));
        Ok(s.info)
    }

    async fn passkey_sign_in_options(
        &self,
        ctx: &RequestCtx,
        _: PasskeySignInOptions,
    ) -> Answer<PasskeyCeremony> {
        Ok(self.services.passkey_sign_in_options(&meta(ctx)).await?)
    }

    async fn passkey_sign_in(&self, ctx: &RequestCtx, a: PasskeySignIn) -> Answer<SessionInfo> {
        let s = self
            .services
            .passkey_sign_in(
                a.portal,
                &a.ceremony,
                &a.credential,
                ctx.session_token.as_deref(),
                &meta(ctx),
            )
            .await?;
        ctx.set_cookie(cookies::session_cookie(&self.services.cfg, &s.token));
        Ok(s.info)
    }

    async fn whoami(&self, ctx: &RequestCtx, _: Whoami) -> Answer<SessionInfo> {
        let caller = self.caller(ctx, Allow::DuringForcedChange).await?;
        Ok(self.services.whoami(&caller))
    }

    async fn sign_out(&self, ctx: &RequestCtx, _: SignOut) -> Answer<()> {
        let token = ctx.session_token.as_deref();
        self.services.sign_out(token, &meta(ctx)).await?;
        ctx.set_cookie(cookies::clear_cookie(&self.services.cfg));
        Ok(())
    }

    async fn home(&self, ctx: &RequestCtx, _: Home) -> Answer<HomeInfo> {
        let patient = self.caller(ctx, Allow::FullSessionOnly).await?.patient()?;
        Ok(self.services.home(&patient))
    }

    async fn change_password(&self, ctx: &RequestCtx, a: ChangePassword) -> Answer<SessionInfo> {
        // The forced change after a staff reset is this very call.
        let caller = self.caller(ctx, Allow::DuringForcedChange).await?;
        Ok(self
            .services
            .change_password(&caller, &a.current, &a.new, &a.repeat)
            .await?)
    }

    async fn change_username(&self, ctx: &RequestCtx, a: ChangeUsername) -> Answer<SessionInfo> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self
            .services
            .change_username(&caller, &a.current, &a.new_username)
            .await?)
    }

    async fn my_contacts(&self, ctx: &RequestCtx, _: MyContacts) -> Answer<Vec<ContactInfo>> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self.services.my_contacts(&caller).await?)
    }

    async fn start_contact_change(
        &self,
        ctx: &RequestCtx,
        a: StartContactChange,
    ) -> Answer<ContactChangeStarted> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self
            .services
            .start_contact_change(&caller, &a.current, a.kind, &a.value)
            .await?)
    }

    async fn confirm_contact_change(
        &self,
        ctx: &RequestCtx,
        a: ConfirmContactChange,
    ) -> Answer<Vec<ContactInfo>> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self
            .services
            .confirm_contact_change(&caller, &a.code)
            .await?)
    }

    async fn list_sessions(&self, ctx: &RequestCtx, _: ListSessions) -> Answer<Vec<DeviceSession>> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self.services.list_sessions(&caller).await?)
    }

    async fn remembered_devices(
        &self,
        ctx: &RequestCtx,
        _: RememberedDevices,
    ) -> Answer<Vec<carekey_shared::RememberedDevice>> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self.services.remembered_devices(&caller).await?)
    }

    async fn sign_out_other_sessions(
        &self,
        ctx: &RequestCtx,
        _: SignOutOtherSessions,
    ) -> Answer<u32> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self.services.sign_out_other_sessions(&caller).await?)
    }

    async fn my_language(&self, ctx: &RequestCtx, _: MyLanguage) -> Answer<Option<Lang>> {
        let patient = self.caller(ctx, Allow::FullSessionOnly).await?.patient()?;
        Ok(self.services.my_language(&patient).await?)
    }

    async fn set_my_language(&self, ctx: &RequestCtx, a: SetMyLanguage) -> Answer<Option<Lang>> {
        let patient = self.caller(ctx, Allow::FullSessionOnly).await?.patient()?;
        Ok(self.services.set_my_language(&patient, a.lang).await?)
    }

    async fn request_reset(&self, ctx: &RequestCtx, a: RequestReset) -> Answer<RecoveryAccepted> {
        Ok(self
            .services
            .request_reset(a.who, a.channel, a.lang.unwrap_or_default(), &meta(ctx))
            .await?)
    }

    async fn verify_reset_code(&self, ctx: &RequestCtx, a: VerifyResetCode) -> Answer<ResetGrant> {
        Ok(self
            .services
            .verify_reset_code(a.who, &a.code, &meta(ctx))
            .await?)
    }

    async fn preview_reset_link(
        &self,
        ctx: &RequestCtx,
        a: PreviewResetLink,
    ) -> Answer<LinkPreview> {
        Ok(self
            .services
            .preview_reset_link(&a.token, &meta(ctx))
            .await?)
    }

    async fn redeem_reset_link(&self, ctx: &RequestCtx, a: RedeemResetLink) -> Answer<ResetGrant> {
        Ok(self
            .services
            .redeem_reset_link(&a.token, &meta(ctx))
            .await?)
    }

    async fn report_not_me(&self, ctx: &RequestCtx, a: ReportNotMe) -> Answer<()> {
        Ok(self.services.report_not_me(&a.token, &meta(ctx)).await?)
    }

    async fn complete_reset(&self, ctx: &RequestCtx, a: CompleteReset) -> Answer<()> {
        let answer = a.security_answer.as_deref();
        Ok(self
            .services
            .complete_reset(&a.grant, answer, &a.new, &a.repeat, a.lang, &meta(ctx))
            .await?)
    }

    async fn request_username(&self, ctx: &RequestCtx, a: RequestUsername) -> Answer<()> {
        Ok(self
            .services
            .request_username(a.lookup, a.lang.unwrap_or_default(), &meta(ctx))
            .await?)
    }

    async fn second_step_offer(
        &self,
        ctx: &RequestCtx,
        _: SecondStepOfferOf,
    ) -> Answer<carekey_shared::SecondStepOffer> {
        let pending = self.caller(ctx, Allow::SecondStep).await?;
        Ok(self.services.second_step_offer(&pending).await?)
    }

    async fn verify_second_step(
        &self,
        ctx: &RequestCtx,
        a: VerifySecondStep,
    ) -> Answer<SessionInfo> {
        let pending = self.caller(ctx, Allow::SecondStep).await?;
        let s = self
            .services
            .verify_second_step(&pending, a.method, &a.code, a.remember)
            .await?;
        Ok(self.second_step_passed(ctx, s))
    }

    async fn send_second_step_code(
        &self,
        ctx: &RequestCtx,
        a: SendSecondStepCode,
    ) -> Answer<SentCodeSent> {
        let pending = self.caller(ctx, Allow::SecondStep).await?;
        Ok(self
            .services
            .send_second_step_code(&pending, a.target)
            .await?)
    }

    async fn start_sent_code(&self, ctx: &RequestCtx, a: StartSentCode) -> Answer<SentCodeSent> {
        let caller = self.caller(ctx, Allow::Enrolment).await?;
        Ok(self
            .services
            .start_sent_code(&caller, a.contact_id, &a.current)
            .await?)
    }

    async fn confirm_sent_code(
        &self,
        ctx: &RequestCtx,
        a: ConfirmSentCode,
    ) -> Answer<TwoStepChanged> {
        let caller = self.caller(ctx, Allow::Enrolment).await?;
        Ok(self
            .services
            .confirm_sent_code(&caller, a.id, &a.code)
            .await?)
    }

    async fn second_step_passkey_options(
        &self,
        ctx: &RequestCtx,
        _: SecondStepPasskeyOptions,
    ) -> Answer<PasskeyCeremony> {
        let pending = self.caller(ctx, Allow::SecondStep).await?;
        Ok(self.services.second_step_passkey_options(&pending).await?)
    }

    async fn verify_second_step_passkey(
        &self,
        ctx: &RequestCtx,
        a: VerifySecondStepPasskey,
    ) -> Answer<SessionInfo> {
        let pending = self.caller(ctx, Allow::SecondStep).await?;
        let s = self
            .services
            .verify_second_step_passkey(&pending, &a.ceremony, &a.credential, a.remember)
            .await?;
        Ok(self.second_step_passed(ctx, s))
    }

    async fn start_passkey(&self, ctx: &RequestCtx, a: StartPasskey) -> Answer<PasskeyCeremony> {
        let caller = self.caller(ctx, Allow::Enrolment).await?;
        Ok(self
            .services
            .start_passkey(&caller, &a.name, &a.current)
            .await?)
    }

    async fn confirm_passkey(&self, ctx: &RequestCtx, a: ConfirmPasskey) -> Answer<TwoStepChanged> {
        let caller = self.caller(ctx, Allow::Enrolment).await?;
        Ok(self
            .services
            .confirm_passkey(&caller, &a.ceremony, &a.credential)
            .await?)
    }

    async fn two_step_status(&self, ctx: &RequestCtx, _: TwoStepStatusOf) -> Answer<TwoStepStatus> {
        let caller = self.caller(ctx, Allow::Enrolment).await?;
        Ok(self.services.two_step_status(&caller).await?)
    }

    async fn start_authenticator(
        &self,
        ctx: &RequestCtx,
        a: StartAuthenticator,
    ) -> Answer<AuthenticatorSetup> {
        let caller = self.caller(ctx, Allow::Enrolment).await?;
        Ok(self.services.start_authenticator(&caller, &a.name).await?)
    }

    async fn confirm_authenticator(
        &self,
        ctx: &RequestCtx,
        a: ConfirmAuthenticator,
    ) -> Answer<TwoStepChanged> {
        let caller = self.caller(ctx, Allow::Enrolment).await?;
        Ok(self
            .services
            .confirm_authenticator(&caller, a.id, &a.code, &a.current)
            .await?)
    }

    async fn remove_two_step_method(
        &self,
        ctx: &RequestCtx,
        a: RemoveTwoStepMethod,
    ) -> Answer<TwoStepStatus> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self
            .services
            .remove_two_step_method(&caller, a.id, &a.current)
            .await?)
    }

    async fn regenerate_backup_codes(
        &self,
        ctx: &RequestCtx,
        a: RegenerateBackupCodes,
    ) -> Answer<Vec<String>> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self
            .services
            .regenerate_backup_codes(&caller, &a.current)
            .await?)
    }
}
