//! Codes sent by text or call as the second step (issue 12, SECURITY.md M1, M4, M5), over HTTP
//! on SQLite and PostgreSQL: added in Settings by typing back the first code, sent only once the
//! password is proved and only when asked for, used once, and never both a reset's proof and
//! the second step of the sign-in after it.

mod common;

use std::time::Duration;

use common::TestServer;

const MARIA_PW: &str = "sunflower-teapot-harbor";
const MARIA_MOBILE: &str = "+15035550101";
const NEW_PW: &str = "lighthouse-marmalade-cactus";

fn json(r: &common::Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {} {}", r.status, r.body))
}

/// The eight-digit code in the newest message of `kind` to `to`, once there are more than
/// `seen` of them.
async fn newest_code(srv: &TestServer, kind: &str, to: &str, seen: usize) -> String {
    let dev = srv.services.delivery.dev.clone().expect("dev outbox");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let found: Vec<_> = dev
            .list()
            .into_iter()
            .filter(|m| m.kind == kind && m.to == to)
            .collect();
        if found.len() > seen {
            return found[0]
                .text
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 8)
                .unwrap_or_else(|| panic!("no code in {}", found[0].text))
                .to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {kind} sent to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sent(srv: &TestServer, kind: &str, to: &str) -> usize {
    let dev = srv.services.delivery.dev.clone().expect("dev outbox");
    dev.list()
        .into_iter()
        .filter(|m| m.kind == kind && m.to == to)
        .count()
}

/// Adds codes by text to maria's mobile in Settings; answers the method's id and the recovery
/// codes it brought.
async fn add_text_codes(srv: &TestServer, cookie: &str) -> (i64, Vec<String>) {
    let status = json(&srv.api("two_step_status", &[], Some(cookie)).await);
    let targets = status["can_send_to"].as_array().unwrap().clone();
    // Her mobile, masked; no email address (the clinic has not allowed email).
    assert_eq!(targets.len(), 1, "{status}");
    assert_eq!(targets[0]["route"], "Text");
    assert_eq!(targets[0]["masked"], "•••-•••-0101");
    let contact = targets[0]["id"].to_string();
    let seen = sent(srv, "sign_in_code", MARIA_MOBILE);
    // The password is checked before anything is sent.
    let r = srv
        .api(
            "start_sent_code",
            &[("contact_id", &contact), ("current", "not-her-password")],
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(sent(srv, "sign_in_code", MARIA_MOBILE), seen);
    let r = srv
        .api(
            "start_sent_code",
            &[("contact_id", &contact), ("current", MARIA_PW)],
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let started = json(&r);
    let id = started["id"].to_string();
    let code = newest_code(srv, "sign_in_code", MARIA_MOBILE, seen).await;
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let r = srv
        .api(
            "confirm_sent_code",
            &[("id", &id), ("code", wrong)],
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = srv
        .api(
            "confirm_sent_code",
            &[("id", &id), ("code", &code)],
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let done = json(&r);
    assert_eq!(done["backup_codes"].as_array().unwrap().len(), 10);
    assert_eq!(done["status"]["methods"][0]["kind"], "SentCode");
    assert!(done["status"]["can_send_to"].as_array().unwrap().is_empty());
    let codes = done["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (id.parse().unwrap(), codes)
}

/// The password step: answers the half-done sign-in's cookie and the offer.
async fn password_step(srv: &TestServer, pw: &str) -> (String, serde_json::Value) {
    let r = srv.sign_in("Patient", "maria", pw).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let offer = json(&r)["second_step"].clone();
    (r.session_cookie().unwrap(), offer)
}

async fn answer(srv: &TestServer, pending: &str, code: &str) -> common::Reply {
    srv.api(
        "verify_second_step",
        &[
            ("method", "SentCode"),
            ("code", code),
            ("remember", "false"),
        ],
        Some(pending),
    )
    .await
}

on_both_databases!(a_code_by_text_is_sent_when_asked_and_works_once, |srv| {
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let (method, _) = add_text_codes(&srv, &cookie).await;

    let (pending, offer) = password_step(&srv, MARIA_PW).await;
    assert_eq!(offer["preferred"], "SentCode", "{offer}");
    assert_eq!(offer["targets"][0]["id"], method);
    assert_eq!(offer["targets"][0]["masked"], "•••-•••-0101");
    // Nothing is sent until asked for, and only to a target of this account.
    let seen = sent(&srv, "sign_in_code", MARIA_MOBILE);
    assert_eq!(srv.api("home", &[], Some(&pending)).await.status, 401);
    let r = srv
        .api(
            "send_second_step_code",
            &[("target", "999999")],
            Some(&pending),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Without a half-done sign-in there is nothing to send to.
    let r = srv
        .api(
            "send_second_step_code",
            &[("target", &method.to_string())],
            None,
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(sent(&srv, "sign_in_code", MARIA_MOBILE), seen);

    let r = srv
        .api(
            "send_second_step_code",
            &[("target", &method.to_string())],
            Some(&pending),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let reply = json(&r);
    assert_eq!(reply["target"]["route"], "Text");
    let code = newest_code(&srv, "sign_in_code", MARIA_MOBILE, seen).await;
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    assert_eq!(answer(&srv, &pending, wrong).await.status, 401);
    let r = answer(&srv, &pending, &code).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let full = r.session_cookie().unwrap();
    assert_eq!(srv.api("home", &[], Some(&full)).await.status, 200);

    // The same code does not open a second sign-in.
    let (pending, _) = password_step(&srv, MARIA_PW).await;
    assert_eq!(answer(&srv, &pending, &code).await.status, 401);
    // A new code replaces the old: only the newest works.
    let seen = sent(&srv, "sign_in_code", MARIA_MOBILE);
    for _ in 0..2 {
        let r = srv
            .api(
                "send_second_step_code",
                &[("target", &method.to_string())],
                Some(&pending),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let newest = newest_code(&srv, "sign_in_code", MARIA_MOBILE, seen + 1).await;
    let dev = srv.services.delivery.dev.clone().unwrap();
    let older: Vec<String> = dev
        .list()
        .into_iter()
        .filter(|m| m.kind == "sign_in_code")
        .skip(1)
        .take(1)
        .map(|m| {
            m.text
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 8)
                .unwrap()
                .to_owned()
        })
        .collect();
    if older[0] != newest {
        assert_eq!(answer(&srv, &pending, &older[0]).await.status, 401);
    }
    assert_eq!(answer(&srv, &pending, &newest).await.status, 200);
});

on_both_databases!(
    a_reset_proved_by_text_does_not_also_pass_the_second_step,
    |srv| {
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        let (method, codes) = add_text_codes(&srv, &cookie).await;
        // Forgot password, by a code texted to the same mobile.
        let seen = sent(&srv, "reset_code", MARIA_MOBILE);
        let r = srv
            .api(
                "request_reset",
                &[
                    ("who[identifier]", "maria"),
                    ("who[email]", ""),
                    ("channel", "Sms"),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        srv.services.process_recovery_requests().await.unwrap();
        let code = newest_code(&srv, "reset_code", MARIA_MOBILE, seen).await;
        let r = srv
            .api(
                "verify_reset_code",
                &[
                    ("who[identifier]", "maria"),
                    ("who[email]", ""),
                    ("code", &code),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let grant = json(&r)["grant"].as_str().unwrap().to_owned();
        let r = srv
            .api(
                "complete_reset",
                &[("grant", &grant), ("new", NEW_PW), ("repeat", NEW_PW)],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);

        // The sign-in after it: the phone that proved the reset is not its second step (M4); the
        // recovery codes are.
        let (pending, offer) = password_step(&srv, NEW_PW).await;
        let methods = offer["methods"].as_array().unwrap();
        assert!(!methods.iter().any(|m| m == "SentCode"), "{offer}");
        assert!(methods.iter().any(|m| m == "BackupCode"), "{offer}");
        let r = srv
            .api(
                "send_second_step_code",
                &[("target", &method.to_string())],
                Some(&pending),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        // Not an hour later either: not while that password stands.
        srv.clock.advance(Duration::from_secs(3601));
        let (pending, offer) = password_step(&srv, NEW_PW).await;
        assert!(
            !offer["methods"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "SentCode"),
            "{offer}"
        );
        // Signed in with a recovery code, she chooses a password of her own: the phone is her
        // second step again.
        let r = srv
            .api(
                "verify_second_step",
                &[
                    ("method", "BackupCode"),
                    ("code", &codes[0]),
                    ("remember", "false"),
                ],
                Some(&pending),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let full = r.session_cookie().unwrap();
        let third = "orchard-violin-thistle-drum";
        let r = srv.change_password(&full, NEW_PW, third).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let (_, offer) = password_step(&srv, third).await;
        assert!(
            offer["methods"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "SentCode"),
            "{offer}"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_carries_codes_only_where_the_clinic_allows() {
    let srv = common::start_with(
        common::Db::Sqlite,
        "sent_code_email",
        &[("CAREKEY_MFA_ALLOW_EMAIL", "true")],
    )
    .await
    .unwrap();
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let status = json(&srv.api("two_step_status", &[], Some(&cookie)).await);
    let routes: Vec<&str> = status["can_send_to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["route"].as_str().unwrap())
        .collect();
    assert!(
        routes.contains(&"Email") && routes.contains(&"Text"),
        "{status}"
    );
}

on_both_databases!(a_replaced_mobile_takes_its_codes_with_it, |srv| {
    use carekey_server::store::entities::second_factor;
    use sea_orm::EntityTrait;
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    add_text_codes(&srv, &cookie).await;
    let notices = |to: Option<&'static str>| {
        let db = srv.services.db.clone();
        async move {
            use carekey_server::store::entities::outbox;
            use sea_orm::{ColumnTrait, QueryFilter};
            outbox::Entity::find()
                .filter(outbox::Column::Kind.eq(outbox::Kind::TwoStepNotice))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| to.is_none_or(|t| m.destination == t))
                .count()
        }
    };
    let (all_before, mobile_before) = (notices(None).await, notices(Some(MARIA_MOBILE)).await);
    // The front desk corrects her mobile number: codes no longer go to the old one.
    let pid = {
        use carekey_server::store::entities::patient;
        use sea_orm::{ColumnTrait, QueryFilter};
        patient::Entity::find()
            .filter(patient::Column::Mrn.eq("100001"))
            .one(&srv.services.db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let desk = srv
        .session("Staff", "frontdesk", "front-desk-coffee-morning")
        .await;
    let r = srv
        .api(
            "update_patient_contacts",
            &[
                ("patient_id", &pid.to_string()),
                ("email", "maria.lopez@example.com"),
                ("phone", "+15035550199"),
                ("phone_is_mobile", "true"),
            ],
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let left: Vec<_> = second_factor::Entity::find()
        .all(&srv.services.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.kind == second_factor::Kind::SentCode)
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Removed as in Settings: audited, and every contact told (the old number too).
    {
        use carekey_server::store::entities::audit_log;
        use sea_orm::{ColumnTrait, QueryFilter};
        let removed = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("two_step_method_removed"))
            .all(&srv.services.db)
            .await
            .unwrap();
        assert_eq!(removed.len(), 1);
        assert!(
            removed[0].details.contains("contact_replaced"),
            "{:?}",
            removed[0]
        );
        assert!(
            notices(None).await >= all_before + 2,
            "the email and the old mobile"
        );
        assert_eq!(notices(Some(MARIA_MOBILE)).await, mobile_before + 1);
    }
    // Her Settings offer the new number instead.
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let status = json(&srv.api("two_step_status", &[], Some(&cookie)).await);
    assert_eq!(
        status["can_send_to"][0]["masked"], "•••-•••-0199",
        "{status}"
    );
});
