//! Self-service recovery over HTTP: every channel end to end (email through a real SMTP server,
//! texts and calls through the development outbox), enumeration, limits, concurrency and
//! faults, on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::smtp::SmtpSink;
use common::{Call, TestServer};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use carekey_server::store::entities::{account, audit_log, challenge, outbox};

const MARIA_PW: &str = "sunflower-teapot-harbor";
const MARIA_EMAIL: &str = "maria.lopez@example.com";
const NEW_PW: &str = "lighthouse-marmalade-cactus";
const WAIT: Duration = Duration::from_secs(15);

fn who(id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("who[identifier]", id.to_owned()),
        ("who[email]", String::new()),
    ]
}

/// Asks for a reset as a person would, each time from an address of its own: these tests are
/// about the account's own limits, not an address's.
async fn request_reset(srv: &TestServer, id: &str, channel: &str) -> common::Reply {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut form = who(id);
    form.push(("channel", channel.to_owned()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    srv.post(
        "request_reset",
        &form,
        Call {
            cookie: None,
            headers: vec![(
                "x-forwarded-for",
                format!("198.18.{}.{}", (n >> 8) & 0xff, n & 0xff),
            )],
        },
    )
    .await
}

async fn verify_code(srv: &TestServer, id: &str, code: &str) -> common::Reply {
    let mut form = who(id);
    form.push(("code", code.to_owned()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    srv.api("verify_reset_code", &form, None).await
}

async fn complete(srv: &TestServer, grant: &str, pw: &str) -> common::Reply {
    srv.api(
        "complete_reset",
        &[("grant", grant), ("new", pw), ("repeat", pw)],
        None,
    )
    .await
}

fn json(r: &common::Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {} {}", r.status, r.body))
}

/// The first run of exactly eight digits: the code in any of our messages.
fn code_in(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 8 {
                return chars[start..i].iter().collect();
            }
        } else {
            i += 1;
        }
    }
    panic!("no code in: {text}")
}

/// Waits until the development outbox holds `n` messages to `to`; returns them newest first.
async fn dev_messages(
    srv: &TestServer,
    to: &str,
    n: usize,
) -> Vec<carekey_server::delivery::dev::DevMessage> {
    let dev = srv
        .services
        .delivery
        .dev
        .clone()
        .expect("dev outbox in use");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let got: Vec<_> = dev.list().into_iter().filter(|m| m.to == to).collect();
        if got.len() >= n {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waited for {n} messages to {to}, have {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the recovery worker has handled every queued request.
async fn worker_idle(srv: &TestServer) {
    use carekey_server::store::entities::recovery_request;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = recovery_request::Entity::find()
            .all(&srv.services.db)
            .await
            .unwrap();
        if left.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "requests not handled: {left:?}"
        );
        srv.services.recovery_wake.notify_one();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn with_smtp(db: common::Db, tag: &str, sink: &SmtpSink) -> Option<TestServer> {
    let port = sink.smtp_port.to_string();
    common::start_with(
        db,
        tag,
        &[
            ("CAREKEY_SMTP_HOST", "127.0.0.1"),
            ("CAREKEY_SMTP_PORT", &port),
            ("CAREKEY_SMTP_TLS", "none"),
            (
                "CAREKEY_SMTP_FROM",
                "Hillside Family Clinic <portal@hillside.example>",
            ),
            ("CAREKEY_SMTP_TIMEOUT_SECONDS", "3"),
        ],
    )
    .await
}

/// Runs the body against SQLite and PostgreSQL with a real SMTP server behind CareKey.
macro_rules! with_smtp_on_both {
    ($name:ident, |$srv:ident, $sink:ident| $body:block) => {
        mod $name {
            use super::*;
            async fn run($srv: TestServer, $sink: SmtpSink) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let sink = SmtpSink::start().await;
                let srv = with_smtp(common::Db::Sqlite, stringify!($name), &sink).await.unwrap();
                run(srv, sink).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let sink = SmtpSink::start().await;
                if let Some(srv) = with_smtp(common::Db::Postgres, stringify!($name), &sink).await {
                    run(srv, sink).await;
                }
            }
        }
    };
}

with_smtp_on_both!(
    email_code_resets_and_notifies_through_real_smtp,
    |srv, sink| {
        let old_session = srv.session("Patient", "maria", MARIA_PW).await;
        let r = request_reset(&srv, "maria", "EmailCode").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let accepted = json(&r);
        let reference = accepted["reference"].as_str().unwrap().to_owned();
        assert_eq!(accepted["expires_in_secs"], 600);

        let mail = sink.wait_for(MARIA_EMAIL, 1, WAIT).await;
        assert_eq!(mail.len(), 1);
        assert!(mail[0].subject.contains(&reference), "{}", mail[0].subject);
        assert!(mail[0].text.contains("expires in 10 minutes"));
        assert!(mail[0].html.contains("<p"), "an HTML part too");
        assert_eq!(mail[0].from, "portal@hillside.example");
        let code = code_in(&mail[0].text);

        let g = verify_code(&srv, "maria", &format!("{} {}", &code[..4], &code[4..])).await;
        assert_eq!(g.status, 200, "{}", g.body);
        let grant = json(&g);
        assert_eq!(grant["masked_contact"], "m•••@example.com");
        let r = complete(&srv, grant["grant"].as_str().unwrap(), NEW_PW).await;
        assert_eq!(r.status, 200, "{}", r.body);

        // R9: no automatic sign-in, every session ended, a notice to the contact on file.
        assert!(r.session_cookie().is_none());
        assert_eq!(srv.api("whoami", &[], Some(&old_session)).await.status, 401);
        assert_eq!(srv.sign_in("Patient", "maria", MARIA_PW).await.status, 401);
        assert_eq!(srv.sign_in("Patient", "maria", NEW_PW).await.status, 200);
        let mail = sink.wait_for(MARIA_EMAIL, 2, WAIT).await;
        assert!(
            mail[1].subject.contains("password was changed"),
            "{}",
            mail[1].subject
        );

        // The code worked once.
        let again = verify_code(&srv, "maria", &code).await;
        assert_eq!(again.status, 400);
        assert!(again.body.contains("AlreadyUsed"), "{}", again.body);

        // The notice by text went through the development outbox (no Twilio here).
        dev_messages(&srv, "+15035550101", 1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        // R3: neither the code nor the grant is anywhere in the database.
        let rows = challenge::Entity::find()
            .all(&srv.services.db)
            .await
            .unwrap();
        let outbox_rows = outbox::Entity::find().all(&srv.services.db).await.unwrap();
        let audit_rows = audit_log::Entity::find()
            .all(&srv.services.db)
            .await
            .unwrap();
        let dump = format!("{rows:?}{outbox_rows:?}{audit_rows:?}");
        assert!(!dump.contains(&code), "code stored in the clear");
        assert!(!dump.contains(grant["grant"].as_str().unwrap()));
        assert!(
            outbox_rows.iter().all(|o| o.payload == "{}"),
            "payloads scrubbed after sending"
        );
    }
);

with_smtp_on_both!(
    email_link_survives_scanners_and_uses_the_configured_origin,
    |srv, sink| {
        // R8: a forged Host header changes nothing in the link.
        let mut form = who("maria");
        form.push(("channel", "EmailLink".to_owned()));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = srv
            .post(
                "request_reset",
                &form,
                Call {
                    cookie: None,
                    headers: vec![
                        ("host", "evil.test".into()),
                        ("x-forwarded-host", "evil.test".into()),
                    ],
                },
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(json(&r)["expires_in_secs"], 3600);
        let mail = sink.wait_for(MARIA_EMAIL, 1, WAIT).await;
        let prefix = format!("{}/reset#t=", srv.base);
        let line = mail[0]
            .text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no link to {prefix} in {}", mail[0].text));
        assert!(!mail[0].text.contains("evil.test") && !mail[0].html.contains("evil.test"));
        let token = line.trim_start_matches(&prefix).trim().to_owned();
        assert!(token.len() >= 43, "256-bit token: {token}");

        // R7: HEAD, three GETs of the page and two previews (a scanner running the page's script)
        // leave the link valid.
        let head = srv
            .http
            .head(format!("{}/reset", srv.base))
            .send()
            .await
            .unwrap();
        assert!(head.status().as_u16() < 500);
        for _ in 0..3 {
            assert!(srv.get("/reset").await.status < 500);
        }
        for _ in 0..2 {
            let p = srv
                .api("preview_reset_link", &[("token", &token)], None)
                .await;
            assert_eq!(p.status, 200, "{}", p.body);
            assert_eq!(json(&p)["masked_contact"], "m•••@example.com");
        }
        let g = srv
            .api("redeem_reset_link", &[("token", &token)], None)
            .await;
        assert_eq!(g.status, 200, "{}", g.body);
        let again = srv
            .api("redeem_reset_link", &[("token", &token)], None)
            .await;
        assert!(again.body.contains("AlreadyUsed"), "{}", again.body);
        let grant = json(&g)["grant"].as_str().unwrap().to_owned();
        assert_eq!(complete(&srv, &grant, NEW_PW).await.status, 200);
        assert_eq!(srv.sign_in("Patient", "maria", NEW_PW).await.status, 200);
    }
);

with_smtp_on_both!(
    smtp_outage_is_retried_and_expired_codes_are_dropped,
    |srv, sink| {
        let port = sink.smtp_port;
        sink.stop().await;
        let r = request_reset(&srv, "maria", "EmailCode").await;
        assert_eq!(
            r.status, 200,
            "the answer does not depend on SMTP: {}",
            r.body
        );
        // The dispatcher tries, fails and schedules a retry.
        let deadline = std::time::Instant::now() + WAIT;
        let row = loop {
            let rows = outbox::Entity::find().all(&srv.services.db).await.unwrap();
            if let Some(r) = rows.into_iter().find(|r| r.attempts >= 1) {
                break r;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no failed attempt recorded"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(row.status, outbox::Status::Queued);
        assert!(row.last_error.is_some());

        // SMTP comes back; once the retry is due the code is delivered.
        let sink = SmtpSink::start_on(port).await;
        srv.clock.advance(Duration::from_secs(11));
        srv.services.delivery.kick();
        let mail = sink.wait_for(MARIA_EMAIL, 1, WAIT).await;
        // The retried send carries the Message-ID every attempt at that row carries.
        assert_eq!(
            mail[0].message_id,
            format!(
                "<carekey-outbox-{}.{}@hillside.example>",
                row.id, row.created_at
            )
        );
        let code = code_in(&mail[0].text);
        assert_eq!(verify_code(&srv, "maria", &code).await.status, 200);

        // Down again; this time the code expires before SMTP returns: it is never sent late.
        sink.stop().await;
        assert_eq!(request_reset(&srv, "maria", "EmailCode").await.status, 200);
        worker_idle(&srv).await;
        // Its first attempt fails before the clock moves: an attempt still under way when it
        // moved would schedule its retry from the new time, beyond this test's patience.
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let rows = outbox::Entity::find()
                .filter(outbox::Column::Kind.eq(outbox::Kind::ResetCode))
                .filter(outbox::Column::Id.gt(row.id))
                .all(&srv.services.db)
                .await
                .unwrap();
            if rows
                .iter()
                .any(|r| r.attempts >= 1 && r.status == outbox::Status::Queued)
            {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no failed attempt: {rows:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        srv.clock.advance(Duration::from_secs(601));
        let sink = SmtpSink::start_on(port).await;
        srv.services.delivery.kick();
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let rows = outbox::Entity::find()
                .filter(outbox::Column::Kind.eq(outbox::Kind::ResetCode))
                .all(&srv.services.db)
                .await
                .unwrap();
            if rows.iter().any(|r| r.status == outbox::Status::Expired) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not expired: {rows:?}"
            );
            srv.services.delivery.kick();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            sink.messages_to(MARIA_EMAIL).await.len(),
            0,
            "an expired code was sent"
        );
    }
);

on_both_databases!(texts_and_calls_go_through_the_dev_outbox, |srv| {
    let r = request_reset(&srv, "maria", "Sms").await;
    assert_eq!(r.status, 200);
    let reference = json(&r)["reference"].as_str().unwrap().to_owned();
    let sms = dev_messages(&srv, "+15035550101", 1).await;
    let text = &sms[0].text;
    let code = code_in(text);
    let host = srv.base.trim_start_matches("http://");
    assert!(
        text.ends_with(&format!("@{host} #{code}")),
        "Web OTP line: {text}"
    );
    assert!(text.contains(&reference));
    let g = verify_code(&srv, "maria", &code).await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!(json(&g)["masked_contact"], "•••-•••-0101");

    // Sam has only a landline: a call reads the code slowly, twice.
    assert_eq!(request_reset(&srv, "sam", "Voice").await.status, 200);
    let call = dev_messages(&srv, "+15035550177", 1).await;
    assert_eq!(call[0].channel, outbox::Channel::Voice);
    let code = code_in(&call[0].text.replace(", ", ""));
    let spelled: Vec<String> = code.chars().map(String::from).collect();
    assert_eq!(
        call[0].text.matches(&spelled.join(", ")).count(),
        2,
        "{}",
        call[0].text
    );
    assert_eq!(verify_code(&srv, "sam", &code).await.status, 200);
});

on_both_databases!(
    landline_only_patients_hear_usernames_and_notices_by_call,
    |srv| {
        // Sam has only a landline. By name, date of birth and ZIP: a call spells the username
        // twice, never the answer.
        let r = srv
            .api(
                "request_username",
                &[
                    ("lookup[Demographics][first_name]", "Sam"),
                    ("lookup[Demographics][last_name]", "Taylor"),
                    ("lookup[Demographics][date_of_birth]", "1947-07-30"),
                    ("lookup[Demographics][zip]", "97202"),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!r.body.contains("sam"));
        let call = dev_messages(&srv, "+15035550177", 1).await;
        assert_eq!(call[0].channel, outbox::Channel::Voice);
        assert_eq!(call[0].kind, "username");
        assert_eq!(
            call[0].text.matches("s, a, m.").count(),
            2,
            "{}",
            call[0].text
        );

        // By the landline's number, typed the way people type it.
        let r = srv
            .api(
                "request_username",
                &[("lookup[Contact][email_or_phone]", "503.555.0177")],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let calls = dev_messages(&srv, "+15035550177", 2).await;
        assert_eq!(calls[0].kind, "username");

        // A reset by call, then the notice of it by call too: no email or mobile to tell.
        assert_eq!(request_reset(&srv, "sam", "Voice").await.status, 200);
        let calls = dev_messages(&srv, "+15035550177", 3).await;
        let code = code_in(&calls[0].text.replace(", ", ""));
        let g = verify_code(&srv, "sam", &code).await;
        let grant = json(&g)["grant"].as_str().unwrap().to_owned();
        assert_eq!(complete(&srv, &grant, NEW_PW).await.status, 200);
        let calls = dev_messages(&srv, "+15035550177", 4).await;
        assert_eq!(calls[0].kind, "password_notice");
        assert_eq!(calls[0].channel, outbox::Channel::Voice);
        assert_eq!(
            calls[0].text.matches("password was just reset").count(),
            2,
            "{}",
            calls[0].text
        );

        // Maria has email and a mobile: her notices never ring her phone.
        request_reset(&srv, "maria", "Sms").await;
        let code = code_in(&dev_messages(&srv, "+15035550101", 1).await[0].text);
        let g = verify_code(&srv, "maria", &code).await;
        let grant = json(&g)["grant"].as_str().unwrap().to_owned();
        assert_eq!(complete(&srv, &grant, NEW_PW).await.status, 200);
        let texts = dev_messages(&srv, "+15035550101", 2).await;
        assert!(
            texts.iter().all(|m| m.channel == outbox::Channel::Sms),
            "{texts:?}"
        );
    }
);

on_both_databases!(messages_are_in_the_language_on_file_else_the_pages, |srv| {
    // Lucía has Spanish on file: her text and her call are in Spanish, read by the Spanish
    // voice, whatever language the page was in.
    assert_eq!(request_reset(&srv, "lucia", "Sms").await.status, 200);
    let texts = dev_messages(&srv, "+15035550150", 1).await;
    assert!(texts[0].text.contains("contraseña"), "{}", texts[0].text);
    assert_eq!(request_reset(&srv, "lucia", "Voice").await.status, 200);
    let calls = dev_messages(&srv, "+15035550150", 2).await;
    assert_eq!(calls[0].channel, outbox::Channel::Voice);
    assert_eq!(
        calls[0].text.to_lowercase().matches("su código es").count(),
        2,
        "{}",
        calls[0].text
    );

    // Maria has none on file: a Spanish page's request gets a Spanish code, an English
    // page's (or an old page's, which names none) an English one. The answers are the same.
    let ask = |lang: Option<&'static str>| {
        let mut form = who("maria");
        form.push(("channel", "Sms".to_owned()));
        if let Some(l) = lang {
            form.push(("lang", l.to_owned()));
        }
        form
    };
    let spanish = ask(Some("es"));
    let form: Vec<(&str, &str)> = spanish.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = srv.api("request_reset", &form, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let texts = dev_messages(&srv, "+15035550101", 1).await;
    assert!(texts[0].text.contains("contraseña"), "{}", texts[0].text);
    let english = ask(None);
    let form: Vec<(&str, &str)> = english.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = srv.api("request_reset", &form, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let texts = dev_messages(&srv, "+15035550101", 2).await;
    assert!(
        texts[0].text.contains("password reset code"),
        "{}",
        texts[0].text
    );

    // Maria chooses Spanish in Settings: the notice of her next change is Spanish, even
    // though the page that asked for the reset was English.
    let maria = srv.session("Patient", "maria", MARIA_PW).await;
    let r = srv
        .api("set_my_language", &[("lang", "es")], Some(&maria))
        .await;
    assert_eq!((r.status, r.body.as_str()), (200, "\"es\""));
    let r = srv.api("my_language", &[], Some(&maria)).await;
    assert_eq!(r.body, "\"es\"");
    let code = code_in(&texts[0].text);
    let g = verify_code(&srv, "maria", &code).await;
    let grant = json(&g)["grant"].as_str().unwrap().to_owned();
    assert_eq!(complete(&srv, &grant, NEW_PW).await.status, 200);
    let texts = dev_messages(&srv, "+15035550101", 3).await;
    assert_eq!(texts[0].kind, "password_notice");
    assert!(texts[0].text.contains("contraseña"), "{}", texts[0].text);
    // Staff have no language on file to set.
    let staff = srv
        .session("Staff", "frontdesk", "front-desk-coffee-morning")
        .await;
    let r = srv
        .api("set_my_language", &[("lang", "es")], Some(&staff))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
});

on_both_databases!(every_identifier_gets_the_same_answer, |srv| {
    // A locked account (sign-in locked for good) and one disabled.
    account::Entity::update_many()
        .col_expr(
            account::Column::Status,
            sea_orm::sea_query::Expr::value(account::Status::Locked),
        )
        .filter(account::Column::UsernameLower.eq("leo"))
        .exec(&srv.services.db)
        .await
        .unwrap();
    let cases = [
        ("maria", "Sms"),       // exists, has a mobile
        ("nobody-here", "Sms"), // unknown
        ("leo", "Sms"),         // locked, no phone
        ("jchen", "Sms"),       // exists, no phone on file
        ("frontdesk", "Sms"),   // staff: not recovered here
        ("maria.lopez@example.com", "Sms"),
    ];
    let mut shapes = vec![];
    for (id, ch) in cases {
        let r = request_reset(&srv, id, ch).await;
        let mut body = json(&r);
        let reference = body["reference"].as_str().unwrap().to_owned();
        assert_eq!(reference.len(), 4);
        body["reference"] = "XXXX".into();
        shapes.push((
            r.status,
            r.stable_headers(),
            body.to_string(),
            r.session_cookie(),
        ));
    }
    for s in &shapes[1..] {
        assert_eq!(s, &shapes[0], "E1: responses differ");
    }
    worker_idle(&srv).await;
    let dev = srv.services.delivery.dev.clone().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent: Vec<String> = dev.list().into_iter().map(|m| m.to).collect();
    // Only Maria's mobile got anything: two texts.
    assert!(sent.iter().all(|to| to == "+15035550101"), "{sent:?}");
    assert_eq!(sent.len(), 2, "{sent:?}");
});

on_both_databases!(
    fifty_simultaneous_submissions_of_one_code_succeed_once,
    |srv| {
        assert_eq!(request_reset(&srv, "maria", "Sms").await.status, 200);
        let code = code_in(&dev_messages(&srv, "+15035550101", 1).await[0].text);
        let mut tasks = vec![];
        for _ in 0..50 {
            let base = srv.base.clone();
            let http = srv.http.clone();
            let code = code.clone();
            tasks.push(tokio::spawn(async move {
                http.post(format!("{base}/api/verify_reset_code"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("origin", base.clone())
                    .body(format!("who[identifier]=maria&who[email]=&code={code}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            let s = t.await.unwrap();
            assert!(s == 200 || s == 400, "status {s}");
            ok += usize::from(s == 200);
        }
        assert_eq!(ok, 1, "F5: exactly one success");
    }
);

on_both_databases!(
    codes_expire_are_replaced_and_survive_only_five_wrong_guesses,
    |srv| {
        // TTL − 1 s works.
        request_reset(&srv, "maria", "Sms").await;
        let code = code_in(&dev_messages(&srv, "+15035550101", 1).await[0].text);
        srv.clock.advance(Duration::from_secs(599));
        assert_eq!(verify_code(&srv, "maria", &code).await.status, 200);

        // TTL + 1 s does not, and says why.
        request_reset(&srv, "maria", "Sms").await;
        let code = code_in(&dev_messages(&srv, "+15035550101", 2).await[0].text);
        srv.clock.advance(Duration::from_secs(601));
        let r = verify_code(&srv, "maria", &code).await;
        assert!(r.body.contains("Expired"), "{}", r.body);

        // A resend replaces the earlier code (R5).
        request_reset(&srv, "maria", "Sms").await;
        let first = code_in(&dev_messages(&srv, "+15035550101", 3).await[0].text);
        request_reset(&srv, "maria", "Sms").await;
        let second = code_in(&dev_messages(&srv, "+15035550101", 4).await[0].text);
        let r = verify_code(&srv, "maria", &first).await;
        assert!(r.body.contains("Replaced"), "{}", r.body);

        // Five wrong guesses, then the right code is refused too (R6).
        let wrong = if second == "00000000" {
            "11111111"
        } else {
            "00000000"
        };
        for _ in 0..5 {
            let r = verify_code(&srv, "maria", wrong).await;
            assert!(r.body.contains("NotAccepted"), "{}", r.body);
        }
        let r = verify_code(&srv, "maria", &second).await;
        assert!(
            r.body.contains("NotAccepted"),
            "sixth guess accepted: {}",
            r.body
        );
    }
);

on_both_databases!(
    twenty_wrong_guesses_a_day_pause_recovery_for_an_hour,
    |srv| {
        for round in 0..4 {
            request_reset(&srv, "maria", "Sms").await;
            dev_messages(&srv, "+15035550101", round + 1).await;
            for _ in 0..5 {
                verify_code(&srv, "maria", "99999999").await;
            }
        }
        // A fresh code does not reset the count: even the right one is refused for an hour.
        // (Asked for by email address: the username's share of sends, four, is used up.)
        srv.clock.advance(Duration::from_secs(60));
        request_reset(&srv, MARIA_EMAIL, "Sms").await;
        let code = code_in(&dev_messages(&srv, "+15035550101", 5).await[0].text);
        assert!(
            verify_code(&srv, "maria", &code)
                .await
                .body
                .contains("NotAccepted")
        );
        srv.clock.advance(Duration::from_secs(3600));
        request_reset(&srv, MARIA_EMAIL, "Sms").await;
        let code = code_in(&dev_messages(&srv, "+15035550101", 6).await[0].text);
        assert_eq!(verify_code(&srv, "maria", &code).await.status, 200);
    }
);

on_both_databases!(send_limits_stop_sending_but_not_the_answer, |srv| {
    // A2: 5 per account per hour. The sixth request answers the same and sends nothing. Half
    // by username, half by email address: one identifier alone has a smaller share (below).
    for i in 0..6 {
        let id = if i < 3 { "maria" } else { MARIA_EMAIL };
        let r = request_reset(&srv, id, "Sms").await;
        assert_eq!(r.status, 200);
        worker_idle(&srv).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dev = srv.services.delivery.dev.clone().unwrap();
    assert_eq!(
        dev.list().iter().filter(|m| m.to == "+15035550101").count(),
        5
    );
    let limited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("recovery_requested"))
        .all(&srv.services.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.details.contains("\"limited\""))
        .count();
    assert_eq!(limited, 1);
});

on_both_databases!(
    reset_clears_a_lock_and_username_reminders_go_only_to_contacts,
    |srv| {
        // Lock Maria for good: 20 wrong passwords.
        for _ in 0..20 {
            srv.sign_in("Patient", "maria", "wrong-password-entirely")
                .await;
            srv.clock.advance(Duration::from_secs(25 * 3600));
        }
        assert_eq!(srv.sign_in("Patient", "maria", MARIA_PW).await.status, 401);
        request_reset(&srv, "maria", "Sms").await;
        let code = code_in(&dev_messages(&srv, "+15035550101", 1).await[0].text);
        let g = verify_code(&srv, "maria", &code).await;
        let grant = json(&g)["grant"].as_str().unwrap().to_owned();
        assert_eq!(complete(&srv, &grant, NEW_PW).await.status, 200);
        assert_eq!(srv.sign_in("Patient", "maria", NEW_PW).await.status, 200);

        // Forgot username by demographics: sent to the email on file, never in the answer.
        let r = srv
            .api(
                "request_username",
                &[
                    ("lookup[Demographics][first_name]", "maria"),
                    ("lookup[Demographics][last_name]", "LOPEZ"),
                    ("lookup[Demographics][date_of_birth]", "1958-03-14"),
                    ("lookup[Demographics][zip]", "97205"),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!r.body.contains("maria"));
        let unknown = srv
            .api(
                "request_username",
                &[
                    ("lookup[Demographics][first_name]", "Nobody"),
                    ("lookup[Demographics][last_name]", "Here"),
                    ("lookup[Demographics][date_of_birth]", "1900-01-01"),
                    ("lookup[Demographics][zip]", "00000"),
                ],
                None,
            )
            .await;
        assert_eq!(
            (unknown.status, unknown.body.clone()),
            (r.status, r.body.clone())
        );
        // The reset's notice came first; the reminder is the newest.
        let mail = dev_messages(&srv, MARIA_EMAIL, 2).await;
        assert!(
            mail[0].text.contains("username") && mail[0].text.contains("maria"),
            "{:?}",
            mail[0]
        );

        // By phone number, typed the way people type it.
        let r = srv
            .api(
                "request_username",
                &[("lookup[Contact][email_or_phone]", "(503) 555-0101")],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        // The reset code, the reset notice, then the reminder.
        let texts = dev_messages(&srv, "+15035550101", 3).await;
        assert!(
            texts[0].text.contains("username is maria"),
            "{}",
            texts[0].text
        );
    }
);

const TWILIO_TOKEN: &str = "test-auth-token-not-real";

async fn with_twilio(db: common::Db, tag: &str) -> Option<TestServer> {
    common::start_with(
        db,
        tag,
        &[
            (
                "CAREKEY_TWILIO_ACCOUNT_SID",
                "AC0123456789abcdef0123456789abcdef",
            ),
            ("CAREKEY_TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
            ("CAREKEY_TWILIO_FROM", "+15035550100"),
            ("CAREKEY_TWILIO_TIMEOUT_SECONDS", "2"),
        ],
    )
    .await
}

/// Posts to the voice-script URL the way Twilio does: form parameters and a signature over the
/// configured URL.
async fn twilio_post(
    srv: &TestServer,
    url: &str,
    params: &[(&str, &str)],
    token: &str,
) -> common::Reply {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let sig = carekey_server::delivery::twilio::signature(token, url, &owned);
    let body: String = form_body(params);
    let res = srv
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    common::Reply {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.text().await.unwrap(),
    }
}

fn form_body(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B")))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_fetches_the_call_script_only_when_signed_and_at_most_three_times() {
    use carekey_server::delivery::outbound::{Channel, Lang, Outbound};
    use carekey_server::delivery::outbox as ob;
    let srv = with_twilio(common::Db::Sqlite, "voice_script")
        .await
        .unwrap();
    let now = srv.services.now();
    let message = Outbound::ResetCode {
        via: Channel::Voice,
        code: "01234567".into(),
        reference: "K7QM".into(),
        expires_in_minutes: 10,
    };
    // In one transaction, so the server's own dispatcher never sees the row queued (it would
    // try to place the call itself).
    let txn = sea_orm::TransactionTrait::begin(&srv.services.db)
        .await
        .unwrap();
    let row = ob::enqueue(
        &txn,
        &srv.services.delivery.sealer,
        ob::NewMessage {
            destination: "+15035550177",
            account_id: None,
            challenge_id: None,
            report: None,
            lang: Lang::En,
            message,
            expires_at: Some(now + 600_000),
        },
        now,
    )
    .await
    .unwrap();
    // As if the dispatcher had placed the call: sent, script kept until it expires.
    let (_, lease) = ob::claim(&txn, row.id, now, 120_000)
        .await
        .unwrap()
        .unwrap();
    assert!(
        ob::finish(&txn, &lease, outbox::Status::Sent, None, now, true)
            .await
            .unwrap()
    );
    txn.commit().await.unwrap();
    let url = carekey_server::app::voice_url(&srv.services, row.id);
    assert!(url.starts_with(&srv.base), "{url}");
    let call = [
        ("CallSid", "CA1"),
        ("From", "+15035550100"),
        ("To", "+15035550177"),
    ];

    // Not signed by our auth token: refused.
    assert_eq!(
        twilio_post(&srv, &url, &call, "someone-elses-token")
            .await
            .status,
        403
    );
    // Signed, but the URL's tag is for another message: refused.
    let other = url.replace(
        &format!("/voice/{}?", row.id),
        &format!("/voice/{}?", row.id + 1),
    );
    assert_eq!(
        twilio_post(&srv, &other, &call, TWILIO_TOKEN).await.status,
        403
    );

    let r = twilio_post(&srv, &url, &call, TWILIO_TOKEN).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["content-type"], "text/xml; charset=utf-8");
    assert_eq!(
        r.body.matches("0, 1, 2, 3, 4, 5, 6, 7").count(),
        2,
        "{}",
        r.body
    );
    assert!(r.body.contains("press 1"));
    // "Press 1 to repeat": the Gather posts Digits to the repeat URL.
    let repeat = format!("{url}&r=1");
    let mut pressed = call.to_vec();
    pressed.push(("Digits", "1"));
    let r = twilio_post(&srv, &repeat, &pressed, TWILIO_TOKEN).await;
    assert!(r.body.contains("0, 1, 2"), "{}", r.body);
    let mut other_key = call.to_vec();
    other_key.push(("Digits", "9"));
    let r = twilio_post(&srv, &repeat, &other_key, TWILIO_TOKEN).await;
    assert!(
        r.body.contains("Goodbye") && !r.body.contains("0, 1, 2"),
        "{}",
        r.body
    );
    // A third play is allowed, a fourth is not.
    assert!(
        twilio_post(&srv, &repeat, &pressed, TWILIO_TOKEN)
            .await
            .body
            .contains("0, 1, 2")
    );
    let r = twilio_post(&srv, &repeat, &pressed, TWILIO_TOKEN).await;
    assert!(!r.body.contains("0, 1, 2"), "fourth play: {}", r.body);

    // Once the code has expired the script is gone, and the payload is scrubbed.
    srv.clock.advance(Duration::from_secs(601));
    let r = twilio_post(&srv, &url, &call, TWILIO_TOKEN).await;
    assert!(!r.body.contains("0, 1, 2"), "{}", r.body);
    srv.services.housekeeping().await.unwrap();
    let row = outbox::Entity::find_by_id(row.id)
        .one(&srv.services.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.payload, "{}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_go_only_to_allowed_countries_and_twilio_failures_are_retried_not_switched() {
    use carekey_server::domain::ClientMeta;
    use carekey_server::domain::accounts::{NewAccount, NewPatient};
    let srv = with_twilio(common::Db::Sqlite, "twilio_rules")
        .await
        .unwrap();
    // A patient whose only mobile is in Jamaica (+1 876), a favourite of SMS-pumping rings.
    let p = srv
        .services
        .create_patient(NewPatient {
            mrn: "900001".into(),
            first_name: "Pat".into(),
            last_name: "Abroad".into(),
            date_of_birth: "1970-01-01".into(),
            zip: "97201".into(),
            email: None,
            phone: Some(("+18765550123".into(), true, true)),
            language: None,
        })
        .await
        .unwrap();
    srv.services
        .create_account(
            NewAccount {
                kind: account::Kind::Patient,
                username: "pat".into(),
                display_name: "Pat".into(),
                patient_id: Some(p.id),
                email: None,
                must_change_password: false,
            },
            "tangerine-bicycle-window-frost",
            None,
            &ClientMeta::default(),
        )
        .await
        .unwrap();
    assert_eq!(request_reset(&srv, "pat", "Sms").await.status, 200);
    worker_idle(&srv).await;
    let queued = outbox::Entity::find().all(&srv.services.db).await.unwrap();
    assert!(
        queued.is_empty(),
        "A3: nothing may go to a disallowed number: {queued:?}"
    );
    let audit_rows = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("recovery_requested"))
        .all(&srv.services.db)
        .await
        .unwrap();
    assert!(
        audit_rows[0].details.contains("country_not_allowed"),
        "{:?}",
        audit_rows[0]
    );

    // Maria's US mobile is allowed. Twilio cannot be reached from here: the attempt fails
    // within the configured timeout, is scheduled again, and is never turned into an email.
    assert_eq!(request_reset(&srv, "maria", "Sms").await.status, 200);
    let deadline = std::time::Instant::now() + WAIT;
    let row = loop {
        let rows = outbox::Entity::find().all(&srv.services.db).await.unwrap();
        if let Some(r) = rows.into_iter().find(|r| r.attempts >= 1) {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "no attempt recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (row.channel, row.status),
        (outbox::Channel::Sms, outbox::Status::Queued)
    );
    assert!(row.last_error.as_deref().unwrap_or("").len() > 3);
    let all = outbox::Entity::find().all(&srv.services.db).await.unwrap();
    assert_eq!(
        all.len(),
        1,
        "no second message on another channel: {all:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_question_is_asked_after_the_code_when_the_clinic_turns_it_on() {
    use carekey_server::domain::recovery::normalize_answer;
    use carekey_server::store::entities::security_question;
    use sea_orm::{ActiveModelTrait, Set};
    let srv = common::start_with(
        common::Db::Sqlite,
        "security_question",
        &[("CAREKEY_RECOVERY_SECURITY_QUESTION", "true")],
    )
    .await
    .unwrap();
    let maria = srv
        .services
        .find_by_username("maria")
        .await
        .unwrap()
        .unwrap();
    let phc = srv
        .services
        .hasher
        .hash(normalize_answer("  Fluffy "))
        .await
        .unwrap();
    security_question::ActiveModel {
        account_id: Set(maria.id),
        question: Set("What was the name of your first pet?".into()),
        answer_phc: Set(phc),
        created_at: Set(srv.services.now()),
    }
    .insert(&srv.services.db)
    .await
    .unwrap();
    request_reset(&srv, "maria", "Sms").await;
    let code = code_in(&dev_messages(&srv, "+15035550101", 1).await[0].text);
    let g = json(&verify_code(&srv, "maria", &code).await);
    assert_eq!(
        g["security_question"],
        "What was the name of your first pet?"
    );
    let grant = g["grant"].as_str().unwrap();
    let answer = |a: &'static str| {
        [
            ("grant", grant),
            ("security_answer", a),
            ("new", NEW_PW),
            ("repeat", NEW_PW),
        ]
    };
    let r = srv.api("complete_reset", &answer("Rex"), None).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("SecurityAnswerIncorrect"), "{}", r.body);
    let r = srv.api("complete_reset", &answer("fluffy"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(srv.sign_in("Patient", "maria", NEW_PW).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifier_modes_decide_what_names_an_account() {
    // "both": the username and the email must name the same account.
    let srv = common::start_with(
        common::Db::Sqlite,
        "mode_both",
        &[("CAREKEY_RECOVERY_IDENTIFIER", "both")],
    )
    .await
    .unwrap();
    let ask = |id: &'static str, email: &'static str| {
        [
            ("who[identifier]", id),
            ("who[email]", email),
            ("channel", "Sms"),
        ]
    };
    for (id, email) in [
        ("maria", ""),
        ("maria", "james.chen@example.com"),
        (MARIA_EMAIL, MARIA_EMAIL),
    ] {
        assert_eq!(
            srv.api("request_reset", &ask(id, email), None).await.status,
            200
        );
    }
    worker_idle(&srv).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(srv.services.delivery.dev.clone().unwrap().list().is_empty());
    assert_eq!(
        srv.api("request_reset", &ask("maria", MARIA_EMAIL), None)
            .await
            .status,
        200
    );
    dev_messages(&srv, "+15035550101", 1).await;

    // "username": an email address is not a username.
    let srv = common::start_with(
        common::Db::Sqlite,
        "mode_username",
        &[("CAREKEY_RECOVERY_IDENTIFIER", "username")],
    )
    .await
    .unwrap();
    assert_eq!(request_reset(&srv, MARIA_EMAIL, "Sms").await.status, 200);
    worker_idle(&srv).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(srv.services.delivery.dev.clone().unwrap().list().is_empty());
    let info = json(&srv.api("portal_info", &[], None).await);
    assert_eq!(info["recovery"]["identifier"], "Username");
}

mod several_instances {
    use super::*;
    use async_trait::async_trait;
    use carekey_server::delivery::dispatcher::Dispatcher;
    use carekey_server::delivery::outbound::{Lang, NoticeChannel, Outbound};
    use carekey_server::delivery::outbox::{self as ob, NewMessage};
    use carekey_server::delivery::{Delivery, Outgoing, SendError, Transport, Transports};
    use sea_orm::TransactionTrait;
    use std::sync::{Arc, Mutex};

    /// A transport that notes what it was asked to send.
    #[derive(Default)]
    struct Counting(Mutex<Vec<i64>>);

    #[async_trait]
    impl Transport for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }
        async fn send(&self, m: &Outgoing) -> Result<(), SendError> {
            tokio::time::sleep(Duration::from_millis(2)).await;
            self.0.lock().unwrap().push(m.id);
            Ok(())
        }
    }

    fn dispatcher(srv: &TestServer, t: Arc<Counting>) -> Dispatcher {
        Dispatcher {
            db: srv.services.db.clone(),
            clock: srv.services.clock.clone(),
            entropy: srv.services.entropy.clone(),
            delivery: Delivery {
                transports: Transports {
                    email: None,
                    phone: Some(t),
                },
                wake: Default::default(),
                dev: None,
                sealer: srv.services.delivery.sealer.clone(),
                renderer: srv.services.delivery.renderer.clone(),
            },
            max_attempts: 3,
            voice_url: Arc::new(|id| format!("http://x/{id}")),
            poll: Duration::from_secs(60),
            lease: Duration::from_secs(120),
        }
    }

    // A payload that does not open (sealed for another row) or opens but is no message (the
    // shape of an older release) is marked failed at once, never retried, never sent, and its
    // payload erased.
    on_both_databases!(an_unreadable_payload_fails_and_is_not_retried, |srv| {
        use carekey_server::delivery::outbox::SCRUBBED;
        use sea_orm::TransactionTrait;
        use sea_orm::sea_query::Expr;
        let counting = Arc::new(Counting::default());
        let d = dispatcher(&srv, counting.clone());
        let sealer = srv.services.delivery.sealer.clone();
        let now = srv.services.now();
        // Written in one transaction, so no dispatcher sees the rows before they are spoiled.
        let txn = srv.services.db.begin().await.unwrap();
        let mut ids = vec![];
        for i in 0..2 {
            let row = ob::enqueue(
                &txn,
                &sealer,
                NewMessage {
                    destination: &format!("+1503555{i:04}"),
                    account_id: None,
                    challenge_id: None,
                    report: None,
                    lang: Lang::En,
                    message: Outbound::Username {
                        via: NoticeChannel::Sms,
                        username: "maria".into(),
                    },
                    expires_at: None,
                },
                now,
            )
            .await
            .unwrap();
            ids.push((row.id, row.payload));
        }
        let spoiled = [
            // The second row's payload on the first row: sealed for another address.
            ids[1].1.clone(),
            // Sealed for its row, but a rendered body as an older release stored it.
            sealer
                .seal(
                    &ob::seal_context(outbox::Kind::Username, outbox::Channel::Sms, "+15035550001"),
                    r#"{"type":"sms","text":"maria"}"#,
                )
                .unwrap(),
        ];
        for ((id, _), payload) in ids.iter().zip(spoiled) {
            outbox::Entity::update_many()
                .col_expr(outbox::Column::Payload, Expr::value(payload))
                .filter(outbox::Column::Id.eq(*id))
                .exec(&txn)
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
        d.tick().await.unwrap();
        // The server's own dispatcher may have taken either row first; it does the same.
        let deadline = std::time::Instant::now() + WAIT;
        for (id, _) in &ids {
            let row = loop {
                let row = outbox::Entity::find_by_id(*id)
                    .one(&srv.services.db)
                    .await
                    .unwrap()
                    .unwrap();
                if row.status != outbox::Status::Queued && row.status != outbox::Status::Sending {
                    break row;
                }
                assert!(std::time::Instant::now() < deadline, "still queued");
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            assert_eq!(row.status, outbox::Status::Failed, "{row:?}");
            assert_eq!(row.attempts, 0, "not retried: {row:?}");
            assert!(
                row.last_error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("unreadable")),
                "{row:?}"
            );
            assert_eq!(row.payload, SCRUBBED);
        }
        assert!(counting.0.lock().unwrap().is_empty(), "nothing sent");
        let dev = srv.services.delivery.dev.clone().unwrap();
        assert!(
            dev.list()
                .iter()
                .all(|m| !ids.iter().any(|(id, _)| *id == m.id))
        );
    });

    // F6: three dispatchers on one database (the server's own and two more) share 40 messages;
    // each message is sent exactly once.
    on_both_databases!(each_outbox_message_is_sent_by_exactly_one_instance, |srv| {
        let (a, b) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
        let (da, db_) = (dispatcher(&srv, a.clone()), dispatcher(&srv, b.clone()));
        let now = srv.services.now();
        let mut ids = vec![];
        // In one transaction, as the domain enqueues: a dispatcher never sees a row that is
        // not yet committed.
        let txn = srv.services.db.begin().await.unwrap();
        for i in 0..40 {
            let row = ob::enqueue(
                &txn,
                &srv.services.delivery.sealer,
                NewMessage {
                    destination: &format!("+1503555{i:04}"),
                    account_id: None,
                    challenge_id: None,
                    report: None,
                    lang: Lang::En,
                    message: Outbound::Username {
                        via: NoticeChannel::Sms,
                        username: format!("user{i}"),
                    },
                    expires_at: None,
                },
                now,
            )
            .await
            .unwrap();
            ids.push(row.id);
        }
        txn.commit().await.unwrap();
        srv.services.delivery.kick();
        let (ra, rb) = tokio::join!(da.tick(), db_.tick());
        ra.unwrap();
        rb.unwrap();
        // Whatever the server's own dispatcher took went to its development outbox.
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let rows = outbox::Entity::find().all(&srv.services.db).await.unwrap();
            if rows.iter().all(|r| r.status == outbox::Status::Sent) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not all sent: {:?}",
                rows.iter()
                    .filter(|r| r.status != outbox::Status::Sent)
                    .map(|r| (r.id, &r.status, r.attempts, &r.last_error))
                    .collect::<Vec<_>>()
            );
            srv.services.delivery.kick();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut sent: Vec<i64> = a.0.lock().unwrap().clone();
        sent.extend(b.0.lock().unwrap().iter());
        sent.extend(
            srv.services
                .delivery
                .dev
                .clone()
                .unwrap()
                .list()
                .iter()
                .map(|m| m.id),
        );
        sent.sort();
        assert_eq!(sent, ids, "every message once, none twice");
    });

    // F6: a holder keeps its message by renewing; once its lease ran out and another instance
    // claimed the message, the old holder can neither renew it back nor record an outcome over
    // the new holder's.
    on_both_databases!(a_lease_taken_over_stays_with_its_new_holder, |srv| {
        // An hour ahead of the server's clock, so its own dispatcher leaves the row alone.
        let t = srv.services.now() + 3_600_000;
        let row = ob::enqueue(
            &srv.services.db,
            &srv.services.delivery.sealer,
            NewMessage {
                destination: "+15035550188",
                account_id: None,
                challenge_id: None,
                report: None,
                lang: Lang::En,
                message: Outbound::Username {
                    via: NoticeChannel::Sms,
                    username: "maria".into(),
                },
                expires_at: None,
            },
            t,
        )
        .await
        .unwrap();
        let db = &srv.services.db;
        let (_, mut a) = ob::claim(db, row.id, t, 1_000).await.unwrap().unwrap();
        assert!(
            ob::claim(db, row.id, t + 500, 1_000)
                .await
                .unwrap()
                .is_none()
        );
        assert!(ob::renew(db, &mut a, t + 600 + 1_000).await.unwrap());
        // Renewed: still A's after the first lease would have run out.
        assert!(
            ob::claim(db, row.id, t + 1_200, 1_000)
                .await
                .unwrap()
                .is_none()
        );
        // A stops renewing; B takes over once the renewed lease has run out.
        let (_, b) = ob::claim(db, row.id, t + 1_700, 1_000)
            .await
            .unwrap()
            .unwrap();
        assert!(!ob::renew(db, &mut a, t + 1_800 + 1_000).await.unwrap());
        assert!(
            !ob::retry_later(db, &a, 1, t + 5_000, "late".into())
                .await
                .unwrap()
        );
        assert!(
            !ob::finish(
                db,
                &a,
                outbox::Status::Failed,
                Some("late".into()),
                t + 1_900,
                false
            )
            .await
            .unwrap()
        );
        let now_row = outbox::Entity::find_by_id(row.id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (now_row.status, now_row.lease_until, now_row.attempts),
            (outbox::Status::Sending, Some(b.until), 0)
        );
        assert!(
            ob::finish(db, &b, outbox::Status::Sent, None, t + 2_000, false)
                .await
                .unwrap()
        );
        let done = outbox::Entity::find_by_id(row.id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((done.status, done.last_error), (outbox::Status::Sent, None));
    });
}

/// A browser as the portal makes one: its first call (`portal_info`, from `ip`) gives it the
/// recovery flow cookie; answers the `name=value` to send back.
async fn fresh_browser(srv: &TestServer, ip: &str) -> String {
    let r = srv
        .post(
            "portal_info",
            &[],
            Call {
                cookie: None,
                headers: vec![("x-forwarded-for", ip.to_owned())],
            },
        )
        .await;
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("carekey_flow="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no flow cookie: {:?}", r.headers))
}

/// A call from a browser (`cookie`, or none) at an address.
async fn from_browser(
    srv: &TestServer,
    endpoint: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
    ip: &str,
) -> common::Reply {
    srv.post(
        endpoint,
        form,
        Call {
            cookie,
            headers: vec![("x-forwarded-for", ip.to_owned())],
        },
    )
    .await
}

// Issue 14 item 2: a stranger who knows the username sends 1,000 requests from 1,000
// addresses, half of them from browsers with a flow cookie of their own: forgotten-password
// requests by text and wrong codes. The patient, from their own browser, asks by their email
// address, types the code texted to their own phone on the page that asked, and sets a new
// password, while the stranger keeps going. The stranger's requests send at most the
// identifier's share of the account's texts (4 of 5). Their guesses use up the five
// "stray" guesses of every code, their own and the patient's, and the twenty-first starts the
// pause; but neither stops a code typed on the page that asked for it (the right code typed
// anywhere else is refused, below), and their requests never replace the patient's code.
on_both_databases!(
    a_stranger_with_the_username_cannot_keep_the_patient_from_resetting,
    |srv| {
        const MOBILE: &str = "+15035550101";
        let per_identifier = srv.services.cfg.recovery.limits.identifier_per_hour as usize;
        let mut stranger = 0usize;
        async fn attack(srv: &TestServer, i: usize) {
            let ip = format!("198.19.{}.{}", i / 200, i % 200 + 1);
            // Half the requests and half the guesses come from a browser of the stranger's.
            let with_cookie = if i.is_multiple_of(10) {
                i.is_multiple_of(20)
            } else {
                i.is_multiple_of(2)
            };
            let cookie = if with_cookie {
                Some(fresh_browser(srv, &ip).await)
            } else {
                None
            };
            let r = if i.is_multiple_of(10) {
                from_browser(
                    srv,
                    "request_reset",
                    &[
                        ("who[identifier]", "maria"),
                        ("who[email]", ""),
                        ("channel", "Sms"),
                    ],
                    cookie.as_deref(),
                    &ip,
                )
                .await
            } else {
                let guess = format!("{:08}", (i * 7_919) % 100_000_000);
                from_browser(
                    srv,
                    "verify_reset_code",
                    &[
                        ("who[identifier]", "maria"),
                        ("who[email]", ""),
                        ("code", &guess),
                    ],
                    cookie.as_deref(),
                    &ip,
                )
                .await
            };
            // The same calm answers as for anyone: accepted, or "not accepted".
            assert!(
                r.status == 200 || r.body.contains("NotAccepted"),
                "{} {}",
                r.status,
                r.body
            );
        }
        for _ in 0..900 {
            attack(&srv, stranger).await;
            stranger += 1;
        }
        worker_idle(&srv).await;
        let sent_by_stranger = dev_messages(&srv, MOBILE, 0).await.len();
        assert!(
            (1..=per_identifier).contains(&sent_by_stranger),
            "the stranger's requests sent {sent_by_stranger} texts"
        );
        // The patient, at home, in their own browser, asks by their email address.
        let home = "192.0.2.77";
        let mine = fresh_browser(&srv, home).await;
        let r = from_browser(
            &srv,
            "request_reset",
            &[
                ("who[identifier]", MARIA_EMAIL),
                ("who[email]", ""),
                ("channel", "Sms"),
            ],
            Some(&mine),
            home,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let texts = dev_messages(&srv, MOBILE, sent_by_stranger + 1).await;
        // The newest first.
        let code = code_in(&texts[0].text);

        // The stranger keeps going: the last hundred of the thousand.
        while stranger < 1_000 {
            attack(&srv, stranger).await;
            stranger += 1;
        }
        worker_idle(&srv).await;
        assert_eq!(
            dev_messages(&srv, MOBILE, 0).await.len(),
            sent_by_stranger + 1,
            "no more texts: the stranger's share is used up"
        );

        let paused = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(audit_log::Action::RecoveryCodeFailed))
            .all(&srv.services.db)
            .await
            .unwrap()
            .iter()
            .any(|r| r.details.contains("\"recovery_paused\":true"));
        assert!(paused, "the stranger's guesses paused recovery");

        // The right code typed anywhere but on the page that asked: refused.
        let elsewhere = from_browser(
            &srv,
            "verify_reset_code",
            &[
                ("who[identifier]", "maria"),
                ("who[email]", ""),
                ("code", &code),
            ],
            None,
            "203.0.113.200",
        )
        .await;
        assert!(elsewhere.body.contains("NotAccepted"), "{}", elsewhere.body);

        // On the page that asked, it works, and the new password signs in.
        let r = from_browser(
            &srv,
            "verify_reset_code",
            &[
                ("who[identifier]", MARIA_EMAIL),
                ("who[email]", ""),
                ("code", &code),
            ],
            Some(&mine),
            home,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let grant = json(&r)["grant"].as_str().unwrap().to_owned();
        assert_eq!(complete(&srv, &grant, NEW_PW).await.status, 200);
        assert_eq!(
            srv.sign_in("Patient", "maria", NEW_PW).await.status,
            200,
            "the patient finished"
        );
    }
);
