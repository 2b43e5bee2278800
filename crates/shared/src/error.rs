//! The one error type that crosses the wire. Variants name what happened, never how: the
//! browser turns each into calm, translated text; the server logs the detail.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::policy::PolicyIssue;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// Wrong identifier or password, or the account is locked or disabled. One variant for all,
    /// so the response cannot tell an attacker which (SECURITY.md E1).
    #[error("sign-in failed")]
    SignInFailed,
    /// No session, or it ended (idle, absolute lifetime, signed out, revoked).
    #[error("not signed in")]
    NotSignedIn,
    /// The account must choose a new password before doing anything else.
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("forbidden")]
    Forbidden,
    /// The second step's code was not accepted (wrong, already used, or the sign-in it
    /// belonged to has ended). Counts toward the account's lockout (SECURITY.md M5).
    #[error("second step failed")]
    SecondStepFailed,
    /// The clinic requires a second step this account has not added yet.
    #[error("second step must be added first")]
    SecondStepSetupRequired,
    /// The clinic requires a second step, and this is the account's last one.
    #[error("last second step")]
    LastSecondStep,
    /// A passkey's answer was not accepted when adding it (a browser or authenticator that
    /// cannot check it is you, an old ceremony, or a passkey already on this account).
    #[error("passkey not accepted")]
    PasskeyNotAccepted,
    /// The current password given to authorise a change was wrong.
    #[error("current password incorrect")]
    CurrentPasswordIncorrect,
    /// The new password breaks the policy; the issues say which rules.
    #[error("password rejected")]
    PasswordRejected(Vec<PolicyIssue>),
    #[error("passwords do not match")]
    PasswordsDiffer,
    /// A recovery code, link or grant was not accepted; the problem is specific only when the
    /// secret matched one that was issued (see `CodeProblem`).
    #[error("code not accepted: {0:?}")]
    CodeRejected(crate::recovery::CodeProblem),
    /// The answer to the account's security question was wrong (counts as a wrong guess).
    #[error("security answer incorrect")]
    SecurityAnswerIncorrect,
    /// Another account already has that username (any capitalisation).
    #[error("username taken")]
    UsernameTaken,
    /// A username must be 3 to 64 letters, digits, dots, dashes, underscores or @.
    #[error("username not allowed")]
    UsernameInvalid,
    /// Not an email address, or not a phone number CareKey can send to.
    #[error("contact not usable")]
    ContactInvalid,
    /// Malformed or oversized input.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Staff console: the patient, user or message asked for is not on file.
    #[error("not found: {0}")]
    NotFound(String),
    /// Staff console: a patient with that MRN is already on file.
    #[error("already on file: {0}")]
    AlreadyExists(String),
    /// Staff console: this person or number has had as many messages as the send limits allow
    /// for now (SECURITY.md A2).
    #[error("too many messages")]
    TooManyMessages,
    /// Too many requests are waiting (hashing queue full): try again in a moment.
    #[error("busy")]
    Busy,
    /// The database or another dependency is down.
    #[error("service unavailable")]
    Unavailable,
    /// Transport or encoding failure between browser and server.
    #[error("request failed: {0}")]
    Transport(String),
}

impl ApiError {
    /// The HTTP status the server answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            ApiError::SignInFailed | ApiError::NotSignedIn => 401,
            ApiError::SecondStepFailed => 401,
            ApiError::PasswordChangeRequired
            | ApiError::Forbidden
            | ApiError::SecondStepSetupRequired => 403,
            ApiError::LastSecondStep => 409,
            ApiError::CurrentPasswordIncorrect
            | ApiError::PasskeyNotAccepted
            | ApiError::PasswordRejected(_)
            | ApiError::PasswordsDiffer
            | ApiError::CodeRejected(_)
            | ApiError::SecurityAnswerIncorrect
            | ApiError::UsernameTaken
            | ApiError::UsernameInvalid
            | ApiError::ContactInvalid
            | ApiError::InvalidInput(_) => 400,
            ApiError::NotFound(_) => 404,
            ApiError::AlreadyExists(_) => 409,
            ApiError::TooManyMessages => 429,
            ApiError::Busy | ApiError::Unavailable => 503,
            ApiError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                ApiError::InvalidInput(msg)
            }
            other => ApiError::Transport(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_http_meaning() {
        assert_eq!(ApiError::SignInFailed.status_code(), 401);
        assert_eq!(ApiError::PasswordChangeRequired.status_code(), 403);
        assert_eq!(ApiError::InvalidInput("x".into()).status_code(), 400);
        assert_eq!(ApiError::Busy.status_code(), 503);
    }

    #[test]
    fn round_trips_as_json() {
        let e = ApiError::PasswordRejected(vec![PolicyIssue::TooShort { min: 15 }]);
        let s = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<ApiError>(&s).unwrap(), e);
    }
}
