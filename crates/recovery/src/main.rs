//! The recovery pages: forgot password (email link or code, text, call), the reset link's
//! landing page, and forgot username. A bundle of their own (issue 15 item 5): the sign-in
//! page, which every visitor downloads, is the first bundle and carries none of this; a
//! patient who needs these pages loads them on the way in.

mod recovery;

use carekey_ui::first_page::{Layout, NotFound};
use carekey_ui::language::{ByLanguage, provide_page_language};
use carekey_ui::nav::RoutedBundle;
use carekey_ui::session::provide_session;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

fn main() {
    console_error_panic_hook::set_once();
    // Mounts once the page language's catalogue is here (fetched unless English).
    carekey_ui::language::mount(App);
}

/// The paths this bundle renders; the server routes exactly these to it (`http::RECOVERY_PATHS`).
fn owns(path: &str) -> bool {
    matches!(path, "/forgot-password" | "/forgot-username" | "/reset")
}

#[component]
fn App() -> impl IntoView {
    provide_session();
    provide_page_language();
    view! {
        <Router>
            <RoutedBundle owns=owns>
            <ByLanguage>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/forgot-password") view=recovery::ForgotPasswordPage />
                    <Route path=path!("/forgot-username") view=recovery::ForgotUsernamePage />
                    <Route path=path!("/reset") view=recovery::ResetLinkPage />
                </Routes>
            </Layout>
            </ByLanguage>
            </RoutedBundle>
        </Router>
    }
}
