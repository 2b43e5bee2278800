//! The server-function backend: turns API calls into domain calls and domain errors into the
//! wire's `ApiError`. Detail goes to the log; the browser gets only the kind of failure.

use std::sync::Arc;

use async_trait::async_trait;
use carekey_shared::backend::{Backend, RequestCtx};
use carekey_shared::{ApiError, ClinicInfo, HomeInfo, Portal, SessionInfo};

use super::cookies;
use crate::domain::{ClientMeta, DomainError, Services};

pub struct Api {
    pub services: Arc<Services>,
}

fn meta(ctx: &RequestCtx) -> ClientMeta {
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
            DomainError::UsernameTaken => ApiError::InvalidInput("username taken".into()),
            DomainError::Busy => ApiError::Busy,
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
            dev_mode: c.dev_mode,
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
        Ok(self.services.whoami(ctx.session_token.as_deref()).await?)
    }

    async fn sign_out(&self, ctx: &RequestCtx) -> Result<(), ApiError> {
        self.services
            .sign_out(ctx.session_token.as_deref(), &meta(ctx))
            .await?;
        ctx.set_cookie(cookies::clear_cookie(&self.services.cfg));
        Ok(())
    }

    async fn home(&self, ctx: &RequestCtx) -> Result<HomeInfo, ApiError> {
        Ok(self.services.home(ctx.session_token.as_deref()).await?)
    }

    async fn change_password(
        &self,
        ctx: &RequestCtx,
        current: String,
        new: String,
        repeat: String,
    ) -> Result<SessionInfo, ApiError> {
        Ok(self
            .services
            .change_password(
                ctx.session_token.as_deref(),
                &current,
                &new,
                &repeat,
                &meta(ctx),
            )
            .await?)
    }
}
