//! The patient portal.

mod contact;
mod pages;
mod recovery;

use carekey_ui::session::provide_session;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    provide_session();
    view! {
        <Router>
            <pages::Layout>
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::SignInPage />
                    <Route path=path!("/home") view=pages::HomePage />
                    <Route path=path!("/settings") view=pages::SettingsPage />
                    <Route path=path!("/settings/password") view=pages::ChangePasswordPage />
                    <Route path=path!("/settings/username") view=pages::ChangeUsernamePage />
                    <Route path=path!("/settings/contact") view=contact::ContactPage />
                    <Route path=path!("/change-password") view=pages::ForcedChangePage />
                    <Route path=path!("/forgot-password") view=recovery::ForgotPasswordPage />
                    <Route path=path!("/forgot-username") view=recovery::ForgotUsernamePage />
                    <Route path=path!("/reset") view=recovery::ResetLinkPage />
                </Routes>
            </pages::Layout>
        </Router>
    }
}
