//! The API contract. Each function is a POST to `/api/<endpoint>`; explicit endpoints keep the
//! URL stable between the wasm client and the server however and wherever they were built.
//! Bodies stay a line or two: take the backend from context and call it.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::backend::context;
use crate::{
    ApiError, ClinicInfo, ContactChangeStarted, ContactInfo, ContactKind, DeviceSession, HomeInfo,
    LinkPreview, Portal, RecoveryAccepted, RecoveryChannel, RecoveryIdentity, ResetGrant,
    SessionInfo, UsernameLookup,
};

#[server(prefix = "/api", endpoint = "portal_info")]
pub async fn portal_info() -> Result<ClinicInfo, ApiError> {
    let (backend, _) = context()?;
    Ok(backend.portal_info().await)
}

#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(
    portal: Portal,
    identifier: String,
    password: String,
) -> Result<SessionInfo, ApiError> {
    let (backend, ctx) = context()?;
    backend.sign_in(&ctx, portal, identifier, password).await
}

#[server(prefix = "/api", endpoint = "whoami")]
pub async fn whoami() -> Result<SessionInfo, ApiError> {
    let (backend, ctx) = context()?;
    backend.whoami(&ctx).await
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ApiError> {
    let (backend, ctx) = context()?;
    backend.sign_out(&ctx).await
}

#[server(prefix = "/api", endpoint = "home")]
pub async fn home() -> Result<HomeInfo, ApiError> {
    let (backend, ctx) = context()?;
    backend.home(&ctx).await
}

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    repeat: String,
) -> Result<SessionInfo, ApiError> {
    let (backend, ctx) = context()?;
    backend.change_password(&ctx, current, new, repeat).await
}

/// Settings: a new username (unique whatever the capitalisation); the current password is
/// required and a wrong one counts toward lockout.
#[server(prefix = "/api", endpoint = "change_username")]
pub async fn change_username(
    current: String,
    new_username: String,
) -> Result<SessionInfo, ApiError> {
    let (backend, ctx) = context()?;
    backend.change_username(&ctx, current, new_username).await
}

/// The signed-in account's own email addresses and phone numbers.
#[server(prefix = "/api", endpoint = "my_contacts")]
pub async fn my_contacts() -> Result<Vec<ContactInfo>, ApiError> {
    let (backend, ctx) = context()?;
    backend.my_contacts(&ctx).await
}

/// Settings: a new email or phone. Needs the current password (a wrong one counts toward
/// lockout); sends a code to the new contact.
#[server(prefix = "/api", endpoint = "start_contact_change")]
pub async fn start_contact_change(
    current: String,
    kind: ContactKind,
    value: String,
) -> Result<ContactChangeStarted, ApiError> {
    let (backend, ctx) = context()?;
    backend
        .start_contact_change(&ctx, current, kind, value)
        .await
}

/// The code from the new contact: the change happens, and the old contact hears about it.
#[server(prefix = "/api", endpoint = "confirm_contact_change")]
pub async fn confirm_contact_change(code: String) -> Result<Vec<ContactInfo>, ApiError> {
    let (backend, ctx) = context()?;
    backend.confirm_contact_change(&ctx, code).await
}

/// The account's signed-in browsers (Settings > Manage Login Credentials).
#[server(prefix = "/api", endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<DeviceSession>, ApiError> {
    let (backend, ctx) = context()?;
    backend.list_sessions(&ctx).await
}

/// "Sign out everywhere else": ends every other session of the account; returns how many.
#[server(prefix = "/api", endpoint = "sign_out_other_sessions")]
pub async fn sign_out_other_sessions() -> Result<u32, ApiError> {
    let (backend, ctx) = context()?;
    backend.sign_out_other_sessions(&ctx).await
}

/// Forgot password, step 1. The answer is the same whether or not an account matches and
/// whether or not it has the chosen channel on file (SECURITY.md E1, E2).
#[server(prefix = "/api", endpoint = "request_reset")]
pub async fn request_reset(
    who: RecoveryIdentity,
    channel: RecoveryChannel,
) -> Result<RecoveryAccepted, ApiError> {
    let (backend, ctx) = context()?;
    backend.request_reset(&ctx, who, channel).await
}

/// Forgot password, step 2 by code: a valid code becomes a short-lived grant.
#[server(prefix = "/api", endpoint = "verify_reset_code")]
pub async fn verify_reset_code(
    who: RecoveryIdentity,
    code: String,
) -> Result<ResetGrant, ApiError> {
    let (backend, ctx) = context()?;
    backend.verify_reset_code(&ctx, who, code).await
}

/// What a reset link will do, without using it (SECURITY.md R7).
#[server(prefix = "/api", endpoint = "preview_reset_link")]
pub async fn preview_reset_link(token: String) -> Result<LinkPreview, ApiError> {
    let (backend, ctx) = context()?;
    backend.preview_reset_link(&ctx, token).await
}

/// The patient pressed "Continue" on a link's page: only this uses the link up.
#[server(prefix = "/api", endpoint = "redeem_reset_link")]
pub async fn redeem_reset_link(token: String) -> Result<ResetGrant, ApiError> {
    let (backend, ctx) = context()?;
    backend.redeem_reset_link(&ctx, token).await
}

/// Forgot password, last step: the new password (and the security answer, when asked).
#[server(prefix = "/api", endpoint = "complete_reset")]
pub async fn complete_reset(
    grant: String,
    security_answer: Option<String>,
    new: String,
    repeat: String,
) -> Result<(), ApiError> {
    let (backend, ctx) = context()?;
    backend
        .complete_reset(&ctx, grant, security_answer, new, repeat)
        .await
}

/// Forgot username. Always the same answer; the username goes only to a contact on file
/// (SECURITY.md R11).
#[server(prefix = "/api", endpoint = "request_username")]
pub async fn request_username(lookup: UsernameLookup) -> Result<(), ApiError> {
    let (backend, ctx) = context()?;
    backend.request_username(&ctx, lookup).await
}

/// Every endpoint above; the server checks at start-up that each one is registered.
pub const ENDPOINTS: &[&str] = &[
    "/api/portal_info",
    "/api/sign_in",
    "/api/whoami",
    "/api/sign_out",
    "/api/home",
    "/api/change_password",
    "/api/change_username",
    "/api/my_contacts",
    "/api/start_contact_change",
    "/api/confirm_contact_change",
    "/api/list_sessions",
    "/api/sign_out_other_sessions",
    "/api/request_reset",
    "/api/verify_reset_code",
    "/api/preview_reset_link",
    "/api/redeem_reset_link",
    "/api/complete_reset",
    "/api/request_username",
];
