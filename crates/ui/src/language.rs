//! The page's language on the patient's pages: chosen by a link on every page, remembered on
//! the device, first taken from the browser's languages. Switching re-renders the pages in the
//! other language without losing the step a person is on: the state of a flow lives in
//! [`kept`] signals, which outlive the re-render that a switch causes (and only that).
//!
//! The staff console never calls [`provide_page_language`]: it stays English, and [`kept`]
//! there is a plain signal.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use carekey_i18n::Lang;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::i18n;

/// Where the choice is remembered on this device (not on the account: someone may read the
/// portal in Spanish on a family member's phone and in English on their own).
const STORAGE_KEY: &str = "carekey.lang";
/// The switch link's id, so focus can return to it after the pages re-render.
const SWITCH_ID: &str = "language-switch";
/// The cookie the server reads to draw the sign-in page in this device's language.
pub const LANG_COOKIE: &str = "carekey_lang";

/// The page language as a signal, for the one re-render boundary ([`ByLanguage`]).
#[derive(Clone, Copy)]
struct PageLang(RwSignal<Lang>);

struct Entry {
    signal: Rc<dyn Any>,
    dispose: Box<dyn Fn()>,
    /// Tells this entry from a later one under the same key.
    serial: u64,
    /// Taken again by a component since the last switch began.
    claimed: bool,
}

thread_local! {
    /// True from a click on the switch until the re-rendered pages have settled: components
    /// taken down in that window leave their kept state for their re-rendered selves.
    static SWITCHING: Cell<bool> = const { Cell::new(false) };
    static KEPT: RefCell<HashMap<&'static str, Entry>> = RefCell::new(HashMap::new());
    /// The owner kept signals belong to: the app's root, above the re-render boundary.
    static ROOT: RefCell<Option<Owner>> = const { RefCell::new(None) };
    /// A catalogue is being fetched for a switch: further clicks wait for it.
    static FETCHING: Cell<bool> = const { Cell::new(false) };
    static SERIAL: Cell<u64> = const { Cell::new(0) };
}

/// Starts a patient app in its page language: picks it (address `?lang=`, then this device's
/// choice, then the browser's languages), fetches its catalogue first unless it is English
/// (compiled in), then mounts `app`. If the catalogue cannot be fetched the pages open in
/// English rather than not at all, and the switch offers the language again.
pub fn mount<F, N>(app: F)
where
    F: FnOnce() -> N + 'static,
    N: IntoView + 'static,
{
    let lang = initial_lang();
    // One path for every language (an English start waits only for the next microtask): the
    // app's whole tree is inlined where it is mounted, and two call sites would carry it twice.
    wasm_bindgen_futures::spawn_local(async move {
        let ready = i18n::has_catalogue(lang) || load(lang).await;
        apply(if ready { lang } else { Lang::En });
        // A sign-in page the server drew stays until the app's own replaces it; the app
        // draws beside it, hidden, meanwhile. One mount either way (see above).
        let drawn = crate::first_page::drawn_page();
        let hidden = drawn
            .as_ref()
            .and_then(|_| crate::first_page::hidden_root());
        if let (Some(drawn), None) = (&drawn, &hidden) {
            // No room to draw beside it: the app's page replaces it at once, as before.
            drawn.remove();
        }
        let Some(target) = hidden.clone().or_else(|| document().body()) else {
            return;
        };
        leptos::mount::mount_to(target, app).forget();
        if let (Some(drawn), Some(root)) = (drawn, hidden) {
            crate::first_page::take_over(drawn, root).await;
        }
        crate::page::mark_started();
    });
}

/// Lets go of the kept state and the root owner while the reactive system is still there: the
/// server's drawing thread ends after one page, and thread-locals dropped at its exit could
/// no longer reach the reactive arena.
pub(crate) fn forget_all() {
    let kept: Vec<Entry> = KEPT.with(|k| k.borrow_mut().drain().map(|(_, e)| e).collect());
    kept.iter().for_each(|e| (e.dispose)());
    drop(kept);
    ROOT.with(|r| r.borrow_mut().take());
}

/// Provides the switch, starting from the language [`mount`] applied. Call once, at the top
/// of a patient app.
pub fn provide_page_language() {
    let lang = i18n::lang();
    ROOT.with(|r| *r.borrow_mut() = Owner::current());
    provide_context(PageLang(RwSignal::new(lang)));
}

/// Fetches a page catalogue. `public/app-check.js` has already asked for it (a preload) when
/// the page starts in that language, so this request is answered from that download.
async fn load(lang: Lang) -> bool {
    let url = format!("/locales/{}.ftl", lang.code());
    let Ok(res) = gloo_net::http::Request::get(&url).send().await else {
        return false;
    };
    if !res.ok() {
        return false;
    }
    match res.text().await {
        Ok(text) => i18n::add_catalogue(lang, &text),
        Err(_) => false,
    }
}

fn initial_lang() -> Lang {
    if let Some(asked) = from_address() {
        remember(asked);
        return asked;
    }
    if let Some(chosen) = storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|c| Lang::from_tag(&c))
    {
        // A choice made before the server read the cookie: it draws in this language next time.
        remember_for_server(chosen);
        return chosen;
    }
    // The first of the browser's languages we have, so "es-MX, en" gets Spanish and
    // "fr, en" gets English.
    window()
        .navigator()
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .find_map(|tag| Lang::from_tag(&tag))
        .unwrap_or_default()
}

/// `?lang=es` on the address: lets a clinic link to the Spanish pages. Taken out of the address
/// once read, so a later switch is not undone by a reload.
fn from_address() -> Option<Lang> {
    let location = window().location();
    let search = location.search().ok()?;
    let query = search.strip_prefix('?')?;
    let mut asked = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("lang=") {
            Some(code) => {
                asked = Lang::from_tag(code);
                false
            }
            None => !pair.is_empty(),
        })
        .collect();
    if asked.is_some() {
        let path = location.pathname().unwrap_or_else(|_| "/".into());
        let hash = location.hash().unwrap_or_default();
        let url = if rest.is_empty() {
            format!("{path}{hash}")
        } else {
            format!("{path}?{}{hash}", rest.join("&"))
        };
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
    asked
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn remember(lang: Lang) {
    if let Some(s) = storage() {
        let _ = s.set_item(STORAGE_KEY, lang.code());
    }
    remember_for_server(lang);
}

/// The server draws the sign-in page into the page it sends (`first_page`), in the language
/// this cookie names: a language, nothing about the person (`carekey_lang`, a year, the whole
/// site, not sent cross-site).
fn remember_for_server(lang: Lang) {
    let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() else {
        return;
    };
    let secure = window().location().protocol().is_ok_and(|p| p == "https:");
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{}",
        lang.code(),
        if secure { "; Secure" } else { "" }
    );
    let _ = doc.set_cookie(&cookie);
}

/// The catalogue and `<html lang>` (WCAG 3.1.1) follow the language.
fn apply(lang: Lang) {
    i18n::set_page_lang(lang);
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("lang", lang.code());
    }
}

/// Switches once the language's catalogue is here: at once for English, after a fetch for
/// another. A fetch that fails leaves the page as it is and says so in `failed`.
fn switch_to(current: RwSignal<Lang>, lang: Lang, failed: RwSignal<Option<Lang>>) {
    if current.get_untracked() == lang || FETCHING.with(Cell::get) {
        return;
    }
    failed.set(None);
    if i18n::has_catalogue(lang) {
        redraw_in(current, lang);
        return;
    }
    FETCHING.with(|f| f.set(true));
    leptos::task::spawn_local(async move {
        let loaded = load(lang).await;
        FETCHING.with(|f| f.set(false));
        if loaded {
            redraw_in(current, lang);
        } else {
            // The person may have left the page meanwhile; then there is nothing to tell.
            let _ = failed.try_set(Some(lang));
        }
    });
}

fn redraw_in(current: RwSignal<Lang>, lang: Lang) {
    SWITCHING.with(|s| s.set(true));
    KEPT.with(|k| k.borrow_mut().values_mut().for_each(|e| e.claimed = false));
    remember(lang);
    apply(lang);
    current.set(lang);
    // After the re-render has run (it is scheduled, like every effect): state nobody took
    // back belongs to nothing on the page now, and focus goes back to the switch, which a
    // keyboard or screen-reader user just used (the page heading would otherwise take it).
    set_timeout(
        || {
            SWITCHING.with(|s| s.set(false));
            let stale: Vec<Entry> = KEPT.with(|k| {
                let mut k = k.borrow_mut();
                let keys: Vec<&'static str> = k
                    .iter()
                    .filter(|(_, e)| !e.claimed)
                    .map(|(key, _)| *key)
                    .collect();
                keys.into_iter().filter_map(|key| k.remove(key)).collect()
            });
            stale.iter().for_each(|e| (e.dispose)());
            if let Some(link) = document()
                .get_element_by_id(SWITCH_ID)
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = link.focus();
            }
        },
        std::time::Duration::ZERO,
    );
}

/// Renders `children` again whenever the page language changes. Everything under it reads the
/// catalogue afresh; state that must survive the switch is [`kept`].
#[component]
pub fn ByLanguage(children: ChildrenFn) -> impl IntoView {
    let lang = use_context::<PageLang>().map(|p| p.0);
    move || {
        if let Some(l) = lang {
            l.track();
        }
        children()
    }
}

/// "Español" on an English page, "English" on a Spanish one: a link, in the language it
/// names, so it is read and found in that language (WCAG 3.1.2), not a flag.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let Some(PageLang(current)) = use_context::<PageLang>() else {
        return ().into_any();
    };
    let now = current.get_untracked();
    let failed = RwSignal::new(None::<Lang>);
    // With two languages the switch is the one link to the other. A third language stops
    // this line from compiling: the switch then needs a list, with the id on its first link.
    let [en, es] = Lang::ALL;
    let other = if now == en { es } else { en };
    let links = view! {
        <a
            id=SWITCH_ID
            href=format!("?lang={}", other.code())
            lang=other.code()
            hreflang=other.code()
            on:click=move |ev| {
                ev.prevent_default();
                switch_to(current, other, failed);
            }
        >
            {other.own_name()}
        </a>
    };
    // An alert, drawn only when a fetch failed: it is announced as it appears (WCAG 4.1.3),
    // and a page that is fine carries no second, empty live region beside its own.
    view! {
        <p class="language-switch">
            {links}
            {move || {
                failed
                    .get()
                    .map(|l| {
                        view! {
                            <span role="alert" class="language-switch-status">
                                {i18n::t_args(
                                    "language-switch-failed",
                                    &[("language", l.own_name().to_owned())],
                                )}
                            </span>
                        }
                    })
            }}
        </p>
    }
    .into_any()
}

/// A signal for the state of a flow (its step, what has been typed) that a language switch
/// does not reset: the component re-rendered in the other language gets the same signal back.
/// Anywhere else (leaving the page, a new step) it ends with its component, like any signal.
/// `key` names the state; one component on the page uses it at a time.
///
/// Only the lines that need `T` are generic; the bookkeeping is shared by every use, since
/// each `T` would otherwise carry its own copy of it into the first page's download.
#[inline(never)]
pub fn kept<T: Send + Sync + 'static>(key: &'static str, init: impl FnOnce() -> T) -> RwSignal<T> {
    let Some(root) = ROOT.with(|r| r.borrow().clone()) else {
        return RwSignal::new(init());
    };
    let signal = match reclaim(key).and_then(|s| s.downcast_ref::<RwSignal<T>>().copied()) {
        Some(signal) => signal,
        None => {
            let signal = root.with(|| RwSignal::new(init()));
            keep(key, Rc::new(signal), Box::new(move || signal.dispose()));
            signal
        }
    };
    release_with_component(key);
    signal
}

/// The signal kept under `key`, marked as taken back by the re-rendered page.
fn reclaim(key: &'static str) -> Option<Rc<dyn Any>> {
    KEPT.with(|k| {
        let mut k = k.borrow_mut();
        let entry = k.get_mut(key)?;
        entry.claimed = true;
        Some(entry.signal.clone())
    })
}

fn keep(key: &'static str, signal: Rc<dyn Any>, dispose: Box<dyn Fn()>) {
    let serial = SERIAL.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    let replaced = KEPT.with(|k| {
        k.borrow_mut().insert(
            key,
            Entry {
                signal,
                dispose,
                serial,
                claimed: true,
            },
        )
    });
    if let Some(old) = replaced {
        (old.dispose)();
    }
}

/// When the calling component is taken down other than by a switch, the state under `key` ends
/// with it (unless a newer component has taken the key meanwhile).
fn release_with_component(key: &'static str) {
    let Some(serial) = KEPT.with(|k| k.borrow().get(key).map(|e| e.serial)) else {
        return;
    };
    on_cleanup(move || {
        if SWITCHING.with(Cell::get) {
            return;
        }
        let gone = KEPT.with(|k| {
            let mut k = k.borrow_mut();
            let ours = k.get(key).is_some_and(|e| e.serial == serial);
            if ours { k.remove(key) } else { None }
        });
        if let Some(e) = gone {
            (e.dispose)();
        }
    });
}
