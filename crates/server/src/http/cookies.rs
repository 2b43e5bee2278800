//! The session cookie (SECURITY.md S1): `__Host-` prefixed and Secure over https; host-only
//! (no Domain attribute) always; HttpOnly so scripts cannot read it; SameSite=Strict so no
//! other site can make the browser send it.

use crate::config::Config;

pub fn cookie_name(cfg: &Config) -> &'static str {
    if cfg.is_https() {
        "__Host-carekey_session"
    } else {
        // Browsers refuse `__Host-` cookies without Secure, and Secure needs https; on plain-http
        // localhost development the cookie is host-only instead.
        "carekey_session"
    }
}

fn attributes(cfg: &Config) -> &'static str {
    if cfg.is_https() {
        "Path=/; HttpOnly; SameSite=Strict; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Strict"
    }
}

pub fn session_cookie(cfg: &Config, token: &str) -> String {
    format!("{}={token}; {}", cookie_name(cfg), attributes(cfg))
}

pub fn clear_cookie(cfg: &Config) -> String {
    format!("{}=; Max-Age=0; {}", cookie_name(cfg), attributes(cfg))
}

/// The session token from a `Cookie` header, if present.
pub fn token_from_header(cfg: &Config, header: &str) -> Option<String> {
    let name = cookie_name(cfg);
    header.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k == name && !v.is_empty() && v.len() <= 128).then(|| v.to_owned())
    })
}
