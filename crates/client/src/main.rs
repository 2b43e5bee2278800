//! The patient portal's first page: sign-in and the recovery pages. The signed-in pages are a
//! second bundle (`carekey-portal`), so this one, which every visitor downloads, stays small.

mod pages;
mod recovery;

use carekey_ui::language::{ByLanguage, provide_page_language};
use carekey_ui::nav::provide_bundle;
use carekey_ui::session::provide_session;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

fn main() {
    console_error_panic_hook::set_once();
    // Mounts once the page language's catalogue is here (fetched unless English).
    carekey_ui::language::mount(App);
}

/// The paths this bundle renders; the server sends the portal bundle for the signed-in ones.
fn owns(path: &str) -> bool {
    matches!(
        path,
        "/" | "/forgot-password" | "/forgot-username" | "/reset"
    )
}

#[component]
fn App() -> impl IntoView {
    provide_session();
    provide_bundle(owns);
    provide_page_language();
    view! {
        <Router>
            <ByLanguage>
            <pages::Layout>
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::SignInPage />
                    <Route path=path!("/forgot-password") view=recovery::ForgotPasswordPage />
                    <Route path=path!("/forgot-username") view=recovery::ForgotUsernamePage />
                    <Route path=path!("/reset") view=recovery::ResetLinkPage />
                </Routes>
            </pages::Layout>
            </ByLanguage>
        </Router>
    }
}
