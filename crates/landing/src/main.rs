//! The home page a patient lands on after sign-in: a bundle of its own (issue 15 item 5), with
//! no router (it renders one page), so the download that follows every sign-in is small.
//! Settings and the other signed-in pages are the portal bundle (`carekey-portal`); a link
//! there is a page load.

use carekey_shared::HomeInfo;
use carekey_ui::i18n::t_num;
use carekey_ui::language::{ByLanguage, provide_page_language};
use carekey_ui::page::{PageHeading, RequireSession, SignedInLayout, sign_out_and_go};
use carekey_ui::password::PATIENT_LINKS as LINKS;
use carekey_ui::session::{provide_session, use_session};
use carekey_ui::{t, t_args};
use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    // Mounts once the page language's catalogue is here (fetched unless English).
    carekey_ui::language::mount(App);
}

/// The server sends this bundle for `/home` alone (`http::LANDING_PATHS`).
#[component]
fn App() -> impl IntoView {
    provide_session();
    provide_page_language();
    view! {
        <ByLanguage>
            <SignedInLayout>
                <HomePage />
            </SignedInLayout>
        </ByLanguage>
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <RequireSession sign_in_href=LINKS.sign_in change_href=LINKS.forced_change>
            <HomeContent />
        </RequireSession>
    }
}

#[component]
fn HomeContent() -> impl IntoView {
    let session = use_session();
    let home = LocalResource::new(move || async move {
        let r = carekey_shared::server_fns::home().await;
        if r.is_ok() {
            session.touch();
        }
        r
    });
    let sign_out = sign_out_and_go("/");
    let name = move || session.display_name();
    view! {
        <section class="card">
            <PageHeading text=t_args("home-greeting", &[("name", name())]) />
            <Suspense fallback=|| view! { <p role="status">{t("loading")}</p> }>
                {move || home.get().map(|r| match r {
                    Ok(h) => last_sign_in(&h).into_any(),
                    Err(e) => view! { <p role="alert">{carekey_ui::errors::error_text(&e)}</p> }.into_any(),
                })}
            </Suspense>
            <nav aria-label=t("home-nav-label")>
                <ul class="menu">
                    <li><a href="/settings">{t("settings-title")}</a></li>
                </ul>
            </nav>
            <button type="button" on:click=move |_| sign_out()>{t("sign-out")}</button>
        </section>
    }
}

fn last_sign_in(h: &HomeInfo) -> impl IntoView + use<> {
    let when = h.previous_sign_in_at_ms.map(|ms| {
        js_sys::Date::new(&(ms as f64).into()).to_locale_string("default", &js_sys::Object::new())
    });
    let failed = h.failed_attempts_since;
    view! {
        <p>
            {match when {
                Some(w) => t_args("home-last-sign-in", &[("when", String::from(w))]),
                None => t("home-first-sign-in"),
            }}
        </p>
        {(failed > 0).then(|| view! {
            <p class="notice">{t_num("home-failed-attempts", "count", i64::from(failed))}</p>
        })}
    }
}
