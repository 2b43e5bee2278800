//! Where the five browser apps' files come from: built into the binary (the default, so a
//! clinic deploys one file), or a `dist_dir` on disk (development, or a clinic trying a newer
//! build of the pages without a new binary).
//!
//! The embedded copy is `dist/` as it stood when the release binary was compiled, brotli and
//! gzip copies included. A debug build reads the same folder from disk at each request instead
//! (rust-embed's development mode), so `cargo run` serves what Trunk last built.

use std::borrow::Cow;
use std::path::PathBuf;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `dist/` at compile time. Only the five apps' folders are taken: anything else a developer
/// leaves in `dist/` stays out of the binary.
#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../../dist/"]
#[include = "patient/*"]
#[include = "portal/*"]
#[include = "recovery/*"]
#[include = "landing/*"]
#[include = "staff/*"]
#[allow_missing = true]
struct Built;

/// The five apps, each a folder in `dist/` and in the binary.
pub const APPS: [&str; 5] = ["patient", "recovery", "landing", "portal", "staff"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Apps {
    /// The files compiled into this binary.
    Embedded,
    /// `dist_dir`: a folder holding `patient/`, `recovery/`, `landing/`, `portal/` and `staff/`.
    Dir(PathBuf),
}

impl Apps {
    /// `dist_dir` empty (the default) means the built-in apps.
    pub fn from_config(dist_dir: &std::path::Path) -> Self {
        if dist_dir.as_os_str().is_empty() {
            Self::Embedded
        } else {
            Self::Dir(dist_dir.to_path_buf())
        }
    }

    /// The apps whose page is missing: none when everything was built.
    pub fn missing(&self) -> Vec<&'static str> {
        APPS.into_iter()
            .filter(|app| match self {
                Self::Embedded => Built::get(&format!("{app}/index.html")).is_none(),
                Self::Dir(dir) => !dir.join(app).join("index.html").is_file(),
            })
            .collect()
    }

    /// Where the apps come from, as `carekey serve` and `carekey check` print it.
    pub fn describe(&self) -> String {
        match self {
            Self::Embedded => "built into this binary".into(),
            Self::Dir(dir) => dir.display().to_string(),
        }
    }

    /// One of an app's files by its path in the page (`/main-0123.css`, `/portal/x.js`), as
    /// text: what the first page carries inline. Only names without `..`.
    pub async fn text(&self, app: &str, href: &str) -> Option<String> {
        let name = href.split(['?', '#']).next()?.trim_start_matches('/');
        let name = if app == "patient" {
            name
        } else {
            name.strip_prefix(app)?.trim_start_matches('/')
        };
        if name.is_empty() || name.split(['/', '\\']).any(|seg| seg == ".." || seg == ".") {
            return None;
        }
        match self {
            Self::Embedded => Built::get(&format!("{app}/{name}"))
                .and_then(|f| String::from_utf8(f.data.into_owned()).ok()),
            Self::Dir(dir) => tokio::fs::read_to_string(dir.join(app).join(name))
                .await
                .ok(),
        }
    }

    /// An app's `index.html`, read at each request as a static file would be.
    pub async fn page(&self, app: &str) -> Option<String> {
        match self {
            Self::Embedded => Built::get(&format!("{app}/index.html"))
                .and_then(|f| String::from_utf8(f.data.into_owned()).ok()),
            Self::Dir(dir) => tokio::fs::read_to_string(dir.join(app).join("index.html"))
                .await
                .ok(),
        }
    }
}

/// A built-in file of `app` for `path` (as requested, with its leading `/`), in the best
/// encoding the client accepts; `None` for a path that is no file, which the caller answers
/// with the app's page (deep links) or a 404. The page itself is never served from here: it is
/// filled in with the clinic first (`pages::AppPage`).
pub fn embedded_file(app: &str, path: &str, headers: &HeaderMap) -> Option<Response> {
    let name = path.trim_start_matches('/');
    // Keys are exact names, but a debug build reads them from disk: no way out of the app's
    // folder, not even into another app's.
    let escapes = name.split(['/', '\\']).any(|seg| seg == ".." || seg == ".");
    if name.is_empty() || name.ends_with('/') || name == "index.html" || escapes {
        return None;
    }
    let key = format!("{app}/{name}");
    let file = Built::get(&key)?;
    let content_type = file.metadata.mimetype().to_owned();
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Some(not_modified(&etag));
    }
    let accepted = accepted_encodings(headers);
    let (data, encoding): (Cow<'static, [u8]>, Option<&str>) = [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(coding, _)| accepted.iter().any(|a| a == coding))
        .find_map(|(coding, suffix)| {
            Built::get(&format!("{key}{suffix}")).map(|f| (f.data, Some(coding)))
        })
        .unwrap_or((file.data, None));
    let mut res = Response::new(Body::from(data));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    // Caches must keep the brotli and the plain copy apart.
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(coding) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    Some(res)
}

fn not_modified(etag: &str) -> Response {
    let mut res = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(v) = HeaderValue::from_str(etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

/// The content codings in `Accept-Encoding` with a weight above zero (RFC 9110 §12.5.3):
/// `br;q=0` refuses brotli, it does not ask for it.
fn accepted_encodings(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let coding = parts.next()?.trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (!coding.is_empty() && !refused).then_some(coding)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn a_zero_weight_refuses_a_coding() {
        assert_eq!(accepted_encodings(&with("gzip, br")), ["gzip", "br"]);
        assert_eq!(accepted_encodings(&with("br;q=0, gzip;q=0.5")), ["gzip"]);
        assert_eq!(accepted_encodings(&with("BR ; q=1.0")), ["br"]);
        assert!(accepted_encodings(&HeaderMap::new()).is_empty());
    }

    #[test]
    fn an_empty_dist_dir_means_the_built_in_apps() {
        assert_eq!(Apps::from_config(std::path::Path::new("")), Apps::Embedded);
        assert_eq!(
            Apps::from_config(std::path::Path::new("dist")),
            Apps::Dir(PathBuf::from("dist"))
        );
    }

    #[test]
    fn the_page_and_folders_are_never_files_here() {
        let h = with("br");
        for path in [
            "/",
            "",
            "/index.html",
            "/sub/",
            "/../staff/index.html",
            "/./a.js",
        ] {
            assert!(embedded_file("patient", path, &h).is_none(), "{path}");
        }
        assert!(embedded_file("patient", "/no-such-file.js", &h).is_none());
    }
}
