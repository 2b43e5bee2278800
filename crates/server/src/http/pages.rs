//! The five apps' `index.html`, served from memory with the clinic's name and phone written
//! into the plain-HTML "this page could not start" message each page carries. That message is
//! for a browser that cannot run the app (no WebAssembly, no ES modules) or an app that failed
//! to load (a dropped connection, a blocked file): the app itself, which knows the clinic's
//! phone, never started, so the page must already hold it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::apps::Apps;
use super::first_page::{FirstPage, inline_critical, name_recovery_files, page_lang};
use crate::config::Config;

/// Where the page names the clinic, in each language's copy of the message; the text inside is
/// what a page shows if the server could not fill it in (a file opened from disk). Each mark is
/// matched as written in the source and as a release build writes it: minified, attribute
/// values lose their quotes (Trunk.toml `minify`).
const NAME_MARKS: [&str; 4] = [
    r#"<span data-clinic="name">your clinic</span>"#,
    r#"<span data-clinic=name>your clinic</span>"#,
    r#"<span data-clinic="name">su clínica</span>"#,
    r#"<span data-clinic=name>su clínica</span>"#,
];
const PHONE_MARKS: [&str; 2] = [
    r#"<span data-clinic="phone"></span>"#,
    r#"<span data-clinic=phone></span>"#,
];

/// One app's page. Read at each request, as a static file would be: a clinic that replaces
/// `dist_dir` under a running server gets the new page (and its new asset names) at once.
#[derive(Clone)]
pub struct AppPage {
    apps: Arc<Apps>,
    app: &'static str,
    clinic: Arc<(String, String)>,
    /// The patient app's sign-in page, drawn into the page sent for `/`.
    first: Option<Arc<FirstPage>>,
}

impl AppPage {
    pub fn new(apps: Arc<Apps>, app: &'static str, cfg: &Config) -> Self {
        Self {
            apps,
            app,
            clinic: Arc::new((cfg.clinic_name.clone(), cfg.clinic_phone.clone())),
            first: None,
        }
    }

    /// The page for `/` carries `first`, drawn in the language the app will choose.
    pub fn with_first_page(mut self, first: Option<Arc<FirstPage>>) -> Self {
        self.first = first;
        self
    }

    /// The page, or the 404 a missing file would be (the app was not built).
    pub async fn response(self, req: Request) -> Response {
        match self.apps.page(self.app).await {
            Some(html) => {
                let html = fill(&html, &self.clinic.0, &self.clinic.1);
                let Some(first) = self.first.as_ref().filter(|_| req.uri().path() == "/") else {
                    return html_response(html);
                };
                // Read before the await: the request's body is not shareable across threads.
                let lang = {
                    let header_text = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
                    page_lang(
                        req.uri().query(),
                        header_text(header::COOKIE),
                        header_text(header::ACCEPT_LANGUAGE),
                    )
                };
                let (html, policy) = inline_critical(&first.insert(&html, lang), &self.apps).await;
                let html = name_recovery_files(html, &self.apps).await;
                let mut res = html_response(html);
                let h = res.headers_mut();
                if let Ok(csp) = HeaderValue::from_str(&policy) {
                    h.insert(header::CONTENT_SECURITY_POLICY, csp);
                }
                // Drawn in the asker's language: a shared cache must keep the copies apart.
                h.insert(
                    header::VARY,
                    HeaderValue::from_static("accept-language, cookie"),
                );
                res
            }
            None => {
                tracing::debug!(app = self.app, from = %self.apps.describe(), "app page missing");
                StatusCode::NOT_FOUND.into_response()
            }
        }
    }
}

fn html_response(html: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from(html),
    )
        .into_response()
}

/// The page with the clinic's name and phone in place of the marks, HTML-escaped (they come
/// from configuration, but a name like "Smith & Sons" must not break the page).
pub fn fill(html: &str, name: &str, phone: &str) -> String {
    let phoned = format!(r#"<span data-clinic="phone">{}</span>"#, escape(phone));
    let mut page = html.to_owned();
    for mark in PHONE_MARKS {
        page = page.replace(mark, &phoned);
    }
    if !name.trim().is_empty() {
        let named = format!(r#"<span data-clinic="name">{}</span>"#, escape(name));
        for mark in NAME_MARKS {
            page = page.replace(mark, &named);
        }
    }
    page
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<p>Call <span data-clinic="name">your clinic</span> at <span data-clinic="phone"></span>.</p>"#;

    #[test]
    fn the_clinic_is_written_in_escaped() {
        assert_eq!(
            fill(PAGE, "Smith & <Sons>", "(503) 555-0100"),
            r#"<p>Call <span data-clinic="name">Smith &amp; &lt;Sons&gt;</span> at <span data-clinic="phone">(503) 555-0100</span>.</p>"#
        );
    }

    #[test]
    fn no_name_keeps_the_words_and_no_phone_leaves_it_empty() {
        assert_eq!(fill(PAGE, " ", ""), PAGE);
    }

    #[test]
    fn the_spanish_copy_names_the_clinic_too() {
        const BOTH: &str = r#"<p lang="en"><span data-clinic="name">your clinic</span></p><p lang="es"><span data-clinic="name">su clínica</span> <span data-clinic="phone"></span></p>"#;
        assert_eq!(
            fill(BOTH, "Clínica Sol", "(503) 555-0100"),
            r#"<p lang="en"><span data-clinic="name">Clínica Sol</span></p><p lang="es"><span data-clinic="name">Clínica Sol</span> <span data-clinic="phone">(503) 555-0100</span></p>"#
        );
        assert_eq!(fill(BOTH, "", ""), BOTH);
    }

    #[test]
    fn a_minified_page_is_filled_in_too() {
        const MINIFIED: &str = r#"<p lang=en>Call <span data-clinic=name>your clinic</span> at <span data-clinic=phone></span><p lang=es><span data-clinic=name>su clínica</span>"#;
        assert_eq!(
            fill(MINIFIED, "Clínica Sol", "(503) 555-0100"),
            r#"<p lang=en>Call <span data-clinic="name">Clínica Sol</span> at <span data-clinic="phone">(503) 555-0100</span><p lang=es><span data-clinic="name">Clínica Sol</span>"#
        );
    }
}
