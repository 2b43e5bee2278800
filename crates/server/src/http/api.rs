//! The server-function backend: turns API calls into domain calls and domain errors into the
//! wire's `ApiError`. Detail goes to the log; the browser gets only the kind of failure.

use std::sync::Arc;

use async_trait::async_trait;
use carekey_shared::backend::{Backend, RequestCtx};
use carekey_shared::{
    ApiError, ClinicInfo, ContactChangeStarted, ContactInfo, ContactKind, DeviceSession, HomeInfo,
    LinkPreview, Portal, RecoveryAccepted, RecoveryChannel, RecoveryIdentity, ResetGrant,
    SessionInfo, UsernameLookup,
};

use super::cookies;
use crate::domain::caller::{Admin, Caller, Staff};
use crate::domain::signin::Allow;
use crate::domain::{ClientMeta, DomainError, Services};

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

    pub(super) async fn admin(&self, ctx: &RequestCtx) -> Result<Admin, ApiError> {
        Ok(self.caller(ctx, Allow::FullSessionOnly).await?.admin()?)
    }
}

pub(super) fn meta(ctx: &RequestCtx) -> ClientMeta {
    ClientMeta {
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::SignInFailed => ApiError::SignInFailed,
            DomainError::NotSignedIn => ApiError::NotSignedIn,
            DomainError::PasswordChangeRequired => ApiError::PasswordChangeRequired,
            DomainError::Forbidden => ApiError::Forbidden,
            DomainError::CurrentPasswordIncorrect => ApiError::CurrentPasswordIncorrect,
            DomainError::PasswordRejected(issues) => ApiError::PasswordRejected(issues),
            DomainError::PasswordsDiffer => ApiError::PasswordsDiffer,
            DomainError::InvalidInput(m) => ApiError::InvalidInput(m),
            DomainError::UsernameTaken => ApiError::UsernameTaken,
            DomainError::UsernameInvalid => ApiError::UsernameInvalid,
            DomainError::ContactInvalid => ApiError::ContactInvalid,
            DomainError::CodeRejected(p) => ApiError::CodeRejected(p),
            DomainError::SecurityAnswerIncorrect => ApiError::SecurityAnswerIncorrect,
            // "Try again in a moment" is the honest answer to both.
            DomainError::Busy | DomainError::Conflict => ApiError::Busy,
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

#[async_trait]
impl Backend for Api {
    async fn portal_info(&self) -> ClinicInfo {
        let c = &self.services.cfg;
        ClinicInfo {
            clinic_name: c.clinic_name.clone(),
            clinic_phone: c.clinic_phone.clone(),
            idle_timeout_secs: c.session_idle.as_secs(),
            idle_warning_secs: c.session_warning.as_secs(),
            password_min_length: c.password_min_length,
            password_require_mix: c.password_require_mix,
            dev_mode: c.dev_mode,
            recovery: self.services.recovery_options(),
        }
    }

    async fn sign_in(
        &self,
        ctx: &RequestCtx,
        portal: Portal,
        identifier: String,
        password: String,
    ) -> Result<SessionInfo, ApiError> {
        let s = self
            .services
            .sign_in(
                portal,
                &identifier,
                &password,
                ctx.session_token.as_deref(),
                &meta(ctx),
            )
            .await?;
        ctx.set_cookie(cookies::session_cookie(&self.services.cfg, &s.token));
        Ok(s.info)
    }

    async fn whoami(&self, ctx: &RequestCtx) -> Result<SessionInfo, ApiError> {
        let caller = self.caller(ctx, Allow::DuringForcedChange).await?;
        Ok(self.services.whoami(&caller))
    }

    async fn sign_out(&self, ctx: &RequestCtx) -> Result<(), ApiError> {
        self.services
            .sign_out(ctx.session_token.as_deref(), &meta(ctx))
            .await?;
        ctx.set_cookie(cookies::clear_cookie(&self.services.cfg));
        Ok(())
    }

    async fn home(&self, ctx: &RequestCtx) -> Result<HomeInfo, ApiError> {
        let patient = self.caller(ctx, Allow::FullSessionOnly).await?.patient()?;
        Ok(self.services.home(&patient))
    }

    async fn change_password(
        &self,
        ctx: &RequestCtx,
        current: String,
        new: String,
        repeat: String,
    ) -> Result<SessionInfo, ApiError> {
        // The forced change after a staff reset is this very call.
        let caller = self.caller(ctx, Allow::DuringForcedChange).await?;
        Ok(self
            .services
            .change_password(&caller, &current, &new, &repeat)
            .await?)
    }

    async fn my_contacts(&self, ctx: &RequestCtx) -> Result<Vec<ContactInfo>, ApiError> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self.services.my_contacts(&caller).await?)
    }

    async fn start_contact_change(
        &self,
        ctx: &RequestCtx,
        current: String,
        kind: ContactKind,
        value: String,
    ) -> Result<ContactChangeStarted, ApiError> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self
            .services
            .start_contact_change(&caller, &current, kind, &value)
            .await?)
    }

    async fn confirm_contact_change(
        &self,
        ctx: &RequestCtx,
        code: String,
    ) -> Result<Vec<ContactInfo>, ApiError> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self.services.confirm_contact_change(&caller, &code).await?)
    }

    async fn list_sessions(&self, ctx: &RequestCtx) -> Result<Vec<DeviceSession>, ApiError> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self.services.list_sessions(&caller).await?)
    }

    async fn sign_out_other_sessions(&self, ctx: &RequestCtx) -> Result<u32, ApiError> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self.services.sign_out_other_sessions(&caller).await?)
    }

    async fn change_username(
        &self,
        ctx: &RequestCtx,
        current: String,
        new_username: String,
    ) -> Result<SessionInfo, ApiError> {
        let caller = self.caller(ctx, Allow::FullSessionOnly).await?;
        Ok(self
            .services
            .change_username(&caller, &current, &new_username)
            .await?)
    }

    async fn request_reset(
        &self,
        ctx: &RequestCtx,
        who: RecoveryIdentity,
        channel: RecoveryChannel,
    ) -> Result<RecoveryAccepted, ApiError> {
        Ok(self
            .services
            .request_reset(who, channel, &meta(ctx))
            .await?)
    }

    async fn verify_reset_code(
        &self,
        ctx: &RequestCtx,
        who: RecoveryIdentity,
        code: String,
    ) -> Result<ResetGrant, ApiError> {
        Ok(self
            .services
            .verify_reset_code(who, &code, &meta(ctx))
            .await?)
    }

    async fn preview_reset_link(
        &self,
        ctx: &RequestCtx,
        token: String,
    ) -> Result<LinkPreview, ApiError> {
        Ok(self.services.preview_reset_link(&token, &meta(ctx)).await?)
    }

    async fn redeem_reset_link(
        &self,
        ctx: &RequestCtx,
        token: String,
    ) -> Result<ResetGrant, ApiError> {
        Ok(self.services.redeem_reset_link(&token, &meta(ctx)).await?)
    }

    async fn complete_reset(
        &self,
        ctx: &RequestCtx,
        grant: String,
        security_answer: Option<String>,
        new: String,
        repeat: String,
    ) -> Result<(), ApiError> {
        Ok(self
            .services
            .complete_reset(
                &grant,
                security_answer.as_deref(),
                &new,
                &repeat,
                &meta(ctx),
            )
            .await?)
    }

    async fn request_username(
        &self,
        ctx: &RequestCtx,
        lookup: UsernameLookup,
    ) -> Result<(), ApiError> {
        Ok(self.services.request_username(lookup, &meta(ctx)).await?)
    }
}
