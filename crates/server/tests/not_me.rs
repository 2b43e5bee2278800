//! "This wasn't me" over HTTP (issue 12 item 5, SECURITY.md M8), on SQLite and PostgreSQL:
//! every notice's link opens a page that changes nothing; its Continue ends every session,
//! forgets remembered browsers, pauses self-service recovery for a day and flags the chart.

mod common;

use std::time::Duration;

use carekey_server::domain::twostep::totp;
use carekey_server::store::entities::{audit_log, outbox, patient, recovery_request};
use common::TestServer;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const MARIA_PW: &str = "sunflower-teapot-harbor";
const NEW_PW: &str = "lighthouse-marmalade-cactus";
const DESK_PW: &str = "front-desk-coffee-morning";

fn json(r: &common::Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {} {}", r.status, r.body))
}

/// The token of the newest "this wasn't me" link sent in any message, once the dispatcher has
/// sent one.
async fn newest_link(srv: &TestServer, seen: usize) -> String {
    let dev = srv.services.delivery.dev.clone().expect("dev outbox");
    let prefix = format!("{}/not-me#", srv.base);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let tokens: Vec<String> = dev
            .list()
            .into_iter()
            .filter_map(|m| {
                m.text
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix(&prefix).map(str::to_owned))
            })
            .collect();
        if tokens.len() > seen {
            return tokens[0].clone();
        }
        assert!(std::time::Instant::now() < deadline, "no link sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Messages of `kind` queued for `account_id`.
async fn queued(srv: &TestServer, account_id: i64, kind: outbox::Kind) -> usize {
    outbox::Entity::find()
        .filter(outbox::Column::AccountId.eq(account_id))
        .filter(outbox::Column::Kind.eq(kind))
        .all(&srv.services.db)
        .await
        .unwrap()
        .len()
}

/// maria's sign-in with the new password, from the browser holding `device`.
async fn sign_in_on(srv: &TestServer, device: &str) -> common::Reply {
    srv.post(
        "sign_in",
        &[
            ("portal", "Patient"),
            ("identifier", "maria"),
            ("password", NEW_PW),
        ],
        common::Call {
            cookie: Some(device),
            headers: vec![],
        },
    )
    .await
}

async fn request_code(srv: &TestServer) {
    let r = srv
        .api(
            "request_reset",
            &[
                ("who[identifier]", "maria"),
                ("who[email]", ""),
                ("channel", "EmailCode"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Handled here or by the server's own worker: either way, wait until it is decided, so
    // the clock does not move on under a request still waiting.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        srv.services.process_recovery_requests().await.unwrap();
        let waiting = recovery_request::Entity::find()
            .all(&srv.services.db)
            .await
            .unwrap();
        if waiting.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "request never handled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_databases!(
    continue_ends_every_session_forgets_browsers_pauses_recovery_and_flags_the_chart,
    |srv| {
        let maria = carekey_server::store::entities::account::Entity::find()
            .filter(carekey_server::store::entities::account::Column::Username.eq("maria"))
            .one(&srv.services.db)
            .await
            .unwrap()
            .unwrap();
        // maria adds an app and lets this browser skip the second step.
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        let r = srv
            .api(
                "start_authenticator",
                &[("name", "My phone")],
                Some(&cookie),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let setup = json(&r);
        let key = data_encoding::BASE32_NOPAD
            .decode(setup["key"].as_str().unwrap().replace(' ', "").as_bytes())
            .unwrap();
        let code = |steps: i64| totp::code_at(&key, totp::step_at(srv.services.now()) + steps);
        let r = srv
            .api(
                "confirm_authenticator",
                &[
                    ("id", &setup["id"].to_string()),
                    ("code", &code(0)),
                    ("current", MARIA_PW),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        // The app's notice already carries a link.
        let first = newest_link(&srv, 0).await;
        srv.clock.advance(Duration::from_secs(30));
        let pending = srv
            .sign_in("Patient", "maria", MARIA_PW)
            .await
            .session_cookie()
            .unwrap();
        let r = srv
            .api(
                "verify_second_step",
                &[
                    ("method", "AuthenticatorApp"),
                    ("code", &code(0)),
                    ("remember", "true"),
                ],
                Some(&pending),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let device = r
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("carekey_device="))
            .expect("a device cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let full = r.session_cookie().unwrap();
        assert_eq!(srv.api("home", &[], Some(&full)).await.status, 200);

        // Someone else changes the password; the notice says so, with a link.
        let r = srv.change_password(&full, MARIA_PW, NEW_PW).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let token = loop {
            let t = newest_link(&srv, 0).await;
            if t != first {
                break t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let theirs = r.session_cookie().unwrap_or(full.clone());
        assert_eq!(srv.api("home", &[], Some(&theirs)).await.status, 200);

        // Opening the link (as a mail scanner does) changes nothing.
        for _ in 0..3 {
            assert!(srv.get("/not-me").await.status < 500);
        }
        assert_eq!(srv.api("home", &[], Some(&theirs)).await.status, 200);

        let r = srv.api("report_not_me", &[("token", &token)], None).await;
        assert_eq!(r.status, 200, "{}", r.body);

        // Every session ended.
        assert_eq!(srv.api("home", &[], Some(&theirs)).await.status, 401);
        // Sign-in is locked, the new password and the remembered browser notwithstanding.
        let r = sign_in_on(&srv, &device).await;
        assert_eq!(r.status, 401, "{}", r.body);

        // A day without self-service codes; then they work again by themselves.
        request_code(&srv).await;
        assert_eq!(queued(&srv, maria.id, outbox::Kind::ResetCode).await, 0);
        srv.clock.advance(Duration::from_secs(23 * 3600));
        request_code(&srv).await;
        assert_eq!(queued(&srv, maria.id, outbox::Kind::ResetCode).await, 0);
        srv.clock.advance(Duration::from_secs(3601));
        request_code(&srv).await;
        assert_eq!(queued(&srv, maria.id, outbox::Kind::ResetCode).await, 1);

        // The chart shows the report until the desk marks it handled; both are audited.
        let pid = patient::Entity::find()
            .filter(patient::Column::Mrn.eq("100001"))
            .one(&srv.services.db)
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string();
        let desk = srv.session("Staff", "frontdesk", DESK_PW).await;
        let chart = json(
            &srv.api("patient_chart", &[("patient_id", &pid)], Some(&desk))
                .await,
        );
        assert!(chart["portal"]["reported_at_ms"].is_i64(), "{chart}");
        assert_eq!(chart["portal"]["status"], "Locked", "{chart}");
        assert_eq!(chart["portal"]["lock_reason"], "reported", "{chart}");
        // The desk, having checked who is calling, unlocks; the browser that was remembered
        // is asked for the second step again.
        let r = srv
            .api("portal_unlock", &[("patient_id", &pid)], Some(&desk))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = sign_in_on(&srv, &device).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(json(&r)["second_step"].is_object(), "{}", r.body);
        let r = srv
            .api(
                "portal_report_handled",
                &[("patient_id", &pid)],
                Some(&desk),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(json(&r)["portal"]["reported_at_ms"].is_null(), "{}", r.body);
        for action in ["not_me_reported", "not_me_handled"] {
            let rows = audit_log::Entity::find()
                .filter(audit_log::Column::Action.eq(action))
                .filter(audit_log::Column::TargetAccountId.eq(maria.id))
                .all(&srv.services.db)
                .await
                .unwrap();
            assert_eq!(rows.len(), 1, "{action}");
        }
    }
);

on_both_databases!(
    a_made_up_link_is_refused_calmly_and_a_used_one_again_is_done,
    |srv| {
        let made_up = srv
            .api(
                "report_not_me",
                &[("token", "AAAAAAAAAAAAAAAAAAAAAA")],
                None,
            )
            .await;
        assert_eq!(made_up.status, 400, "{}", made_up.body);
        assert!(made_up.body.contains("NotAccepted"), "{}", made_up.body);

        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        let r = srv.change_password(&cookie, MARIA_PW, NEW_PW).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let token = newest_link(&srv, 0).await;
        for _ in 0..2 {
            let r = srv.api("report_not_me", &[("token", &token)], None).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let reports = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("not_me_reported"))
            .all(&srv.services.db)
            .await
            .unwrap();
        assert_eq!(reports.len(), 1);
    }
);
