//! The patient portal's first page: sign-in. The recovery pages (`carekey-recovery`) and the
//! signed-in pages (`carekey-portal`) are bundles of their own, so this one, which every
//! visitor downloads, stays small (issue 15 item 5). It has no router: it renders one page,
//! and every move from it (to forgot password, to home after sign-in) is a page load.

use carekey_ui::first_page::{Layout, NotFound, SignInPage};
use carekey_ui::language::{ByLanguage, provide_page_language};
use carekey_ui::session::provide_session;
use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    // Mounts once the page language's catalogue is here (fetched unless English).
    carekey_ui::language::mount(App);
}

#[component]
fn App() -> impl IntoView {
    provide_session();
    provide_page_language();
    // The server sends this bundle for `/` and for every path no other bundle renders.
    let sign_in = window().location().pathname().is_ok_and(|p| p == "/");
    view! {
        <ByLanguage>
            <Layout>
                {if sign_in { SignInPage().into_any() } else { NotFound().into_any() }}
            </Layout>
        </ByLanguage>
    }
}
