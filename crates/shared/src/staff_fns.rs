//! The staff console's API. The server checks the role on every call (SECURITY.md S5): front
//! desk (`staff`) for patients, `admin` also for staff users and the audit log.

use leptos::prelude::*;

use crate::ApiError;
#[cfg(feature = "ssr")]
use crate::backend::context;
use crate::recovery::RecoveryChannel;
use crate::staff::{
    AuditFilter, AuditRow, CredentialsLetter, DeliveryStatus, DeskCode, IdentityChecks, NewPatient,
    NewStaffUser, PasswordChoice, PatientChart, PatientSummary, SentToPatient, StaffRole,
    StaffUser,
};

#[server(prefix = "/api", endpoint = "staff_users")]
pub async fn staff_users(query: String) -> Result<Vec<StaffUser>, ApiError> {
    let (b, ctx) = context()?;
    b.staff_users(&ctx, query).await
}

/// Admin > Users: the user's new password, and the administrator's own as the check.
#[server(prefix = "/api", endpoint = "admin_reset_password")]
pub async fn admin_reset_password(
    user_id: i64,
    new: String,
    repeat: String,
    your_password: String,
) -> Result<StaffUser, ApiError> {
    let (b, ctx) = context()?;
    b.admin_reset_password(&ctx, user_id, new, repeat, your_password)
        .await
}

#[server(prefix = "/api", endpoint = "create_staff_user")]
pub async fn create_staff_user(
    user: NewStaffUser,
    password: String,
) -> Result<StaffUser, ApiError> {
    let (b, ctx) = context()?;
    b.create_staff_user(&ctx, user, password).await
}

#[server(prefix = "/api", endpoint = "set_staff_enabled")]
pub async fn set_staff_enabled(user_id: i64, enabled: bool) -> Result<StaffUser, ApiError> {
    let (b, ctx) = context()?;
    b.set_staff_enabled(&ctx, user_id, enabled).await
}

#[server(prefix = "/api", endpoint = "set_staff_role")]
pub async fn set_staff_role(user_id: i64, role: StaffRole) -> Result<StaffUser, ApiError> {
    let (b, ctx) = context()?;
    b.set_staff_role(&ctx, user_id, role).await
}

#[server(prefix = "/api", endpoint = "search_patients")]
pub async fn search_patients(query: String) -> Result<Vec<PatientSummary>, ApiError> {
    let (b, ctx) = context()?;
    b.search_patients(&ctx, query).await
}

#[server(prefix = "/api", endpoint = "add_patient")]
pub async fn add_patient(patient: NewPatient) -> Result<PatientSummary, ApiError> {
    let (b, ctx) = context()?;
    b.add_patient(&ctx, patient).await
}

#[server(prefix = "/api", endpoint = "patient_chart")]
pub async fn open_chart(patient_id: i64) -> Result<PatientChart, ApiError> {
    let (b, ctx) = context()?;
    b.patient_chart(&ctx, patient_id).await
}

#[server(prefix = "/api", endpoint = "update_patient_contacts")]
pub async fn update_patient_contacts(
    patient_id: i64,
    email: String,
    phone: String,
    phone_is_mobile: bool,
) -> Result<PatientChart, ApiError> {
    let (b, ctx) = context()?;
    b.update_patient_contacts(&ctx, patient_id, email, phone, phone_is_mobile)
        .await
}

/// The widget's Create / Reset credentials and the activation letter.
#[server(prefix = "/api", endpoint = "portal_credentials")]
pub async fn portal_credentials(
    patient_id: i64,
    username: String,
    choice: PasswordChoice,
) -> Result<CredentialsLetter, ApiError> {
    let (b, ctx) = context()?;
    b.portal_credentials(&ctx, patient_id, username, choice)
        .await
}

#[server(prefix = "/api", endpoint = "portal_send_reset")]
pub async fn portal_send_reset(
    patient_id: i64,
    channel: RecoveryChannel,
) -> Result<SentToPatient, ApiError> {
    let (b, ctx) = context()?;
    b.portal_send_reset(&ctx, patient_id, channel).await
}

#[server(prefix = "/api", endpoint = "portal_desk_code")]
pub async fn portal_desk_code(
    patient_id: i64,
    checks: IdentityChecks,
) -> Result<DeskCode, ApiError> {
    let (b, ctx) = context()?;
    b.portal_desk_code(&ctx, patient_id, checks).await
}

#[server(prefix = "/api", endpoint = "portal_unlock")]
pub async fn portal_unlock(patient_id: i64) -> Result<PatientChart, ApiError> {
    let (b, ctx) = context()?;
    b.portal_unlock(&ctx, patient_id).await
}

#[server(prefix = "/api", endpoint = "message_status")]
pub async fn message_status(message_id: i64) -> Result<DeliveryStatus, ApiError> {
    let (b, ctx) = context()?;
    b.message_status(&ctx, message_id).await
}

#[server(prefix = "/api", endpoint = "audit_rows")]
pub async fn audit_rows(filter: AuditFilter) -> Result<Vec<AuditRow>, ApiError> {
    let (b, ctx) = context()?;
    b.audit_rows(&ctx, filter).await
}

#[server(prefix = "/api", endpoint = "audit_csv")]
pub async fn audit_csv(filter: AuditFilter) -> Result<String, ApiError> {
    let (b, ctx) = context()?;
    b.audit_csv(&ctx, filter).await
}

/// Every staff endpoint; the server checks each is registered, and the role-matrix test
/// calls each as a patient, front desk and administrator.
pub const STAFF_ENDPOINTS: &[&str] = &[
    "/api/staff_users",
    "/api/admin_reset_password",
    "/api/create_staff_user",
    "/api/set_staff_enabled",
    "/api/set_staff_role",
    "/api/search_patients",
    "/api/add_patient",
    "/api/patient_chart",
    "/api/update_patient_contacts",
    "/api/portal_credentials",
    "/api/portal_send_reset",
    "/api/portal_desk_code",
    "/api/portal_unlock",
    "/api/message_status",
    "/api/audit_rows",
    "/api/audit_csv",
];
