//! The patient's sign-in page, drawn by the server into the page it sends (issue 15, item 4):
//! the heading and the form paint with the page itself, before the app's code has arrived,
//! instead of only once the wasm has loaded and run. Drawn once per language at start-up from
//! the app's own components (`carekey_ui::first_page`), so it cannot drift from what the app
//! draws; the app takes it over as it starts, keeping what was typed.
//!
//! The drawing depends on configuration only (the clinic, the pause rule, the language-help
//! lines), never on an account: the page is the same for everyone asking in one language.

use carekey_i18n::Lang;
use carekey_shared::ClinicInfo;
use leptos::prelude::*;
use thiserror::Error;

use carekey_ui::first_page::{CLINIC_INFO_ID, DRAWN_ID, Layout, RECOVERY_FILES, SignInPage};
use carekey_ui::language::{ByLanguage, LANG_COOKIE};

#[derive(Debug, Error)]
pub enum DrawError {
    #[error("drawing the sign-in page in {0:?} failed")]
    Panicked(Lang),
    #[error("the clinic could not be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The sign-in page in every language, with the clinic as JSON for the app's first frame.
pub struct FirstPage {
    drawings: Vec<(Lang, Drawing)>,
    clinic_json: String,
}

struct Drawing {
    /// The page's title as the app sets it (the heading's words).
    title: String,
    body: String,
}

/// Where the page takes the drawing, as written in the source and as a minified build writes it.
const MARKS: [&str; 2] = [
    r#"<div id="first-page"></div>"#,
    r#"<div id=first-page></div>"#,
];

impl FirstPage {
    pub fn draw(clinic: &ClinicInfo) -> Result<Self, DrawError> {
        let drawings = Lang::ALL
            .into_iter()
            .map(|lang| Ok((lang, draw_in(lang, clinic.clone())?)))
            .collect::<Result<Vec<_>, DrawError>>()?;
        // In a <script> element only `</script` could end it early: `<` is written escaped.
        let clinic_json = serde_json::to_string(clinic)?
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        Ok(Self {
            drawings,
            clinic_json,
        })
    }

    /// `html` (the first page's `index.html`) with the sign-in page drawn in `lang`. A page
    /// without the mark (an older build in `dist_dir`) is returned as it is.
    pub fn insert(&self, html: &str, lang: Lang) -> String {
        let Some(drawing) = self
            .drawings
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, d)| d)
        else {
            return html.to_owned();
        };
        let Some(mark) = MARKS.into_iter().find(|m| html.contains(m)) else {
            return html.to_owned();
        };
        let drawn = format!(
            r#"<script type="application/json" id="{CLINIC_INFO_ID}">{}</script><div id="{DRAWN_ID}">{}</div>"#,
            self.clinic_json, drawing.body
        );
        let mut page = html.replacen(mark, &drawn, 1);
        for root in [r#"<html lang="en">"#, "<html lang=en>"] {
            page = page.replacen(root, &format!(r#"<html lang="{}">"#, lang.code()), 1);
        }
        if let (Some(start), Some(end)) = (page.find("<title>"), page.find("</title>"))
            && start < end
        {
            page.replace_range(
                start + "<title>".len()..end,
                &super::pages::escape(&drawing.title),
            );
        }
        page
    }
}

/// Draws on a thread of its own: the app's catalogues and kept state live in thread-locals,
/// and each language must start from none.
fn draw_in(lang: Lang, clinic: ClinicInfo) -> Result<Drawing, DrawError> {
    std::thread::scope(|s| {
        s.spawn(move || {
            let owner = Owner::new();
            owner.with(|| {
                let catalogue = match lang {
                    Lang::En => carekey_i18n::EN_FTL,
                    Lang::Es => carekey_i18n::ES_FTL,
                };
                carekey_ui::first_page::provide_for_drawing(lang, catalogue, clinic);
                let title = carekey_ui::first_page::drawn_title();
                // The app's tree down to the sign-in page (crates/client/src/main.rs).
                let body = view! {
                    <ByLanguage>
                        <Layout>
                            <SignInPage />
                        </Layout>
                    </ByLanguage>
                }
                .to_html();
                carekey_ui::first_page::end_drawing();
                Drawing { title, body }
            })
        })
        .join()
        .map_err(|_| DrawError::Panicked(lang))
    })
}

/// The language the app will choose (crates/ui/src/language.rs), as far as the server can see
/// it: `?lang=` on the address, then this device's choice (the cookie the app sets), then the
/// first of the browser's languages the portal has, else English. A device whose choice is in
/// its storage only (set before the cookie existed) is drawn in the browser's language once;
/// the app then redraws in the chosen one and sets the cookie.
pub fn page_lang(query: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
    let asked = query.and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .and_then(Lang::from_tag)
    });
    let kept = cookie
        .and_then(|c| super::cookies::value_from_header(LANG_COOKIE, c))
        .and_then(|v| Lang::from_tag(&v));
    let browser = || {
        accept_language?.split(',').find_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (!refused).then(|| Lang::from_tag(tag)).flatten()
        })
    };
    asked.or(kept).or_else(browser).unwrap_or_default()
}

/// The first page's stylesheet and its "could not open" script, carried inline instead of
/// fetched: both block the first paint, and on a slow phone connection each costs a round
/// trip (about half a second on Lighthouse's slow 4G) before the drawn page can show. Returns
/// the page and the Content-Security-Policy that allows exactly these two by their SHA-256
/// (no `'unsafe-inline'`). A file that cannot be read stays a link.
pub async fn inline_critical(html: &str, apps: &super::apps::Apps) -> (String, String) {
    let mut page = html.to_owned();
    let mut scripts = Vec::new();
    let mut styles = Vec::new();
    for (tag, is_script) in tags(&page, "<link", ">")
        .into_iter()
        .filter(|t| attr(t, "rel").as_deref() == Some("stylesheet"))
        .map(|t| (t, false))
        .chain(
            tags(&page, "<script", "</script>")
                .into_iter()
                .filter(|t| attr(t, "src").is_some_and(|s| s.ends_with("/app-check.js")))
                .map(|t| (t, true)),
        )
        .collect::<Vec<_>>()
    {
        let href = attr(&tag, if is_script { "src" } else { "href" }).unwrap_or_default();
        let Some(text) = apps.text("patient", &href).await else {
            continue;
        };
        if text.contains("</") {
            // It could end its own element early: left as a link.
            continue;
        }
        let inline = if is_script {
            scripts.push(sha256(&text));
            let catalogues = attr(&tag, "data-catalogues")
                .map(|c| format!(r#" data-catalogues="{}""#, super::pages::escape(&c)))
                .unwrap_or_default();
            format!("<script{catalogues}>{text}</script>")
        } else {
            styles.push(sha256(&text));
            format!("<style>{text}</style>")
        };
        page = page.replacen(&tag, &inline, 1);
    }
    let hashes = |list: &[String]| {
        list.iter()
            .map(|h| format!(" 'sha256-{h}'"))
            .collect::<String>()
    };
    let csp = super::guard::CSP
        .replacen(
            "script-src 'self' 'wasm-unsafe-eval'",
            &format!("script-src 'self' 'wasm-unsafe-eval'{}", hashes(&scripts)),
            1,
        )
        .replacen(
            "style-src 'self'",
            &format!("style-src 'self'{}", hashes(&styles)),
            1,
        );
    (page, csp)
}

/// The sign-in page names the recovery bundle's files (its page's stylesheet, loader, glue
/// and wasm) in a `<meta>` before `</head>`: the app fetches them into the browser's cache
/// once a patient may need them (a failed sign-in, the "forgot" link pointed at, focused or
/// touched), so the recovery pages, a bundle of their own since issue 15 item 5, open as fast
/// as when they were part of the first page, while nobody else downloads them. Read from the
/// recovery page at each request, as the page itself is: a replaced `dist_dir` names its new
/// files at once. A page without `</head>`, or no recovery bundle, is returned as it is.
pub async fn name_recovery_files(html: String, apps: &super::apps::Apps) -> String {
    let Some(recovery) = apps.page("recovery").await else {
        return html;
    };
    let files = recovery_files(&recovery);
    if files.is_empty() || !html.contains("</head>") {
        return html;
    }
    let meta = format!(
        r#"<meta name="{RECOVERY_FILES}" content="{}">"#,
        files.join(" ")
    );
    html.replacen("</head>", &format!("{meta}</head>"), 1)
}

/// The recovery bundle's own files its page links, in order. Only plain paths under
/// `/recovery/`: nothing from the page can break out of the attribute it is written into.
fn recovery_files(page: &str) -> Vec<String> {
    let links = tags(page, "<link", ">")
        .into_iter()
        .filter_map(|t| attr(&t, "href"));
    let scripts = tags(page, "<script", ">")
        .into_iter()
        .filter_map(|t| attr(&t, "src"));
    let mut files: Vec<String> = Vec::new();
    for href in links.chain(scripts) {
        let ours = href.starts_with("/recovery/")
            && [".js", ".css", ".wasm"].iter().any(|e| href.ends_with(e))
            && href
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b));
        if ours && !files.contains(&href) {
            files.push(href);
        }
    }
    files
}

fn sha256(text: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Every `open … close` in `html`, whole.
fn tags(html: &str, open: &str, close: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(open) {
        let Some(len) = rest[start..].find(close) else {
            break;
        };
        let end = start + len + close.len();
        found.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    found
}

/// An attribute's value in a start tag, quoted or (as the minifier writes) not.
fn attr(tag: &str, name: &str) -> Option<String> {
    let head = tag.split('>').next()?;
    let at = head.find(&format!(" {name}="))? + name.len() + 2;
    let value = &head[at..];
    Some(match value.chars().next()? {
        q @ ('"' | '\'') => value[1..].split(q).next()?.to_owned(),
        _ => value
            .split(|c: char| c.is_whitespace() || c == '>')
            .next()?
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minified Trunk page, as dist/recovery/index.html is written.
    const RECOVERY_PAGE: &str = concat!(
        r#"<html lang=en><head><script src=/public/app-check.js></script>"#,
        r#"<script type="module" src="/recovery/boot-1b3f9ae51cfddf9b.js"></script>"#,
        r#"<link href=/recovery/main-ea94997035db93f.css integrity=sha384-x rel=stylesheet>"#,
        r#"<link href=/public/favicon.svg rel=icon type=image/svg+xml>"#,
        r#"<link crossorigin href=/recovery/carekey-recovery-47927fc058a6ed7f.js rel=modulepreload>"#,
        r#"<link as=fetch crossorigin href=/recovery/carekey-recovery-47927fc058a6ed7f_bg.wasm rel=preload>"#,
        r#"<link href="/recovery/x.js?a=<b>" rel=modulepreload>"#,
        r#"<link href="/elsewhere/y.wasm" rel=preload>"#,
        r#"</head><body></body></html>"#,
    );

    #[test]
    fn the_recovery_files_are_its_own_plain_paths_once_each() {
        assert_eq!(
            recovery_files(&format!("{RECOVERY_PAGE}{RECOVERY_PAGE}")),
            [
                "/recovery/main-ea94997035db93f.css",
                "/recovery/carekey-recovery-47927fc058a6ed7f.js",
                "/recovery/carekey-recovery-47927fc058a6ed7f_bg.wasm",
                "/recovery/boot-1b3f9ae51cfddf9b.js",
            ]
        );
        assert!(recovery_files("<html><head></head></html>").is_empty());
    }

    #[tokio::test]
    async fn the_sign_in_page_names_the_recovery_files() {
        let dir =
            std::env::temp_dir().join(format!("carekey-recovery-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("recovery")).unwrap();
        let apps = super::super::apps::Apps::Dir(dir.clone());
        let page = "<html><head><title>t</title></head><body></body></html>".to_owned();
        // No recovery bundle built: the page as it was.
        assert_eq!(name_recovery_files(page.clone(), &apps).await, page);
        std::fs::write(dir.join("recovery").join("index.html"), RECOVERY_PAGE).unwrap();
        let named = name_recovery_files(page, &apps).await;
        assert_eq!(
            named,
            concat!(
                r#"<html><head><title>t</title><meta name="carekey-recovery-files" content=""#,
                "/recovery/main-ea94997035db93f.css /recovery/carekey-recovery-47927fc058a6ed7f.js ",
                "/recovery/carekey-recovery-47927fc058a6ed7f_bg.wasm /recovery/boot-1b3f9ae51cfddf9b.js",
                r#""></head><body></body></html>"#
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn clinic() -> ClinicInfo {
        ClinicInfo {
            clinic_name: "Smith & <Sons> Clinic".into(),
            clinic_phone: "+15035550100".into(),
            idle_timeout_secs: 900,
            idle_warning_secs: 120,
            password_min_length: 15,
            password_require_mix: false,
            lockout_threshold: 5,
            lockout_minutes: 15,
            dev_mode: false,
            remember_days: 30,
            passkeys: true,
            staff_passkeys: true,
            recovery: carekey_shared::recovery::RecoveryOptions {
                identifier: carekey_shared::recovery::IdentifierMode::Either,
                channels: vec![carekey_shared::recovery::RecoveryChannel::EmailCode],
                code_ttl_secs: 600,
                link_ttl_secs: 3600,
                resend_after_secs: 60,
            },
            language_help: vec![carekey_shared::Tagline {
                lang: "vi".into(),
                text: "Hỗ trợ ngôn ngữ miễn phí </p>".into(),
            }],
        }
    }

    const PAGE: &str = "<!doctype html><html lang=en><head><title>Patient portal</title></head><body><main id=app-unavailable hidden></main><div id=first-page></div></body></html>";

    #[test]
    fn the_sign_in_page_is_drawn_in_each_language_from_the_apps_components() {
        let first = FirstPage::draw(&clinic()).unwrap();
        let en = first.insert(PAGE, Lang::En);
        let es = first.insert(PAGE, Lang::Es);
        let title = |lang| {
            carekey_i18n::Catalogue::from_source(
                lang,
                match lang {
                    Lang::En => carekey_i18n::EN_FTL,
                    Lang::Es => carekey_i18n::ES_FTL,
                },
            )
            .tr("sign-in-title")
        };
        for (page, lang) in [(&en, Lang::En), (&es, Lang::Es)] {
            assert!(page.starts_with(&format!(
                r#"<!doctype html><html lang="{}"><head><title>{}</title>"#,
                lang.code(),
                title(lang)
            )));
            assert!(page.contains(&format!(">{}</h1>", title(lang))), "{page}");
            // The form as the app draws it: labelled fields, posted (never in the address).
            for part in [
                r#"<header class="site">"#,
                r#"<main id="main">"#,
                r#"method="post""#,
                r#"id="identifier""#,
                r#"autocomplete="username webauthn""#,
                r#"id="password""#,
                r#"autocomplete="current-password""#,
                r#"href="/forgot-password""#,
                r#"id="language-switch""#,
            ] {
                assert!(page.contains(part), "{part} missing from {page}");
            }
            // The clinic, escaped as text and in the JSON the app reads.
            assert!(page.contains("Smith &amp; &lt;Sons&gt; Clinic"));
            assert!(page.contains(r#""clinic_name":"Smith \u0026 \u003cSons\u003e Clinic""#));
            assert!(!page.contains("<Sons>"));
            assert!(
                !page.contains("</p>\"}"),
                "a tagline cannot end the JSON's element"
            );
            assert!(page.contains(r#"<p lang="vi" dir="auto">"#));
        }
        assert!(en.contains(">Español</a>"));
        assert!(es.contains(">English</a>"));
        assert_ne!(title(Lang::En), title(Lang::Es));
    }

    #[tokio::test]
    async fn the_stylesheet_and_the_check_script_are_carried_inline_and_allowed_by_their_hash() {
        let dir = std::env::temp_dir().join(format!("carekey-inline-{}", std::process::id()));
        let app = dir.join("patient");
        std::fs::create_dir_all(app.join("public")).unwrap();
        std::fs::write(app.join("main-0123abc.css"), "body{margin:0}").unwrap();
        std::fs::write(app.join("public/app-check.js"), "var x = 1 < 2;").unwrap();
        let apps = crate::http::apps::Apps::Dir(dir.clone());
        let page = r#"<head><script data-catalogues=/locales/ src=/public/app-check.js></script><title>t</title><script type="module" src="/boot-1.js"></script><link href=/main-0123abc.css integrity=sha384-x rel=stylesheet><link href=/public/favicon.svg rel=icon></head>"#;
        let (inlined, csp) = inline_critical(page, &apps).await;
        assert_eq!(
            inlined,
            r#"<head><script data-catalogues="/locales/">var x = 1 < 2;</script><title>t</title><script type="module" src="/boot-1.js"></script><style>body{margin:0}</style><link href=/public/favicon.svg rel=icon></head>"#
        );
        assert!(csp.starts_with(&format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-{}'; style-src 'self' 'sha256-{}';",
            sha256("var x = 1 < 2;"),
            sha256("body{margin:0}")
        )), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
        // The known digest of an empty string, so the hash is the one browsers compute.
        assert_eq!(sha256(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        // A file that is not there stays a link, and the policy allows nothing more.
        std::fs::remove_file(app.join("main-0123abc.css")).unwrap();
        let (kept, csp) = inline_critical(page, &apps).await;
        assert!(kept.contains("<link href=/main-0123abc.css"));
        assert!(csp.contains("style-src 'self'; "));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_page_without_the_mark_is_sent_as_it_is() {
        let first = FirstPage::draw(&clinic()).unwrap();
        let old = "<html lang=en><body></body></html>";
        assert_eq!(first.insert(old, Lang::Es), old);
    }

    #[test]
    fn the_language_is_the_one_the_app_will_choose() {
        let es = Some("es-MX,es;q=0.9,en;q=0.8");
        assert_eq!(page_lang(None, None, None), Lang::En);
        assert_eq!(page_lang(None, None, es), Lang::Es);
        assert_eq!(page_lang(None, None, Some("fr-CA, es;q=0.5")), Lang::Es);
        assert_eq!(page_lang(None, None, Some("fr, es;q=0")), Lang::En);
        assert_eq!(page_lang(None, Some("a=b; carekey_lang=en"), es), Lang::En);
        assert_eq!(
            page_lang(Some("x=1&lang=es"), Some("carekey_lang=en"), None),
            Lang::Es
        );
        assert_eq!(
            page_lang(Some("lang=fr"), Some("carekey_lang=es"), None),
            Lang::Es
        );
    }
}
