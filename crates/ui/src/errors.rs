//! Calm, plain-language text for every error the server can answer with.

use carekey_shared::policy::PolicyIssue;
use carekey_shared::{ApiError, CodeProblem};

use crate::i18n::{t, t_num};

pub fn error_text(e: &ApiError) -> String {
    match e {
        ApiError::SignInFailed => t("error-sign-in-failed"),
        ApiError::NotSignedIn => t("error-not-signed-in"),
        ApiError::PasswordChangeRequired => t("error-password-change-required"),
        ApiError::Forbidden => t("error-forbidden"),
        ApiError::SecondStepFailed => t("error-second-step-failed"),
        ApiError::SecondStepSetupRequired => t("error-second-step-setup-required"),
        ApiError::LastSecondStep => t("error-last-second-step"),
        ApiError::CurrentPasswordIncorrect => t("error-current-password"),
        ApiError::PasskeyNotAccepted => t("error-passkey-not-accepted"),
        ApiError::PasswordRejected(issues) => {
            issues.iter().map(policy_text).collect::<Vec<_>>().join(" ")
        }
        ApiError::PasswordsDiffer => t("error-passwords-differ"),
        ApiError::CodeRejected(p) => code_problem_text(*p),
        ApiError::SecurityAnswerIncorrect => t("error-security-answer"),
        ApiError::UsernameTaken => t("error-username-taken"),
        ApiError::UsernameInvalid => t("error-username-invalid"),
        ApiError::ContactInvalid => t("error-contact-invalid"),
        ApiError::InvalidInput(_) => t("error-invalid-input"),
        ApiError::NotFound(_) => t("error-not-found"),
        ApiError::AlreadyExists(_) => t("error-already-exists"),
        ApiError::TooManyMessages => t("error-too-many-messages"),
        ApiError::Busy => t("error-busy"),
        ApiError::Unavailable => t("error-unavailable"),
        ApiError::Transport(_) => t("error-network"),
    }
}

pub fn policy_text(issue: &PolicyIssue) -> String {
    match issue {
        PolicyIssue::TooShort { min } => t_num("policy-too-short", "min", *min as i64),
        PolicyIssue::TooLong { max } => t_num("policy-too-long", "max", *max as i64),
        PolicyIssue::RecentlyUsed => t("policy-recently-used"),
        PolicyIssue::TooSimilarToCurrent => t("policy-too-similar"),
        PolicyIssue::ContainsPersonalInfo => t("policy-personal-info"),
        PolicyIssue::Common => t("policy-common"),
        PolicyIssue::NeedsMix => t("policy-needs-mix"),
    }
}

/// Why a code or link did not work, and what to do next.
pub fn code_problem_text(p: CodeProblem) -> String {
    match p {
        CodeProblem::NotAccepted => t("code-not-accepted"),
        CodeProblem::Expired => t("code-expired"),
        CodeProblem::AlreadyUsed => t("code-used"),
        CodeProblem::Replaced => t("code-replaced"),
    }
}
