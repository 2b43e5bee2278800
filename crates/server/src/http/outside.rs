//! Endpoints that are not server functions: the script Twilio fetches for a voice call, and
//! the development outbox page.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::EntityTrait;

use super::AppState;
use crate::delivery::outbound::{Channel, Lang};
use crate::delivery::twilio::{call_twiml, hangup_twiml, signature_valid};
use crate::delivery::{Queued, outbox};
use crate::domain::limits::{self, DAY};
use crate::store::entities::outbox as outbox_row;

/// A call's script may be played this many times (the first play and two repeats).
const MAX_PLAYS: u32 = 3;

fn twiml(xml: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
}

/// `POST /twilio/voice/{id}?t=…[&r=1]`: only Twilio (valid signature) with the message's own
/// tag, only while the code is valid, and at most three plays (SECURITY.md A4). The script is
/// put into words here, from the sealed message, in the language queued with it.
pub async fn twilio_voice(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let svc = &state.services;
    let Some(tw) = &svc.cfg.twilio else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let query = query.unwrap_or_default();
    let q: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let tag_ok = get("t").is_some_and(|t| svc.key.verify(&["voice", &id.to_string()], t));
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let url = format!("{}/twilio/voice/{id}?{query}", svc.cfg.public_url);
    let signed = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sig| signature_valid(&tw.auth_token.0, &url, &params, sig));
    if !(tag_ok && signed) {
        tracing::warn!(id, "voice script request refused: bad tag or signature");
        return StatusCode::FORBIDDEN.into_response();
    }
    let renderer = &svc.delivery.renderer;
    // Without a readable message there is no language to say goodbye in but the default.
    let goodbye = |lang: Lang| twiml(hangup_twiml(&renderer.goodbye(lang), lang));
    let now = svc.now();
    let row = match outbox_row::Entity::find_by_id(id).one(&svc.db).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(%e, "voice script: database");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let live = row.filter(|r| {
        r.channel == Channel::Voice
            && r.status == outbox_row::Status::Sent
            && r.payload != outbox::SCRUBBED
            && r.expires_at.is_some_and(|t| t > now)
    });
    let Some(row) = live else {
        return goodbye(Lang::default());
    };
    let opened = outbox::open_payload(&svc.delivery.sealer, &row);
    let Some(queued) = opened
        .ok()
        .and_then(|p| serde_json::from_str::<Queued>(&p).ok())
    else {
        return goodbye(Lang::default());
    };
    // Any key but 1 after the script ends the call; it is not a play.
    let repeat = get("r") == Some("1");
    let pressed = params
        .iter()
        .find(|(k, _)| k == "Digits")
        .map(|(_, v)| v.as_str());
    if repeat && pressed != Some("1") {
        return goodbye(queued.lang);
    }
    match limits::hit(&svc.db, &format!("voice:plays:{id}"), DAY, now).await {
        Ok(n) if n <= MAX_PLAYS => {}
        Ok(_) => return goodbye(queued.lang),
        Err(e) => {
            tracing::error!(%e, "voice script: database");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let t = get("t").unwrap_or_default();
    let repeat_url = format!("{}/twilio/voice/{id}?t={t}&r=1", svc.cfg.public_url);
    match call_twiml(&renderer.render(&queued), &repeat_url) {
        Some(xml) => twiml(xml),
        None => goodbye(queued.lang),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /dev/outbox`: what would have been emailed, texted or read out, newest first. Exists
/// only in dev mode with the development outbox in use.
pub async fn dev_outbox(State(state): State<AppState>) -> Response {
    let Some(dev) = state
        .services
        .delivery
        .dev
        .as_ref()
        .filter(|_| state.services.cfg.dev_mode)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Development outbox – CareKey</title></head><body><main>\
         <h1>Development outbox</h1>\
         <p>Messages CareKey would have sent. Shown only in development mode.</p>",
    );
    let list = dev.list();
    if list.is_empty() {
        html.push_str("<p>No messages yet.</p>");
    }
    for m in list {
        html.push_str(&format!(
            "<article aria-label=\"Message {id}\"><h2>{channel} to {to}</h2>{subject}<pre>{text}</pre></article>",
            id = m.id,
            channel = esc(match m.channel {
                Channel::Sms => "Text message",
                Channel::Voice => "Voice call",
                Channel::Email => "Email",
            }),
            to = esc(&m.to),
            subject = if m.subject.is_empty() {
                String::new()
            } else {
                format!("<p>Subject: {}</p>", esc(&m.subject))
            },
            text = esc(&m.text),
        ));
    }
    html.push_str("</main></body></html>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// `GET /dev/outbox.json`, for scripts and tests.
pub async fn dev_outbox_json(State(state): State<AppState>) -> Response {
    match state
        .services
        .delivery
        .dev
        .as_ref()
        .filter(|_| state.services.cfg.dev_mode)
    {
        Some(dev) => axum::Json(dev.list()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
