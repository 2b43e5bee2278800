//! The signed-in patient portal: Settings > Manage Login Credentials, the second step at
//! sign-in, the forced password change and "this wasn't me". A bundle of its own, so none of it
//! weighs on the first page every visitor downloads; the home page a sign-in lands on is
//! another (`carekey-landing`), so none of it weighs on that either.

mod contact;
mod language;
mod not_me;
mod pages;

use carekey_ui::language::{ByLanguage, provide_page_language};
use carekey_ui::nav::RoutedBundle;
use carekey_ui::page::SignedInLayout;
use carekey_ui::session::provide_session;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

fn main() {
    console_error_panic_hook::set_once();
    // Mounts once the page language's catalogue is here (fetched unless English).
    carekey_ui::language::mount(App);
}

/// The paths this bundle renders; the server routes exactly these to it (`http::PORTAL_PATHS`).
fn owns(path: &str) -> bool {
    matches!(
        path,
        "/settings" | "/change-password" | "/second-step" | "/not-me"
    ) || path.starts_with("/settings/")
}

#[component]
fn App() -> impl IntoView {
    provide_session();
    provide_page_language();
    view! {
        <Router>
            <RoutedBundle owns=owns>
            <ByLanguage>
            <SignedInLayout>
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/second-step") view=pages::SecondStepPage />
                    <Route path=path!("/not-me") view=not_me::NotMePage />
                    <Route path=path!("/settings") view=pages::SettingsPage />
                    <Route path=path!("/settings/password") view=pages::ChangePasswordPage />
                    <Route path=path!("/settings/username") view=pages::ChangeUsernamePage />
                    <Route path=path!("/settings/contact") view=contact::ContactPage />
                    <Route path=path!("/settings/language") view=language::LanguagePage />
                    <Route path=path!("/settings/two-step") view=pages::TwoStepPage />
                    <Route path=path!("/change-password") view=pages::ForcedChangePage />
                </Routes>
            </SignedInLayout>
            </ByLanguage>
            </RoutedBundle>
        </Router>
    }
}
