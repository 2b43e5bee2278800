//! Language-help lines (ACA Section 1557 taglines): free language help and the clinic's
//! number, in English, Spanish and the languages the clinic adds, whatever the page's own
//! language. The server writes the lines (message catalogues and `clinic.language_help`);
//! the page only shows them, each marked with its language (WCAG 3.1.2) so a screen reader
//! reads it in the right voice, and with `dir="auto"` for lines written right to left.

use carekey_shared::Tagline;
use leptos::prelude::*;

use crate::session::use_session;

/// The lines given, in their order (the sign-in page and every printed letter show the same).
#[component]
pub fn Taglines(lines: Vec<Tagline>) -> impl IntoView {
    (!lines.is_empty()).then(|| {
        view! {
            <div class="language-help">
                {lines
                    .into_iter()
                    .map(|l| view! { <p lang=l.lang dir="auto">{l.text}</p> })
                    .collect_view()}
            </div>
        }
    })
}

/// The clinic's lines from `portal_info`, once it has answered.
#[component]
pub fn LanguageHelp() -> impl IntoView {
    let portal = use_session().portal;
    move || {
        portal
            .get()
            .map(|p| view! { <Taglines lines=p.language_help /> })
    }
}
