//! Two-step verification over HTTP (issue 12, SECURITY.md M1–M6), on SQLite and PostgreSQL:
//! a right password alone opens nothing, authenticator-app codes and saved recovery codes, a
//! reset that keeps the second step, the same answers before the password whatever the
//! account has, and wrong codes counted toward the pause.

mod common;

use std::time::Duration;

use carekey_server::domain::twostep::totp;
use common::TestServer;

const MARIA_PW: &str = "sunflower-teapot-harbor";
const JCHEN_PW: &str = "granite-maple-lantern";
const NEW_PW: &str = "lighthouse-marmalade-cactus";

fn json(r: &common::Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {} {}", r.status, r.body))
}

fn code(srv: &TestServer, key: &[u8], steps_from_now: i64) -> String {
    totp::code_at(key, totp::step_at(srv.services.now()) + steps_from_now)
}

/// Adds an authenticator app to the signed-in account; answers its key and the recovery codes
/// shown once. The clock then moves to the next step, as the confirming code's is spent.
async fn enrol(srv: &TestServer, cookie: &str, pw: &str) -> (Vec<u8>, Vec<String>) {
    let r = srv
        .api("start_authenticator", &[("name", "My phone")], Some(cookie))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let setup = json(&r);
    let key = data_encoding::BASE32_NOPAD
        .decode(setup["key"].as_str().unwrap().replace(' ', "").as_bytes())
        .unwrap();
    assert!(setup["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let id = setup["id"].to_string();
    let c = code(srv, &key, 0);
    let r = srv
        .api(
            "confirm_authenticator",
            &[("id", &id), ("code", &c), ("current", pw)],
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let codes: Vec<String> = json(&r)["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    srv.clock.advance(Duration::from_secs(30));
    (key, codes)
}

async fn second_step(srv: &TestServer, cookie: &str, method: &str, code: &str) -> common::Reply {
    srv.api(
        "verify_second_step",
        &[("method", method), ("code", code), ("remember", "false")],
        Some(cookie),
    )
    .await
}

/// Signs in with the password: the answer offers the second step and sets the half-done
/// session's cookie.
async fn password_step(srv: &TestServer, id: &str, pw: &str) -> String {
    let r = srv.sign_in("Patient", id, pw).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        json(&r)["second_step"].is_object(),
        "second step offered: {}",
        r.body
    );
    r.session_cookie().unwrap()
}

on_both_databases!(a_right_password_alone_opens_nothing, |srv| {
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let (key, codes) = enrol(&srv, &cookie, MARIA_PW).await;
    assert_eq!(codes.len(), 10);

    let r = srv.sign_in("Patient", "maria", MARIA_PW).await;
    let offer = &json(&r)["second_step"];
    assert_eq!(offer["preferred"], "AuthenticatorApp");
    assert_eq!(
        offer["methods"],
        serde_json::json!(["AuthenticatorApp", "BackupCode"])
    );
    let pending = r.session_cookie().unwrap();
    for endpoint in [
        "whoami",
        "home",
        "my_contacts",
        "list_sessions",
        "my_language",
        "two_step_status",
    ] {
        let r = srv.api(endpoint, &[], Some(&pending)).await;
        assert_eq!(r.status, 401, "{endpoint} with only a password: {}", r.body);
    }
    let r = srv
        .change_password(&pending, MARIA_PW, "a-whole-new-password-here")
        .await;
    assert_eq!(r.status, 401, "{}", r.body);

    let r = second_step(&srv, &pending, "AuthenticatorApp", &code(&srv, &key, 0)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let full = r.session_cookie().expect("a new session cookie");
    assert_ne!(full, pending);
    assert_eq!(srv.api("home", &[], Some(&full)).await.status, 200);
    assert_eq!(srv.api("home", &[], Some(&pending)).await.status, 401);
    let status = json(&srv.api("two_step_status", &[], Some(&full)).await);
    assert_eq!(status["methods"][0]["name"], "My phone");
    assert_eq!(status["backup_codes_left"], 10);
    // Never the key.
    assert!(!status.to_string().contains("secret"));
});

on_both_databases!(
    app_codes_are_accepted_one_step_either_side_and_once,
    |srv| {
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        let (key, _) = enrol(&srv, &cookie, MARIA_PW).await;
        // Clear of the step the app was confirmed with, which is spent.
        srv.clock.advance(Duration::from_secs(60));
        let pending = password_step(&srv, "maria", MARIA_PW).await;
        for (offset, what) in [(-2, "a minute old"), (2, "a minute ahead")] {
            let r = second_step(
                &srv,
                &pending,
                "AuthenticatorApp",
                &code(&srv, &key, offset),
            )
            .await;
            assert_eq!(r.status, 401, "{what}: {}", r.body);
            assert!(r.body.contains("SecondStepFailed"), "{}", r.body);
        }
        let previous = code(&srv, &key, -1);
        let r = second_step(&srv, &pending, "AuthenticatorApp", &previous).await;
        assert_eq!(
            r.status, 200,
            "the step before (a slow phone clock): {}",
            r.body
        );
        // The same code again: refused, though still within its step.
        let pending = password_step(&srv, "maria", MARIA_PW).await;
        let r = second_step(&srv, &pending, "AuthenticatorApp", &previous).await;
        assert_eq!(r.status, 401, "replayed: {}", r.body);
        let r = second_step(&srv, &pending, "AuthenticatorApp", &code(&srv, &key, 1)).await;
        assert_eq!(
            r.status, 200,
            "the step after (a fast phone clock): {}",
            r.body
        );
    }
);

on_both_databases!(
    a_recovery_code_works_once_and_a_new_set_voids_the_old,
    |srv| {
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        let (_, codes) = enrol(&srv, &cookie, MARIA_PW).await;
        let pending = password_step(&srv, "maria", MARIA_PW).await;
        let r = second_step(&srv, &pending, "BackupCode", &codes[3].to_uppercase()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let full = r.session_cookie().unwrap();
        let pending = password_step(&srv, "maria", MARIA_PW).await;
        let r = second_step(&srv, &pending, "BackupCode", &codes[3]).await;
        assert_eq!(r.status, 401, "used twice: {}", r.body);
        let status = json(&srv.api("two_step_status", &[], Some(&full)).await);
        assert_eq!(status["backup_codes_left"], 9);

        let r = srv
            .api(
                "regenerate_backup_codes",
                &[("current", "not-the-password")],
                Some(&full),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        let r = srv
            .api(
                "regenerate_backup_codes",
                &[("current", MARIA_PW)],
                Some(&full),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let fresh: Vec<String> = serde_json::from_str(&r.body).unwrap();
        assert_eq!(fresh.len(), 10);
        let r = second_step(&srv, &pending, "BackupCode", &codes[4]).await;
        assert_eq!(r.status, 401, "an old code after regenerating: {}", r.body);
        let r = second_step(&srv, &pending, "BackupCode", &fresh[0]).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

on_both_databases!(
    a_reset_by_email_link_still_asks_for_the_second_step,
    |srv| {
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        let (key, _) = enrol(&srv, &cookie, MARIA_PW).await;
        let r = srv
            .api(
                "request_reset",
                &[
                    ("who[identifier]", "maria"),
                    ("who[email]", ""),
                    ("channel", "EmailLink"),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        srv.services.process_recovery_requests().await.unwrap();
        let dev = srv.services.delivery.dev.clone().expect("dev outbox");
        let prefix = format!("{}/reset#t=", srv.base);
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let token = loop {
            let found = dev.list().into_iter().find_map(|m| {
                m.text
                    .lines()
                    .find(|l| l.starts_with(&prefix))
                    .map(|l| l.trim_start_matches(&prefix).trim().to_owned())
            });
            if let Some(t) = found {
                break t;
            }
            assert!(std::time::Instant::now() < deadline, "no reset link sent");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let g = srv
            .api("redeem_reset_link", &[("token", &token)], None)
            .await;
        assert_eq!(g.status, 200, "{}", g.body);
        let grant = json(&g)["grant"].as_str().unwrap().to_owned();
        let r = srv
            .api(
                "complete_reset",
                &[("grant", &grant), ("new", NEW_PW), ("repeat", NEW_PW)],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        // The new password is only the first step: the app is still asked for (ASVS V6.4.3).
        let pending = password_step(&srv, "maria", NEW_PW).await;
        assert_eq!(srv.api("home", &[], Some(&pending)).await.status, 401);
        let r = second_step(&srv, &pending, "AuthenticatorApp", &code(&srv, &key, 0)).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

on_both_databases!(
    answers_before_the_password_do_not_depend_on_the_methods,
    |srv| {
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        enrol(&srv, &cookie, MARIA_PW).await;
        // maria has an app and recovery codes; jchen has neither.
        let a = srv.sign_in("Patient", "maria", "wrong-password-here").await;
        let b = srv.sign_in("Patient", "jchen", "wrong-password-here").await;
        assert_eq!((a.status, &a.body), (b.status, &b.body));
        assert_eq!(a.stable_headers(), b.stable_headers());
        assert!(a.session_cookie().is_none());
        // The second step without a half-done sign-in: the same for anyone.
        let a = srv
            .api(
                "verify_second_step",
                &[
                    ("method", "AuthenticatorApp"),
                    ("code", "123456"),
                    ("remember", "false"),
                ],
                None,
            )
            .await;
        let b = srv
            .api(
                "verify_second_step",
                &[
                    ("method", "BackupCode"),
                    ("code", "123456"),
                    ("remember", "false"),
                ],
                Some("carekey_session=made-up"),
            )
            .await;
        assert_eq!((a.status, &a.body), (b.status, &b.body));
        assert_eq!(a.status, 401);
        // jchen's right password opens the portal at once: no second step is on file.
        let r = srv.sign_in("Patient", "jchen", JCHEN_PW).await;
        assert!(json(&r)["second_step"].is_null(), "{}", r.body);
    }
);

on_both_databases!(wrong_second_step_codes_pause_the_account, |srv| {
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let (key, _) = enrol(&srv, &cookie, MARIA_PW).await;
    let right = code(&srv, &key, 0);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        // Entering the known password again between guesses does not clear the count.
        let pending = password_step(&srv, "maria", MARIA_PW).await;
        let r = second_step(&srv, &pending, "AuthenticatorApp", wrong).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    // Paused (SECURITY.md A1): the password gets the one answer every failure gets.
    let r = srv.sign_in("Patient", "maria", MARIA_PW).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("SignInFailed"), "{}", r.body);
    srv.clock.advance(Duration::from_secs(15 * 60 + 1));
    let pending = password_step(&srv, "maria", MARIA_PW).await;
    let r = second_step(&srv, &pending, "AuthenticatorApp", &code(&srv, &key, 0)).await;
    assert_eq!(r.status, 200, "{}", r.body);
});

/// `mfa.patients = required`: a sign-in without a second step on file reaches only the pages
/// that add one (SECURITY.md M2), and the last one cannot be removed.
async fn required_policy(srv: TestServer) {
    let r = srv.sign_in("Patient", "maria", MARIA_PW).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r)["must_add_second_step"], true);
    let cookie = r.session_cookie().unwrap();
    let home = srv.api("home", &[], Some(&cookie)).await;
    assert_eq!(home.status, 403, "{}", home.body);
    assert!(
        home.body.contains("SecondStepSetupRequired"),
        "{}",
        home.body
    );
    assert_eq!(
        json(&srv.api("two_step_status", &[], Some(&cookie)).await)["required"],
        true
    );
    let (_, codes) = enrol(&srv, &cookie, MARIA_PW).await;
    assert_eq!(codes.len(), 10);
    assert_eq!(srv.api("home", &[], Some(&cookie)).await.status, 200);
    let status = json(&srv.api("two_step_status", &[], Some(&cookie)).await);
    let id = status["methods"][0]["id"].to_string();
    let r = srv
        .api(
            "remove_two_step_method",
            &[("id", &id), ("current", MARIA_PW)],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("LastSecondStep"), "{}", r.body);
}

mod a_clinic_that_requires_a_second_step_gets_one_first {
    use super::*;
    const REQUIRED: &[(&str, &str)] = &[("CAREKEY_MFA_PATIENTS", "required")];

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let srv = common::start_with(common::Db::Sqlite, "mfa_required", REQUIRED)
            .await
            .unwrap();
        required_policy(srv).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(srv) = common::start_with(common::Db::Postgres, "mfa_required", REQUIRED).await
        {
            required_policy(srv).await;
        }
    }
}

/// `mfa.staff = required` (the default): a member of staff without a second step reaches no
/// staff call until they add one, then the console works and the next sign-in asks for it.
async fn staff_required(srv: TestServer) {
    let r = srv.sign_in("Staff", "frontdesk", FRONTDESK_PW).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r)["must_add_second_step"], true);
    let cookie = r.session_cookie().unwrap();
    let search = srv
        .api("search_patients", &[("query", "Lopez")], Some(&cookie))
        .await;
    assert_eq!(search.status, 403, "{}", search.body);
    assert!(
        search.body.contains("SecondStepSetupRequired"),
        "{}",
        search.body
    );
    let (key, _) = enrol(&srv, &cookie, FRONTDESK_PW).await;
    let search = srv
        .api("search_patients", &[("query", "Lopez")], Some(&cookie))
        .await;
    assert_eq!(search.status, 200, "{}", search.body);
    let r = srv.sign_in("Staff", "frontdesk", FRONTDESK_PW).await;
    assert!(json(&r)["second_step"].is_object(), "{}", r.body);
    let pending = r.session_cookie().unwrap();
    let r = srv
        .api("search_patients", &[("query", "Lopez")], Some(&pending))
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = second_step(&srv, &pending, "AuthenticatorApp", &code(&srv, &key, 0)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

const FRONTDESK_PW: &str = "front-desk-coffee-morning";

mod staff_must_add_a_second_step_by_default {
    use super::*;
    const DEFAULT: &[(&str, &str)] = &[("CAREKEY_MFA_STAFF", "required")];

    #[test]
    fn required_is_the_default() {
        let cfg = carekey_server::config::load(None, false, &|k| {
            (k == "DATABASE_URL").then(|| "sqlite:///tmp/carekey-unused.db".to_owned())
        })
        .unwrap();
        assert_eq!(cfg.mfa.staff, carekey_server::config::MfaPolicy::Required);
        assert_eq!(
            cfg.mfa.patients,
            carekey_server::config::MfaPolicy::Optional
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let srv = common::start_with(common::Db::Sqlite, "mfa_staff", DEFAULT)
            .await
            .unwrap();
        staff_required(srv).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(srv) = common::start_with(common::Db::Postgres, "mfa_staff", DEFAULT).await {
            staff_required(srv).await;
        }
    }
}

on_both_databases!(
    the_clinic_resets_two_step_for_a_patient_who_lost_everything,
    |srv| {
        use carekey_server::store::entities::{audit_log, outbox, patient};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        enrol(&srv, &cookie, MARIA_PW).await;
        let pid = patient::Entity::find()
            .filter(patient::Column::Mrn.eq("100001"))
            .one(&srv.services.db)
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string();
        let desk = srv.session("Staff", "frontdesk", FRONTDESK_PW).await;
        let chart = json(
            &srv.api("patient_chart", &[("patient_id", &pid)], Some(&desk))
                .await,
        );
        // The widget shows which kinds she has, never a secret.
        assert_eq!(
            chart["portal"]["two_step"],
            serde_json::json!(["AuthenticatorApp", "BackupCode"])
        );
        let reset = |ticked: &'static str| {
            let pid = pid.clone();
            let desk = desk.clone();
            let srv = &srv;
            async move {
                srv.api(
                    "portal_reset_two_step",
                    &[
                        ("patient_id", &pid),
                        ("checks[date_of_birth]", ticked),
                        ("checks[zip]", "false"),
                        ("checks[callback_number]", ticked),
                        ("checks[photo_id]", "false"),
                    ],
                    Some(&desk),
                )
                .await
            }
        };
        let none = reset("false").await;
        assert_eq!(none.status, 400, "nothing ticked: {}", none.body);
        assert!(
            json(&srv.api("two_step_status", &[], Some(&cookie)).await)["methods"][0].is_object()
        );

        let r = reset("true").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(json(&r)["portal"]["two_step"], serde_json::json!([]));
        // Every session ended; the password alone signs in again (the clinic's policy here is
        // optional), and she can add a new app.
        assert_eq!(srv.api("home", &[], Some(&cookie)).await.status, 401);
        let r = srv.sign_in("Patient", "maria", MARIA_PW).await;
        assert!(json(&r)["second_step"].is_null(), "{}", r.body);
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("two_step_reset_by_staff"))
            .all(&srv.services.db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert!(
            rows[0].details.contains("date_of_birth")
                && rows[0].details.contains("callback_number")
        );
        assert_eq!(rows[0].actor, "frontdesk");
        // Every contact is told: her email and her mobile.
        let told = outbox::Entity::find()
            .filter(outbox::Column::Kind.eq(outbox::Kind::TwoStepNotice))
            .all(&srv.services.db)
            .await
            .unwrap();
        let destinations: Vec<_> = told.iter().map(|m| m.destination.clone()).collect();
        assert!(
            destinations.contains(&"maria.lopez@example.com".to_owned()),
            "{destinations:?}"
        );
        assert!(
            destinations.contains(&"+15035550101".to_owned()),
            "{destinations:?}"
        );
    }
);

on_both_databases!(
    a_remembered_browser_skips_the_second_step_until_the_password_changes,
    |srv| {
        use carekey_server::store::entities::outbox;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        let (key, _) = enrol(&srv, &cookie, MARIA_PW).await;
        let pending = password_step(&srv, "maria", MARIA_PW).await;
        let r = srv
            .api(
                "verify_second_step",
                &[
                    ("method", "AuthenticatorApp"),
                    ("code", &code(&srv, &key, 0)),
                    ("remember", "true"),
                ],
                Some(&pending),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let device_header = r
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("carekey_device="))
            .expect("a device cookie")
            .to_owned();
        assert!(
            device_header.contains("Max-Age=2592000"),
            "30 days: {device_header}"
        );
        assert!(device_header.contains("HttpOnly") && device_header.contains("SameSite=Strict"));
        let device = device_header.split(';').next().unwrap().to_owned();
        let told = outbox::Entity::find()
            .filter(outbox::Column::Kind.eq(outbox::Kind::TwoStepNotice))
            .all(&srv.services.db)
            .await
            .unwrap()
            .len();
        assert!(
            told >= 2,
            "the app added and the browser remembered: {told}"
        );

        let sign_in_here = |with: String| {
            let srv = &srv;
            async move {
                srv.post(
                    "sign_in",
                    &[
                        ("portal", "Patient"),
                        ("identifier", "maria"),
                        ("password", MARIA_PW),
                    ],
                    common::Call {
                        cookie: Some(&with),
                        headers: vec![],
                    },
                )
                .await
            }
        };
        // This browser: the password alone, and in.
        let r = sign_in_here(device.clone()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(json(&r)["second_step"].is_null(), "{}", r.body);
        let full = r.session_cookie().unwrap();
        assert_eq!(srv.api("home", &[], Some(&full)).await.status, 200);
        // Another browser, or a made-up token: still asked.
        let r = sign_in_here("carekey_device=made-up".into()).await;
        assert!(json(&r)["second_step"].is_object(), "{}", r.body);
        // A new password forgets every remembered browser.
        let r = srv.change_password(&full, MARIA_PW, NEW_PW).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = srv
            .post(
                "sign_in",
                &[
                    ("portal", "Patient"),
                    ("identifier", "maria"),
                    ("password", NEW_PW),
                ],
                common::Call {
                    cookie: Some(&device),
                    headers: vec![],
                },
            )
            .await;
        assert!(
            json(&r)["second_step"].is_object(),
            "after a password change: {}",
            r.body
        );
    }
);

on_both_databases!(
    an_administrator_resets_a_staff_members_two_step_with_their_own_password,
    |srv| {
        use carekey_server::store::entities::{account, audit_log};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let desk = srv.session("Staff", "frontdesk", FRONTDESK_PW).await;
        enrol(&srv, &desk, FRONTDESK_PW).await;
        let desk_id = account::Entity::find()
            .filter(account::Column::UsernameLower.eq("frontdesk"))
            .one(&srv.services.db)
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string();
        let admin = srv.session("Staff", "admin", ADMIN_PW).await;
        let reset = |your: &'static str| {
            let (srv, admin, desk_id) = (&srv, admin.clone(), desk_id.clone());
            async move {
                srv.api(
                    "admin_reset_two_step",
                    &[("user_id", &desk_id), ("your_password", your)],
                    Some(&admin),
                )
                .await
            }
        };
        // The user's password in "your password": refused, and nothing removed.
        let r = reset(FRONTDESK_PW).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("CurrentPasswordIncorrect"), "{}", r.body);
        let r = srv.sign_in("Staff", "frontdesk", FRONTDESK_PW).await;
        assert!(
            json(&r)["second_step"].is_object(),
            "still asked: {}",
            r.body
        );
        // Not for a patient account, nor their own (that is Settings).
        let r = srv
            .api(
                "admin_reset_two_step",
                &[("user_id", "1"), ("your_password", ADMIN_PW)],
                Some(&admin),
            )
            .await;
        assert!(matches!(r.status, 403 | 404), "{} {}", r.status, r.body);

        let r = reset(ADMIN_PW).await;
        assert_eq!(r.status, 200, "{}", r.body);
        // Signed out everywhere; the app no longer asked for; the audit row names the check.
        assert_eq!(srv.api("whoami", &[], Some(&desk)).await.status, 401);
        let r = srv.sign_in("Staff", "frontdesk", FRONTDESK_PW).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(json(&r)["second_step"].is_null(), "{}", r.body);
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("two_step_reset_by_staff"))
            .all(&srv.services.db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].actor, "admin");
        assert!(
            rows[0].details.contains("administrator_password"),
            "{}",
            rows[0].details
        );
    }
);

const ADMIN_PW: &str = "violet-canyon-river-stone";
