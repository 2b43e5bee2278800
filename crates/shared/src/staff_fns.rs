//! The staff console's API. The server checks the role on every call (SECURITY.md S5): front
//! desk (`staff`) for patients, `admin` also for staff users and the audit log.

use crate::ApiError;
use crate::endpoints::endpoints;
use crate::recovery::RecoveryChannel;
use crate::staff::{
    AuditFilter, AuditRow, CredentialsLetter, DeliveryRow, DeliveryStatus, DeskCode,
    IdentityChecks, NewPatient, NewStaffUser, PasswordChoice, PatientChart, PatientSummary,
    SentToPatient, StaffRole, StaffUser,
};

endpoints! {
    /// The staff console's half of the backend: what the server does for each function below.
    trait StaffBackend;
    /// Every staff endpoint; the server checks each is registered, and the role-matrix test
    /// calls each as a patient, front desk and administrator.
    const STAFF_ENDPOINTS;

    /// Admin > Users: staff and administrator accounts whose username or name contains the
    /// query (all of them for an empty query).
    #[endpoint("staff_users", args = StaffUsers)]
    fn staff_users(query: String) -> Result<Vec<StaffUser>, ApiError>;

    /// Admin > Users: the user's new password, and the administrator's own as the check.
    #[endpoint("admin_reset_password", args = AdminResetPassword)]
    fn admin_reset_password(user_id: i64, new: String, repeat: String, your_password: String)
        -> Result<StaffUser, ApiError>;

    /// Admin > Users: removes a member of staff's two-step methods and recovery codes (they
    /// lost their phone and codes), with the administrator's own password as the check.
    #[endpoint("admin_reset_two_step", args = AdminResetTwoStep)]
    fn admin_reset_two_step(user_id: i64, your_password: String) -> Result<StaffUser, ApiError>;

    /// Admin > Users: a new staff account with the password the administrator typed.
    #[endpoint("create_staff_user", args = CreateStaffUser)]
    fn create_staff_user(user: NewStaffUser, password: String) -> Result<StaffUser, ApiError>;

    /// Admin > Users: turns an account off (its sessions end at once) or back on.
    #[endpoint("set_staff_enabled", args = SetStaffEnabled)]
    fn set_staff_enabled(user_id: i64, enabled: bool) -> Result<StaffUser, ApiError>;

    /// Admin > Users: front desk or administrator.
    #[endpoint("set_staff_role", args = SetStaffRole)]
    fn set_staff_role(user_id: i64, role: StaffRole) -> Result<StaffUser, ApiError>;

    /// Patients by MRN, date of birth (YYYY-MM-DD) or name words.
    #[endpoint("search_patients", args = SearchPatients)]
    fn search_patients(query: String) -> Result<Vec<PatientSummary>, ApiError>;

    /// A patient added by hand (the MRN must be new).
    #[endpoint("add_patient", args = AddPatient)]
    fn add_patient(patient: NewPatient) -> Result<PatientSummary, ApiError>;

    /// Everything the chart shows, with its Patient Portal / API Access widget. (Named
    /// `open_chart` so its arguments struct is not `PatientChart`, the type it returns.)
    #[endpoint("patient_chart", args = OpenChart)]
    fn open_chart(patient_id: i64) -> Result<PatientChart, ApiError>;

    /// The chart's email and phone, as the front desk corrected them.
    #[endpoint("update_patient_contacts", args = UpdatePatientContacts)]
    fn update_patient_contacts(patient_id: i64, email: String, phone: String, phone_is_mobile: bool)
        -> Result<PatientChart, ApiError>;

    /// The patient's language on file, as the front desk set it: their emails, texts and calls
    /// are in it (the printed letter is not yet).
    #[endpoint("set_patient_language", args = SetPatientLanguage)]
    fn set_patient_language(patient_id: i64, lang: crate::Lang) -> Result<PatientChart, ApiError>;

    /// The widget's Create / Reset credentials and the activation letter.
    #[endpoint("portal_credentials", args = PortalCredentials)]
    fn portal_credentials(patient_id: i64, username: String, choice: PasswordChoice)
        -> Result<CredentialsLetter, ApiError>;

    /// Sends a reset link or code to a contact on file; the patient continues on their own
    /// device. The self-service send limits apply (A2).
    #[endpoint("portal_send_reset", args = PortalSendReset)]
    fn portal_send_reset(patient_id: i64, channel: RecoveryChannel) -> Result<SentToPatient, ApiError>;

    /// A one-time code for a patient on the phone or at the desk, after staff ticked which
    /// identity facts they checked. Shown once.
    #[endpoint("portal_desk_code", args = PortalDeskCode)]
    fn portal_desk_code(patient_id: i64, checks: IdentityChecks) -> Result<DeskCode, ApiError>;

    /// Reset two-step verification, for a patient who lost their phone and their recovery
    /// codes, after staff ticked which identity facts they checked: every method goes, every
    /// session ends, every contact is told; the clinic's policy decides whether the next
    /// sign-in must add one again.
    #[endpoint("portal_reset_two_step", args = PortalResetTwoStep)]
    fn portal_reset_two_step(patient_id: i64, checks: IdentityChecks) -> Result<PatientChart, ApiError>;

    /// The patient reported activity they did not recognise and the clinic has spoken with
    /// them: the chart's flag goes.
    #[endpoint("portal_report_handled", args = PortalReportHandled)]
    fn portal_report_handled(patient_id: i64) -> Result<PatientChart, ApiError>;

    /// Unlock: clears a hard lock, a temporary pause and the failure count.
    #[endpoint("portal_unlock", args = PortalUnlock)]
    fn portal_unlock(patient_id: i64) -> Result<PatientChart, ApiError>;

    /// The chart's delivery list alone, refreshed by the console while a message is on its
    /// way. A background refresh: it does not count as the person's activity, so an open
    /// chart never keeps an idle session alive.
    #[endpoint("chart_deliveries", args = ChartDeliveries)]
    fn chart_deliveries(patient_id: i64) -> Result<Vec<DeliveryRow>, ApiError>;

    /// The delivery status of one message the console is waiting on (the letter's email).
    /// Polled in the background: not counted as activity.
    #[endpoint("message_status", args = MessageStatus)]
    fn message_status(message_id: i64) -> Result<DeliveryStatus, ApiError>;

    /// Admin > Audit log, filtered.
    #[endpoint("audit_rows", args = AuditRows)]
    fn audit_rows(filter: AuditFilter) -> Result<Vec<AuditRow>, ApiError>;

}
