//! Moving between pages when the patient side is four wasm bundles: the first page (sign-in)
//! and the home page, which render one page each and have no router, the recovery pages and
//! the other signed-in pages. Paths the running bundle renders itself go through its router;
//! any other path is a full page load, so the bundle that renders it starts. A notice meant for the next page (why someone was
//! signed out) travels in `sessionStorage` across that load.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::session::use_session;

const NOTICE_KEY: &str = "carekey.notice";

/// A bundle with a router: which paths it renders and how it moves to them. Without one in
/// context (the first page), every move is a page load. The first page has no router at all:
/// it renders one page, and the router would be about 16 KB brotli more on the download every
/// visitor waits for (issue 15 item 5).
#[derive(Clone)]
struct Bundle {
    owns: fn(&str) -> bool,
    navigate: Arc<dyn Fn(&str) + Send + Sync>,
}

/// Inside `<Router>`: this bundle renders the paths `owns` accepts, through the router. A link
/// to any other path of the site loads that page in full, so the bundle that renders it starts
/// (the router would otherwise draw its own "not found" for it).
#[component]
pub fn RoutedBundle(owns: fn(&str) -> bool, children: Children) -> impl IntoView {
    let navigate = use_navigate();
    provide_context(Bundle {
        owns,
        navigate: Arc::new(move |to: &str| navigate(to, Default::default())),
    });
    leave_for_other_bundles(owns);
    children()
}

/// A click on a link to a path this bundle does not render becomes a page load. Registered in
/// the capture phase, so it runs before the router's own click handler (on `window`), which
/// leaves alone a click whose default was prevented. A click with a modifier key or another
/// button (open in a new tab, save the link) stays the browser's.
fn leave_for_other_bundles(owns: fn(&str) -> bool) {
    let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.meta_key()
            || ev.alt_key()
            || ev.ctrl_key()
            || ev.shift_key()
        {
            return;
        }
        let Some(link) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
            .and_then(|el| el.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return;
        };
        let here = window().location();
        let same_origin = here.origin().is_ok_and(|o| o == link.origin());
        if !same_origin
            || !link.target().is_empty()
            || link.has_attribute("download")
            || link.rel().split_whitespace().any(|r| r == "external")
            || owns(&link.pathname())
        {
            return;
        }
        ev.prevent_default();
        let _ = here.assign(&link.href());
    });
    let _ = document().add_event_listener_with_callback_and_bool(
        "click",
        on_click.as_ref().unchecked_ref(),
        true,
    );
    // For the page's lifetime: a bundle's root is mounted once.
    on_click.forget();
}

/// A navigation function for the current bundle: the router for its own paths, a full page load
/// for any other.
pub fn use_go() -> impl Fn(&str) + Clone + Send + Sync + 'static {
    let bundle = use_context::<Bundle>();
    let session = use_session();
    move |to: &str| {
        let path = to.split(['?', '#']).next().unwrap_or(to);
        if let Some(b) = bundle.as_ref().filter(|b| (b.owns)(path)) {
            (b.navigate)(to);
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
