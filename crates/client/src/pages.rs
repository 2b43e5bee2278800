//! The first page's "not found" page. The layout and the sign-in page are in
//! `carekey_ui::first_page`: the server draws them into the page too.

use carekey_ui::page::PageHeading;
use carekey_ui::t;
use leptos::prelude::*;

pub use carekey_ui::first_page::{Layout, SignInPage};

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
