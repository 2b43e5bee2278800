//! "This wasn't me" without HTTP: in-memory SQLite and a clock the test moves.

use std::time::Duration;

use carekey_i18n::Lang;
use carekey_shared::{CodeProblem, Portal, RecoveryChannel, RecoveryIdentity};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::delivery::dev::DevMessage;
use crate::domain::DomainError;
use crate::domain::signin::Allow;
use crate::domain::testing::{self, World, meta};
use crate::store::entities::{account, audit_log, report_link};

const PW: &str = "copper-kettle-meadow-song";
const NEW_PW: &str = "violet-harbor-lantern-72";

/// The token in a notice's "this wasn't me" link.
fn token_in(m: &DevMessage) -> String {
    let (_, rest) = m
        .text
        .split_once("/not-me#")
        .unwrap_or_else(|| panic!("no link in {}", m.text));
    rest.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Changes rosa's password while signed in: every contact is told, with a link.
async fn changed_password(w: &World) -> Vec<DevMessage> {
    let caller = w.caller("rosa", PW, Portal::Patient).await;
    w.svc
        .change_password(&caller, PW, NEW_PW, NEW_PW)
        .await
        .unwrap();
    w.deliver().await
}

async fn reports(w: &World) -> usize {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("not_me_reported"))
        .all(&w.svc.db)
        .await
        .unwrap()
        .len()
}

fn who() -> RecoveryIdentity {
    RecoveryIdentity {
        identifier: "rosa".into(),
        email: String::new(),
    }
}

#[tokio::test]
async fn every_notice_carries_a_link_kept_only_as_a_keyed_hash() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), Some("+15035550123"))
        .await;
    let sent = changed_password(&w).await;
    let notices: Vec<_> = sent
        .iter()
        .filter(|m| m.kind == "password_notice")
        .collect();
    assert_eq!(notices.len(), 2, "{sent:?}");
    let tokens: Vec<_> = notices.iter().map(|m| token_in(m)).collect();
    // One link per event, by email and by text alike; 128 bits.
    assert_eq!(tokens[0], tokens[1]);
    assert_eq!(tokens[0].len(), 22);
    let rows = report_link::Entity::find().all(&w.svc.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].token_hmac, tokens[0]);
    assert!(!rows[0].token_hmac.contains(&tokens[0]));
}

#[tokio::test]
async fn continue_ends_sessions_voids_codes_and_pauses_recovery_for_a_day() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let sent = changed_password(&w).await;
    let token = token_in(sent.iter().find(|m| m.kind == "password_notice").unwrap());
    // Whoever changed it is signed in, and has a reset code on the way.
    let s = w
        .svc
        .sign_in(Portal::Patient, "rosa", NEW_PW, None, &meta())
        .await
        .unwrap();
    w.svc
        .request_reset(who(), RecoveryChannel::EmailCode, Lang::En, &meta())
        .await
        .unwrap();
    let code_message = w
        .deliver()
        .await
        .into_iter()
        .find(|m| m.kind == "reset_code");
    assert!(code_message.is_some());

    w.svc.report_not_me(&token, &meta()).await.unwrap();

    let gone = w
        .svc
        .signed_in(Some(&s.token), Allow::FullSessionOnly, &meta())
        .await;
    assert!(matches!(gone, Err(DomainError::NotSignedIn)), "{gone:?}");
    // Whoever changed it cannot sign straight back in with it.
    let rosa = w.account(a.id).await;
    assert_eq!(rosa.status, account::Status::Locked);
    assert_eq!(rosa.lock_reason.as_deref(), Some(super::REPORTED));
    assert!(matches!(
        w.svc
            .sign_in(Portal::Patient, "rosa", NEW_PW, None, &meta())
            .await,
        Err(DomainError::SignInFailed)
    ));
    let outstanding = crate::store::entities::challenge::Entity::find()
        .filter(crate::store::entities::challenge::Column::AccountId.eq(a.id))
        .filter(crate::store::entities::challenge::Column::SupersededAt.is_null())
        .filter(crate::store::entities::challenge::Column::ConsumedAt.is_null())
        .all(&w.svc.db)
        .await
        .unwrap();
    assert!(outstanding.is_empty(), "{outstanding:?}");
    assert_eq!(reports(&w).await, 1);

    // A day without self-service codes: the request is answered as always, nothing is sent.
    let before = w.deliver().await.len();
    w.svc
        .request_reset(who(), RecoveryChannel::EmailCode, Lang::En, &meta())
        .await
        .unwrap();
    assert_eq!(w.deliver().await.len(), before);
    w.clock.advance(Duration::from_secs(23 * 3600));
    w.svc
        .request_reset(who(), RecoveryChannel::EmailCode, Lang::En, &meta())
        .await
        .unwrap();
    assert_eq!(w.deliver().await.len(), before);
    // After it, recovery works again by itself.
    w.clock.advance(Duration::from_secs(3600));
    w.svc
        .request_reset(who(), RecoveryChannel::EmailCode, Lang::En, &meta())
        .await
        .unwrap();
    let after = w.deliver().await;
    assert_eq!(after.len(), before + 1);
    assert_eq!(after[0].kind, "reset_code");
}

#[tokio::test]
async fn a_second_press_does_nothing_more_and_a_made_up_or_old_link_is_refused() {
    let w = testing::world().await;
    w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let sent = changed_password(&w).await;
    let token = token_in(sent.iter().find(|m| m.kind == "password_notice").unwrap());
    // A second notice, whose link is left unused.
    let caller = w.caller("rosa", NEW_PW, Portal::Patient).await;
    let third = "amber-quarry-willow-sparrow";
    w.svc
        .change_password(&caller, NEW_PW, third, third)
        .await
        .unwrap();
    let old = token_in(
        w.deliver()
            .await
            .iter()
            .find(|m| m.kind == "password_notice")
            .unwrap(),
    );
    assert_ne!(old, token);
    w.svc.report_not_me(&token, &meta()).await.unwrap();
    w.svc.report_not_me(&token, &meta()).await.unwrap();
    assert_eq!(reports(&w).await, 1);
    let made_up = w.svc.report_not_me("AAAAAAAAAAAAAAAAAAAAAA", &meta()).await;
    assert!(matches!(
        made_up,
        Err(DomainError::CodeRejected(CodeProblem::NotAccepted))
    ));
    // Thirty-one days later the unused link no longer works.
    w.clock.advance(Duration::from_secs(31 * 24 * 3600));
    let expired = w.svc.report_not_me(&old, &meta()).await;
    assert!(matches!(
        expired,
        Err(DomainError::CodeRejected(CodeProblem::Expired))
    ));
    assert_eq!(reports(&w).await, 1);
    // Housekeeping forgets it; the used one stays as the report.
    w.svc.housekeeping().await.unwrap();
    assert_eq!(
        report_link::Entity::find()
            .all(&w.svc.db)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_chart_shows_the_report_until_staff_mark_it_handled() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    w.staff(account::Kind::Staff, "desk", PW).await;
    let sent = changed_password(&w).await;
    let token = token_in(sent.iter().find(|m| m.kind == "password_notice").unwrap());
    let pid = a.patient_id.unwrap();
    let chart = w.svc.chart(pid).await.unwrap();
    assert_eq!(chart.portal.unwrap().reported_at_ms, None);
    w.svc.report_not_me(&token, &meta()).await.unwrap();
    let chart = w.svc.chart(pid).await.unwrap();
    assert_eq!(chart.portal.unwrap().reported_at_ms, Some(w.svc.now()));
    let desk = w.caller("desk", PW, Portal::Staff).await.staff().unwrap();
    let chart = w.svc.portal_report_handled(&desk, pid).await.unwrap();
    assert_eq!(chart.portal.unwrap().reported_at_ms, None);
    let handled = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("not_me_handled"))
        .all(&w.svc.db)
        .await
        .unwrap();
    assert_eq!(handled.len(), 1);
}
