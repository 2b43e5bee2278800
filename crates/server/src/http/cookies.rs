//! The session cookie (SECURITY.md S1): `__Host-` prefixed and Secure over https; host-only
//! (no Domain attribute) always; HttpOnly so scripts cannot read it; SameSite=Strict so no
//! other site can make the browser send it.

use crate::config::Config;

/// `__Host-` prefixed over https. Browsers refuse `__Host-` cookies without Secure, and Secure
/// needs https; on plain-http localhost development each cookie is host-only instead.
fn named(cfg: &Config, https: &'static str, plain: &'static str) -> &'static str {
    if cfg.is_https() { https } else { plain }
}

/// A cookie's value from a `Cookie` header, if present (at most 128 characters, as every
/// token we set is).
pub(super) fn value_from_header(name: &str, header: &str) -> Option<String> {
    header.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k == name && !v.is_empty() && v.len() <= 128).then(|| v.to_owned())
    })
}

pub fn cookie_name(cfg: &Config) -> &'static str {
    named(cfg, "__Host-carekey_session", "carekey_session")
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

/// The "remember this device" cookie (SECURITY.md M7): the same attributes as the session's,
/// but it outlives the browser session for `mfa.remember_days`. It only ever stands in for the
/// second step: the password is still asked.
pub fn device_cookie_name(cfg: &Config) -> &'static str {
    named(cfg, "__Host-carekey_device", "carekey_device")
}

pub fn device_cookie(cfg: &Config, token: &str, max_age_secs: u64) -> String {
    format!(
        "{}={token}; Max-Age={max_age_secs}; {}",
        device_cookie_name(cfg),
        attributes(cfg)
    )
}

/// The recovery flow cookie: names this browser's own forgot-password attempts, so a code it
/// asked for is bound to it (SECURITY.md R6) and a stranger's guesses elsewhere cannot use up
/// that code's guesses or pause it. Set when the portal first loads, so the first request is
/// already bound; it lives as long as the browser session and says nothing about any account.
pub fn flow_cookie_name(cfg: &Config) -> &'static str {
    named(cfg, "__Host-carekey_flow", "carekey_flow")
}

pub fn flow_cookie(cfg: &Config, token: &str) -> String {
    format!("{}={token}; {}", flow_cookie_name(cfg), attributes(cfg))
}

/// The flow token from a `Cookie` header, if present.
pub fn flow_from_header(cfg: &Config, header: &str) -> Option<String> {
    value_from_header(flow_cookie_name(cfg), header)
}

/// The device token from a `Cookie` header, if present.
pub fn device_from_header(cfg: &Config, header: &str) -> Option<String> {
    value_from_header(device_cookie_name(cfg), header)
}

/// The session token from a `Cookie` header, if present.
pub fn token_from_header(cfg: &Config, header: &str) -> Option<String> {
    value_from_header(cookie_name(cfg), header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(public_url: &str) -> Config {
        let url = public_url.to_owned();
        crate::config::load(None, false, &move |k| {
            (k == "CAREKEY_PUBLIC_URL").then(|| url.clone())
        })
        .unwrap()
    }

    #[test]
    fn https_uses_the_host_prefix_and_secure() {
        let c = cfg("https://portal.example.org");
        let s = session_cookie(&c, "tok");
        assert_eq!(
            s,
            "__Host-carekey_session=tok; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!s.contains("Domain"));
        assert_eq!(
            token_from_header(&c, "a=b; __Host-carekey_session=tok"),
            Some("tok".into())
        );
        // The plain-http name is not accepted over https (no downgrade by cookie injection).
        assert_eq!(token_from_header(&c, "carekey_session=tok"), None);
    }

    #[test]
    fn plain_http_development_is_host_only_without_secure() {
        let c = cfg("http://127.0.0.1:3000");
        assert_eq!(
            session_cookie(&c, "tok"),
            "carekey_session=tok; Path=/; HttpOnly; SameSite=Strict"
        );
        assert!(clear_cookie(&c).contains("Max-Age=0"));
    }
}
