//! The unit-of-work core (issue 10): every credential change commits whole or not at all, and
//! racing changes cannot both win, on SQLite and PostgreSQL.
//!
//! A race is staged with the hasher's counter: once a use case has begun hashing, it has done
//! every read it does before its unit of work, so a second action taken then lands exactly in
//! the window where the old code lost updates.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use carekey_server::delivery::outbox::SCRUBBED;
use carekey_server::delivery::{Queued, Rendered};
use carekey_server::store::entities::{account, audit_log, outbox, password_history};

const ADMIN_PW: &str = "violet-canyon-river-stone";
const DESK_PW: &str = "front-desk-coffee-morning";
const TOM_PW: &str = "walnut-harbor-lantern-sky";
const UMA_PW: &str = "cobalt-meadow-pepper-drum";
const AMY_PW: &str = "lagoon-pepper-violet-hill";
const WAIT: Duration = Duration::from_secs(15);

fn json(r: &common::Reply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {} {}", r.status, r.body))
}

async fn account_row(srv: &TestServer, username: &str) -> account::Model {
    account::Entity::find()
        .filter(account::Column::UsernameLower.eq(username.to_lowercase()))
        .one(&srv.services.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no account {username}"))
}

/// Waits until a use case started after `before` has begun hashing (its reads are done).
async fn hashing_began(srv: &TestServer, before: u64) {
    let deadline = Instant::now() + WAIT;
    while srv.services.hasher.started() == before {
        assert!(Instant::now() < deadline, "nothing began hashing");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A grant to set a new password for `username`, through a clinic code as a patient would
/// use it on the recovery page.
async fn grant_for(srv: &TestServer, username: &str) -> String {
    let desk = srv.session("Staff", "frontdesk", DESK_PW).await;
    let pid = account_row(srv, username)
        .await
        .patient_id
        .unwrap()
        .to_string();
    let code = srv
        .api(
            "portal_desk_code",
            &[
                ("patient_id", &pid),
                ("checks[date_of_birth]", "true"),
                ("checks[zip]", "false"),
                ("checks[callback_number]", "false"),
                ("checks[photo_id]", "false"),
            ],
            Some(&desk),
        )
        .await;
    assert_eq!(code.status, 200, "{}", code.body);
    let code = json(&code)["code"].as_str().unwrap().to_owned();
    let r = srv
        .api(
            "verify_reset_code",
            &[
                ("who[identifier]", username),
                ("who[email]", ""),
                ("code", &code),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    json(&r)["grant"].as_str().unwrap().to_owned()
}

async fn complete(srv: &TestServer, grant: &str, pw: &str) -> common::Reply {
    srv.api(
        "complete_reset",
        &[("grant", grant), ("new", pw), ("repeat", pw)],
        None,
    )
    .await
}

async fn count<E: EntityTrait>(srv: &TestServer) -> usize {
    E::find().all(&srv.services.db).await.unwrap().len()
}

on_both_databases!(two_changes_with_the_same_current_password_one_wins, |srv| {
    let cookie = srv.session("Patient", "tom", TOM_PW).await;
    let (a, b) = (
        "violet-harbor-lantern-quiet",
        "copper-meadow-sparrow-window",
    );
    let (ra, rb) = tokio::join!(
        srv.change_password(&cookie, TOM_PW, a),
        srv.change_password(&cookie, TOM_PW, b)
    );
    let winners: Vec<&str> = [(&ra, a), (&rb, b)]
        .iter()
        .filter(|(r, _)| r.status == 200)
        .map(|(_, pw)| *pw)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "{} {} / {} {}",
        ra.status,
        ra.body,
        rb.status,
        rb.body
    );
    let loser = if ra.status == 200 { &rb } else { &ra };
    assert_eq!(loser.status, 400, "{}", loser.body);
    assert!(
        loser.body.contains("CurrentPasswordIncorrect"),
        "{}",
        loser.body
    );
    let tom = account_row(&srv, "tom").await;
    let history = password_history::Entity::find()
        .filter(password_history::Column::AccountId.eq(tom.id))
        .all(&srv.services.db)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    let other = if winners[0] == a { b } else { a };
    assert_eq!(srv.sign_in("Patient", "tom", winners[0]).await.status, 200);
    assert_eq!(srv.sign_in("Patient", "tom", other).await.status, 401);
    assert_eq!(srv.sign_in("Patient", "tom", TOM_PW).await.status, 401);
});

/// Stores a hash of `password` with a high time cost, so checking it takes most of a second.
async fn slow_hash(srv: &TestServer, account_id: i64, password: &str) {
    use argon2::{Algorithm, Argon2, Params, Version};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    use carekey_server::store::entities::password_credential;
    let (m, t) = (19_456, 60);
    let salt = *b"slow-salt-16byte";
    let mut out = [0u8; 32];
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(m, t, 1, Some(32)).unwrap(),
    )
    .hash_password_into(password.as_bytes(), &salt, &mut out)
    .unwrap();
    let phc = format!(
        "$argon2id$v=19$m={m},t={t},p=1${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    );
    password_credential::Entity::update_many()
        .col_expr(password_credential::Column::Phc, Expr::value(phc))
        .filter(password_credential::Column::AccountId.eq(account_id))
        .exec(&srv.services.db)
        .await
        .unwrap();
}

on_both_databases!(a_reset_beats_a_change_from_a_session_it_ends, |srv| {
    let old = srv.session("Patient", "uma", UMA_PW).await;
    let grant = grant_for(&srv, "uma").await;
    // The change checks the current password twice (is it right? is the new one a reuse?)
    // and the reset once: with a slow stored hash, the reset commits while the change, which
    // began first, is still hashing.
    slow_hash(&srv, account_row(&srv, "uma").await.id, UMA_PW).await;
    let (changed, reset) = (
        "sparrow-lantern-meadow-cobalt",
        "harbor-quartz-violin-orchard",
    );
    let before = srv.services.hasher.started();
    let (c, r) = tokio::join!(srv.change_password(&old, UMA_PW, changed), async {
        hashing_began(&srv, before).await;
        complete(&srv, &grant, reset).await
    });
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(c.status, 401, "{}", c.body);
    assert!(c.body.contains("NotSignedIn"), "{}", c.body);
    assert_eq!(srv.sign_in("Patient", "uma", reset).await.status, 200);
    assert_eq!(srv.sign_in("Patient", "uma", changed).await.status, 401);
    assert_eq!(srv.api("whoami", &[], Some(&old)).await.status, 401);
});

on_both_databases!(a_staff_reset_racing_turn_off_leaves_the_user_off, |srv| {
    let admin = srv.session("Staff", "admin", ADMIN_PW).await;
    let amy = account_row(&srv, "nurse.amy").await;
    // Locked after too many failures: the reset would lift the lock.
    account::Entity::update_many()
        .col_expr(
            account::Column::Status,
            Expr::value(account::Status::Locked),
        )
        .filter(account::Column::Id.eq(amy.id))
        .exec(&srv.services.db)
        .await
        .unwrap();
    let id = amy.id.to_string();
    let new = "tulip-harbor-granite-window";
    let form = [
        ("user_id", id.as_str()),
        ("new", new),
        ("repeat", new),
        ("your_password", ADMIN_PW),
    ];
    let before = srv.services.hasher.started();
    let (reset, off) = tokio::join!(
        srv.api("admin_reset_password", &form, Some(&admin)),
        async {
            hashing_began(&srv, before).await;
            srv.api(
                "set_staff_enabled",
                &[("user_id", &id), ("enabled", "false")],
                Some(&admin),
            )
            .await
        }
    );
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(
        account_row(&srv, "nurse.amy").await.status,
        account::Status::Disabled
    );
    assert_eq!(srv.sign_in("Staff", "nurse.amy", new).await.status, 401);
    assert_eq!(srv.sign_in("Staff", "nurse.amy", AMY_PW).await.status, 401);
});

on_both_databases!(a_recovery_reset_never_turns_an_account_back_on, |srv| {
    let grant = grant_for(&srv, "vic").await;
    let vic = account_row(&srv, "vic").await;
    let new = "orchard-violin-amber-window";
    let before = srv.services.hasher.started();
    let (r, _) = tokio::join!(complete(&srv, &grant, new), async {
        hashing_began(&srv, before).await;
        // The clinic turns the account off while the reset is hashing.
        account::Entity::update_many()
            .col_expr(
                account::Column::Status,
                Expr::value(account::Status::Disabled),
            )
            .filter(account::Column::Id.eq(vic.id))
            .exec(&srv.services.db)
            .await
            .unwrap();
    });
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("CodeRejected"), "{}", r.body);
    assert_eq!(
        account_row(&srv, "vic").await.status,
        account::Status::Disabled
    );
    assert_eq!(srv.sign_in("Patient", "vic", new).await.status, 401);
    // Nothing of the reset was written: the grant is still unused, the notices not queued.
    let notices = outbox::Entity::find()
        .filter(outbox::Column::AccountId.eq(vic.id))
        .filter(outbox::Column::Kind.eq(outbox::Kind::PasswordNotice))
        .all(&srv.services.db)
        .await
        .unwrap();
    assert!(notices.is_empty(), "{notices:?}");
});

/// Everything `portal_credentials` could have written, to compare before and after.
async fn footprint(srv: &TestServer) -> (Vec<account::Model>, usize, usize) {
    (
        account::Entity::find().all(&srv.services.db).await.unwrap(),
        count::<outbox::Entity>(srv).await,
        count::<audit_log::Entity>(srv).await,
    )
}

on_both_databases!(a_refused_staff_reset_changes_nothing, |srv| {
    let desk = srv.session("Staff", "frontdesk", DESK_PW).await;
    let maria = account_row(&srv, "maria").await;
    let pid = maria.patient_id.unwrap().to_string();
    // A patient with no portal account yet.
    let r = srv
        .api(
            "add_patient",
            &[
                ("patient[mrn]", "777001"),
                ("patient[first_name]", "Lena"),
                ("patient[last_name]", "Ortiz"),
                ("patient[date_of_birth]", "1971-05-02"),
                ("patient[zip]", "97201"),
                ("patient[email]", "lena.ortiz@example.com"),
                ("patient[phone]", ""),
                ("patient[phone_is_mobile]", "false"),
            ],
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let lena = json(&r)["id"].as_i64().unwrap().to_string();

    let before = footprint(&srv).await;
    for (patient, username) in [(&pid, "maria.renamed"), (&lena, "lortiz")] {
        let r = srv
            .api(
                "portal_credentials",
                &[
                    ("patient_id", patient),
                    ("username", username),
                    ("choice[Chosen]", "too-short"),
                ],
                Some(&desk),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("PasswordRejected"), "{}", r.body);
    }
    // The audit count includes the console's own reads, which write nothing here.
    assert_eq!(footprint(&srv).await, before);

    // With every hashing slot taken for longer than the queue waits: "busy", and again
    // nothing changed.
    // A stored hash with a very high time cost takes seconds to verify: one per core holds
    // every slot for longer than a request may queue.
    let slow = format!(
        "$argon2id$v=19$m=19456,t=400,p=1$c29tZXNhbHRzb21lc2FsdA${}",
        "A".repeat(43)
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let before_flood = srv.services.hasher.started();
    let flood: Vec<_> = (0..cores)
        .map(|_| {
            let h = srv.services.hasher.clone();
            let slow = slow.clone();
            tokio::spawn(async move { h.verify("x".into(), Some(slow)).await })
        })
        .collect();
    while srv.services.hasher.started() < before_flood + cores as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let r = srv
        .api(
            "portal_credentials",
            &[
                ("patient_id", &pid),
                ("username", "maria.renamed"),
                ("choice", "Generated"),
            ],
            Some(&desk),
        )
        .await;
    for f in flood {
        let _ = f.await;
    }
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("Busy"), "{}", r.body);
    assert_eq!(footprint(&srv).await, before);
    assert_eq!(account_row(&srv, "maria").await, maria);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_password_meets_the_longest_minimum() {
    use carekey_server::domain::ClientMeta;
    use carekey_server::domain::accounts::{NewAccount, NewPatient};
    let srv = common::start_empty(
        common::Db::Sqlite,
        "min64",
        &[("CAREKEY_PASSWORD_MIN_LENGTH", "64")],
    )
    .await
    .unwrap();
    let desk_pw = "amber-lantern-orchard-river-stone-maple-quartz-violin-harbor-sky-tide";
    assert!(desk_pw.chars().count() >= 64);
    srv.services
        .create_account(
            NewAccount {
                kind: account::Kind::Staff,
                username: "kestrel".into(),
                display_name: "Kestrel".into(),
                patient_id: None,
                email: None,
                must_change_password: false,
            },
            desk_pw,
            None,
            &ClientMeta::default(),
        )
        .await
        .unwrap();
    let p = srv
        .services
        .create_patient(NewPatient {
            mrn: "640064".into(),
            first_name: "Ruth".into(),
            last_name: "Adams".into(),
            date_of_birth: "1950-01-01".into(),
            zip: "97201".into(),
            email: None,
            phone: None,
            language: None,
        })
        .await
        .unwrap();
    let desk = srv.session("Staff", "kestrel", desk_pw).await;
    let started = Instant::now();
    let r = srv
        .api(
            "portal_credentials",
            &[
                ("patient_id", &p.id.to_string()),
                ("username", "radams"),
                ("choice", "Generated"),
            ],
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(started.elapsed() < WAIT);
    let temp = json(&r)["temporary_password"].as_str().unwrap().to_owned();
    assert!(temp.chars().count() >= 64, "{temp}");
    let s = srv.sign_in("Patient", "radams", &temp).await;
    assert_eq!(s.status, 200, "{}", s.body);
}

on_both_databases!(a_staff_reset_sends_the_patient_one_email, |srv| {
    let desk = srv.session("Staff", "frontdesk", DESK_PW).await;
    let maria = account_row(&srv, "maria").await;
    let r = srv
        .api(
            "portal_credentials",
            &[
                ("patient_id", &maria.patient_id.unwrap().to_string()),
                ("username", "maria"),
                ("choice", "Generated"),
            ],
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = outbox::Entity::find()
        .filter(outbox::Column::AccountId.eq(maria.id))
        .all(&srv.services.db)
        .await
        .unwrap();
    let emails: Vec<outbox::Kind> = rows
        .iter()
        .filter(|m| m.channel == outbox::Channel::Email)
        .map(|m| m.kind)
        .collect();
    assert_eq!(emails, [outbox::Kind::CredentialsLetter]);
    // The mobile on file is still told, by text.
    assert!(
        rows.iter()
            .any(|m| m.channel == outbox::Channel::Sms && m.kind == outbox::Kind::PasswordNotice),
        "{rows:?}"
    );
});

/// A server whose SMTP relay does not answer: email stays queued (and retried).
async fn smtp_down(db: common::Db, tag: &str) -> Option<TestServer> {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    common::start_with(
        db,
        tag,
        &[
            ("CAREKEY_SMTP_HOST", "127.0.0.1"),
            ("CAREKEY_SMTP_PORT", &closed),
            ("CAREKEY_SMTP_TLS", "none"),
            ("CAREKEY_SMTP_FROM", "Clinic <portal@clinic.example>"),
            ("CAREKEY_SMTP_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await
}

macro_rules! smtp_down_on_both {
    ($name:ident, |$srv:ident| $body:block) => {
        mod $name {
            use super::*;
            async fn run($srv: TestServer) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(smtp_down(common::Db::Sqlite, stringify!($name)).await.unwrap()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(srv) = smtp_down(common::Db::Postgres, stringify!($name)).await {
                    run(srv).await;
                }
            }
        }
    };
}

/// Asks for a reset link for `who` and waits for its message to be queued; returns the row.
async fn queued_link(srv: &TestServer, who: &str) -> outbox::Model {
    queued(srv, who, "EmailLink", outbox::Kind::ResetLink).await
}

/// Asks for a reset by `channel` for `who` and waits for its message (`kind`) to be queued.
async fn queued(srv: &TestServer, who: &str, channel: &str, kind: outbox::Kind) -> outbox::Model {
    let r = srv
        .api(
            "request_reset",
            &[
                ("who[identifier]", who),
                ("who[email]", ""),
                ("channel", channel),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let deadline = Instant::now() + WAIT;
    loop {
        srv.services.recovery_wake.notify_one();
        let row = outbox::Entity::find()
            .filter(outbox::Column::Kind.eq(kind))
            .one(&srv.services.db)
            .await
            .unwrap();
        if let Some(row) = row {
            return row;
        }
        assert!(Instant::now() < deadline, "no link queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A queued message as it will be sent, read as only the server can: by opening the sealed
/// payload and rendering it.
fn rendered(srv: &TestServer, row: &outbox::Model) -> Rendered {
    let plain = carekey_server::delivery::outbox::open_payload(&srv.services.delivery.sealer, row)
        .expect("a queued payload is sealed to its row");
    let queued: Queued = serde_json::from_str(&plain).expect("a queued message");
    srv.services.delivery.renderer.render(&queued)
}

/// The link's token, as the email will show it.
fn token_in(srv: &TestServer, row: &outbox::Model) -> String {
    let Rendered::Email { text, .. } = rendered(srv, row) else {
        panic!("not an email: {row:?}");
    };
    let at = text.find("#t=").expect("a link in the text") + 3;
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

smtp_down_on_both!(a_link_sent_before_a_contact_change_stops_working, |srv| {
    let row = queued_link(&srv, "nora").await;
    let token = token_in(&srv, &row);
    assert!(token.len() >= 40, "{token}");
    let preview = srv
        .api("preview_reset_link", &[("token", &token)], None)
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);

    // The front desk corrects the email on the chart before the message went out.
    let desk = srv.session("Staff", "frontdesk", DESK_PW).await;
    let nora = account_row(&srv, "nora").await;
    let r = srv
        .api(
            "update_patient_contacts",
            &[
                ("patient_id", &nora.patient_id.unwrap().to_string()),
                ("email", "nora.new@example.org"),
                ("phone", ""),
                ("phone_is_mobile", "false"),
            ],
            Some(&desk),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The link now gets the calm "replaced" answer, and its message is withdrawn.
    let after = link_withdrawn(&srv, &token, &row).await;
    // The dispatcher, run again later, leaves it alone.
    srv.clock.advance(Duration::from_secs(30));
    srv.services.delivery.kick();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = outbox::Entity::find_by_id(row.id)
        .one(&srv.services.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(later.status, outbox::Status::Cancelled);
    assert_eq!(later.attempts, after.attempts);
});

smtp_down_on_both!(a_patients_own_email_change_withdraws_the_link, |srv| {
    let cookie = srv
        .session("Patient", "paul", "quartz-meadow-kettle-fern")
        .await;
    let row = queued_link(&srv, "paul").await;
    let token = token_in(&srv, &row);
    let r = srv
        .api(
            "start_contact_change",
            &[
                ("kind", "Email"),
                ("value", "paul.new@example.org"),
                ("current", "quartz-meadow-kettle-fern"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The confirmation code went to the new address (still queued: SMTP is down).
    let confirm = outbox::Entity::find()
        .filter(outbox::Column::Destination.eq("paul.new@example.org"))
        .one(&srv.services.db)
        .await
        .unwrap()
        .unwrap();
    let digits: String = {
        let Rendered::Email { subject, text, .. } = rendered(&srv, &confirm) else {
            panic!("{confirm:?}")
        };
        let _ = subject;
        let mut best = String::new();
        for word in text.split(|c: char| !c.is_ascii_digit() && c != ' ') {
            let d: String = word.chars().filter(|c| c.is_ascii_digit()).collect();
            if d.len() == 8 {
                best = d;
                break;
            }
        }
        best
    };
    assert_eq!(digits.len(), 8, "{confirm:?}");
    let r = srv
        .api(
            "confirm_contact_change",
            &[("code", &digits)],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    link_withdrawn(&srv, &token, &row).await;
});

/// After a contact change: the link is refused calmly and its queued message is withdrawn,
/// its payload erased. Answers the message's row as it is now.
async fn link_withdrawn(srv: &TestServer, token: &str, row: &outbox::Model) -> outbox::Model {
    let r = srv
        .api("redeem_reset_link", &[("token", token)], None)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("CodeRejected"), "{}", r.body);
    let after = outbox::Entity::find_by_id(row.id)
        .one(&srv.services.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, outbox::Status::Cancelled);
    assert_eq!(after.payload, SCRUBBED);
    after
}

/// Every value in every table, as text (PostgreSQL: `row_to_json`; SQLite: the raw database
/// and WAL files, so nothing escapes the search).
async fn whole_database(srv: &TestServer) -> String {
    match srv.db_kind {
        common::Db::Sqlite => {
            let dir = srv
                .services
                .cfg
                .database_url
                .trim_start_matches("sqlite://");
            let mut all = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(bytes) = std::fs::read(format!("{dir}{suffix}")) {
                    all.extend(bytes);
                }
            }
            String::from_utf8_lossy(&all).into_owned()
        }
        common::Db::Postgres => {
            let db = &srv.services.db;
            let tables = db
                .query_all_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT table_name FROM information_schema.tables \
                     WHERE table_schema = 'public'"
                        .to_owned(),
                ))
                .await
                .unwrap();
            let mut out = String::new();
            for t in tables {
                let name: String = t.try_get("", "table_name").unwrap();
                let rows = db
                    .query_all_raw(sea_orm::Statement::from_string(
                        db.get_database_backend(),
                        format!("SELECT row_to_json(t)::text AS j FROM \"{name}\" t"),
                    ))
                    .await
                    .unwrap();
                for r in rows {
                    out.push_str(&r.try_get::<String>("", "j").unwrap());
                    out.push('\n');
                }
            }
            out
        }
    }
}

smtp_down_on_both!(
    a_queued_link_is_nowhere_in_the_database_in_plain_text,
    |srv| {
        let row = queued_link(&srv, "nora").await;
        let token = token_in(&srv, &row);
        // The message is waiting (SMTP is down) and the link inside it is live.
        assert_eq!(
            srv.api("preview_reset_link", &[("token", &token)], None)
                .await
                .status,
            200
        );
        let dump = whole_database(&srv).await;
        assert!(dump.contains("sealed:v1:"), "the dump reads the outbox");
        assert!(
            !dump.contains(&token),
            "the link's token is stored in plain text"
        );
        let half = &token[..token.len() / 2];
        assert!(
            !dump.contains(half),
            "part of the token is stored in plain text"
        );
        // An emailed code waiting in the queue is nowhere in plain text either.
        let row = queued(&srv, "jchen", "EmailCode", outbox::Kind::ResetCode).await;
        let Rendered::Email { text, .. } = rendered(&srv, &row) else {
            panic!("not an email: {row:?}");
        };
        let code: String = text
            .split_whitespace()
            .find(|w| w.len() == 8 && w.chars().all(|c| c.is_ascii_digit()))
            .expect("a code in the email")
            .to_owned();
        let dump = whole_database(&srv).await;
        assert!(!dump.contains(&code), "the code is stored in plain text");
    }
);

on_both_databases!(a_sent_message_leaves_no_payload, |srv| {
    let row = queued_link(&srv, "nora").await;
    let deadline = Instant::now() + WAIT;
    loop {
        let r = outbox::Entity::find_by_id(row.id)
            .one(&srv.services.db)
            .await
            .unwrap()
            .unwrap();
        if r.status == outbox::Status::Sent {
            assert_eq!(r.payload, SCRUBBED);
            break;
        }
        assert!(Instant::now() < deadline, "not sent: {r:?}");
        srv.services.delivery.kick();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
});
