//! Moving between pages when the patient side is two wasm bundles: the first page (sign-in and
//! recovery) and the signed-in portal. Paths the running bundle renders itself go through the
//! router; any other path is a full page load, so the other bundle starts. A notice meant for
//! the next page (why someone was signed out) travels in `sessionStorage` across that load.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::session::use_session;

const NOTICE_KEY: &str = "carekey.notice";

/// Which paths this bundle renders. Without one in context (the staff console), every path is
/// this bundle's own.
#[derive(Clone, Copy)]
pub struct Bundle {
    pub owns: fn(&str) -> bool,
}

pub fn provide_bundle(owns: fn(&str) -> bool) {
    provide_context(Bundle { owns });
}

/// A navigation function for the current bundle: the router for its own paths, a full page load
/// for the other bundle's.
pub fn use_go() -> impl Fn(&str) + Clone + Send + Sync + 'static {
    let navigate = use_navigate();
    let owns = use_context::<Bundle>().map(|b| b.owns);
    let session = use_session();
    move |to: &str| {
        let path = to.split(['?', '#']).next().unwrap_or(to);
        if owns.is_none_or(|own| own(path)) {
            navigate(to, Default::default());
            return;
        }
        if let Some(text) = session.notice.get_untracked() {
            keep_notice(&text);
        }
        let _ = window().location().assign(to);
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

fn keep_notice(text: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(NOTICE_KEY, text);
    }
}

/// The notice the previous bundle left for this page, read once.
pub fn take_notice() -> Option<String> {
    let s = storage()?;
    let text = s.get_item(NOTICE_KEY).ok().flatten()?;
    let _ = s.remove_item(NOTICE_KEY);
    Some(text)
}

/// A link's token from the address's fragment (`/not-me#…`), then taken out of the address
/// bar so it is not left in history or shown over the person's shoulder (SECURITY.md R2).
pub fn take_fragment(path: &str) -> Option<String> {
    let w = window();
    let hash = w.location().hash().ok()?;
    let token = hash.strip_prefix('#').map(str::to_owned)?;
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
    }
    Some(token).filter(|t| !t.is_empty())
}
