//! Server side of the contract: the request facts and the backend the server functions take from
//! context. The traits themselves (`Backend`, `StaffBackend`) are generated next to the functions
//! they serve (`endpoints!`); the server crate implements them with its domain services, and this
//! crate never sees HTTP or the database.

use std::sync::{Arc, Mutex};

use crate::ApiError;
pub use crate::server_fns::Backend;
pub use crate::staff_fns::StaffBackend;

/// Facts about the incoming request, gathered by the HTTP layer before the server function runs.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    /// Client address (the peer, or the proxy's forwarded address when configured to trust it).
    pub ip: String,
    pub user_agent: String,
    /// The raw session token from the cookie, if any.
    pub session_token: Option<String>,
    /// The "remember this device" token from its cookie, if any (SECURITY.md M7).
    pub device_token: Option<String>,
    /// The recovery flow token from its cookie, if any (SECURITY.md R6).
    pub flow_token: Option<String>,
    /// What the handler wants added to the response (cookies). Written by the backend, applied
    /// by the HTTP layer after the server function returns.
    pub response: Arc<Mutex<ResponseMeta>>,
}

#[derive(Debug, Default, Clone)]
pub struct ResponseMeta {
    pub set_cookies: Vec<String>,
}

impl RequestCtx {
    pub fn new(ip: String, user_agent: String, session_token: Option<String>) -> Self {
        Self {
            ip,
            user_agent,
            session_token,
            device_token: None,
            flow_token: None,
            response: Arc::new(Mutex::new(ResponseMeta::default())),
        }
    }

    pub fn with_device_token(mut self, token: Option<String>) -> Self {
        self.device_token = token;
        self
    }

    pub fn with_flow_token(mut self, token: Option<String>) -> Self {
        self.flow_token = token;
        self
    }

    pub fn set_cookie(&self, cookie: String) {
        if let Ok(mut meta) = self.response.lock() {
            meta.set_cookies.push(cookie);
        }
    }

    pub fn take_response_meta(&self) -> ResponseMeta {
        self.response
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }
}

pub type BackendHandle = Arc<dyn Backend>;

/// Pulls the backend and request facts the HTTP layer put into the server function's context.
pub fn context() -> Result<(BackendHandle, RequestCtx), ApiError> {
    let backend = leptos::prelude::use_context::<BackendHandle>().ok_or(ApiError::Unavailable)?;
    let ctx = leptos::prelude::use_context::<RequestCtx>().ok_or(ApiError::Unavailable)?;
    Ok((backend, ctx))
}
