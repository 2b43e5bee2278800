//! The staff console's server functions: each resolves the session into a `Staff` or `Admin`
//! caller (SECURITY.md S5) and calls the domain use case that takes exactly that type.

use async_trait::async_trait;
use carekey_shared::ApiError;
use carekey_shared::RecoveryChannel;
use carekey_shared::backend::{RequestCtx, StaffBackend};
use carekey_shared::staff::{
    AuditFilter, AuditRow, CredentialsLetter, DeliveryStatus, DeskCode, IdentityChecks, NewPatient,
    NewStaffUser, PasswordChoice, PatientChart, PatientSummary, SentToPatient, StaffRole,
    StaffUser,
};

use super::api::Api;

#[async_trait]
impl StaffBackend for Api {
    async fn staff_users(
        &self,
        ctx: &RequestCtx,
        query: String,
    ) -> Result<Vec<StaffUser>, ApiError> {
        Ok(self
            .services
            .staff_users(&self.admin(ctx).await?, &query)
            .await?)
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
                &self.admin(ctx).await?,
                user_id,
                &new,
                &repeat,
                &your_password,
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
            .create_staff_user(&self.admin(ctx).await?, user, &password)
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
            .set_staff_enabled(&self.admin(ctx).await?, user_id, enabled)
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
            .set_staff_role(&self.admin(ctx).await?, user_id, role)
            .await?)
    }

    async fn search_patients(
        &self,
        ctx: &RequestCtx,
        query: String,
    ) -> Result<Vec<PatientSummary>, ApiError> {
        Ok(self
            .services
            .search_patients(&self.staff(ctx).await?, &query)
            .await?)
    }

    async fn add_patient(
        &self,
        ctx: &RequestCtx,
        p: NewPatient,
    ) -> Result<PatientSummary, ApiError> {
        Ok(self
            .services
            .add_patient(&self.staff(ctx).await?, p)
            .await?)
    }

    async fn patient_chart(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
    ) -> Result<PatientChart, ApiError> {
        Ok(self
            .services
            .patient_chart(&self.staff(ctx).await?, patient_id)
            .await?)
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
                &self.staff(ctx).await?,
                patient_id,
                &email,
                &phone,
                phone_is_mobile,
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
            .portal_credentials(&self.staff(ctx).await?, patient_id, &username, choice)
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
            .portal_send_reset(&self.staff(ctx).await?, patient_id, channel)
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
            .portal_desk_code(&self.staff(ctx).await?, patient_id, checks)
            .await?)
    }

    async fn portal_unlock(
        &self,
        ctx: &RequestCtx,
        patient_id: i64,
    ) -> Result<PatientChart, ApiError> {
        Ok(self
            .services
            .portal_unlock(&self.staff(ctx).await?, patient_id)
            .await?)
    }

    async fn message_status(
        &self,
        ctx: &RequestCtx,
        message_id: i64,
    ) -> Result<DeliveryStatus, ApiError> {
        Ok(self
            .services
            .message_status(&self.staff(ctx).await?, message_id)
            .await?)
    }

    async fn audit_rows(
        &self,
        ctx: &RequestCtx,
        filter: AuditFilter,
    ) -> Result<Vec<AuditRow>, ApiError> {
        Ok(self
            .services
            .audit_rows(&self.admin(ctx).await?, &filter)
            .await?)
    }

    async fn audit_csv(&self, ctx: &RequestCtx, filter: AuditFilter) -> Result<String, ApiError> {
        Ok(self
            .services
            .audit_csv(&self.admin(ctx).await?, &filter)
            .await?)
    }
}
