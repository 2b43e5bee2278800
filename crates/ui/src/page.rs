//! Page scaffolding: the document title, a heading that receives focus when the page opens
//! (so screen-reader users hear where they landed after navigation), and the session guard.

use std::cell::Cell;

use carekey_shared::ApiError;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::t;
use crate::nav::use_go;
use crate::session::use_session;

/// The header of every patient page, in both bundles: the clinic, the portal's name and the
/// language switch.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = use_session();
    let clinic = move || session.clinic_name();
    view! {
        <header class="site">
            <p class="brand">{clinic}</p>
            <p class="product">{t("portal-name")}</p>
            <crate::language::LanguageSwitch />
        </header>
    }
}

/// The frame of every signed-in patient page, in the landing and portal bundles: the idle
/// watcher warns, then signs the patient out after the idle time (15 minutes, SECURITY.md S2).
#[component]
pub fn SignedInLayout(children: Children) -> impl IntoView {
    let session = use_session();
    let go = use_go();
    let sign_out = sign_out_and_go("/");
    view! {
        <SiteHeader />
        <main id="main">{children()}</main>
        <crate::idle::IdleWatcher
            on_timeout=Callback::new(move |_| {
                session.notice.set(Some(t("signed-out-idle")));
                go("/");
            })
            on_sign_out=Callback::new(move |_| sign_out())
        />
    }
}

thread_local! {
    static KEEP_FOCUS: Cell<bool> = const { Cell::new(false) };
}

/// The next page heading leaves focus where it is: the app took over a page the server drew
/// while the person was already typing in it.
pub(crate) fn keep_focus_once() {
    KEEP_FOCUS.with(|k| k.set(true));
}

/// Once the take-over's effects have run: later pages' headings take focus as usual.
pub(crate) fn keep_focus_once_done() {
    KEEP_FOCUS.with(|k| k.set(false));
}

#[component]
pub fn PageHeading(text: String) -> impl IntoView {
    let heading = NodeRef::<leptos::html::H1>::new();
    let title = text.clone();
    Effect::new(move |_| {
        document().set_title(&title);
        if KEEP_FOCUS.with(Cell::get) {
            return;
        }
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    view! { <h1 tabindex="-1" node_ref=heading>{text}</h1> }
}

/// Where an app adds a second step (the patient portal's `/settings/two-step` unless the app
/// provides another as context): every other signed-in page sends a person there while the
/// clinic requires one they have not added.
#[derive(Clone, Copy)]
pub struct EnrolHref(pub &'static str);

/// Renders `children` only for a signed-in session; otherwise sends the person to sign in.
/// Unless `allow_forced`, an account that must change its password is sent to do that first.
#[component]
pub fn RequireSession(
    sign_in_href: &'static str,
    change_href: &'static str,
    #[prop(default = false)] allow_forced: bool,
    /// The page that adds a second step: reachable while the clinic requires one the account
    /// does not have yet, when every other page sends the person to it.
    #[prop(default = false)]
    allow_enrol: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let session = use_session();
    let navigate = use_go();
    let enrol_href = use_context::<EnrolHref>().map_or("/settings/two-step", |e| e.0);
    let checked = RwSignal::new(session.info.get_untracked().is_some());
    if !checked.get_untracked() {
        let navigate = navigate.clone();
        spawn_local(async move {
            match carekey_shared::server_fns::whoami().await {
                Ok(info) => {
                    session.signed_in(info);
                    checked.set(true);
                }
                Err(ApiError::NotSignedIn) => navigate(sign_in_href),
                Err(_) => {
                    session.notice.set(Some(t("error-unavailable")));
                    navigate(sign_in_href);
                }
            }
        });
    }
    Effect::new(move |_| {
        if let Some(info) = session.info.get() {
            if info.must_change_password && !allow_forced {
                navigate(change_href);
            } else if info.must_add_second_step && !info.must_change_password && !allow_enrol {
                navigate(enrol_href);
            }
        }
    });
    let ready = move || {
        checked.get()
            && session.info.get().is_some_and(|i| {
                (allow_forced || !i.must_change_password)
                    && (allow_enrol || allow_forced || !i.must_add_second_step)
            })
    };
    view! {
        <Show when=ready fallback=|| view! { <p class="loading" role="status">{t("loading")}</p> }>
            {children()}
        </Show>
    }
}

/// Signs out and returns to the sign-in page with a confirmation.
pub fn sign_out_and_go(to: &'static str) -> impl Fn() + Clone + Send + Sync + 'static {
    let session = use_session();
    let navigate = use_go();
    move || {
        let navigate = navigate.clone();
        spawn_local(async move {
            let _ = carekey_shared::server_fns::sign_out().await;
            session.info.set(None);
            session.notice.set(Some(t("signed-out")));
            navigate(to);
        });
    }
}

/// Tells the page's "could not start" check (`public/app-check.js`) that the app is running,
/// and takes its message out of the page: hidden text would still be found by search and by
/// the browser's find-in-page, and it has nothing more to say once the app runs.
pub fn mark_started() {
    let doc = document();
    if let Some(root) = doc.document_element() {
        let _ = root.set_attribute("data-app", "started");
    }
    if let Some(message) = doc.get_element_by_id("app-unavailable") {
        message.remove();
    }
}
