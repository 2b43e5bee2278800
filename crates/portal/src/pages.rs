//! The signed-in portal's pages.

use carekey_shared::HomeInfo;
use carekey_ui::i18n::t_num;
use carekey_ui::idle::IdleWatcher;
use carekey_ui::nav::use_go;
use carekey_ui::page::{PageHeading, RequireSession, SiteHeader, sign_out_and_go};
use carekey_ui::password::{self, PageLinks};
use carekey_ui::session::use_session;
use carekey_ui::{t, t_args};
use leptos::prelude::*;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let session = use_session();
    let go = use_go();
    let sign_out = sign_out_and_go("/");
    view! {
        <SiteHeader />
        <main id="main">{children()}</main>
        <IdleWatcher
            on_timeout=Callback::new(move |_| {
                session.notice.set(Some(t("signed-out-idle")));
                go("/");
            })
            on_sign_out=Callback::new(move |_| sign_out())
        />
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
    let name = move || {
        session
            .info
            .get()
            .map(|i| i.display_name)
            .unwrap_or_default()
    };
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

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <RequireSession sign_in_href=LINKS.sign_in change_href=LINKS.forced_change>
            <section class="card">
                <PageHeading text=t("settings-title") />
                <h2>{t("settings-credentials")}</h2>
                <ul class="menu">
                    <li><a href="/settings/password">{t("settings-change-password")}</a></li>
                    <li><a href="/settings/username">{t("settings-change-username")}</a></li>
                    <li><a href="/settings/contact">{t("settings-contact")}</a></li>
                    <li><a href="/settings/two-step">{t("two-step-title")}</a></li>
                </ul>
                <h2>{t("settings-preferences")}</h2>
                <ul class="menu">
                    <li><a href="/settings/language">{t("settings-language")}</a></li>
                </ul>
                <carekey_ui::devices::SignedInDevices />
                <p><a href="/home">{t("back-home")}</a></p>
            </section>
        </RequireSession>
    }
}

const LINKS: PageLinks = PageLinks {
    sign_in: "/",
    forced_change: "/change-password",
    home: "/home",
    two_step: "/settings/two-step",
};

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    view! { <password::ChangePasswordPage links=LINKS back_href="/settings" back_label=t("back-settings") /> }
}

#[component]
pub fn ChangeUsernamePage() -> impl IntoView {
    view! { <password::ChangeUsernamePage links=LINKS back_href="/settings" back_label=t("back-settings") /> }
}

/// The second step of a sign-in (issue 12): in this bundle, not the first page's, so a visitor
/// who only signs in with a password or recovers one never downloads it.
#[component]
pub fn SecondStepPage() -> impl IntoView {
    let go = use_go();
    let on_success = Callback::new(move |info: carekey_shared::SessionInfo| {
        go(LINKS.after_sign_in(&info));
    });
    view! { <carekey_ui::twostep::SecondStepPage on_success=on_success sign_in_href="/" /> }
}

#[component]
pub fn TwoStepPage() -> impl IntoView {
    view! { <carekey_ui::twostep::TwoStepPage links=LINKS back_href="/settings" back_label=t("back-settings") /> }
}

#[component]
pub fn ForcedChangePage() -> impl IntoView {
    view! { <password::ForcedChangePage links=LINKS /> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <PageHeading text=t("not-found-title") />
            <p>{t("not-found-body")}</p>
            <p><a href="/home">{t("back-home")}</a></p>
        </section>
    }
}
