//! Settings > Manage Login Credentials over HTTP: the password policy on every path that sets
//! a password (common passwords, the optional composition rule), and signed-in devices.

mod common;

use std::time::Duration;

const MARIA_PW: &str = "sunflower-teapot-harbor";

on_both_databases!(common_passwords_are_refused_on_every_path, |srv| {
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    for padded in [
        "monkeymonkeymonkey",
        "dragon123456789!!",
        "qwertyuiop123456",
    ] {
        let r = srv.change_password(&cookie, MARIA_PW, padded).await;
        assert_eq!(r.status, 400, "{padded}: {}", r.body);
        assert!(r.body.contains("Common"), "{padded}: {}", r.body);
    }
    // The same list on the reset path.
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
    assert_eq!(r.status, 200);
    let dev = srv.services.delivery.dev.clone().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let text = loop {
        if let Some(m) = dev.list().into_iter().find(|m| m.kind == "reset_code") {
            break m.text;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let code: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 8)
        .unwrap()
        .to_owned();
    let g = srv
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
    let grant: serde_json::Value = serde_json::from_str(&g.body).unwrap();
    let grant = grant["grant"].as_str().unwrap();
    let pw = "passwordpassword";
    let r = srv
        .api(
            "complete_reset",
            &[("grant", grant), ("new", pw), ("repeat", pw)],
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Common"), "{}", r.body);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_optional_mix_rule_applies_when_the_clinic_turns_it_on() {
    use carekey_server::domain::ClientMeta;
    use carekey_server::domain::DomainError;
    use carekey_server::domain::accounts::NewAccount;
    use carekey_server::store::entities::account;
    let srv = common::start_empty(
        common::Db::Sqlite,
        "require_mix",
        &[("CAREKEY_PASSWORD_REQUIRE_MIX", "true")],
    )
    .await
    .unwrap();
    let info: serde_json::Value =
        serde_json::from_str(&srv.api("portal_info", &[], None).await.body).unwrap();
    assert_eq!(info["password_require_mix"], true);
    let account = |pw: &'static str| {
        let s = srv.services.clone();
        async move {
            s.create_account(
                NewAccount {
                    kind: account::Kind::Staff,
                    username: "desk".into(),
                    display_name: "Desk".into(),
                    patient_id: None,
                    email: None,
                    must_change_password: false,
                },
                pw,
                None,
                &ClientMeta::default(),
            )
            .await
        }
    };
    // Every path that sets a password: creating an account…
    assert!(matches!(
        account("lantern orchard bicycle").await,
        Err(DomainError::PasswordRejected(i)) if i.contains(&carekey_shared::policy::PolicyIssue::NeedsMix)
    ));
    account("lantern orchard bicycle #7").await.unwrap();
    // …and changing it.
    let cookie = srv
        .session("Staff", "desk", "lantern orchard bicycle #7")
        .await;
    let current = "lantern orchard bicycle #7";
    let r = srv
        .change_password(&cookie, current, "copper kettle meadow song")
        .await;
    assert!(r.body.contains("NeedsMix"), "{}", r.body);
    let r = srv
        .change_password(&cookie, current, "copper kettle meadow song 42")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

on_both_databases!(signed_in_devices_and_signing_out_everywhere_else, |srv| {
    let phone = srv
        .post(
            "sign_in",
            &[("portal", "Patient"), ("identifier", "maria"), ("password", MARIA_PW)],
            common::Call {
                cookie: None,
                headers: vec![(
                    "user-agent",
                    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36".into(),
                )],
            },
        )
        .await
        .session_cookie()
        .unwrap();
    srv.clock.advance(Duration::from_secs(60));
    let desktop = srv.session("Patient", "maria", MARIA_PW).await;
    let r = srv.api("list_sessions", &[], Some(&desktop)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list: Vec<serde_json::Value> = serde_json::from_str(&r.body).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|d| d["current"] == true).count(), 1);
    assert!(
        list.iter().any(|d| d["device"] == "Chrome on Android"),
        "{list:?}"
    );

    let r = srv
        .api("sign_out_other_sessions", &[], Some(&desktop))
        .await;
    assert_eq!((r.status, r.body.as_str()), (200, "1"));
    assert_eq!(srv.api("whoami", &[], Some(&phone)).await.status, 401);
    assert_eq!(srv.api("whoami", &[], Some(&desktop)).await.status, 200);
    let list: Vec<serde_json::Value> =
        serde_json::from_str(&srv.api("list_sessions", &[], Some(&desktop)).await.body).unwrap();
    assert_eq!(list.len(), 1);
    // Without a session there is nothing to list.
    assert_eq!(srv.api("list_sessions", &[], None).await.status, 401);
});

on_both_databases!(username_change_needs_the_password_and_a_free_name, |srv| {
    let elsewhere = srv.session("Patient", "maria", MARIA_PW).await;
    let cookie = srv.session("Patient", "maria", MARIA_PW).await;
    let change = |current: &'static str, name: &'static str| {
        let cookie = cookie.clone();
        let srv = &srv;
        async move {
            srv.api(
                "change_username",
                &[("current", current), ("new_username", name)],
                Some(&cookie),
            )
            .await
        }
    };
    // A wrong current password is refused and counts toward lockout (P9).
    let r = change("not-my-password-at-all", "maria.l").await;
    assert!(r.body.contains("CurrentPasswordIncorrect"), "{}", r.body);
    let acct = srv
        .services
        .find_by_username("maria")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acct.failed_sign_ins, 1);
    // Taken, whatever the capitalisation; and not a username at all.
    assert!(
        change(MARIA_PW, "JCHEN")
            .await
            .body
            .contains("UsernameTaken")
    );
    assert!(
        change(MARIA_PW, "a b")
            .await
            .body
            .contains("UsernameInvalid")
    );
    let r = change(MARIA_PW, "Maria.L").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(srv.sign_in("Patient", "maria", MARIA_PW).await.status, 401);
    assert_eq!(
        srv.sign_in("Patient", "maria.l", MARIA_PW).await.status,
        200
    );
    // The other session ended; this one stayed.
    assert_eq!(srv.api("whoami", &[], Some(&elsewhere)).await.status, 401);
    assert_eq!(srv.api("whoami", &[], Some(&cookie)).await.status, 200);
    // Every contact on file hears the new name.
    let dev = srv.services.delivery.dev.clone().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while dev
        .list()
        .iter()
        .filter(|m| m.kind == "username_notice")
        .count()
        < 2
    {
        assert!(std::time::Instant::now() < deadline, "{:?}", dev.list());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(dev.list().iter().any(|m| m.text.contains("Maria.L")));
});

/// The newest development-outbox message of `kind` to `to`, waiting for it.
async fn dev_message(srv: &common::TestServer, to: &str, kind: &str) -> String {
    let dev = srv.services.delivery.dev.clone().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(m) = dev
            .list()
            .into_iter()
            .find(|m| m.to == to && m.kind == kind)
        {
            return m.text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {kind} to {to}: {:?}",
            dev.list()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 8)
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned()
}

on_both_databases!(
    email_and_phone_changes_need_the_password_and_a_code_from_the_new_contact,
    |srv| {
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        let start = |current: &'static str, kind: &'static str, value: &'static str| {
            let cookie = cookie.clone();
            let srv = &srv;
            async move {
                srv.api(
                    "start_contact_change",
                    &[("current", current), ("kind", kind), ("value", value)],
                    Some(&cookie),
                )
                .await
            }
        };
        assert!(
            start(MARIA_PW, "Email", "not an email")
                .await
                .body
                .contains("ContactInvalid")
        );
        // A3 applies here too: a number outside the allowed countries is refused.
        assert!(
            start(MARIA_PW, "Mobile", "+1 876 555 0123")
                .await
                .body
                .contains("ContactInvalid")
        );
        let r = start("wrong-password-here", "Email", "maria.new@example.com").await;
        assert!(r.body.contains("CurrentPasswordIncorrect"), "{}", r.body);

        let r = start(MARIA_PW, "Email", "Maria.New@example.com").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let started: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(started["masked_destination"], "M•••@example.com");
        let code = code_in(&dev_message(&srv, "Maria.New@example.com", "contact_code").await);
        let confirm = |code: String| {
            let cookie = cookie.clone();
            let srv = &srv;
            async move {
                srv.api("confirm_contact_change", &[("code", &code)], Some(&cookie))
                    .await
            }
        };
        let wrong = if code == "00000000" {
            "11111111"
        } else {
            "00000000"
        };
        assert!(confirm(wrong.into()).await.body.contains("NotAccepted"));
        // Nothing changed yet.
        assert_eq!(
            srv.sign_in("Patient", "maria.lopez@example.com", MARIA_PW)
                .await
                .status,
            200
        );
        let r = confirm(code).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body.contains("Maria.New@example.com") && !r.body.contains("maria.lopez@"),
            "{}",
            r.body
        );
        // The old address and the mobile were told; the new address signs in, the old does not.
        dev_message(&srv, MARIA_EMAIL_OLD, "contact_notice").await;
        dev_message(&srv, "+15035550101", "contact_notice").await;
        assert_eq!(
            srv.sign_in("Patient", "maria.new@example.com", MARIA_PW)
                .await
                .status,
            200
        );
        assert_eq!(
            srv.sign_in("Patient", "maria.lopez@example.com", MARIA_PW)
                .await
                .status,
            401
        );

        // A mobile number, typed the way people type it, confirmed by a text.
        let r = start(MARIA_PW, "Mobile", "(503) 555-0199").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let code = code_in(&dev_message(&srv, "+15035550199", "contact_code").await);
        let r = confirm(code).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body.contains("+15035550199") && !r.body.contains("+15035550101"),
            "{}",
            r.body
        );
        dev_message(&srv, "+15035550101", "contact_notice").await;
    }
);

const MARIA_EMAIL_OLD: &str = "maria.lopez@example.com";

on_both_databases!(
    each_of_the_last_five_passwords_is_refused_the_sixth_is_not,
    |srv| {
        let cookie = srv.session("Patient", "maria", MARIA_PW).await;
        let chain = [
            MARIA_PW,
            "amber lighthouse at dusk",
            "seven quiet otters swim",
            "purple tractor in the rain",
            "violin made of driftwood",
            "cinnamon clouds over lisbon",
        ];
        for pair in chain.windows(2) {
            let r = srv.change_password(&cookie, pair[0], pair[1]).await;
            assert_eq!(r.status, 200, "{} -> {}: {}", pair[0], pair[1], r.body);
        }
        let current = chain[5];
        // The current one and the four before it: refused (P5, N = 5).
        for old in &chain[1..5] {
            let r = srv.change_password(&cookie, current, old).await;
            assert_eq!(r.status, 400, "{old}");
            assert!(r.body.contains("RecentlyUsed"), "{old}: {}", r.body);
        }
        // Six back is allowed again.
        let r = srv.change_password(&cookie, current, chain[0]).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);
