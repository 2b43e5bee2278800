//! Middleware every response passes through: security headers (SECURITY.md S4), the
//! cross-site request check for the API (S3), and cache rules for static files.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                   style-src 'self'; img-src 'self' data:; object-src 'none'; \
                   base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // The first page sets its own: the same policy with the hashes of what it carries inline
    // (`first_page::inline_critical`).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if state.services.cfg.is_https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    let cache = if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        "no-store"
    } else if is_hashed_asset(&path) {
        // Trunk puts a content hash in every asset name: the name changes when the bytes do.
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// `/carekey-client-0123456789abcdef_bg.wasm` and the like. Trunk writes the 64-bit hash in
/// hex without leading zeros, so it can be shorter than 16 digits.
pub fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    let stem = name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, h)| {
        (8..=16).contains(&h.len()) && h.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// Refuses cross-site API requests: a browser always sends `Origin` on a cross-origin POST and
/// `Sec-Fetch-Site` on any fetch. Requests with neither come from non-browser clients, which
/// cannot carry a victim's cookie (SameSite=Strict) and so cannot forge anything.
pub async fn same_origin_only(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let site = req
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok());
        let bad_origin = origin.is_some_and(|o| o != state.services.cfg.public_url);
        let cross_site = matches!(site, Some("cross-site") | Some("same-site"));
        if bad_origin || cross_site {
            tracing::warn!(?origin, ?site, "refused a cross-site API request");
            return (StatusCode::FORBIDDEN, "Forbidden").into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed_asset("/carekey-client-4c1f1ed2a3b4c5d6_bg.wasm"));
        assert!(is_hashed_asset("/staff/main-4c1f1ed2a3b4c5d6.css"));
        assert!(is_hashed_asset("/carekey-client-cc72a044c934e74_bg.wasm"));
        assert!(is_hashed_asset("/boot-aa658ec5f414777b.js"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/forgot-password"));
        assert!(!is_hashed_asset("/favicon.svg"));
        assert!(!is_hashed_asset("/public/carekey-logo.svg"));
    }
}
