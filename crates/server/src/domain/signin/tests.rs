//! Sign-in without HTTP: the lockout schedule on a clock the test moves (SECURITY.md A1),
//! and the one answer for every kind of failure (E1).

use std::time::Duration;

use carekey_shared::Portal;

use crate::domain::DomainError;
use crate::domain::testing::{self, meta};
use crate::store::entities::account;

const PW: &str = "copper-kettle-meadow-song";

#[tokio::test]
async fn five_failures_pause_sign_in_for_fifteen_minutes() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    for _ in 0..5 {
        assert!(matches!(
            w.svc
                .sign_in(
                    Portal::Patient,
                    "rosa",
                    "wrong-password-here",
                    None,
                    &meta()
                )
                .await,
            Err(DomainError::SignInFailed)
        ));
    }
    assert_eq!(w.account(a.id).await.failed_sign_ins, 5);
    // Paused: even the right password gets the same answer as a wrong one.
    assert!(matches!(
        w.svc
            .sign_in(Portal::Patient, "rosa", PW, None, &meta())
            .await,
        Err(DomainError::SignInFailed)
    ));
    w.clock.advance(Duration::from_secs(15 * 60 - 1));
    assert!(
        w.svc
            .sign_in(Portal::Patient, "rosa", PW, None, &meta())
            .await
            .is_err()
    );
    w.clock.advance(Duration::from_secs(2));
    let s = w
        .svc
        .sign_in(Portal::Patient, "rosa", PW, None, &meta())
        .await
        .unwrap();
    assert!(!s.info.must_change_password);
    assert_eq!(w.account(a.id).await.failed_sign_ins, 0);
}

#[tokio::test]
async fn unknown_staff_disabled_and_wrong_portal_fail_alike() {
    use sea_orm::{ActiveModelTrait, Set};
    let w = testing::world().await;
    w.patient("rosa", PW, None, None).await;
    w.staff(account::Kind::Staff, "clerk", PW).await;
    // A disabled patient with the right password.
    let gone = w.patient("ada", PW, None, None).await;
    account::ActiveModel {
        id: Set(gone.id),
        status: Set(account::Status::Disabled),
        ..Default::default()
    }
    .update(&w.svc.db)
    .await
    .unwrap();
    for (portal, who, pw) in [
        (Portal::Patient, "nobody", PW),
        (Portal::Patient, "clerk", PW),
        (Portal::Staff, "rosa", PW),
        (Portal::Patient, "rosa", "wrong-password-here"),
        (Portal::Patient, "ada", PW),
    ] {
        assert!(
            matches!(
                w.svc.sign_in(portal, who, pw, None, &meta()).await,
                Err(DomainError::SignInFailed)
            ),
            "{who}"
        );
    }
    assert!(
        w.svc
            .sign_in(Portal::Staff, "clerk", PW, None, &meta())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_session_ends_after_fifteen_quiet_minutes() {
    let w = testing::world().await;
    w.patient("rosa", PW, None, None).await;
    let s = w
        .svc
        .sign_in(Portal::Patient, "rosa", PW, None, &meta())
        .await
        .unwrap();
    let allow = crate::domain::signin::Allow::FullSessionOnly;
    w.clock.advance(Duration::from_secs(14 * 60));
    assert!(
        w.svc
            .signed_in(Some(&s.token), allow, &meta())
            .await
            .is_ok()
    );
    w.clock.advance(Duration::from_secs(15 * 60 + 1));
    assert!(matches!(
        w.svc.signed_in(Some(&s.token), allow, &meta()).await,
        Err(DomainError::NotSignedIn)
    ));
}
