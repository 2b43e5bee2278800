//! The patient's sign-in page, drawn twice from these same components: by the server into the
//! page it sends (so the heading and the form paint before the app's code has arrived, issue 15
//! item 4), and by the app, which then takes the page over without a jump or a lost keystroke.
//!
//! The server's drawing and the app's first frame must match, so both read the same clinic
//! (the server writes it into the page as JSON, [`CLINIC_INFO_ID`]) and the same catalogue.

use carekey_i18n::Lang;
use carekey_shared::{ClinicInfo, Portal};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::nav::use_go;
use crate::page::{PageHeading, SiteHeader};
use crate::session::use_session;
use crate::signin::SignInForm;
use crate::t;

/// The element the server draws the sign-in page into; the app removes it as it mounts.
pub const DRAWN_ID: &str = "first-page";
/// The clinic, as `portal_info` answers it, written into the page beside the drawing.
pub const CLINIC_INFO_ID: &str = "clinic-info";
/// The `<meta>` in which the server names the recovery bundle's files (its
/// `first_page::name_recovery_files`).
pub const RECOVERY_FILES: &str = "carekey-recovery-files";
/// The app's own root while the drawn page is still shown.
const APP_ROOT_ID: &str = "app-root";
/// Set on `<html>` by `public/app-check.js` when a form was submitted before the app ran: the
/// app submits it again once it has taken over.
const SUBMIT_PENDING: &str = "data-submit-pending";
/// Set on `<html>` by `public/app-check.js`: the buttons pressed before the app ran, each as
/// its place under `<main id="main">` (child indexes, `0.2.1`), separated by spaces.
const CLICKS: &str = "data-drawn-clicks";

/// No idle watcher here: nobody is signed in on these pages (sign-in moves to the portal
/// bundle, which has one).
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <SiteHeader />
        <main id="main">{children()}</main>
    }
}

/// The portal's pages a sign-in can lead to (the landing and portal bundles render them).
use crate::password::PATIENT_LINKS as LINKS;

#[component]
pub fn SignInPage() -> impl IntoView {
    let session = use_session();
    let go = use_go();
    let notice = session.notice;
    let on_success = Callback::new(move |info: carekey_shared::SessionInfo| {
        notice.set(None);
        go(LINKS.after_sign_in(&info));
    });
    view! {
        <section class="card">
            <PageHeading text=t("sign-in-title") />
            <Show when=move || notice.get().is_some()>
                <p class="notice" role="status">{move || notice.get()}</p>
            </Show>
            <p>{t("sign-in-intro")}</p>
            <SignInForm portal=Portal::Patient on_success=on_success forgot_href="/forgot-password" second_step_href="/second-step" />
            <crate::tagline::LanguageHelp />
        </section>
    }
}

/// For a path no patient bundle renders: the first page's bundle answers every such path.
/// Also the recovery bundle's fallback.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <PageHeading text=t("not-found-title") />
            <p>{t("not-found-body")}</p>
            <p><a href="/">{t("back-sign-in")}</a></p>
        </section>
    }
}

/// Fetches the recovery pages' files into the browser's cache, once: called when a patient may
/// be about to need them (a failed sign-in, the "forgot" link pointed at, focused or touched).
/// The recovery pages are a bundle of their own (about 210 KB brotli) that only such a patient
/// should download; fetched ahead, they open as quickly as the sign-in page's own code did.
/// `prefetch` is the browser's lowest priority, so it never slows what the page is doing. On
/// the staff console's sign-in (no such `<meta>`) this does nothing.
pub(crate) fn fetch_recovery_ahead() {
    thread_local! {
        static ASKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if ASKED.with(|a| a.replace(true)) {
        return;
    }
    let doc = document();
    let Some(files) = select::<web_sys::Element>(&format!(r#"meta[name="{RECOVERY_FILES}"]"#))
        .and_then(|m| m.get_attribute("content"))
    else {
        return;
    };
    let Some(head) = doc.head() else {
        return;
    };
    for href in files.split_whitespace() {
        let Ok(link) = doc.create_element("link") else {
            continue;
        };
        let _ = link.set_attribute("rel", "prefetch");
        // As the recovery page fetches its script and wasm (Trunk writes `crossorigin` on
        // those), so the cached copy is the one it asks for.
        if !href.ends_with(".css") {
            let _ = link.set_attribute("crossorigin", "");
        }
        let _ = link.set_attribute("href", href);
        let _ = head.append_child(&link);
    }
}

/// For the server's drawing (outside any browser): the page language with its catalogue, the
/// clinic, and the language switch, as the app provides them before it draws. Call on a thread
/// of its own: the catalogues and the kept state live in thread-locals.
pub fn provide_for_drawing(lang: Lang, catalogue: &str, clinic: ClinicInfo) {
    if lang != Lang::En {
        crate::i18n::add_catalogue(lang, catalogue);
    }
    crate::i18n::set_page_lang(lang);
    crate::session::provide_drawn_session(clinic);
    crate::language::provide_page_language();
}

/// The page's title as the sign-in page sets it (its heading's words), for the server's
/// drawing: set in the `<title>` it sends, so the tab reads the same before and after.
pub fn drawn_title() -> String {
    t("sign-in-title")
}

/// After the server's drawing, before its thread ends (see [`provide_for_drawing`]).
pub fn end_drawing() {
    crate::language::forget_all();
}

/// The clinic the server wrote into the page, so the app's first frame names it as the
/// drawing did instead of waiting for `portal_info`.
pub(crate) fn written_clinic() -> Option<ClinicInfo> {
    let text = document()
        .get_element_by_id(CLINIC_INFO_ID)?
        .text_content()?;
    // `from_slice`, as the server functions' JSON is read: the same code, not a second copy
    // of the decoder for this one type in every bundle.
    serde_json::from_slice(text.as_bytes()).ok()
}

/// The sign-in page the server drew, if this page has one.
pub(crate) fn drawn_page() -> Option<web_sys::Element> {
    document().get_element_by_id(DRAWN_ID)
}

/// Where the app draws while the server's page is still shown: hidden, and laid out as if
/// the app's elements were the body's own once shown (`style/main.css`).
pub(crate) fn hidden_root() -> Option<web_sys::HtmlElement> {
    let doc = document();
    let root = doc
        .create_element("div")
        .ok()?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()?;
    root.set_id(APP_ROOT_ID);
    root.set_hidden(true);
    doc.body()?.append_child(&root).ok()?;
    Some(root)
}

/// The app's page replaces the drawn one as soon as the app has drawn its heading (the router
/// draws a page a moment after mounting): until then the drawn page stays, so no frame shows
/// neither. The swap is one task, so no keystroke falls between reading what was typed and
/// the app's fields having it.
pub(crate) async fn take_over(drawn: web_sys::Element, root: web_sys::HtmlElement) {
    // The drawn page's paint is reported first, always. On a phone it is long before the wasm
    // arrives; on a fast connection the app could take over first, and the app's heading,
    // whose code is a download, was then the page's largest paint. Lighthouse's simulated
    // slow 4G infers what a paint waited for from that order, and charged the wasm to the
    // heading (LCP 1.87-2.27 s against 0.77 s with the network really slowed, issue 15 item 4).
    after_first_paint().await;
    // Microtasks first (no frame is painted between them), then short timeouts; an app that
    // drew no heading after five seconds takes over as it is.
    for attempt in 0..300 {
        if root.query_selector("h1").ok().flatten().is_some() {
            break;
        }
        if attempt < 20 {
            leptos::task::tick().await;
        } else {
            a_moment().await;
        }
    }
    let typed = read_typed(&drawn);
    drawn.remove();
    root.set_hidden(false);
    hand_over(typed);
    // Effects scheduled before the swap have run by now: the heading's focus is its own again.
    a_moment().await;
    crate::page::keep_focus_once_done();
}

/// What a person did on the drawn page before the app ran: what they typed (by field id) and
/// where the cursor was.
struct Typed {
    values: Vec<(String, String)>,
    focus: Option<(String, Option<u32>, Option<u32>)>,
}

fn read_typed(drawn: &web_sys::Element) -> Typed {
    let mut values = Vec::new();
    if let Ok(inputs) = drawn.query_selector_all("input") {
        for i in 0..inputs.length() {
            if let Some(input) = inputs
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                let value = input.value();
                if !value.is_empty() {
                    values.push((input.id(), value));
                }
            }
        }
    }
    let focus = document()
        .active_element()
        .filter(|a| drawn.contains(Some(a)))
        .map(|a| {
            let input = a.dyn_ref::<web_sys::HtmlInputElement>();
            let start = input.and_then(|i| i.selection_start().ok().flatten());
            let end = input.and_then(|i| i.selection_end().ok().flatten());
            (a.id(), start, end)
        });
    Typed { values, focus }
}

/// What was typed goes into the app's own fields (through their `input` event, so the app's
/// state has it too), the cursor goes back where it was, buttons pressed are pressed again and
/// a form sent before the app ran is sent now.
fn hand_over(typed: Typed) {
    let doc = document();
    for (id, value) in &typed.values {
        if let Some(input) = by_id::<web_sys::HtmlInputElement>(id) {
            input.set_value(value);
            let init = web_sys::EventInit::new();
            init.set_bubbles(true);
            if let Ok(ev) = web_sys::Event::new_with_event_init_dict("input", &init) {
                let _ = input.dispatch_event(&ev);
            }
        }
    }
    let restored = typed.focus.and_then(|(id, start, end)| {
        let el = by_id::<web_sys::HtmlElement>(&id).filter(|_| !id.is_empty())?;
        // The page heading would take focus as the page opens: the person is already typing.
        crate::page::keep_focus_once();
        let _ = el.focus();
        if let (Some(input), Some(start), Some(end)) =
            (el.dyn_ref::<web_sys::HtmlInputElement>(), start, end)
        {
            let _ = input.set_selection_range(start, end);
        }
        Some(())
    });
    if restored.is_none() {
        // As on any page the app opens: a screen reader starts at the heading. (Its own
        // attempt may have come while the page was still hidden.)
        if let Some(h1) = select::<web_sys::HtmlElement>("#main h1") {
            let _ = h1.focus();
        }
    }
    let Some(root) = doc.document_element() else {
        return;
    };
    if let Some(clicks) = root.get_attribute(CLICKS) {
        let _ = root.remove_attribute(CLICKS);
        for path in clicks.split_whitespace() {
            if let Some(button) = at_path(doc.get_element_by_id("main"), path)
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                button.click();
            }
        }
    }
    if root.has_attribute(SUBMIT_PENDING) {
        let _ = root.remove_attribute(SUBMIT_PENDING);
        if let Some(form) = select::<web_sys::HtmlFormElement>("#main form") {
            let _ = form.request_submit();
        }
    }
}

fn by_id<T: JsCast>(id: &str) -> Option<T> {
    document().get_element_by_id(id)?.dyn_into().ok()
}

fn select<T: JsCast>(selector: &str) -> Option<T> {
    document().query_selector(selector).ok()??.dyn_into().ok()
}

/// A timeout of zero: later than every microtask already queued.
/// Once the browser has reported the drawn page's first paint (its `first-contentful-paint`
/// entry), or after a second without one (a tab in the background paints nothing; a browser
/// without paint timing). Chrome reports a paint's largest element with that entry, and drops
/// it when the element is gone by then: swapped at once, the drawn heading was never
/// reported, and the app's heading, whose code is a download, became the largest paint.
async fn after_first_paint() {
    let painted = || {
        window()
            .performance()
            .is_some_and(|p| p.get_entries_by_name("first-contentful-paint").length() > 0)
    };
    let start = js_sys::Date::now();
    while !painted() && js_sys::Date::now() - start < 1000.0 {
        let wait = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(wait).await;
    }
}

async fn a_moment() {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(wait).await;
}

/// The element at `path` (child indexes) under `from`: the same place in the app's page as the
/// button pressed in the drawn one.
fn at_path(from: Option<web_sys::Element>, path: &str) -> Option<web_sys::Element> {
    path.split('.')
        .try_fold(from?, |e, i| e.children().item(i.parse().ok()?))
}
