//! The staff console's server functions: each takes the session from the request and calls
//! the domain, which checks the role (SECURITY.md S5).

use async_trait::async_trait;
use carekey_shared::ApiError;
use carekey_shared::RecoveryChannel;
use carekey_shared::backend::{RequestCtx, StaffBackend};
use carekey_shared::staff::{
    AuditFilter, AuditRow, CredentialsLetter, DeliveryStatus, DeskCode, IdentityChecks, NewPatient,
    NewStaffUser, PasswordChoice, PatientChart, PatientSummary, SentToPatient, StaffRole,
    StaffUser,
};

use super::api::{Api, meta};

fn token(ctx: &RequestCtx) -> Option<&str> {
    ctx.session_token.as_deref()
}

#[async_trait]
impl StaffBackend for Api {
    async fn staff_users(
        &self,
        ctx: &RequestCtx,
        query: String,
    ) -> Result<Vec<StaffUser>, ApiError> {
        Ok(self.services.staff_users(token(ctx), &query).await?)
    }

    async fn admin_reset_password(
        &self,
        ctx: &RequestCtx,
        user_id: i64,
        new: String,
        repeat: String,
        your_password: String,
    ) -> Result<StaffUser, ApiError> {
        Ok(self
            .services
            .admin_reset_password(
                token(ctx),
                user_id,
                &new,
                &repeat,
                &your_password,
                &meta(ctx),
            )
            .await?)
    }

    async fn create_staff_user(
        &self,
        ctx: &RequestCtx,
        user: NewStaffUser,
        password: String,
    ) -> Result<StaffUser, ApiError> {
        Ok(self
            .services
            .create_staff_user(token(ctx), user, &password, &meta(ctx))
            .await?)
    }

    async fn set_staff_enabled(
        &self,
        ctx: &RequestCtx,
        user_id: i64,
        enabled: bool,
    ) -> Result<StaffUser, ApiError> {
        Ok(self
            .services
            .set_staff_enabled(token(ctx), user_id, enabled, &meta(ctx))
            .await?)
    }

    async fn set_staff_role(
        &self,
        ctx: &RequestCtx,
        user_id: i64,
        role: StaffRole,
    ) -> Result<StaffUser, ApiError> {
        Ok(self
            .services
            .set_staff_role(token(ctx), user_id, role, &meta(ctx))
            .await?)
    }

    async fn search_patients(
        &self,
        ctx: &RequestCtx,
        query: String,
    ) -> Result<Vec<PatientSummary>, ApiError> {
        Ok(self.services.search_patients(token(ctx), &query).await?)
    }

    async fn add_patient(
        &self,
        ctx: &RequestCtx,
        p: NewPatient,
    ) -> Result<PatientSummary, ApiError> {
        Ok(self.services.add_patient(token(ctx), p, &meta(ctx)).await?)
    }

    async fn patient_chart(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
    ) -> Result<PatientChart, ApiError> {
        Ok(self.services.patient_chart(token(ctx), patient_id).await?)
    }

    async fn update_patient_contacts(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
        email: String,
        phone: String,
        phone_is_mobile: bool,
    ) -> Result<PatientChart, ApiError> {
        Ok(self
            .services
            .update_patient_contacts(
                token(ctx),
                patient_id,
                &email,
                &phone,
                phone_is_mobile,
                &meta(ctx),
            )
            .await?)
    }

    async fn portal_credentials(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
        username: String,
        choice: PasswordChoice,
    ) -> Result<CredentialsLetter, ApiError> {
        Ok(self
            .services
            .portal_credentials(token(ctx), patient_id, &username, choice, &meta(ctx))
            .await?)
    }

    async fn portal_send_reset(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
        channel: RecoveryChannel,
    ) -> Result<SentToPatient, ApiError> {
        Ok(self
            .services
            .portal_send_reset(token(ctx), patient_id, channel, &meta(ctx))
            .await?)
    }

    async fn portal_desk_code(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
        checks: IdentityChecks,
    ) -> Result<DeskCode, ApiError> {
        Ok(self
            .services
            .portal_desk_code(token(ctx), patient_id, checks, &meta(ctx))
            .await?)
    }

    async fn portal_unlock(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
    ) -> Result<PatientChart, ApiError> {
        Ok(self
            .services
            .portal_unlock(token(ctx), patient_id, &meta(ctx))
            .await?)
    }

    async fn message_status(
        &self,
        ctx: &RequestCtx,
        message_id: i64,
    ) -> Result<DeliveryStatus, ApiError> {
        Ok(self.services.message_status(token(ctx), message_id).await?)
    }

    async fn audit_rows(
        &self,
        ctx: &RequestCtx,
        filter: AuditFilter,
    ) -> Result<Vec<AuditRow>, ApiError> {
        Ok(self.services.audit_rows(token(ctx), &filter).await?)
    }

    async fn audit_csv(&self, ctx: &RequestCtx, filter: AuditFilter) -> Result<String, ApiError> {
        Ok(self.services.audit_csv(token(ctx), &filter).await?)
    }
}
