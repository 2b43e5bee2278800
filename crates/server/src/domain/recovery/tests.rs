//! Recovery use cases without HTTP: intake, the worker, verifying a code, completing the
//! reset; in-memory SQLite and a clock the test moves.

use std::time::Duration;

use carekey_shared::{CodeProblem, Lang, Portal, RecoveryChannel, RecoveryIdentity};
use sea_orm::EntityTrait;

use crate::domain::DomainError;
use crate::domain::testing::{self, World, meta};
use crate::store::entities::{challenge, outbox, recovery_request};

const PW: &str = "copper-kettle-meadow-song";
const NEW: &str = "lantern-violin-harbor-quartz";

fn who(id: &str) -> RecoveryIdentity {
    RecoveryIdentity {
        identifier: id.into(),
        email: String::new(),
    }
}

/// The eight-digit code in the newest email to `to`.
fn code_in(messages: &[crate::delivery::dev::DevMessage], to: &str) -> String {
    let m = messages
        .iter()
        .find(|m| m.to == to)
        .unwrap_or_else(|| panic!("nothing sent to {to}: {messages:?}"));
    m.text
        .split_whitespace()
        .find(|w| w.len() == 8 && w.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {}", m.text))
        .to_owned()
}

/// Asks for a reset code by email for `who` and reads it from the message sent to `to`.
async fn emailed_code(w: &World, who_: &str, to: &str) -> String {
    w.svc
        .request_reset(who(who_), RecoveryChannel::EmailCode, Lang::En, &meta())
        .await
        .unwrap();
    code_in(&w.deliver().await, to)
}

async fn rows<E: EntityTrait>(w: &World) -> usize {
    E::find().all(&w.svc.db).await.unwrap().len()
}

#[tokio::test]
async fn intake_stores_one_request_and_answers_alike_for_anyone() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let known = w
        .svc
        .request_reset(who("rosa"), RecoveryChannel::EmailCode, Lang::En, &meta())
        .await
        .unwrap();
    let unknown = w
        .svc
        .request_reset(
            who("nobody-here"),
            RecoveryChannel::EmailCode,
            Lang::En,
            &meta(),
        )
        .await
        .unwrap();
    // The same shape of answer; only the random reference differs (SECURITY.md E1).
    assert_eq!(known.channel, unknown.channel);
    assert_eq!(known.expires_in_secs, unknown.expires_in_secs);
    assert_eq!(known.reference.len(), unknown.reference.len());
    assert_ne!(known.reference, unknown.reference);
    // Nothing decided yet: two queued requests, no challenge, no message.
    assert_eq!(rows::<recovery_request::Entity>(&w).await, 2);
    assert_eq!(rows::<challenge::Entity>(&w).await, 0);
    // The worker sends one message, to the real patient only, and forgets both requests.
    let sent = w.deliver().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "rosa@example.org");
    assert!(sent[0].subject.contains(&known.reference));
    assert_eq!(rows::<recovery_request::Entity>(&w).await, 0);
}

#[tokio::test]
async fn a_code_works_until_its_last_second_and_once() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let code = emailed_code(&w, "rosa", "rosa@example.org").await;
    let ttl = w.svc.cfg.recovery.code_ttl;

    w.clock.advance(ttl - Duration::from_secs(1));
    let grant = w.svc.verify_reset_code(who("rosa"), &code, &meta()).await;
    assert!(grant.is_ok(), "{grant:?}");
    // Used: the same code again is "already used", not a new grant.
    assert!(matches!(
        w.svc.verify_reset_code(who("rosa"), &code, &meta()).await,
        Err(DomainError::CodeRejected(CodeProblem::AlreadyUsed))
    ));
}

#[tokio::test]
async fn an_expired_code_says_so_and_a_wrong_one_does_not() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let code = emailed_code(&w, "rosa", "rosa@example.org").await;
    let wrong = if code == "11111111" {
        "22222222"
    } else {
        "11111111"
    };
    assert!(matches!(
        w.svc.verify_reset_code(who("rosa"), wrong, &meta()).await,
        Err(DomainError::CodeRejected(CodeProblem::NotAccepted))
    ));
    w.clock
        .advance(w.svc.cfg.recovery.code_ttl + Duration::from_secs(1));
    assert!(matches!(
        w.svc.verify_reset_code(who("rosa"), &code, &meta()).await,
        Err(DomainError::CodeRejected(CodeProblem::Expired))
    ));
}

#[tokio::test]
async fn completing_sets_the_password_ends_sessions_and_spends_the_grant() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let old = w.caller("rosa", PW, Portal::Patient).await;
    let code = emailed_code(&w, "rosa", "rosa@example.org").await;
    let grant = w
        .svc
        .verify_reset_code(who("rosa"), &code, &meta())
        .await
        .unwrap()
        .grant;
    assert!(matches!(
        w.svc
            .complete_reset(&grant, None, NEW, "not the same", None, &meta())
            .await,
        Err(DomainError::PasswordsDiffer)
    ));
    w.svc
        .complete_reset(&grant, None, NEW, NEW, None, &meta())
        .await
        .unwrap();
    // The grant is spent; the old session is over; the new password signs in, the old not.
    assert!(
        w.svc
            .complete_reset(&grant, None, NEW, NEW, None, &meta())
            .await
            .is_err()
    );
    let still = crate::store::entities::session::Entity::find_by_id(old.session().id)
        .one(&w.svc.db)
        .await
        .unwrap()
        .unwrap();
    assert!(still.revoked_at.is_some());
    assert!(
        w.svc
            .sign_in(Portal::Patient, "rosa", NEW, None, &meta())
            .await
            .is_ok()
    );
    assert!(matches!(
        w.svc
            .sign_in(Portal::Patient, "rosa", PW, None, &meta())
            .await,
        Err(DomainError::SignInFailed)
    ));
    // A notice went out with the commit.
    let notices = outbox::Entity::find().all(&w.svc.db).await.unwrap();
    assert!(
        notices
            .iter()
            .any(|m| m.kind == outbox::Kind::PasswordNotice && m.account_id == Some(a.id))
    );
}

fn from(ip: &str) -> crate::domain::ClientMeta {
    crate::domain::ClientMeta {
        ip: ip.into(),
        user_agent: "somewhere else".into(),
        flow: None,
    }
}

fn not_the(code: &str) -> &'static str {
    if code == "11111111" {
        "22222222"
    } else {
        "11111111"
    }
}

/// The token of the newest reset link sent to `to`.
fn link_in(messages: &[crate::delivery::dev::DevMessage], to: &str) -> String {
    let m = messages
        .iter()
        .find(|m| m.to == to)
        .unwrap_or_else(|| panic!("nothing sent to {to}: {messages:?}"));
    m.text
        .split_whitespace()
        .find_map(|w| w.split_once("/reset#t=").map(|(_, t)| t.to_owned()))
        .unwrap_or_else(|| panic!("no link in {}", m.text))
}

/// SECURITY.md R6: a guess is charged only against a live code. A stranger guessing at a
/// username while no code is out, from any number of addresses, pauses nothing: the patient's
/// own code then works.
#[tokio::test]
async fn wrong_guesses_with_no_code_out_pause_nothing() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    for i in 0..40 {
        let r = w
            .svc
            .verify_reset_code(who("rosa"), "12345678", &from(&format!("198.51.100.{i}")))
            .await;
        assert!(matches!(
            r,
            Err(DomainError::CodeRejected(CodeProblem::NotAccepted))
        ));
    }
    let counted = crate::domain::limits::peek(
        &w.svc.db,
        &format!("guess:account:{}", a.id),
        crate::domain::limits::DAY,
        w.svc.now(),
    )
    .await
    .unwrap();
    assert_eq!(counted, 0, "nothing charged to the account");
    let code = emailed_code(&w, "rosa", "rosa@example.org").await;
    assert!(
        w.svc
            .verify_reset_code(who("rosa"), &code, &meta())
            .await
            .is_ok()
    );
}

/// Codes are asked for (by username, an hour apart, as the sends allow) and guessed at from
/// elsewhere until recovery pauses: 5 per code, 21 charged; the guesses stay counted for 24
/// hours.
async fn guess_until_paused(w: &World) {
    let mut charged = 0;
    let mut round = 0;
    while charged <= crate::domain::challenges::MAX_GUESSES_PER_DAY {
        w.clock.advance(Duration::from_secs(3600));
        round += 1;
        let code = emailed_code(w, "rosa", "rosa@example.org").await;
        for _ in 0..5 {
            w.svc
                .verify_reset_code(
                    who("rosa"),
                    not_the(&code),
                    &from(&format!("203.0.113.{round}")),
                )
                .await
                .unwrap_err();
            charged += 1;
            if charged > crate::domain::challenges::MAX_GUESSES_PER_DAY {
                break;
            }
        }
    }
}

/// A link is never typed: wrong codes do not use up its life, and the pause that twenty-one
/// wrong codes start stops codes, not the link in the patient's own inbox.
#[tokio::test]
async fn wrong_codes_neither_use_up_nor_pause_a_link() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    w.svc
        .request_reset(who("rosa"), RecoveryChannel::EmailLink, Lang::En, &meta())
        .await
        .unwrap();
    let link = link_in(&w.deliver().await, "rosa@example.org");
    for _ in 0..8 {
        w.svc
            .verify_reset_code(who("rosa"), "12345678", &from("198.51.100.7"))
            .await
            .unwrap_err();
    }
    assert!(w.svc.preview_reset_link(&link, &meta()).await.is_ok());

    guess_until_paused(&w).await;
    // Paused: a fresh code, even right, is refused (a new code does not reset the count).
    let code = emailed_code(&w, "rosa", "rosa@example.org").await;
    assert!(matches!(
        w.svc.verify_reset_code(who("rosa"), &code, &meta()).await,
        Err(DomainError::CodeRejected(CodeProblem::NotAccepted))
    ));
    // A link the patient asks for now, from home, still works: they finish.
    w.clock.advance(Duration::from_secs(3600 - 60));
    w.svc
        .request_reset(
            who("rosa"),
            RecoveryChannel::EmailLink,
            Lang::En,
            &from("192.0.2.55"),
        )
        .await
        .unwrap();
    let link = link_in(&w.deliver().await, "rosa@example.org");
    let grant = w.svc.redeem_reset_link(&link, &meta()).await.unwrap().grant;
    w.svc
        .complete_reset(&grant, None, NEW, NEW, None, &meta())
        .await
        .unwrap();
}

/// A browser at an address with its own recovery flow cookie.
fn browser(ip: &str, flow: &str) -> crate::domain::ClientMeta {
    crate::domain::ClientMeta {
        ip: ip.into(),
        user_agent: "a browser".into(),
        flow: Some(flow.into()),
    }
}

async fn ask(w: &World, id: &str, m: &crate::domain::ClientMeta) {
    w.svc
        .request_reset(who(id), RecoveryChannel::EmailCode, Lang::En, m)
        .await
        .unwrap();
}

/// R5 within one browser, R6 across them: a new request replaces the code of the browser
/// that asks (or, from a caller with no cookie, the codes of no browser), never the code
/// another browser is waiting for.
#[tokio::test]
async fn a_request_replaces_only_its_own_browsers_code() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let home = browser("192.0.2.20", "home-flow");
    ask(&w, "rosa", &home).await;
    let first = code_in(&w.deliver().await, "rosa@example.org");
    ask(&w, "rosa", &browser("198.51.100.9", "strangers-flow")).await;
    w.deliver().await;
    ask(&w, "rosa", &from("198.51.100.10")).await;
    w.deliver().await;
    // Still live: typed on its own page it works...
    ask(&w, "rosa", &home).await;
    let second = code_in(&w.deliver().await, "rosa@example.org");
    // ...but the same browser's new request did replace it.
    assert!(matches!(
        w.svc.verify_reset_code(who("rosa"), &first, &home).await,
        Err(DomainError::CodeRejected(CodeProblem::Replaced))
    ));
    assert!(
        w.svc
            .verify_reset_code(who("rosa"), &second, &home)
            .await
            .is_ok()
    );
}

/// R6: guesses from anywhere but the page that asked use up their own five, not the page's.
#[tokio::test]
async fn strangers_guesses_leave_the_asking_pages_five() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let home = browser("192.0.2.20", "home-flow");
    ask(&w, "rosa", &home).await;
    let code = code_in(&w.deliver().await, "rosa@example.org");
    for i in 0..12 {
        let m = if i % 2 == 0 {
            from(&format!("198.51.100.{i}"))
        } else {
            browser(&format!("198.51.100.{i}"), &format!("stranger-{i}"))
        };
        w.svc
            .verify_reset_code(who("rosa"), not_the(&code), &m)
            .await
            .unwrap_err();
    }
    // Elsewhere the right code is now refused (its five stray guesses are gone)...
    assert!(matches!(
        w.svc
            .verify_reset_code(who("rosa"), &code, &from("198.51.100.99"))
            .await,
        Err(DomainError::CodeRejected(CodeProblem::NotAccepted))
    ));
    // ...and the page that asked still has four wrong guesses and then the right one.
    for _ in 0..4 {
        w.svc
            .verify_reset_code(who("rosa"), not_the(&code), &home)
            .await
            .unwrap_err();
    }
    assert!(
        w.svc
            .verify_reset_code(who("rosa"), &code, &home)
            .await
            .is_ok()
    );
}

/// Issue 14 item 2: requests through one identifier use at most its share of the account's
/// sends; asking by the email address, the patient still gets a code.
#[tokio::test]
async fn the_usernames_share_of_sends_leaves_the_email_its_own() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let share = w.svc.cfg.recovery.limits.identifier_per_hour as usize;
    for i in 0..10 {
        ask(&w, "rosa", &from(&format!("198.51.100.{i}"))).await;
    }
    let sent = w.deliver().await;
    let to_rosa = |m: &[crate::delivery::dev::DevMessage]| {
        m.iter().filter(|m| m.to == "rosa@example.org").count()
    };
    assert_eq!(to_rosa(&sent), share);
    ask(&w, "rosa@example.org", &browser("192.0.2.20", "home")).await;
    assert_eq!(to_rosa(&w.deliver().await), share + 1);
}

/// R6: the pause a stranger's guesses start stops codes typed anywhere else, never the code
/// on the page that asked for it.
#[tokio::test]
async fn the_pause_does_not_stop_the_page_that_asked() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    guess_until_paused(&w).await;
    let home = browser("192.0.2.20", "home-flow");
    ask(&w, "rosa@example.org", &home).await;
    let code = code_in(&w.deliver().await, "rosa@example.org");
    // Typed anywhere else, the right code is refused: recovery is paused.
    assert!(matches!(
        w.svc
            .verify_reset_code(who("rosa"), &code, &from("198.51.100.40"))
            .await,
        Err(DomainError::CodeRejected(CodeProblem::NotAccepted))
    ));
    // On the page that asked, it works, and so does the answer step after it.
    let grant = w
        .svc
        .verify_reset_code(who("rosa@example.org"), &code, &home)
        .await
        .unwrap()
        .grant;
    w.svc
        .complete_reset(&grant, None, NEW, NEW, None, &home)
        .await
        .unwrap();
}

/// Where the request with `reference` was handled among every request the worker handled:
/// 0 for the first.
async fn handled_at(w: &World, reference: &str) -> usize {
    use crate::store::entities::audit_log;
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let rows = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("recovery_requested"))
        .order_by_asc(audit_log::Column::Seq)
        .all(&w.svc.db)
        .await
        .unwrap();
    rows.iter()
        .position(|r| r.details.contains(reference))
        .unwrap_or_else(|| panic!("{reference} was never handled"))
}

/// Issue 15 item 3: the queue is served fairly. A patient's first request goes ahead of the
/// backlog of one address that floods, and ahead of a flood aimed at one identifier from many
/// addresses; both floods are still handled, after.
#[tokio::test]
async fn a_newcomer_goes_ahead_of_a_flood() {
    let w = testing::world_with(&[("CAREKEY_LIMITS_IP_PER_HOUR", "1000")]).await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    for i in 0..60 {
        w.svc
            .request_reset(
                who(&format!("nobody-{i}")),
                RecoveryChannel::EmailCode,
                Lang::En,
                &from("198.51.100.1"),
            )
            .await
            .unwrap();
    }
    for i in 0..60 {
        w.svc
            .request_reset(
                who("someone-aimed-at"),
                RecoveryChannel::EmailCode,
                Lang::En,
                &from(&format!("203.0.113.{i}")),
            )
            .await
            .unwrap();
    }
    let patient = w
        .svc
        .request_reset(
            who("rosa"),
            RecoveryChannel::EmailCode,
            Lang::En,
            &from("192.0.2.44"),
        )
        .await
        .unwrap();
    assert_eq!(w.svc.process_recovery_requests().await.unwrap(), 121);
    // In the worker's first batch (without the fair order it would be in the third: it came
    // last of 121). The order inside a batch is the accounts' lock order; it commits as one.
    let at = handled_at(&w, &patient.reference).await;
    assert!(
        at < super::worker::BATCH as usize,
        "the patient's request was handled {at}th of 121, after the first batch"
    );
    assert!(
        w.deliver().await.iter().any(|m| m.to == "rosa@example.org"),
        "the patient's code went out"
    );
    assert_eq!(
        rows::<recovery_request::Entity>(&w).await,
        0,
        "every flood request handled too"
    );
}

/// The worker's lookup for a whole batch gives, for every identity, exactly what
/// `find_for_recovery` gives for it alone, in every `recovery.identifier` mode: usernames in
/// any case and with spaces, emails, an address two patients share (names nobody), staff,
/// a turned-off account, strangers, and (for "both") a username with the right or a wrong
/// email.
#[tokio::test]
async fn the_batch_lookup_answers_as_one_at_a_time() {
    use crate::store::entities::account;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    for mode in ["either", "username", "email", "both"] {
        let w = testing::world_with(&[("CAREKEY_RECOVERY_IDENTIFIER", mode)]).await;
        w.patient("rosa", PW, Some("Rosa@Example.org"), None).await;
        w.patient("omar", PW, Some("omar@example.org"), None).await;
        w.patient("ann", PW, Some("family@example.org"), None).await;
        w.patient("ben", PW, Some("family@example.org"), None).await;
        let off = w.patient("olga", PW, Some("olga@example.org"), None).await;
        account::Entity::update_many()
            .col_expr(
                account::Column::Status,
                Expr::value(account::Status::Disabled),
            )
            .filter(account::Column::Id.eq(off.id))
            .exec(&w.svc.db)
            .await
            .unwrap();
        w.staff(account::Kind::Staff, "frontdesk", PW).await;
        let pairs = [
            ("rosa", ""),
            ("  ROSA ", ""),
            ("rosa@example.org", ""),
            (" Rosa@Example.org ", ""),
            ("omar", "omar@example.org"),
            ("omar", "rosa@example.org"),
            ("rosa", "ROSA@example.org"),
            ("family@example.org", ""),
            ("ann", "family@example.org"),
            ("olga", "olga@example.org"),
            ("olga@example.org", ""),
            ("frontdesk", ""),
            ("nobody", ""),
            ("nobody@example.org", "nobody@example.org"),
            ("", ""),
        ];
        let identities: Vec<RecoveryIdentity> = pairs
            .iter()
            .map(|(identifier, email)| RecoveryIdentity {
                identifier: (*identifier).into(),
                email: (*email).into(),
            })
            .collect();
        let refs: Vec<&RecoveryIdentity> = identities.iter().collect();
        let many = w.svc.find_many_for_recovery(&refs).await.unwrap();
        let mut found = 0;
        for (who, batch) in identities.iter().zip(&many) {
            let alone = w.svc.find_for_recovery(who).await.unwrap();
            assert_eq!(
                batch.as_ref().map(|a| a.id),
                alone.as_ref().map(|a| a.id),
                "{mode}: {who:?}"
            );
            found += usize::from(alone.is_some());
        }
        assert!(
            found >= 2,
            "{mode}: the comparison found some accounts ({found})"
        );
        assert!(
            w.svc.find_many_for_recovery(&[]).await.unwrap().is_empty(),
            "{mode}: no identities, no answers"
        );
    }
}
