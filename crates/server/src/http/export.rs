//! `GET /api/audit.csv`: Admin > Audit log's export, streamed. Every matching row is sent,
//! read from the database a batch at a time as the browser takes them, and the file ends with
//! the chain's proof (SECURITY.md S7); a file without that last line was cut short.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use carekey_shared::ApiError;
use carekey_shared::staff::AuditFilter;
use serde::Deserialize;

use super::{API_DEADLINE, AppState, api_error, client_ip, cookies};
use crate::domain::staff::audit_view::{AUDIT_CSV_HEADER, AuditExport};
use crate::domain::{ClientMeta, DomainError, Services};

/// The filter as the export link carries it; a field left out matches everything.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    person: String,
    action: String,
    from: String,
    to: String,
}

/// The longest the closing chain check may take: about a million rows on a slow disk.
const PROOF_DEADLINE: std::time::Duration = std::time::Duration::from_secs(300);

enum Part {
    Header,
    Rows(i64),
    Proof,
    Done,
}

pub async fn audit_csv(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    Query(q): Query<ExportQuery>,
    headers: HeaderMap,
) -> Response {
    let services = state.services.clone();
    let token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| cookies::token_from_header(&services.cfg, h));
    let meta = ClientMeta {
        ip: client_ip(&state, &headers, peer),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(300)
            .collect(),
        flow: None,
    };
    let filter = AuditFilter {
        person: q.person,
        action: q.action,
        from: q.from,
        to: q.to,
    };
    let start = async {
        let admin = services
            .signed_in(
                token.as_deref(),
                crate::domain::signin::Allow::FullSessionOnly,
                &meta,
            )
            .await?
            .admin()?;
        // A HEAD (a browser or proxy checking the link) reads nothing, so it is not recorded
        // as an export and does not check the chain.
        if method == Method::HEAD {
            return Ok(None);
        }
        services.audit_export(&admin, &filter).await.map(Some)
    };
    // Recording the export runs under the API's bound; the rows and the chain check stream.
    let export = match tokio::time::timeout(API_DEADLINE, start).await {
        Ok(Ok(Some(export))) => Arc::new(export),
        Ok(Ok(None)) => return csv_headers(Body::empty().into_response()),
        Ok(Err(e)) => return api_error(ApiError::from(e)),
        Err(_) => return api_error(ApiError::Unavailable),
    };
    let body = futures_util::stream::unfold(Part::Header, move |part| {
        let services = services.clone();
        let export = export.clone();
        async move { next_part(&services, &export, part).await }
    });
    csv_headers(Body::from_stream(body).into_response())
}

fn csv_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"carekey-audit.csv\""),
    );
    res
}

async fn next_part(
    services: &Services,
    export: &AuditExport,
    part: Part,
) -> Option<(Result<Bytes, DomainError>, Part)> {
    match part {
        Part::Header => Some((
            Ok(Bytes::from_static(AUDIT_CSV_HEADER.as_bytes())),
            Part::Rows(0),
        )),
        Part::Rows(after) => match services.audit_export_chunk(export, after).await {
            Ok(Some((last, text))) => Some((Ok(Bytes::from(text)), Part::Rows(last))),
            Ok(None) => {
                // Bounded, as every call is, but by the length of a trail, not a page: a
                // database that hangs ends the download as failed, never as whole.
                let proof = tokio::time::timeout(PROOF_DEADLINE, services.audit_export_proof());
                match proof.await {
                    Ok(Ok(line)) => Some((Ok(Bytes::from(line)), Part::Proof)),
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "audit export's chain check failed");
                        Some((Err(e), Part::Done))
                    }
                    Err(_) => {
                        tracing::error!("audit export's chain check exceeded {PROOF_DEADLINE:?}");
                        Some((
                            Err(DomainError::Internal("chain check timed out".into())),
                            Part::Done,
                        ))
                    }
                }
            }
            // The stream ends with an error: the browser sees a failed download, never a
            // file that looks whole without its rows.
            Err(e) => {
                tracing::error!(error = %e, "audit export stopped");
                Some((Err(e), Part::Done))
            }
        },
        Part::Proof | Part::Done => None,
    }
}
