//! Server side of the contract: the narrow trait the server functions call. The server crate
//! implements it with its domain services; this crate never sees HTTP or the database.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::staff::{
    AuditFilter, AuditRow, CredentialsLetter, DeliveryStatus, DeskCode, IdentityChecks, NewPatient,
    NewStaffUser, PasswordChoice, PatientChart, PatientSummary, SentToPatient, StaffRole,
    StaffUser,
};
use crate::{
    ApiError, ClinicInfo, ContactChangeStarted, ContactInfo, ContactKind, DeviceSession, HomeInfo,
    LinkPreview, Portal, RecoveryAccepted, RecoveryChannel, RecoveryIdentity, ResetGrant,
    SessionInfo, UsernameLookup,
};

/// Facts about the incoming request, gathered by the HTTP layer before the server function runs.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    /// Client address (the peer, or the proxy's forwarded address when configured to trust it).
    pub ip: String,
    pub user_agent: String,
    /// The raw session token from the cookie, if any.
    pub session_token: Option<String>,
    /// What the handler wants added to the response (cookies). Written by the backend, applied
    /// by the HTTP layer after the server function returns.
    pub response: Arc<Mutex<ResponseMeta>>,
}

#[derive(Debug, Default, Clone)]
pub struct ResponseMeta {
    pub set_cookies: Vec<String>,
}

impl RequestCtx {
    pub fn new(ip: String, user_agent: String, session_token: Option<String>) -> Self {
        Self {
            ip,
            user_agent,
            session_token,
            response: Arc::new(Mutex::new(ResponseMeta::default())),
        }
    }

    pub fn set_cookie(&self, cookie: String) {
        if let Ok(mut meta) = self.response.lock() {
            meta.set_cookies.push(cookie);
        }
    }

    pub fn take_response_meta(&self) -> ResponseMeta {
        self.response
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }
}

#[async_trait]
pub trait Backend: StaffBackend + Send + Sync + 'static {
    async fn portal_info(&self) -> ClinicInfo;
    async fn sign_in(
        &self,
        ctx: &RequestCtx,
        portal: Portal,
        identifier: String,
        password: String,
    ) -> Result<SessionInfo, ApiError>;
    async fn whoami(&self, ctx: &RequestCtx) -> Result<SessionInfo, ApiError>;
    async fn sign_out(&self, ctx: &RequestCtx) -> Result<(), ApiError>;
    async fn home(&self, ctx: &RequestCtx) -> Result<HomeInfo, ApiError>;
    async fn change_password(
        &self,
        ctx: &RequestCtx,
        current: String,
        new: String,
        repeat: String,
    ) -> Result<SessionInfo, ApiError>;
    async fn my_contacts(&self, ctx: &RequestCtx) -> Result<Vec<ContactInfo>, ApiError>;
    async fn start_contact_change(
        &self,
        ctx: &RequestCtx,
        current: String,
        kind: ContactKind,
        value: String,
    ) -> Result<ContactChangeStarted, ApiError>;
    async fn confirm_contact_change(
        &self,
        ctx: &RequestCtx,
        code: String,
    ) -> Result<Vec<ContactInfo>, ApiError>;
    async fn list_sessions(&self, ctx: &RequestCtx) -> Result<Vec<DeviceSession>, ApiError>;
    async fn sign_out_other_sessions(&self, ctx: &RequestCtx) -> Result<u32, ApiError>;
    async fn change_username(
        &self,
        ctx: &RequestCtx,
        current: String,
        new_username: String,
    ) -> Result<SessionInfo, ApiError>;
    async fn request_reset(
        &self,
        ctx: &RequestCtx,
        who: RecoveryIdentity,
        channel: RecoveryChannel,
    ) -> Result<RecoveryAccepted, ApiError>;
    async fn verify_reset_code(
        &self,
        ctx: &RequestCtx,
        who: RecoveryIdentity,
        code: String,
    ) -> Result<ResetGrant, ApiError>;
    async fn preview_reset_link(
        &self,
        ctx: &RequestCtx,
        token: String,
    ) -> Result<LinkPreview, ApiError>;
    async fn redeem_reset_link(
        &self,
        ctx: &RequestCtx,
        token: String,
    ) -> Result<ResetGrant, ApiError>;
    async fn complete_reset(
        &self,
        ctx: &RequestCtx,
        grant: String,
        security_answer: Option<String>,
        new: String,
        repeat: String,
    ) -> Result<(), ApiError>;
    async fn request_username(
        &self,
        ctx: &RequestCtx,
        lookup: UsernameLookup,
    ) -> Result<(), ApiError>;
}

/// The staff console's half of the backend (`staff_fns`).
#[async_trait]
pub trait StaffBackend: Send + Sync + 'static {
    async fn staff_users(
        &self,
        ctx: &RequestCtx,
        query: String,
    ) -> Result<Vec<StaffUser>, ApiError>;
    async fn admin_reset_password(
        &self,
        ctx: &RequestCtx,
        user_id: i64,
        new: String,
        repeat: String,
        your_password: String,
    ) -> Result<StaffUser, ApiError>;
    async fn create_staff_user(
        &self,
        ctx: &RequestCtx,
        user: NewStaffUser,
        password: String,
    ) -> Result<StaffUser, ApiError>;
    async fn set_staff_enabled(
        &self,
        ctx: &RequestCtx,
        user_id: i64,
        enabled: bool,
    ) -> Result<StaffUser, ApiError>;
    async fn set_staff_role(
        &self,
        ctx: &RequestCtx,
        user_id: i64,
        role: StaffRole,
    ) -> Result<StaffUser, ApiError>;
    async fn search_patients(
        &self,
        ctx: &RequestCtx,
        query: String,
    ) -> Result<Vec<PatientSummary>, ApiError>;
    async fn add_patient(
        &self,
        ctx: &RequestCtx,
        p: NewPatient,
    ) -> Result<PatientSummary, ApiError>;
    async fn patient_chart(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
    ) -> Result<PatientChart, ApiError>;
    async fn update_patient_contacts(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
        email: String,
        phone: String,
        phone_is_mobile: bool,
    ) -> Result<PatientChart, ApiError>;
    async fn portal_credentials(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
        username: String,
        choice: PasswordChoice,
    ) -> Result<CredentialsLetter, ApiError>;
    async fn portal_send_reset(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
        channel: RecoveryChannel,
    ) -> Result<SentToPatient, ApiError>;
    async fn portal_desk_code(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
        checks: IdentityChecks,
    ) -> Result<DeskCode, ApiError>;
    async fn portal_unlock(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
    ) -> Result<PatientChart, ApiError>;
    async fn message_status(
        &self,
        ctx: &RequestCtx,
        message_id: i64,
    ) -> Result<DeliveryStatus, ApiError>;
    async fn audit_rows(
        &self,
        ctx: &RequestCtx,
        filter: AuditFilter,
    ) -> Result<Vec<AuditRow>, ApiError>;
    async fn audit_csv(&self, ctx: &RequestCtx, filter: AuditFilter) -> Result<String, ApiError>;
}

pub type BackendHandle = Arc<dyn Backend>;

/// Pulls the backend and request facts the HTTP layer put into the server function's context.
pub fn context() -> Result<(BackendHandle, RequestCtx), ApiError> {
    let backend = leptos::prelude::use_context::<BackendHandle>().ok_or(ApiError::Unavailable)?;
    let ctx = leptos::prelude::use_context::<RequestCtx>().ok_or(ApiError::Unavailable)?;
    Ok((backend, ctx))
}
