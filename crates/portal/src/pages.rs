//! The signed-in portal's pages.

use carekey_ui::nav::use_go;
use carekey_ui::page::{PageHeading, RequireSession};
use carekey_ui::password::{self, PATIENT_LINKS as LINKS};
use carekey_ui::t;
use leptos::prelude::*;

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
