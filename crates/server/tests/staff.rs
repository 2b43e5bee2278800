//! The staff console over HTTP (SECURITY.md S5, S6): the role matrix, Admin > Users, the
//! patient chart's Patient Portal / API Access widget, desk codes, unlocking, the audit log and
//! the patient import, on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::TestServer;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use carekey_server::clock::Clock;
use carekey_server::domain::ClientMeta;
use carekey_server::domain::patients::RowOutcome;
use carekey_server::store::entities::{account, audit_log, challenge, patient};

const ADMIN_PW: &str = "violet-canyon-river-stone";
const DESK_PW: &str = "front-desk-coffee-morning";
const MARIA_PW: &str = "sunflower-teapot-harbor";

fn json(r: &common::Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {} {}", r.status, r.body))
}

/// A form's fields, as the browser would send them.
type Form = Vec<(&'static str, String)>;

async fn account_id(srv: &TestServer, username: &str) -> i64 {
    account::Entity::find()
        .filter(account::Column::UsernameLower.eq(username.to_lowercase()))
        .one(&srv.services.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no account {username}"))
        .id
}

async fn patient_id(srv: &TestServer, mrn: &str) -> i64 {
    patient::Entity::find()
        .filter(patient::Column::Mrn.eq(mrn))
        .one(&srv.services.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn staff_session(srv: &TestServer, user: &str, pw: &str) -> String {
    srv.session("Staff", user, pw).await
}

async fn audit_actions(srv: &TestServer, action: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(&srv.services.db)
        .await
        .unwrap()
}

/// A patient's code from the console, used on the patient's own recovery page.
async fn redeem_code(srv: &TestServer, username: &str, code: &str) -> common::Reply {
    srv.api(
        "verify_reset_code",
        &[
            ("who[identifier]", username),
            ("who[email]", ""),
            ("code", code),
        ],
        None,
    )
    .await
}

async fn complete(srv: &TestServer, grant: &str, pw: &str) -> common::Reply {
    srv.api(
        "complete_reset",
        &[("grant", grant), ("new", pw), ("repeat", pw)],
        None,
    )
    .await
}

on_both_databases!(every_staff_endpoint_checks_the_role, |srv| {
    let desk_id = account_id(&srv, "frontdesk").await.to_string();
    let maria = patient_id(&srv, "100001").await.to_string();
    let calls: Vec<(&str, bool, Form)> = vec![
        ("staff_users", true, vec![("query", String::new())]),
        (
            "admin_reset_password",
            true,
            vec![
                ("user_id", desk_id.clone()),
                ("new", "lantern-harbor-violet-maple".into()),
                ("repeat", "lantern-harbor-violet-maple".into()),
                // Wrong on purpose: the matrix is about who may call, not a real reset.
                ("your_password", "not-my-password-at-all".into()),
            ],
        ),
        (
            "admin_reset_two_step",
            true,
            vec![
                ("user_id", desk_id.clone()),
                // Wrong on purpose, as above.
                ("your_password", "not-my-password-at-all".into()),
            ],
        ),
        (
            "create_staff_user",
            true,
            vec![
                ("user[username]", "newdesk".into()),
                ("user[display_name]", "New Desk".into()),
                ("user[role]", "Staff".into()),
                ("password", "copper-river-autumn-lamp".into()),
            ],
        ),
        (
            "set_staff_enabled",
            true,
            vec![("user_id", desk_id.clone()), ("enabled", "true".into())],
        ),
        (
            "set_staff_role",
            true,
            vec![("user_id", desk_id.clone()), ("role", "Staff".into())],
        ),
        ("audit_rows", true, audit_filter()),
        (
            "chart_deliveries",
            false,
            vec![("patient_id", maria.clone())],
        ),
        ("search_patients", false, vec![("query", "Lopez".into())]),
        (
            "add_patient",
            false,
            vec![
                ("patient[mrn]", "300001".into()),
                ("patient[first_name]", "Test".into()),
                ("patient[last_name]", "Person".into()),
                ("patient[date_of_birth]", "1970-01-01".into()),
                ("patient[zip]", "97201".into()),
                ("patient[email]", String::new()),
                ("patient[phone]", String::new()),
                ("patient[phone_is_mobile]", "false".into()),
            ],
        ),
        ("patient_chart", false, vec![("patient_id", maria.clone())]),
        (
            "update_patient_contacts",
            false,
            vec![
                ("patient_id", maria.clone()),
                ("email", "maria.lopez@example.com".into()),
                ("phone", "+15035550101".into()),
                ("phone_is_mobile", "true".into()),
            ],
        ),
        (
            "set_patient_language",
            false,
            vec![("patient_id", maria.clone()), ("lang", "es".into())],
        ),
        (
            "portal_send_reset",
            false,
            vec![
                ("patient_id", maria.clone()),
                ("channel", "EmailLink".into()),
            ],
        ),
        (
            "portal_desk_code",
            false,
            vec![
                ("patient_id", maria.clone()),
                ("checks[date_of_birth]", "true".into()),
                ("checks[zip]", "false".into()),
                ("checks[callback_number]", "false".into()),
                ("checks[photo_id]", "false".into()),
            ],
        ),
        ("portal_unlock", false, vec![("patient_id", maria.clone())]),
        (
            "portal_report_handled",
            false,
            vec![("patient_id", maria.clone())],
        ),
        (
            "portal_reset_two_step",
            false,
            vec![
                ("patient_id", maria.clone()),
                ("checks[date_of_birth]", "false".into()),
                ("checks[zip]", "false".into()),
                ("checks[callback_number]", "false".into()),
                ("checks[photo_id]", "false".into()),
            ],
        ),
        ("message_status", false, vec![("message_id", "1".into())]),
        (
            "portal_credentials",
            false,
            vec![
                ("patient_id", maria.clone()),
                ("username", "maria".into()),
                ("choice", "Generated".into()),
            ],
        ),
    ];
    let covered: Vec<String> = calls.iter().map(|c| format!("/api/{}", c.0)).collect();
    for e in carekey_shared::staff_fns::STAFF_ENDPOINTS {
        assert!(
            covered.iter().any(|c| c == e),
            "{e} missing from the matrix"
        );
    }
    let patient = srv
        .session("Patient", "jchen", "granite-maple-lantern")
        .await;
    let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
    let admin = staff_session(&srv, "admin", ADMIN_PW).await;
    for (endpoint, admin_only, form) in &calls {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let nobody = srv.api(endpoint, &form, None).await;
        assert_eq!(
            nobody.status, 401,
            "{endpoint} without a session: {}",
            nobody.body
        );
        let p = srv.api(endpoint, &form, Some(&patient)).await;
        assert_eq!(p.status, 403, "{endpoint} as a patient: {}", p.body);
        let d = srv.api(endpoint, &form, Some(&desk)).await;
        if *admin_only {
            assert_eq!(d.status, 403, "{endpoint} as front desk: {}", d.body);
        } else {
            assert!(
                ![401, 403].contains(&d.status),
                "{endpoint} as front desk: {} {}",
                d.status,
                d.body
            );
        }
        let a = srv.api(endpoint, &form, Some(&admin)).await;
        assert!(
            ![401, 403].contains(&a.status),
            "{endpoint} as admin: {} {}",
            a.status,
            a.body
        );
    }
    // The audit export is a download link (GET), administrators only, like the audit view.
    let export = "/api/audit.csv?person=&action=&from=&to=";
    assert_eq!(srv.get_as(export, None).await.status, 401);
    assert_eq!(srv.get_as(export, Some(&patient)).await.status, 403);
    assert_eq!(srv.get_as(export, Some(&desk)).await.status, 403);
    assert_eq!(srv.get_as(export, Some(&admin)).await.status, 200);
});

fn audit_filter() -> Form {
    vec![
        ("filter[person]", String::new()),
        ("filter[action]", String::new()),
        ("filter[from]", String::new()),
        ("filter[to]", String::new()),
    ]
}

on_both_databases!(
    admin_resets_a_staff_password_with_their_own_as_the_check,
    |srv| {
        let desk_id = account_id(&srv, "frontdesk").await.to_string();
        let desk_before = staff_session(&srv, "frontdesk", DESK_PW).await;
        let admin = staff_session(&srv, "admin", ADMIN_PW).await;
        let new = "maple-lantern-harbor-quartz";
        let reset = |your: &'static str| {
            let desk_id = desk_id.clone();
            let admin = admin.clone();
            let srv = &srv;
            async move {
                srv.api(
                    "admin_reset_password",
                    &[
                        ("user_id", &desk_id),
                        ("new", new),
                        ("repeat", new),
                        ("your_password", your),
                    ],
                    Some(&admin),
                )
                .await
            }
        };
        // A wrong own password: refused, nothing changed, and it counts toward the admin's lockout.
        let r = reset("violet-canyon-river-stones").await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("CurrentPasswordIncorrect"), "{}", r.body);
        let admin_row = account::Entity::find_by_id(account_id(&srv, "admin").await)
            .one(&srv.services.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(admin_row.failed_sign_ins, 1);
        assert_eq!(srv.sign_in("Staff", "frontdesk", DESK_PW).await.status, 200);
        // The user's own policy applies: their username in the password is refused.
        let weak = srv
            .api(
                "admin_reset_password",
                &[
                    ("user_id", &desk_id),
                    ("new", "frontdesk-password-2026"),
                    ("repeat", "frontdesk-password-2026"),
                    ("your_password", ADMIN_PW),
                ],
                Some(&admin),
            )
            .await;
        assert_eq!(weak.status, 400, "{}", weak.body);
        assert!(weak.body.contains("PasswordRejected"), "{}", weak.body);

        let r = reset(ADMIN_PW).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(json(&r)["must_change_password"], true);
        // Their sessions ended; the old password no longer works; the new one must be changed.
        assert_eq!(srv.api("whoami", &[], Some(&desk_before)).await.status, 401);
        assert_eq!(srv.sign_in("Staff", "frontdesk", DESK_PW).await.status, 401);
        let s = srv.sign_in("Staff", "frontdesk", new).await;
        assert_eq!(json(&s)["must_change_password"], true);
        let rows = audit_actions(&srv, "staff_password_reset").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].actor, "admin");
        assert!(
            !rows[0].details.contains(new),
            "no password in the audit trail"
        );
        // An administrator cannot reset their own password here (they use Change Password).
        let own = account_id(&srv, "admin").await.to_string();
        let r = srv
            .api(
                "admin_reset_password",
                &[
                    ("user_id", &own),
                    ("new", new),
                    ("repeat", new),
                    ("your_password", ADMIN_PW),
                ],
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, 403);
    }
);

on_both_databases!(admin_creates_disables_and_promotes_staff_users, |srv| {
    let admin = staff_session(&srv, "admin", ADMIN_PW).await;
    let r = srv
        .api(
            "create_staff_user",
            &[
                ("user[username]", "nurse.kay"),
                ("user[display_name]", "Kay Morgan"),
                ("user[role]", "Staff"),
                ("password", "orchid-pebble-sunrise-drum"),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = json(&r)["id"].as_i64().unwrap().to_string();
    let kay = srv
        .session("Staff", "nurse.kay", "orchid-pebble-sunrise-drum")
        .await;
    assert_eq!(
        json(&srv.api("whoami", &[], Some(&kay)).await)["must_change_password"],
        true
    );
    let again = srv
        .api(
            "create_staff_user",
            &[
                ("user[username]", "NURSE.KAY"),
                ("user[display_name]", "Other"),
                ("user[role]", "Staff"),
                ("password", "orchid-pebble-sunrise-drum"),
            ],
            Some(&admin),
        )
        .await;
    assert!(again.body.contains("UsernameTaken"), "{}", again.body);
    let off = srv
        .api(
            "set_staff_enabled",
            &[("user_id", &id), ("enabled", "false")],
            Some(&admin),
        )
        .await;
    assert_eq!(json(&off)["status"], "Disabled");
    assert_eq!(srv.api("whoami", &[], Some(&kay)).await.status, 401);
    assert_eq!(
        srv.sign_in("Staff", "nurse.kay", "orchid-pebble-sunrise-drum")
            .await
            .status,
        401
    );
    srv.api(
        "set_staff_enabled",
        &[("user_id", &id), ("enabled", "true")],
        Some(&admin),
    )
    .await;
    let up = srv
        .api(
            "set_staff_role",
            &[("user_id", &id), ("role", "Admin")],
            Some(&admin),
        )
        .await;
    assert_eq!(json(&up)["role"], "Admin");
    let list = srv
        .api("staff_users", &[("query", "kay")], Some(&admin))
        .await;
    assert_eq!(json(&list).as_array().unwrap().len(), 1);
    for action in [
        "staff_user_disabled",
        "staff_user_enabled",
        "staff_role_changed",
    ] {
        assert_eq!(audit_actions(&srv, action).await.len(), 1, "{action}");
    }
    let created = audit_actions(&srv, "account_created").await;
    assert!(created.iter().any(|r| r.actor == "admin"));
});

on_both_databases!(
    chart_reset_forces_a_change_and_ends_the_patients_sessions,
    |srv| {
        let maria_session = srv.session("Patient", "maria", MARIA_PW).await;
        let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
        let found = srv
            .api("search_patients", &[("query", "lopez mar")], Some(&desk))
            .await;
        let hits = json(&found);
        assert_eq!(hits.as_array().unwrap().len(), 1, "{}", found.body);
        let pid = hits[0]["id"].as_i64().unwrap().to_string();
        for q in ["1958-03-14", "100001"] {
            let r = json(
                &srv.api("search_patients", &[("query", q)], Some(&desk))
                    .await,
            );
            assert_eq!(r[0]["id"].as_i64().unwrap().to_string(), pid, "{q}");
        }
        let chart = json(
            &srv.api("patient_chart", &[("patient_id", &pid)], Some(&desk))
                .await,
        );
        assert_eq!(chart["portal"]["username"], "maria");
        assert_eq!(chart["contacts"].as_array().unwrap().len(), 2);

        let r = srv
            .api(
                "portal_credentials",
                &[
                    ("patient_id", &pid),
                    ("username", "maria"),
                    ("choice", "Generated"),
                ],
                Some(&desk),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let letter = json(&r);
        let temp = letter["temporary_password"].as_str().unwrap().to_owned();
        assert_eq!(letter["username"], "maria");
        assert!(letter["activation_code"].is_null());
        // The email goes to the address on file, without the password, and its status is real.
        let message_id = letter["email"]["message_id"].as_i64().unwrap().to_string();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let s = srv
                .api(
                    "message_status",
                    &[("message_id", &message_id)],
                    Some(&desk),
                )
                .await;
            if s.body == "\"Sent\"" {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "still {}", s.body);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let dev = srv.services.delivery.dev.clone().unwrap();
        let mail = dev
            .list()
            .into_iter()
            .find(|m| m.kind == "credentials_letter")
            .unwrap();
        assert_eq!(mail.to, "maria.lopez@example.com");
        assert!(mail.text.contains("maria") && !mail.text.contains(&temp));

        assert_eq!(srv.api("home", &[], Some(&maria_session)).await.status, 401);
        assert_eq!(srv.sign_in("Patient", "maria", MARIA_PW).await.status, 401);
        let s = srv.sign_in("Patient", "maria", &temp).await;
        assert_eq!(s.status, 200);
        assert_eq!(json(&s)["must_change_password"], true);
        let rows = audit_actions(&srv, "portal_password_reset").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].actor, "frontdesk");
        assert!(!rows[0].details.contains(&temp));
        // A password staff choose obeys the same policy.
        let r = srv
            .api(
                "portal_credentials",
                &[
                    ("patient_id", &pid),
                    ("username", "maria"),
                    ("choice[Chosen]", "maria-lopez-2026"),
                ],
                Some(&desk),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("PasswordRejected"), "{}", r.body);
    }
);

on_both_databases!(
    a_desk_code_works_once_for_a_day_and_keeps_the_checklist,
    |srv| {
        let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
        let pid = patient_id(&srv, "100003").await.to_string(); // sam, landline only
        let none = srv
            .api(
                "portal_desk_code",
                &[
                    ("patient_id", &pid),
                    ("checks[date_of_birth]", "false"),
                    ("checks[zip]", "false"),
                    ("checks[callback_number]", "false"),
                    ("checks[photo_id]", "false"),
                ],
                Some(&desk),
            )
            .await;
        assert_eq!(none.status, 400, "nothing checked: {}", none.body);
        // A fresh staff session each time: a day passes between the two codes.
        let issue = || async {
            let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
            let r = srv
                .api(
                    "portal_desk_code",
                    &[
                        ("patient_id", &pid),
                        ("checks[date_of_birth]", "true"),
                        ("checks[zip]", "false"),
                        ("checks[callback_number]", "true"),
                        ("checks[photo_id]", "false"),
                    ],
                    Some(&desk),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            json(&r)["code"].as_str().unwrap().to_owned()
        };
        let code = issue().await;
        let row = challenge::Entity::find()
            .filter(challenge::Column::Purpose.eq(challenge::Purpose::StaffCode))
            .one(&srv.services.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.checklist.as_deref(),
            Some("[\"date_of_birth\",\"callback_number\"]")
        );
        assert_eq!(row.expires_at - row.created_at, 24 * 3600 * 1000);
        let audit = audit_actions(&srv, "desk_code_issued").await;
        assert!(audit[0].details.contains("callback_number"));
        assert!(!audit[0].details.contains(&code));

        // 24 h less a second: still good; used once, then refused.
        srv.clock.advance(Duration::from_secs(24 * 3600 - 1));
        let g = redeem_code(&srv, "sam", &code).await;
        assert_eq!(g.status, 200, "{}", g.body);
        let grant = json(&g)["grant"].as_str().unwrap().to_owned();
        assert_eq!(
            complete(&srv, &grant, "meadow-violin-copper-sky")
                .await
                .status,
            200
        );
        let again = redeem_code(&srv, "sam", &code).await;
        assert_eq!(again.status, 400);
        assert_eq!(
            srv.sign_in("Patient", "sam", "meadow-violin-copper-sky")
                .await
                .status,
            200
        );

        // A second code, a second past its 24 hours: refused as expired.
        let code = issue().await;
        srv.clock.advance(Duration::from_secs(24 * 3600 + 1));
        let late = redeem_code(&srv, "sam", &code).await;
        assert_eq!(late.status, 400);
        assert!(late.body.contains("Expired"), "{}", late.body);
    }
);

on_both_databases!(
    activation_letter_lets_a_new_patient_choose_a_password,
    |srv| {
        let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
        let added = srv
            .api(
                "add_patient",
                &[
                    ("patient[mrn]", "200001"),
                    ("patient[first_name]", "Olivia"),
                    ("patient[last_name]", "Reyes"),
                    ("patient[date_of_birth]", "1961-05-04"),
                    ("patient[zip]", "97201"),
                    ("patient[email]", ""),
                    ("patient[phone]", "(503) 555-0170"),
                    ("patient[phone_is_mobile]", "true"),
                ],
                Some(&desk),
            )
            .await;
        assert_eq!(added.status, 200, "{}", added.body);
        let pid = json(&added)["id"].as_i64().unwrap().to_string();
        let twice = srv
            .api(
                "add_patient",
                &[
                    ("patient[mrn]", "200001"),
                    ("patient[first_name]", "Olivia"),
                    ("patient[last_name]", "Reyes"),
                    ("patient[date_of_birth]", "1961-05-04"),
                    ("patient[zip]", "97201"),
                    ("patient[email]", ""),
                    ("patient[phone]", ""),
                    ("patient[phone_is_mobile]", "false"),
                ],
                Some(&desk),
            )
            .await;
        assert_eq!(twice.status, 409, "{}", twice.body);
        let chart = json(
            &srv.api("patient_chart", &[("patient_id", &pid)], Some(&desk))
                .await,
        );
        assert!(chart["portal"].is_null());
        assert_eq!(chart["suggested_username"], "oreyes");
        assert_eq!(chart["contacts"][0]["value"], "+15035550170");

        let r = srv
            .api(
                "portal_credentials",
                &[
                    ("patient_id", &pid),
                    ("username", "oreyes"),
                    ("choice", "ActivationCode"),
                ],
                Some(&desk),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let letter = json(&r);
        assert!(letter["temporary_password"].is_null());
        assert!(letter["email"].is_null(), "no email on file");
        let code = letter["activation_code"].as_str().unwrap().to_owned();
        // No password yet: nothing signs in.
        assert_eq!(srv.sign_in("Patient", "oreyes", &code).await.status, 401);
        let g = redeem_code(&srv, "oreyes", &code).await;
        assert_eq!(g.status, 200, "{}", g.body);
        let grant = json(&g)["grant"].as_str().unwrap().to_owned();
        assert_eq!(
            complete(&srv, &grant, "saffron-window-meadow-kite")
                .await
                .status,
            200
        );
        let s = srv
            .sign_in("Patient", "oreyes", "saffron-window-meadow-kite")
            .await;
        assert_eq!(s.status, 200);
        assert_eq!(json(&s)["must_change_password"], false);
    }
);

on_both_databases!(
    staff_unlock_a_locked_patient_and_see_why_it_was_locked,
    |srv| {
        let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
        for _ in 0..5 {
            srv.sign_in("Patient", "jchen", "wrong-password-guess")
                .await;
        }
        assert_eq!(
            srv.sign_in("Patient", "jchen", "granite-maple-lantern")
                .await
                .status,
            401
        );
        let pid = patient_id(&srv, "100002").await.to_string();
        let chart = json(
            &srv.api("patient_chart", &[("patient_id", &pid)], Some(&desk))
                .await,
        );
        assert_eq!(chart["portal"]["status"], "Locked");
        assert_eq!(chart["portal"]["failed_sign_ins"], 5);
        assert!(chart["portal"]["recent_failures"].as_array().unwrap().len() >= 5);
        let r = srv
            .api("portal_unlock", &[("patient_id", &pid)], Some(&desk))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(json(&r)["portal"]["status"], "Active");
        assert_eq!(
            srv.sign_in("Patient", "jchen", "granite-maple-lantern")
                .await
                .status,
            200
        );
        let rows = audit_actions(&srv, "account_unlocked").await;
        assert_eq!(rows[0].actor, "frontdesk");
    }
);

on_both_databases!(staff_send_a_reset_to_a_contact_on_file, |srv| {
    let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
    let pid = patient_id(&srv, "100001").await.to_string();
    let r = srv
        .api(
            "portal_send_reset",
            &[("patient_id", &pid), ("channel", "Sms")],
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r)["to"], "•••-•••-0101");
    // Sam has no email: a link cannot go anywhere, and staff are told so.
    let sam = patient_id(&srv, "100003").await.to_string();
    let r = srv
        .api(
            "portal_send_reset",
            &[("patient_id", &sam), ("channel", "EmailLink")],
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("ContactInvalid"), "{}", r.body);
    assert_eq!(audit_actions(&srv, "staff_sent_reset").await.len(), 1);
});

on_both_databases!(
    the_audit_log_filters_and_exports_csv_without_secrets,
    |srv| {
        let admin = staff_session(&srv, "admin", ADMIN_PW).await;
        srv.sign_in("Patient", "maria", "not-her-password").await;
        let rows = json(
            &srv.api(
                "audit_rows",
                &[
                    ("filter[person]", "maria"),
                    ("filter[action]", "sign_in_failed"),
                    ("filter[from]", ""),
                    ("filter[to]", ""),
                ],
                Some(&admin),
            )
            .await,
        );
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["target"], "maria");
        let csv = srv
            .get_as(
                "/api/audit.csv?person=&action=&from=2000-01-01&to=2100-12-31",
                Some(&admin),
            )
            .await;
        assert_eq!(csv.status, 200, "{}", csv.body);
        assert!(
            csv.headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let text = csv.body;
        assert!(text.starts_with("seq,time_utc,actor,target,action,ip,detail,mac\r\n"));
        assert!(text.contains(",sign_in_failed,"));
        assert!(!text.contains("not-her-password"));
        // The file ends with the chain's proof.
        let last = text.trim_end().lines().last().unwrap();
        assert!(last.starts_with("# audit chain intact: "), "{last}");
        let bad = srv
            .api(
                "audit_rows",
                &[
                    ("filter[person]", ""),
                    ("filter[action]", ""),
                    ("filter[from]", "last tuesday"),
                    ("filter[to]", ""),
                ],
                Some(&admin),
            )
            .await;
        assert_eq!(bad.status, 400);
    }
);

on_both_databases!(
    the_front_desk_sets_a_patients_language_and_sends_in_it,
    |srv| {
        let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
        let maria = patient_id(&srv, "100001").await.to_string();
        let r = srv
            .api(
                "set_patient_language",
                &[("patient_id", maria.as_str()), ("lang", "es")],
                Some(&desk),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let chart: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(chart["language"], "es");
        let audit = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("language_changed"))
            .all(&srv.services.db)
            .await
            .unwrap();
        assert_eq!(audit.len(), 1);
        assert!(
            audit[0].details.contains("\"by\":\"staff\""),
            "{}",
            audit[0].details
        );
        // The reset the desk sends is in Spanish.
        let r = srv
            .api(
                "portal_send_reset",
                &[("patient_id", maria.as_str()), ("channel", "Sms")],
                Some(&desk),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let dev = srv.services.delivery.dev.clone().expect("dev outbox");
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let text = loop {
            if let Some(m) = dev.list().into_iter().find(|m| m.to == "+15035550101") {
                break m.text;
            }
            assert!(std::time::Instant::now() < deadline, "no text sent");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(text.contains("contraseña"), "{text}");
    }
);

on_both_databases!(
    an_import_sets_each_patients_language_or_refuses_the_row,
    |srv| {
        let csv = "mrn,first_name,last_name,date_of_birth,zip,language\n\
               410001,Rosa,Vega,1970-01-02,97201,Español\n\
               410002,Tom,Hill,1971-01-02,97201,\n\
               410003,Ana,Luz,1972-01-02,97201,Klingon\n\
               410004,Sam,Ray,1973-01-02,97201,en\n";
        let out = srv
            .services
            .import_patients(csv, &ClientMeta::default())
            .await
            .unwrap();
        assert_eq!(
            out,
            vec![
                RowOutcome::Imported,
                RowOutcome::Imported,
                RowOutcome::Refused(vec!["language"]),
                RowOutcome::Imported,
            ]
        );
        let language = |mrn: &'static str| {
            let db = srv.services.db.clone();
            async move {
                patient::Entity::find()
                    .filter(patient::Column::Mrn.eq(mrn))
                    .one(&db)
                    .await
                    .unwrap()
                    .map(|p| p.language)
            }
        };
        assert_eq!(
            language("410001").await,
            Some(Some(patient::Language::Spanish))
        );
        assert_eq!(language("410002").await, Some(None));
        assert_eq!(language("410003").await, None);
        assert_eq!(
            language("410004").await,
            Some(Some(patient::Language::English))
        );
    }
);

on_both_databases!(importing_a_patient_list_twice_adds_nobody_twice, |srv| {
    let csv = "mrn,first_name,last_name,date_of_birth,zip,email,phone,phone_type\n\
               400001,Ada,Byron,1980-12-10,97201,ada@example.com,503-555-0190,mobile\n\
               400002,\"Reyes, Jr.\",Luis,1990-02-30,97201,,,\n\
               100001,Maria,Lopez,1958-03-14,97205,,,\n\
               400003,Ben,Okafor,1975-07-07,97202,,(503) 555-0191,landline\n";
    let meta = ClientMeta::default();
    let first = srv.services.import_patients(csv, &meta).await.unwrap();
    assert_eq!(
        first,
        vec![
            RowOutcome::Imported,
            RowOutcome::Refused(vec!["date_of_birth"]),
            RowOutcome::AlreadyOnFile,
            RowOutcome::Imported,
        ]
    );
    let second = srv.services.import_patients(csv, &meta).await.unwrap();
    assert_eq!(
        second,
        vec![
            RowOutcome::AlreadyOnFile,
            RowOutcome::Refused(vec!["date_of_birth"]),
            RowOutcome::AlreadyOnFile,
            RowOutcome::AlreadyOnFile,
        ]
    );
    let ben = patient_id(&srv, "400003").await;
    let contacts = carekey_server::store::entities::contact::Entity::find()
        .filter(carekey_server::store::entities::contact::Column::PatientId.eq(ben))
        .all(&srv.services.db)
        .await
        .unwrap();
    assert_eq!(contacts.len(), 1);
    assert!(!contacts[0].sms_capable && contacts[0].voice_capable);
});

on_both_databases!(
    a_staff_correction_of_contacts_tells_whoever_was_on_file,
    |srv| {
        let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
        let pid = patient_id(&srv, "100001").await.to_string();
        let update = |email: &'static str| {
            let (pid, desk, srv) = (pid.clone(), desk.clone(), &srv);
            async move {
                srv.api(
                    "update_patient_contacts",
                    &[
                        ("patient_id", &pid),
                        ("email", email),
                        ("phone", "(503) 555-0101"),
                        ("phone_is_mobile", "true"),
                    ],
                    Some(&desk),
                )
                .await
            }
        };
        // The same contacts again: nothing changed, nobody is told.
        let same = update("Maria.Lopez@example.com").await;
        assert_eq!(same.status, 200, "{}", same.body);
        let bad = update("maria(at)example.org").await;
        assert_eq!(bad.status, 400);
        let r = update("maria.l@example.org").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(json(&r)["contacts"][0]["value"], "maria.l@example.org");
        let dev = srv.services.delivery.dev.clone().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let told = loop {
            let told: Vec<String> = dev
                .list()
                .into_iter()
                .filter(|m| m.kind == "contact_notice")
                .map(|m| m.to.to_lowercase())
                .collect();
            if told.len() >= 2 || std::time::Instant::now() > deadline {
                break told;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // The old address and the mobile on file hear about it; the new address does not.
        assert!(
            told.contains(&"maria.lopez@example.com".to_owned()),
            "{told:?}"
        );
        assert!(told.contains(&"+15035550101".to_owned()), "{told:?}");
        assert_eq!(told.len(), 2, "{told:?}");
        assert_eq!(
            audit_actions(&srv, "patient_contacts_updated").await.len(),
            2
        );
    }
);

/// Issue 13: a staff reset prints a letter in the patient's language on file, English for a
/// patient with none; the sign-in page and every letter carry the language-help lines
/// (Section 1557) with the clinic's number, in the same order, with the clinic's own lines
/// after English and Spanish.
async fn a_staff_reset_prints_a_letter_in_the_patients_language(srv: TestServer) {
    let info = json(&srv.api("portal_info", &[], None).await);
    let help = info["language_help"].clone();
    let lines: Vec<(&str, &str)> = help
        .as_array()
        .expect("language_help in portal_info")
        .iter()
        .map(|l| (l["lang"].as_str().unwrap(), l["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "en",
                "Need help in another language? It is free. Call (503) 555-0100."
            ),
            (
                "es",
                "¿Necesita ayuda en otro idioma? Es gratis. Llame al (503) 555-0100."
            ),
            (
                "vi",
                "Cần trợ giúp bằng ngôn ngữ khác? Miễn phí. Gọi (503) 555-0100."
            ),
        ]
    );

    let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
    let credentials = |pid: String, username: &'static str, choice: &'static str| {
        let desk = desk.clone();
        let srv = &srv;
        async move {
            let r = srv
                .api(
                    "portal_credentials",
                    &[
                        ("patient_id", pid.as_str()),
                        ("username", username),
                        ("choice", choice),
                    ],
                    Some(&desk),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            json(&r)
        }
    };

    // Lucía has Spanish on file: her activation letter is Spanish, marked so for the page.
    let lucia = patient_id(&srv, "100050").await.to_string();
    let letter = credentials(lucia.clone(), "lucia", "ActivationCode").await;
    let text = &letter["text"];
    assert_eq!(text["lang"], "es");
    assert_eq!(text["dear"], "Estimado(a) Lucía Ramírez:");
    assert_eq!(
        text["intro"],
        "Su clínica preparó su portal de pacientes. Use el código de activación de abajo para \
         elegir su propia contraseña."
    );
    assert_eq!(text["username_label"], "Nombre de usuario");
    assert_eq!(text["secret_label"], "Código de activación");
    assert_eq!(text["good_until_label"], "El código sirve hasta");
    assert_eq!(text["steps_title"], "La primera vez que entre");
    assert_eq!(
        text["steps"],
        serde_json::json!([
            "En su teléfono o computadora, abra la dirección del portal de arriba.",
            "Elija \"¿Olvidó su contraseña o su nombre de usuario?\" y luego \"Tengo un código \
             de la clínica\".",
            "Escriba su nombre de usuario y el código de arriba.",
            "Elija su propia contraseña: por lo menos 15 caracteres. Tres o cuatro palabras sin \
             relación entre sí funcionan bien.",
        ])
    );
    assert_eq!(
        text["keep_safe"],
        "Guarde esta carta en un lugar privado, o destrúyala después de entrar."
    );
    let to = letter["email"]["to"].as_str().unwrap();
    assert_eq!(
        text["email"]["sent"],
        format!(
            "Le enviamos un correo con esta noticia a {to}. No incluye su contraseña ni su código."
        )
    );
    assert_eq!(
        text["email"]["failed"],
        format!("No pudimos enviarle el correo con esta noticia a {to}.")
    );
    assert_eq!(text["language_help"], help);
    assert!(letter["activation_code"].is_string());
    // A password letter for her is Spanish too.
    let letter = credentials(lucia, "lucia", "Generated").await;
    assert_eq!(letter["text"]["lang"], "es");
    assert_eq!(letter["text"]["secret_label"], "Contraseña temporal");
    assert_eq!(
        letter["text"]["steps"][1],
        "Entre con su nombre de usuario y la contraseña de arriba."
    );

    // Maria has no language on file: English, with the same language-help lines.
    let maria = patient_id(&srv, "100001").await.to_string();
    let letter = credentials(maria, "maria", "Generated").await;
    let text = &letter["text"];
    assert_eq!(text["lang"], "en");
    assert_eq!(text["dear"], "Dear Maria Lopez,");
    assert_eq!(text["secret_label"], "Temporary password");
    assert_eq!(
        text["steps"][1],
        "Sign in with your username and the password above."
    );
    assert_eq!(
        text["keep_safe"],
        "Keep this letter somewhere private, or shred it once you have signed in."
    );
    assert_eq!(text["language_help"], help);
}

/// The clinic's phone and one line of its own for Vietnamese.
const LANGUAGE_HELP_CONFIG: &[(&str, &str)] = &[
    ("CAREKEY_CLINIC_PHONE", "+15035550100"),
    (
        "CAREKEY_CLINIC_LANGUAGE_HELP",
        r#"[{ lang = "vi", text = "Cần trợ giúp bằng ngôn ngữ khác? Miễn phí. Gọi (503) 555-0100." }]"#,
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reset_prints_a_spanish_letter_for_a_spanish_patient_sqlite() {
    let srv = common::start_with(common::Db::Sqlite, "spanish_letter", LANGUAGE_HELP_CONFIG)
        .await
        .unwrap();
    a_staff_reset_prints_a_letter_in_the_patients_language(srv).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reset_prints_a_spanish_letter_for_a_spanish_patient_postgres() {
    if let Some(srv) =
        common::start_with(common::Db::Postgres, "spanish_letter", LANGUAGE_HELP_CONFIG).await
    {
        a_staff_reset_prints_a_letter_in_the_patients_language(srv).await;
    }
}

on_both_databases!(
    staff_reads_are_audited_and_background_refreshes_keep_no_session_alive,
    |srv| {
        use carekey_server::store::entities::outbox;
        let desk = staff_session(&srv, "frontdesk", DESK_PW).await;
        let pid = patient_id(&srv, "100001").await.to_string();
        let maria = account_id(&srv, "maria").await;

        // A search records every patient it listed, not the words searched for.
        let found = json(
            &srv.api("search_patients", &[("query", "Lopez")], Some(&desk))
                .await,
        );
        let searched = audit_actions(&srv, "patients_searched").await;
        assert_eq!(searched.len(), 1);
        assert_eq!(searched[0].actor, "frontdesk");
        assert!(
            !searched[0].details.contains("Lopez"),
            "{}",
            searched[0].details
        );
        let listed: serde_json::Value = serde_json::from_str(&searched[0].details).unwrap();
        assert_eq!(
            listed["results"].as_u64().unwrap() as usize,
            found.as_array().unwrap().len()
        );
        assert!(!listed["patient_ids"].as_array().unwrap().is_empty());

        // Opening a chart is one row naming the patient's account; each opening is another.
        assert_eq!(
            srv.api("patient_chart", &[("patient_id", &pid)], Some(&desk))
                .await
                .status,
            200
        );
        let opened = audit_actions(&srv, "chart_opened").await;
        assert_eq!(opened.len(), 1);
        assert_eq!(opened[0].target_account_id, Some(maria));
        // The console's refreshes of that chart's deliveries add none.
        for _ in 0..3 {
            let r = srv
                .api("chart_deliveries", &[("patient_id", &pid)], Some(&desk))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        assert_eq!(audit_actions(&srv, "chart_opened").await.len(), 1);

        // A message's status: recorded the first time this session looks, not at every poll.
        let sent = srv
            .api(
                "portal_send_reset",
                &[("patient_id", &pid), ("channel", "Sms")],
                Some(&desk),
            )
            .await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        let message = outbox::Entity::find()
            .filter(outbox::Column::AccountId.eq(maria))
            .one(&srv.services.db)
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string();
        for _ in 0..3 {
            let r = srv
                .api("message_status", &[("message_id", &message)], Some(&desk))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let status_rows = audit_actions(&srv, "message_status_viewed").await;
        assert_eq!(status_rows.len(), 1);
        assert_eq!(status_rows[0].target_account_id, Some(maria));

        // Background refreshes do not count as activity (HIPAA 164.312(a)(2)(iii)): 16
        // minutes after the last thing the person did, refreshed every few minutes, the
        // session has still ended.
        let last_activity = srv.clock.now_ms();
        for _ in 0..4 {
            srv.clock.advance(Duration::from_secs(4 * 60));
            let r = srv
                .api("chart_deliveries", &[("patient_id", &pid)], Some(&desk))
                .await;
            let m = srv
                .api("message_status", &[("message_id", &message)], Some(&desk))
                .await;
            if srv.clock.now_ms() - last_activity < 15 * 60 * 1000 {
                assert_eq!(r.status, 200, "{}", r.body);
                assert_eq!(m.status, 200, "{}", m.body);
            }
        }
        assert_eq!(srv.api("whoami", &[], Some(&desk)).await.status, 401);

        // The audit view and its export are reads too.
        let admin = staff_session(&srv, "admin", ADMIN_PW).await;
        let filter = [
            ("filter[person]", "maria"),
            ("filter[action]", ""),
            ("filter[from]", ""),
            ("filter[to]", ""),
        ];
        assert_eq!(
            srv.api("audit_rows", &filter, Some(&admin)).await.status,
            200
        );
        let viewed = audit_actions(&srv, "audit_viewed").await;
        assert_eq!(viewed.len(), 1);
        assert!(
            viewed[0].details.contains("\"person\":\"maria\""),
            "{}",
            viewed[0].details
        );
        let csv = srv
            .get_as("/api/audit.csv?person=maria", Some(&admin))
            .await;
        assert_eq!(csv.status, 200, "{}", csv.body);
        assert_eq!(audit_actions(&srv, "audit_exported").await.len(), 1);
        // A HEAD of the link reads nothing: answered, and not recorded as an export.
        let head = srv
            .http
            .head(format!("{}/api/audit.csv?person=maria", srv.base))
            .header("cookie", &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status().as_u16(), 200);
        assert_eq!(audit_actions(&srv, "audit_exported").await.len(), 1);
        let anonymous = srv
            .http
            .head(format!("{}/api/audit.csv", srv.base))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status().as_u16(), 401);
    }
);

on_both_databases!(the_export_streams_every_row_and_proves_the_chain, |srv| {
    use carekey_server::domain::audit::{self, Actor, Event};
    use carekey_server::store::entities::audit_log::Action;
    use sea_orm::TransactionTrait;
    // More rows than the on-screen view shows (5,000) and than one read of the export (500).
    let txn = srv.services.db.begin().await.unwrap();
    for i in 0..5_200 {
        audit::append(
            &txn,
            &srv.services.audit_key,
            srv.clock.now_ms(),
            &Actor {
                name: "loadtest".into(),
                ..Default::default()
            },
            Event {
                action: Action::SignInFailed,
                target: None,
                details: serde_json::json!({ "n": i }),
            },
        )
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
    let admin = staff_session(&srv, "admin", ADMIN_PW).await;
    let csv = srv.get_as("/api/audit.csv", Some(&admin)).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let lines: Vec<&str> = csv.body.trim_end().split("\r\n").collect();
    let rows = lines.iter().filter(|l| l.contains(",loadtest,")).count();
    assert_eq!(rows, 5_200);
    // Oldest first, every seq once, up to the head as it stood when the export began.
    let seqs: Vec<i64> = lines[1..lines.len() - 1]
        .iter()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "seqs in order");
    let head = *seqs.last().unwrap();
    let proof = lines.last().unwrap();
    assert!(
        proof.starts_with(&format!("# audit chain intact: {head} rows")),
        "{proof}"
    );
    // The MAC column is the chain itself: the head's MAC closes the proof line.
    let last_mac = lines[lines.len() - 2].rsplit(',').next().unwrap();
    assert!(
        proof.ends_with(&format!("head {head}:{last_mac}")),
        "{proof}"
    );
});
