//! The first page's own pages: the layout, sign-in and "not found".

use carekey_shared::Portal;
use carekey_ui::language::LanguageSwitch;
use carekey_ui::nav::use_go;
use carekey_ui::page::PageHeading;
use carekey_ui::session::use_session;
use carekey_ui::signin::SignInForm;
use carekey_ui::t;
use leptos::prelude::*;

/// No idle watcher here: nobody is signed in on these pages (sign-in moves to the portal
/// bundle, which has one).
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let session = use_session();
    let clinic = move || session.clinic_name();
    view! {
        <header class="site">
            <p class="brand">{clinic}</p>
            <p class="product">{t("portal-name")}</p>
            <LanguageSwitch />
        </header>
        <main id="main">{children()}</main>
    }
}

/// The portal's pages a sign-in can lead to (the portal bundle renders them).
const LINKS: carekey_ui::password::PageLinks = carekey_ui::password::PageLinks {
    sign_in: "/",
    forced_change: "/change-password",
    home: "/home",
    two_step: "/settings/two-step",
};

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
            <carekey_ui::tagline::LanguageHelp />
        </section>
    }
}

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
