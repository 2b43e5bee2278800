//! The API contract. Each function is a POST to `/api/<endpoint>`; explicit endpoints keep the
//! URL stable between the wasm client and the server however and wherever they were built.
//! Bodies stay a line or two: take the backend from context and call it.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::backend::context;
use crate::{ApiError, ClinicInfo, HomeInfo, Portal, SessionInfo};

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

/// Every endpoint above; the server checks at start-up that each one is registered.
pub const ENDPOINTS: &[&str] = &[
    "/api/portal_info",
    "/api/sign_in",
    "/api/whoami",
    "/api/sign_out",
    "/api/home",
    "/api/change_password",
];
