//! What the clinic's monitoring sees of each request (issue 16): a request id on the response
//! and on every log line written while it is handled, one log line when it is answered, and
//! the request counters and latency histogram. Plus the `/metrics` listener's own router.
//!
//! Nothing from the request's path beyond its route, its query or its body reaches a log line
//! or a label: deep links carry reset tokens, and bodies carry usernames and codes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tracing::Instrument;

use super::{AppState, LANDING_PATHS, PORTAL_PATHS, RECOVERY_PATHS};
use crate::domain::Services;
use crate::store::stats;
use crate::telemetry::{self, names};

pub const REQUEST_ID: &str = "x-request-id";

/// The routes whose template is their label. Everything else that is not an API call is one
/// of the apps' files or pages: "static".
const ROUTES: &[&str] = &[
    "/healthz",
    "/readyz",
    "/twilio/voice/{id}",
    "/dev/outbox",
    "/dev/outbox.json",
];

/// The endpoint label: a server function's path from the fixed list the API is declared with,
/// or a route's template, never the path as sent (a link's token would become a label).
pub fn endpoint_label(matched: Option<&str>, path: &str) -> &'static str {
    let Some(matched) = matched else {
        return "static";
    };
    if matched == "/api/{*fn_name}" {
        return carekey_shared::server_fns::ENDPOINTS
            .iter()
            .chain(carekey_shared::staff_fns::STAFF_ENDPOINTS)
            .find(|e| **e == path)
            .copied()
            .unwrap_or("/api/unknown");
    }
    ROUTES
        .iter()
        .chain(PORTAL_PATHS.iter())
        .chain(RECOVERY_PATHS.iter())
        .chain(LANDING_PATHS.iter())
        .find(|r| **r == matched)
        .copied()
        .unwrap_or("static")
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// A fresh id: 64 random bits in hex, enough that two requests in one log never share one.
fn new_request_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // No randomness this instant: a process-wide count still tells requests apart.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        b = n.to_be_bytes();
    }
    hex::encode(b)
}

/// The id our own proxy gave the request (the peer is in `http.trusted_proxies`), so its log
/// and ours line up; a client's own is never taken, nor one that could smuggle anything into
/// a log line.
fn forwarded_id(state: &AppState, req: &Request) -> Option<String> {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?;
    if !state.services.cfg.is_trusted_proxy(peer.0.ip()) {
        return None;
    }
    let v = req.headers().get(REQUEST_ID)?.to_str().ok()?;
    let fine = (1..=64).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    fine.then(|| v.to_owned())
}

/// Outermost middleware: gives the request its id and span, counts and times it, logs its
/// answer, and returns the id as `X-Request-Id` (what a patient or clerk can quote).
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = forwarded_id(&state, &req).unwrap_or_else(new_request_id);
    let endpoint = endpoint_label(
        req.extensions().get::<MatchedPath>().map(|m| m.as_str()),
        req.uri().path(),
    );
    let method = method_label(req.method());
    let id_header = HeaderValue::from_str(&id).ok();
    if let Some(v) = &id_header {
        req.headers_mut().insert(REQUEST_ID, v.clone());
    }
    let span = tracing::info_span!("request", request_id = %id, method, endpoint);
    let mut res = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    metrics::counter!(
        names::HTTP_REQUESTS,
        "endpoint" => endpoint,
        "method" => method,
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(names::HTTP_DURATION, "endpoint" => endpoint, "method" => method)
        .record(elapsed.as_secs_f64());
    let ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        // Probes and the apps' files would drown the calls that matter; they are there with
        // RUST_LOG=carekey_server=debug.
        if endpoint == "static" || endpoint == "/healthz" || endpoint == "/readyz" {
            tracing::debug!(status, ms, "answered");
        } else {
            tracing::info!(status, ms, "answered");
        }
    });
    if let Some(v) = id_header {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

#[derive(Clone)]
struct Scrape {
    services: Arc<Services>,
    handle: PrometheusHandle,
}

/// The metrics listener's routes: `/metrics` and nothing else.
pub fn metrics_router(services: Arc<Services>, handle: PrometheusHandle) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(Scrape { services, handle })
}

/// Longest a scrape waits for the queue counts: a database that hangs must not hang the
/// scrape too (the rest of the numbers are still worth having).
const QUEUE_QUERY_DEADLINE: Duration = Duration::from_secs(4);

async fn metrics(State(s): State<Scrape>) -> Response {
    match tokio::time::timeout(QUEUE_QUERY_DEADLINE, stats::queues(&s.services.db)).await {
        Ok(Ok(q)) => telemetry::record_queues(&q, s.services.now()),
        Ok(Err(err)) => tracing::warn!(%err, "metrics: cannot read the queues"),
        Err(_) => tracing::warn!("metrics: the queue counts took too long"),
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        s.handle.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_templates_and_declared_endpoints_never_the_path_sent() {
        assert_eq!(
            endpoint_label(Some("/api/{*fn_name}"), "/api/sign_in"),
            "/api/sign_in"
        );
        assert_eq!(
            endpoint_label(Some("/api/{*fn_name}"), "/api/maria@example.org"),
            "/api/unknown"
        );
        assert_eq!(
            endpoint_label(Some("/twilio/voice/{id}"), "/twilio/voice/42"),
            "/twilio/voice/{id}"
        );
        assert_eq!(
            endpoint_label(Some("/settings/{*rest}"), "/settings/password"),
            "/settings/{*rest}"
        );
        assert_eq!(endpoint_label(None, "/reset/abcdef0123456789"), "static");
        assert_eq!(
            endpoint_label(
                Some("/staff/{*__private__axum_nest_tail_param}"),
                "/staff/x"
            ),
            "static"
        );
    }

    #[test]
    fn request_ids_are_fresh_hex() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
