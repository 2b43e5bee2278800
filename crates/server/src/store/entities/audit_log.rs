//! `audit_log` table. Append-only, hash-chained record of every credential event (HIPAA 164.312(b)).

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// What an audit row records. Written through `Action`; the column stays a plain string
    /// (`Model::action`), so the chain verifier and the audit view read every row there is —
    /// one altered to a word not listed here is reported as a broken chain, not as an error.
    pub enum Action {
        SignIn = "sign_in",
        SignInFailed = "sign_in_failed",
        SignOut = "sign_out",
        SignedOutElsewhere = "signed_out_elsewhere",
        AccountCreated = "account_created",
        AccountLocked = "account_locked",
        AccountUnlocked = "account_unlocked",
        PasswordChanged = "password_changed",
        PasswordChangeFailed = "password_change_failed",
        PasswordReset = "password_reset",
        UsernameChanged = "username_changed",
        UsernameRequested = "username_requested",
        ContactChangeStarted = "contact_change_started",
        ContactChanged = "contact_changed",
        RecoveryRequested = "recovery_requested",
        RecoveryCodeFailed = "recovery_code_failed",
        RecoveryCodeRefused = "recovery_code_refused",
        RecoveryCodeUsed = "recovery_code_used",
        PatientAdded = "patient_added",
        PatientContactsUpdated = "patient_contacts_updated",
        PortalAccountCreated = "portal_account_created",
        PortalPasswordReset = "portal_password_reset",
        UsernameChangedByStaff = "username_changed_by_staff",
        ActivationCodeIssued = "activation_code_issued",
        DeskCodeIssued = "desk_code_issued",
        StaffSentReset = "staff_sent_reset",
        StaffPasswordReset = "staff_password_reset",
        StaffRoleChanged = "staff_role_changed",
        StaffUserEnabled = "staff_user_enabled",
        StaffUserDisabled = "staff_user_disabled",
        /// The language on file changed (issue 13); details say which and who.
        LanguageChanged = "language_changed",
        /// Two-step verification (issue 12): a method added or removed, the second step at
        /// sign-in passed or failed, a saved recovery code used, the codes regenerated.
        TwoStepMethodAdded = "two_step_method_added",
        TwoStepMethodRemoved = "two_step_method_removed",
        SecondStepPassed = "second_step_passed",
        SecondStepFailed = "second_step_failed",
        BackupCodeUsed = "backup_code_used",
        BackupCodesRegenerated = "backup_codes_regenerated",
        /// Staff removed every second step of an account, after checking who asked.
        TwoStepResetByStaff = "two_step_reset_by_staff",
        /// A browser was remembered after its second step (SECURITY.md M7).
        DeviceRemembered = "device_remembered",
        /// "This wasn't me": the person reported a change they did not make (SECURITY.md M8).
        NotMeReported = "not_me_reported",
        /// Staff marked such a report handled; the chart's flag goes away.
        NotMeHandled = "not_me_handled",
        /// The rows written before the audit key were re-chained under it (issue 14, S7).
        AuditKeyed = "audit_keyed",
        /// Staff reads of patient data (HIPAA 164.312(b), SECURITY.md S8): a chart opened, a
        /// search and the patients it listed, a message's delivery status, the audit log
        /// viewed or exported.
        ChartOpened = "chart_opened",
        PatientsSearched = "patients_searched",
        MessageStatusViewed = "message_status_viewed",
        AuditViewed = "audit_viewed",
        AuditExported = "audit_exported",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub seq: i64,
    pub at: i64,
    pub actor_account_id: Option<i64>,
    /// Username of the actor, or "anonymous".
    pub actor: String,
    pub target_account_id: Option<i64>,
    /// An `Action` word (see above for why the field is a string).
    pub action: String,
    pub ip: String,
    pub user_agent: String,
    /// JSON with non-secret detail.
    pub details: String,
    pub prev_hash: String,
    /// HMAC-SHA256 under the audit key over prev_hash and this row's fields: editing or
    /// deleting a row breaks the chain (unkeyed SHA-256 before m0011).
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
