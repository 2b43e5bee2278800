//! Passkeys over HTTP (issue 12, SECURITY.md M1, M3, M5, M6), on SQLite and PostgreSQL, with a
//! software authenticator that signs real WebAuthn ceremonies (tests/common/passkey.rs): added
//! in Settings, signing in alone, answering the second step, refused without user
//! verification, on the wrong portal, once its ceremony is spent, and once removed.

mod common;

use common::TestServer;
use common::passkey::SoftPasskey;
use serde_json::Value;

const MARIA_PW: &str = "sunflower-teapot-harbor";
const JCHEN_PW: &str = "granite-maple-lantern";
/// WebAuthn binds a passkey to a host name: the clinic's address here names `localhost`.
const ORIGIN: &str = "http://localhost:3999";

macro_rules! on_both {
    ($name:ident, |$srv:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($srv: common::TestServer) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(with_host(common::Db::Sqlite, stringify!($name)).await.unwrap()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(srv) = with_host(common::Db::Postgres, stringify!($name)).await {
                    run(srv).await;
                }
            }
        }
    };
}

async fn with_host(db: common::Db, tag: &str) -> Option<TestServer> {
    common::start_with(db, tag, &[("CAREKEY_PUBLIC_URL", ORIGIN)]).await
}

fn json(r: &common::Reply) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {} {}", r.status, r.body))
}

/// A ceremony's `(id, options)` from an answer.
fn ceremony(r: &common::Reply) -> (String, Value) {
    assert_eq!(r.status, 200, "{}", r.body);
    let c = json(r);
    let options = serde_json::from_str(c["options"].as_str().unwrap()).unwrap();
    (c["id"].as_str().unwrap().to_owned(), options)
}

/// Adds a passkey to the signed-in account in Settings; the answer of `confirm_passkey`.
async fn add_passkey(srv: &TestServer, cookie: &str, pw: &str) -> (SoftPasskey, common::Reply) {
    let r = srv
        .api(
            "start_passkey",
            &[("name", "My laptop"), ("current", pw)],
            Some(cookie),
        )
        .await;
    let (id, options) = ceremony(&r);
    let sel = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(sel["residentKey"], "required", "discoverable: {sel}");
    assert_eq!(sel["userVerification"], "required", "{sel}");
    let (key, answer) = SoftPasskey::register(&options, ORIGIN);
    let r = srv
        .api(
            "confirm_passkey",
            &[("ceremony", &id), ("credential", &answer.to_string())],
            Some(cookie),
        )
        .await;
    (key, r)
}

async fn passkey_sign_in(srv: &TestServer, portal: &str, key: &mut SoftPasskey) -> common::Reply {
    let (id, options) = ceremony(&srv.api("passkey_sign_in_options", &[], None).await);
    let answer = key
        .assert(&options, ORIGIN)
        .expect("a discoverable passkey answers");
    srv.api(
        "passkey_sign_in",
        &[
            ("portal", portal),
            ("ceremony", &id),
            ("credential", &answer.to_string()),
        ],
        None,
    )
    .await
}

on_both!(a_passkey_signs_in_alone, |srv| {
    use carekey_server::store::entities::{audit_log, outbox};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let (mut key, r) = add_passkey(&srv, &cookie, MARIA_PW).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let done = json(&r);
    assert_eq!(
        done["backup_codes"].as_array().unwrap().len(),
        10,
        "the first method brings its recovery codes"
    );
    assert_eq!(done["status"]["methods"][0]["kind"], "Passkey");
    assert_eq!(done["status"]["methods"][0]["name"], "My laptop");
    let told = outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(outbox::Kind::TwoStepNotice))
        .all(&srv.services.db)
        .await
        .unwrap();
    assert!(!told.is_empty(), "every contact is told of a new passkey");

    // Twice: the counter moves on and is stored.
    for _ in 0..2 {
        let r = passkey_sign_in(&srv, "Patient", &mut key).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let info = json(&r);
        assert!(
            info["second_step"].is_null(),
            "no second step after a passkey"
        );
        let full = r.session_cookie().expect("a session cookie");
        assert_eq!(srv.api("home", &[], Some(&full)).await.status, 200);
    }
    let rows = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("sign_in"))
        .all(&srv.services.db)
        .await
        .unwrap();
    assert!(
        rows.iter().any(|r| r.details.contains("passkey")),
        "the audit row says how: {rows:?}"
    );
});

on_both!(a_signed_answer_works_once, |srv| {
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let (mut key, r) = add_passkey(&srv, &cookie, MARIA_PW).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (id, options) = ceremony(&srv.api("passkey_sign_in_options", &[], None).await);
    let answer = key.assert(&options, ORIGIN).unwrap().to_string();
    let form = [
        ("portal", "Patient"),
        ("ceremony", id.as_str()),
        ("credential", answer.as_str()),
    ];
    assert_eq!(srv.api("passkey_sign_in", &form, None).await.status, 200);
    let again = srv.api("passkey_sign_in", &form, None).await;
    assert_eq!(again.status, 401, "a replayed answer: {}", again.body);
    assert!(again.body.contains("SignInFailed"), "{}", again.body);

    // An answer signed for another site's origin is refused, and spends its ceremony.
    let (id, options) = ceremony(&srv.api("passkey_sign_in_options", &[], None).await);
    let phished = key
        .assert(&options, "http://localhost.evil.example:3999")
        .unwrap()
        .to_string();
    let r = srv
        .api(
            "passkey_sign_in",
            &[
                ("portal", "Patient"),
                ("ceremony", &id),
                ("credential", &phished),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
});

on_both!(without_user_verification_a_passkey_is_refused, |srv| {
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    // Registering without UV: not added (SECURITY.md M3).
    let r = srv
        .api(
            "start_passkey",
            &[("name", ""), ("current", MARIA_PW)],
            Some(&cookie),
        )
        .await;
    let (id, options) = ceremony(&r);
    let (_, mut answer) = SoftPasskey::register(&options, ORIGIN);
    strip_user_verified(&mut answer, "attestationObject");
    let r = srv
        .api(
            "confirm_passkey",
            &[("ceremony", &id), ("credential", &answer.to_string())],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("PasskeyNotAccepted"), "{}", r.body);

    // Added with UV, then used without: one factor, so no session.
    let (mut key, r) = add_passkey(&srv, &cookie, MARIA_PW).await;
    assert_eq!(r.status, 200, "{}", r.body);
    key.user_verified = false;
    let r = passkey_sign_in(&srv, "Patient", &mut key).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.session_cookie().is_none());
    key.user_verified = true;
    assert_eq!(passkey_sign_in(&srv, "Patient", &mut key).await.status, 200);
});

/// The registration answer's authenticator data with the UV flag cleared: the test's stand-in
/// for an authenticator without a PIN or biometric. The attestation is "none", so nothing else
/// signs the flags at registration.
fn strip_user_verified(answer: &mut Value, field: &str) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let b64 = answer["response"][field].as_str().unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(b64).unwrap();
    // The attestation object is a CBOR map whose "authData" byte string holds the rp id hash
    // (32 bytes) then the flags: find the flags byte after the "authData" key and its length.
    let at = bytes
        .windows(8)
        .position(|w| w == b"authData")
        .expect("authData in the attestation object");
    // Key (8 bytes) then a byte-string header: 0x58 <len> or 0x59 <len16>.
    let header = match bytes[at + 8] {
        0x58 => 2,
        0x59 => 3,
        other => panic!("unexpected CBOR header {other:#x}"),
    };
    let flags = at + 8 + header + 32;
    bytes[flags] &= !0x04;
    answer["response"][field] = Value::String(URL_SAFE_NO_PAD.encode(bytes));
}

on_both!(the_sign_in_ceremony_names_nobody, |srv| {
    // Before anyone is known, the options are the same for everyone: no credential listed, no
    // user, so they say nothing about who has a passkey here (SECURITY.md M6).
    let (_, a) = ceremony(&srv.api("passkey_sign_in_options", &[], None).await);
    let (_, b) = ceremony(&srv.api("passkey_sign_in_options", &[], None).await);
    let strip = |mut v: Value| {
        v["publicKey"]["challenge"] = Value::Null;
        v
    };
    assert_eq!(strip(a.clone()), strip(b));
    let allowed = &a["publicKey"]["allowCredentials"];
    assert!(
        allowed.is_null() || allowed.as_array().is_some_and(Vec::is_empty),
        "{a}"
    );
    assert_eq!(a["publicKey"]["userVerification"], "required");
    assert_eq!(a["publicKey"]["rpId"], "localhost");

    // An unknown passkey fails exactly as a wrong password does.
    let (id, options) = ceremony(&srv.api("passkey_sign_in_options", &[], None).await);
    let stranger_options = serde_json::json!({ "publicKey": {
        "rp": { "id": "localhost" }, "user": { "id": "AAAAAAAAAAAAAAAAAAAAAA" },
        "challenge": "AAAA", "pubKeyCredParams": [{ "type": "public-key", "alg": -7 }]
    }});
    let (mut stranger, _) = SoftPasskey::register(&stranger_options, ORIGIN);
    let answer = stranger.assert(&options, ORIGIN).unwrap().to_string();
    let unknown = srv
        .api(
            "passkey_sign_in",
            &[
                ("portal", "Patient"),
                ("ceremony", &id),
                ("credential", &answer),
            ],
            None,
        )
        .await;
    let wrong_password = srv
        .sign_in("Patient", "maria", "not-her-password-at-all")
        .await;
    assert_eq!(unknown.status, wrong_password.status);
    assert_eq!(unknown.body, wrong_password.body);
});

on_both!(a_passkey_answers_the_second_step, |srv| {
    let cookie = srv.session("Patient", "jchen", JCHEN_PW).await;
    let (mut key, r) = add_passkey(&srv, &cookie, JCHEN_PW).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = srv.sign_in("Patient", "jchen", JCHEN_PW).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let offer = &json(&r)["second_step"];
    assert_eq!(offer["preferred"], "Passkey", "{offer}");
    let pending = r.session_cookie().unwrap();
    // Nothing else for a half-done sign-in, passkey ceremonies of Settings included.
    let r = srv
        .api(
            "start_passkey",
            &[("name", "x"), ("current", JCHEN_PW)],
            Some(&pending),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);

    let (id, options) = ceremony(
        &srv.api("second_step_passkey_options", &[], Some(&pending))
            .await,
    );
    assert_eq!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "this account's passkey, named once the password was proved"
    );
    let answer = key.assert(&options, ORIGIN).unwrap().to_string();
    let r = srv
        .api(
            "verify_second_step_passkey",
            &[
                ("ceremony", &id),
                ("credential", &answer),
                ("remember", "false"),
            ],
            Some(&pending),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let full = r.session_cookie().expect("a new session");
    assert_ne!(full, pending);
    assert_eq!(srv.api("home", &[], Some(&full)).await.status, 200);

    // A spent ceremony answered again counts as a wrong second step.
    let pending = srv
        .sign_in("Patient", "jchen", JCHEN_PW)
        .await
        .session_cookie()
        .unwrap();
    let r = srv
        .api(
            "verify_second_step_passkey",
            &[
                ("ceremony", &id),
                ("credential", &answer),
                ("remember", "false"),
            ],
            Some(&pending),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("SecondStepFailed"), "{}", r.body);
});

on_both!(a_paused_account_or_the_wrong_portal_does_not_open, |srv| {
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let (mut key, r) = add_passkey(&srv, &cookie, MARIA_PW).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = passkey_sign_in(&srv, "Staff", &mut key).await;
    assert_eq!(
        r.status, 401,
        "a patient's passkey in the staff console: {}",
        r.body
    );

    // Wrong passwords pause the account (SECURITY.md A1): a passkey waits too.
    for _ in 0..20 {
        let r = srv
            .sign_in("Patient", "maria", "wrong-wrong-wrong-wrong")
            .await;
        assert_eq!(r.status, 401);
    }
    let r = passkey_sign_in(&srv, "Patient", &mut key).await;
    assert_eq!(r.status, 401, "paused: {}", r.body);
});

on_both!(a_removed_passkey_no_longer_signs_in, |srv| {
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let (mut key, r) = add_passkey(&srv, &cookie, MARIA_PW).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = json(&r)["status"]["methods"][0]["id"].to_string();
    let r = srv
        .api(
            "remove_two_step_method",
            &[("id", &id), ("current", MARIA_PW)],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(passkey_sign_in(&srv, "Patient", &mut key).await.status, 401);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_with_no_host_name_has_no_passkeys() {
    // The usual test server's address is 127.0.0.1: WebAuthn cannot bind a passkey to it.
    let srv = common::start(common::Db::Sqlite, "no_host_passkeys")
        .await
        .unwrap();
    let info = json(&srv.api("portal_info", &[], None).await);
    assert_eq!(info["passkeys"], false);
    let r = srv.api("passkey_sign_in_options", &[], None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let status = json(&srv.api("two_step_status", &[], Some(&cookie)).await);
    assert_eq!(status["passkeys"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_off_for_patients_offers_no_passkey_on_their_page() {
    let srv = common::start_with(
        common::Db::Sqlite,
        "patients_off_passkeys",
        &[
            ("CAREKEY_PUBLIC_URL", ORIGIN),
            ("CAREKEY_MFA_PATIENTS", "off"),
        ],
    )
    .await
    .unwrap();
    let info = json(&srv.api("portal_info", &[], None).await);
    // A patient's passkey sign-in is refused there, so the patient page does not offer it;
    // the staff console, whose policy is its own, still does.
    assert_eq!(info["passkeys"], false);
    assert_eq!(info["staff_passkeys"], true);
}
