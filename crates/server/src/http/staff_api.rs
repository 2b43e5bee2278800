//! The staff console's server functions: each resolves the session into a `Staff` or `Admin`
//! caller (SECURITY.md S5) and calls the domain use case that takes exactly that type.

use async_trait::async_trait;
use carekey_shared::backend::{RequestCtx, StaffBackend};
use carekey_shared::staff::{
    AuditRow, CredentialsLetter, DeliveryRow, DeliveryStatus, DeskCode, PatientChart,
    PatientSummary, SentToPatient, StaffUser,
};
// The arguments structs (`StaffUsers`, …) that `#[server]` generates, one per endpoint.
use carekey_shared::staff_fns::*;

use super::api::{Answer, Api};

#[async_trait]
impl StaffBackend for Api {
    async fn staff_users(&self, ctx: &RequestCtx, a: StaffUsers) -> Answer<Vec<StaffUser>> {
        let admin = self.admin(ctx).await?;
        Ok(self.services.staff_users(&admin, &a.query).await?)
    }

    async fn admin_reset_password(
        &self,
        ctx: &RequestCtx,
        a: AdminResetPassword,
    ) -> Answer<StaffUser> {
        let admin = self.admin(ctx).await?;
        Ok(self
            .services
            .admin_reset_password(&admin, a.user_id, &a.new, &a.repeat, &a.your_password)
            .await?)
    }

    async fn admin_reset_two_step(
        &self,
        ctx: &RequestCtx,
        a: AdminResetTwoStep,
    ) -> Answer<StaffUser> {
        let admin = self.admin(ctx).await?;
        Ok(self
            .services
            .admin_reset_two_step(&admin, a.user_id, &a.your_password)
            .await?)
    }

    async fn create_staff_user(&self, ctx: &RequestCtx, a: CreateStaffUser) -> Answer<StaffUser> {
        let admin = self.admin(ctx).await?;
        Ok(self
            .services
            .create_staff_user(&admin, a.user, &a.password)
            .await?)
    }

    async fn set_staff_enabled(&self, ctx: &RequestCtx, a: SetStaffEnabled) -> Answer<StaffUser> {
        let admin = self.admin(ctx).await?;
        Ok(self
            .services
            .set_staff_enabled(&admin, a.user_id, a.enabled)
            .await?)
    }

    async fn set_staff_role(&self, ctx: &RequestCtx, a: SetStaffRole) -> Answer<StaffUser> {
        let admin = self.admin(ctx).await?;
        Ok(self
            .services
            .set_staff_role(&admin, a.user_id, a.role)
            .await?)
    }

    async fn search_patients(
        &self,
        ctx: &RequestCtx,
        a: SearchPatients,
    ) -> Answer<Vec<PatientSummary>> {
        let staff = self.staff(ctx).await?;
        Ok(self.services.search_patients(&staff, &a.query).await?)
    }

    async fn add_patient(&self, ctx: &RequestCtx, a: AddPatient) -> Answer<PatientSummary> {
        let staff = self.staff(ctx).await?;
        Ok(self.services.add_patient(&staff, a.patient).await?)
    }

    async fn open_chart(&self, ctx: &RequestCtx, a: OpenChart) -> Answer<PatientChart> {
        let staff = self.staff(ctx).await?;
        Ok(self.services.patient_chart(&staff, a.patient_id).await?)
    }

    async fn update_patient_contacts(
        &self,
        ctx: &RequestCtx,
        a: UpdatePatientContacts,
    ) -> Answer<PatientChart> {
        let staff = self.staff(ctx).await?;
        Ok(self
            .services
            .update_patient_contacts(&staff, a.patient_id, &a.email, &a.phone, a.phone_is_mobile)
            .await?)
    }

    async fn set_patient_language(
        &self,
        ctx: &RequestCtx,
        a: SetPatientLanguage,
    ) -> Answer<PatientChart> {
        let staff = self.staff(ctx).await?;
        Ok(self
            .services
            .set_patient_language(&staff, a.patient_id, a.lang)
            .await?)
    }

    async fn portal_credentials(
        &self,
        ctx: &RequestCtx,
        a: PortalCredentials,
    ) -> Answer<CredentialsLetter> {
        let staff = self.staff(ctx).await?;
        Ok(self
            .services
            .portal_credentials(&staff, a.patient_id, &a.username, a.choice)
            .await?)
    }

    async fn portal_send_reset(
        &self,
        ctx: &RequestCtx,
        a: PortalSendReset,
    ) -> Answer<SentToPatient> {
        let staff = self.staff(ctx).await?;
        Ok(self
            .services
            .portal_send_reset(&staff, a.patient_id, a.channel)
            .await?)
    }

    async fn portal_desk_code(&self, ctx: &RequestCtx, a: PortalDeskCode) -> Answer<DeskCode> {
        let staff = self.staff(ctx).await?;
        Ok(self
            .services
            .portal_desk_code(&staff, a.patient_id, a.checks)
            .await?)
    }

    async fn portal_report_handled(
        &self,
        ctx: &RequestCtx,
        a: PortalReportHandled,
    ) -> Answer<PatientChart> {
        let staff = self.staff(ctx).await?;
        Ok(self
            .services
            .portal_report_handled(&staff, a.patient_id)
            .await?)
    }

    async fn portal_unlock(&self, ctx: &RequestCtx, a: PortalUnlock) -> Answer<PatientChart> {
        let staff = self.staff(ctx).await?;
        Ok(self.services.portal_unlock(&staff, a.patient_id).await?)
    }

    async fn portal_reset_two_step(
        &self,
        ctx: &RequestCtx,
        a: PortalResetTwoStep,
    ) -> Answer<PatientChart> {
        let staff = self.staff(ctx).await?;
        Ok(self
            .services
            .portal_reset_two_step(&staff, a.patient_id, a.checks)
            .await?)
    }

    async fn chart_deliveries(
        &self,
        ctx: &RequestCtx,
        a: ChartDeliveries,
    ) -> Answer<Vec<DeliveryRow>> {
        let staff = self.staff_background(ctx).await?;
        Ok(self.services.chart_deliveries(&staff, a.patient_id).await?)
    }

    async fn message_status(&self, ctx: &RequestCtx, a: MessageStatus) -> Answer<DeliveryStatus> {
        let staff = self.staff_background(ctx).await?;
        Ok(self.services.message_status(&staff, a.message_id).await?)
    }

    async fn audit_rows(&self, ctx: &RequestCtx, a: AuditRows) -> Answer<Vec<AuditRow>> {
        let admin = self.admin(ctx).await?;
        Ok(self.services.audit_rows(&admin, &a.filter).await?)
    }
}
