//! HTTP wiring: static files for the two browser apps, the server functions under `/api/`,
//! health endpoints, and the middleware every response passes through.

pub mod api;
pub mod apps;
pub mod cookies;
pub mod export;
pub mod first_page;
pub mod guard;
pub mod observe;
pub mod outside;
pub mod pages;
pub mod staff_api;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, get_service, post};
use axum::{Router, middleware};
use carekey_shared::ApiError;
use carekey_shared::backend::{BackendHandle, RequestCtx};
use http_body_util::BodyExt;
use leptos::prelude::provide_context;
use sea_orm::ConnectionTrait;
use tower::ServiceExt;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;

use crate::config::Config;
use apps::Apps;

use crate::domain::Services;

/// Server-function bodies are small forms; a password may be at most 1 KiB (P2). Anything near
/// this limit is refused before it is parsed.
const API_BODY_LIMIT: usize = 16 * 1024;

/// Oversized bodies up to this size are read and discarded before the 400, so the client
/// receives the answer rather than a connection reset.
const DRAIN_CAP: usize = 4 * 1024 * 1024;

/// Longest an API call may take: 2 s hashing queue + hashes + database, with room to spare.
pub(crate) const API_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub backend: BackendHandle,
}

impl AppState {
    pub fn new(services: Arc<Services>) -> Self {
        let backend: BackendHandle = Arc::new(api::Api {
            services: services.clone(),
        });
        Self { services, backend }
    }
}

pub fn router(state: AppState) -> Router {
    let services = state.services.clone();
    let cfg = &services.cfg;
    let apps = Arc::new(Apps::from_config(&cfg.dist_dir));
    // Drawn once: it depends on configuration only. Without it the page still works (the app
    // draws the sign-in page itself once it has loaded).
    let first = match first_page::FirstPage::draw(&api::clinic_info(&services)) {
        Ok(first) => Some(Arc::new(first)),
        Err(err) => {
            tracing::error!(%err, "the sign-in page could not be drawn into the first page");
            None
        }
    };
    let api = Router::new()
        .route("/api/{*fn_name}", post(server_fn_handler))
        .route("/api/audit.csv", get(export::audit_csv))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(API_BODY_LIMIT))
        .layer(middleware::from_fn(oversized_is_bad_input))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::same_origin_only,
        ));
    Router::new()
        .merge(api)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            "/twilio/voice/{id}",
            post(outside::twilio_voice).layer(DefaultBodyLimit::max(API_BODY_LIMIT)),
        )
        .route("/dev/outbox", get(outside::dev_outbox))
        .route("/dev/outbox.json", get(outside::dev_outbox_json))
        .nest_service("/staff", spa(&apps, "staff", cfg, None))
        .merge(bundle_routes(&apps, "portal", &PORTAL_PATHS, cfg))
        .merge(bundle_routes(&apps, "recovery", &RECOVERY_PATHS, cfg))
        .merge(bundle_routes(&apps, "landing", &LANDING_PATHS, cfg))
        .fallback_service(spa(&apps, "patient", cfg, first))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::security_headers,
        ))
        // Outermost, so its span covers every other layer's log lines and its count sees the
        // status the client gets.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}

/// An app: static files with precompressed variants, and its page (`pages::AppPage`, filled in
/// with the clinic) for a directory such as `/` and every path that is no file, so deep links
/// such as `/forgot-password` load the app.
fn spa(
    apps: &Arc<Apps>,
    app: &'static str,
    cfg: &Config,
    first: Option<Arc<first_page::FirstPage>>,
) -> MethodRouter {
    let page = page_route(pages::AppPage::new(apps.clone(), app, cfg).with_first_page(first));
    match apps.as_ref() {
        Apps::Dir(dir) => get_service(
            ServeDir::new(dir.join(app))
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(false)
                .fallback(page),
        ),
        Apps::Embedded => get(move |req: Request| {
            let page = page.clone();
            async move {
                match apps::embedded_file(app, req.uri().path(), req.headers()) {
                    Some(file) => file,
                    None => page.oneshot(req).await.into_response(),
                }
            }
        }),
    }
}

/// An app's page, compressed as it is sent: the clinic is written into it per server, so it
/// has no precompressed copy, and it is on every visitor's first download (about 3.7 KB raw,
/// 1.3 KB brotli). It reflects nothing from the request, so compression reveals nothing
/// (BREACH needs a secret and attacker-chosen text in one body).
fn page_route<S: Clone + Send + Sync + 'static>(page: pages::AppPage) -> MethodRouter<S> {
    get(move |req: Request| page.clone().response(req)).layer(
        CompressionLayer::new()
            .br(true)
            .gzip(true)
            .quality(CompressionLevel::Best),
    )
}

/// The signed-in patient pages are a bundle of their own (`carekey-portal`, files under
/// `/portal/`), and so are the home page ([`LANDING_PATHS`]) and the recovery pages
/// ([`RECOVERY_PATHS`]), so the first page, which every visitor downloads, carries sign-in
/// only. These paths load the portal's page; every other path outside `/staff` and those
/// lists loads the first page's.
pub const PORTAL_PATHS: [&str; 5] = [
    "/second-step",
    "/not-me",
    "/settings",
    "/settings/{*rest}",
    "/change-password",
];

/// The home page a sign-in lands on: a bundle of its own (`carekey-landing`, files under
/// `/landing/`), so the download that follows every sign-in is small.
pub const LANDING_PATHS: [&str; 1] = ["/home"];

/// The paths the recovery bundle renders (`crates/recovery/src/main.rs`).
pub const RECOVERY_PATHS: [&str; 3] = ["/forgot-password", "/forgot-username", "/reset"];

/// A patient bundle beside the first page: its page for each of `paths`, its files under
/// `/<app>/`.
fn bundle_routes<S: Clone + Send + Sync + 'static>(
    apps: &Arc<Apps>,
    app: &'static str,
    paths: &[&str],
    cfg: &Config,
) -> Router<S> {
    let serve = page_route(pages::AppPage::new(apps.clone(), app, cfg));
    let files: MethodRouter = match apps.as_ref() {
        Apps::Dir(dir) => get_service(
            ServeDir::new(dir.join(app))
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(false),
        ),
        Apps::Embedded => get(move |req: Request| async move {
            apps::embedded_file(app, req.uri().path(), req.headers())
                .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
        }),
    };
    paths
        .iter()
        .fold(Router::new(), |r, path| r.route(path, serve.clone()))
        .nest_service(&format!("/{app}"), files)
}

/// The plain-HTTP port next to HTTPS: every request is sent to the same path on `public_url`.
/// The origin is the configured one, never the request's Host, so this can send nobody
/// elsewhere. 308 keeps the method, so a form posted to http:// is not silently turned into a
/// GET.
pub fn redirect_to_https(origin: String) -> Router {
    Router::new().fallback(move |uri: axum::http::Uri| {
        let origin = origin.clone();
        async move {
            let rest = uri.path_and_query().map_or("/", |pq| pq.as_str());
            axum::response::Redirect::permanent(&format!("{origin}{rest}"))
        }
    })
}

/// Ready when the database answers within the pool's timeout; recovers by itself when the
/// database comes back (SECURITY.md F1).
async fn readyz(State(state): State<AppState>) -> Response {
    let probe = state
        .services
        .db
        .execute_unprepared("SELECT seq FROM audit_head WHERE id = 1");
    match tokio::time::timeout(Duration::from_secs(4), probe).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(err)) => {
            tracing::warn!(%err, "readiness: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// The client's address: the peer, unless the peer is one of the clinic's own proxies
/// (`http.trusted_proxies`). Then `X-Forwarded-For` is read from the right, where each proxy
/// appended the address it saw, past every trusted proxy, to the first address that is not
/// one: entries further left were written by the client and prove nothing.
fn client_ip(state: &AppState, headers: &axum::http::HeaderMap, peer: SocketAddr) -> String {
    let cfg = &state.services.cfg;
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    client_address(peer.ip(), &entries, |ip| cfg.is_trusted_proxy(ip)).to_string()
}

fn client_address(peer: IpAddr, forwarded: &[&str], trusted: impl Fn(IpAddr) -> bool) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted(client) {
        return client;
    }
    for entry in forwarded.iter().rev() {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip.to_canonical();
                if !trusted(client) {
                    break;
                }
            }
            // Not an address: nothing our proxies wrote; the last hop we trust is all we know.
            Err(_) => break,
        }
    }
    client
}

async fn server_fn_handler(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    let cfg = &state.services.cfg;
    let cookie_header = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok());
    let token = cookie_header.and_then(|h| cookies::token_from_header(cfg, h));
    let device = cookie_header.and_then(|h| cookies::device_from_header(cfg, h));
    let flow = cookie_header.and_then(|h| cookies::flow_from_header(cfg, h));
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    let ctx = RequestCtx::new(client_ip(&state, req.headers(), peer), user_agent, token)
        .with_device_token(device)
        .with_flow_token(flow);
    let backend = state.backend.clone();
    let ctx_for_fn = ctx.clone();
    let handled = leptos_axum::handle_server_fns_with_context(
        move || {
            provide_context(backend.clone());
            provide_context(ctx_for_fn.clone());
        },
        req,
    );
    // Every call ends within a bound, even if the database hangs instead of refusing
    // (SECURITY.md F1): the caller gets the calm 503, never a spinning page.
    let res = match tokio::time::timeout(API_DEADLINE, handled).await {
        Ok(res) => res.into_response(),
        Err(_) => {
            tracing::error!("API call exceeded {API_DEADLINE:?}");
            return api_error(ApiError::Unavailable);
        }
    };
    let mut res = with_error_status(res).await;
    for cookie in ctx.take_response_meta().set_cookies {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

fn http_status(err: &ApiError) -> StatusCode {
    StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn api_error(err: ApiError) -> Response {
    let status = http_status(&err);
    let body = serde_json::to_string(&err).unwrap_or_default();
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The body-size limit answers 413; SECURITY.md P2 asks for a 400 like any other bad input,
/// with the same typed error the browser already knows how to word.
async fn oversized_is_bad_input(req: Request, next: middleware::Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > API_BODY_LIMIT) {
        // Answering before the upload is read makes the connection close under a client that
        // is still sending, and it then sees a reset instead of this calm 400. Up to a cap the
        // body is read and thrown away (never buffered); beyond it, closing is what an abusive
        // client gets.
        if declared.is_some_and(|n| n <= DRAIN_CAP) {
            let mut body = req.into_body();
            let drain = async {
                let mut seen = 0usize;
                while let Some(Ok(frame)) = body.frame().await {
                    seen += frame.data_ref().map_or(0, |d| d.len());
                    if seen > DRAIN_CAP {
                        break;
                    }
                }
            };
            // A client that declares 4 MiB and sends a byte a second would otherwise hold the
            // connection for days (SECURITY.md F5 spirit: every request ends within a bound);
            // past the deadline it gets the 400 and the connection is closed under it.
            let _ = tokio::time::timeout(API_DEADLINE, drain).await;
        }
        return api_error(ApiError::InvalidInput("request too large".into()));
    }
    let res = next.run(req).await;
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return api_error(ApiError::InvalidInput("request too large".into()));
    }
    res
}

/// server_fn answers every error with 500; give each its real HTTP status instead, so a wrong
/// password is a 401 and a dead database a 503, for clients and monitoring alike.
async fn with_error_status(res: Response) -> Response {
    if !res.headers().contains_key("serverfnerror") {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, API_BODY_LIMIT).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    if let Ok(err) = serde_json::from_slice::<ApiError>(&bytes) {
        parts.status = http_status(&err);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Fails loudly if the server functions were dropped by the linker (TOOLCHAIN.md): every
/// endpoint the client calls must be registered.
pub fn check_server_fns_registered() -> Result<(), String> {
    let paths: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_owned())
        .collect();
    let missing: Vec<&str> = carekey_shared::server_fns::ENDPOINTS
        .iter()
        .chain(carekey_shared::staff_fns::STAFF_ENDPOINTS)
        .copied()
        .filter(|e| !paths.iter().any(|p| p == e))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("server functions not registered: {missing:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn ours(ip: IpAddr) -> bool {
        ip.is_loopback() || matches!(ip, IpAddr::V4(v4) if v4.octets()[0] == 10)
    }

    #[test]
    fn the_client_is_the_first_hop_from_the_right_that_is_not_ours() {
        // A direct client: its header is its own writing.
        assert_eq!(
            client_address(ip("192.0.2.9"), &["127.0.0.1"], ours),
            ip("192.0.2.9")
        );
        // Through our proxy: the address it appended.
        assert_eq!(
            client_address(ip("127.0.0.1"), &["198.51.100.4"], ours),
            ip("198.51.100.4")
        );
        // Through two of ours; what the client wrote first is ignored.
        assert_eq!(
            client_address(
                ip("127.0.0.1"),
                &["1.1.1.1", " 198.51.100.4", "10.0.0.5"],
                ours
            ),
            ip("198.51.100.4")
        );
        // Our proxy without a header, or with garbage: the proxy is what we know.
        assert_eq!(client_address(ip("10.0.0.5"), &[], ours), ip("10.0.0.5"));
        assert_eq!(
            client_address(ip("10.0.0.5"), &["not-an-ip"], ours),
            ip("10.0.0.5")
        );
        // An IPv4 peer seen on a dual-stack socket is the same address.
        assert_eq!(
            client_address(ip("::ffff:192.0.2.9"), &[], ours),
            ip("192.0.2.9")
        );
    }
}
