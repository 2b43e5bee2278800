//! `set_password` and the person's own change, on an in-memory database with a manual clock.

use carekey_shared::Portal;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::SetBy;
use crate::domain::DomainError;
use crate::domain::testing::{self, World};
use crate::store::entities::{account, outbox, password_credential, password_history, session};

const PW: &str = "copper-kettle-meadow-song";
const NEW: &str = "lantern-violin-harbor-quartz";

async fn phc_of(w: &World, id: i64) -> String {
    password_credential::Entity::find_by_id(id)
        .one(&w.svc.db)
        .await
        .unwrap()
        .unwrap()
        .phc
}

async fn history(w: &World, id: i64) -> usize {
    password_history::Entity::find()
        .filter(password_history::Column::AccountId.eq(id))
        .all(&w.svc.db)
        .await
        .unwrap()
        .len()
}

async fn open_sessions(w: &World, id: i64) -> Vec<i64> {
    session::Entity::find()
        .filter(session::Column::AccountId.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .all(&w.svc.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

async fn set(w: &World, id: i64, by: SetBy) -> Result<super::PasswordSet, DomainError> {
    let phc = w.svc.hasher.hash(NEW.into()).await.unwrap();
    let mut uow = w.svc.begin(testing::meta_actor()).await.unwrap();
    let r = w.svc.set_password(&mut uow, id, phc, by).await;
    if r.is_ok() {
        uow.commit(&w.svc).await.unwrap();
    }
    r
}

#[tokio::test]
async fn the_owner_keeps_their_session_and_the_others_end() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let here = w.caller("rosa", PW, Portal::Patient).await;
    let _elsewhere = w.caller("rosa", PW, Portal::Patient).await;
    let old = phc_of(&w, a.id).await;
    let by = SetBy::Owner {
        session_id: here.session().id,
        verified_phc: old.clone(),
    };
    set(&w, a.id, by).await.unwrap();
    assert_eq!(open_sessions(&w, a.id).await, vec![here.session().id]);
    assert_ne!(phc_of(&w, a.id).await, old);
    assert_eq!(history(&w, a.id).await, 1);
    // The contact on file is told, in the same commit.
    let notices = outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(outbox::Kind::PasswordNotice))
        .all(&w.svc.db)
        .await
        .unwrap();
    assert_eq!(notices.len(), 1);
}

#[tokio::test]
async fn a_change_checked_against_a_password_that_is_gone_writes_nothing() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, Some("rosa@example.org"), None).await;
    let here = w.caller("rosa", PW, Portal::Patient).await;
    let by = SetBy::Owner {
        session_id: here.session().id,
        verified_phc: "$argon2id$v=19$m=19456,t=2,p=1$c29tZQ$stale".into(),
    };
    let before = phc_of(&w, a.id).await;
    assert!(matches!(
        set(&w, a.id, by).await,
        Err(DomainError::CurrentPasswordIncorrect)
    ));
    assert_eq!(phc_of(&w, a.id).await, before);
    assert_eq!(history(&w, a.id).await, 0);
    assert_eq!(open_sessions(&w, a.id).await.len(), 1);
}

#[tokio::test]
async fn a_change_from_an_ended_session_is_refused() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    let here = w.caller("rosa", PW, Portal::Patient).await;
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(testing::START_MS))
        .exec(&w.svc.db)
        .await
        .unwrap();
    let by = SetBy::Owner {
        session_id: here.session().id,
        verified_phc: phc_of(&w, a.id).await,
    };
    assert!(matches!(
        set(&w, a.id, by).await,
        Err(DomainError::NotSignedIn)
    ));
    assert_eq!(history(&w, a.id).await, 0);
}

#[tokio::test]
async fn a_reset_lifts_a_lock_but_never_turns_an_account_on() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    let _s = w.caller("rosa", PW, Portal::Patient).await;
    use account::Status;
    for (status, outcome_ok, after) in [
        (Status::Locked, true, Status::Active),
        (Status::Disabled, false, Status::Disabled),
    ] {
        account::Entity::update_many()
            .col_expr(account::Column::Status, Expr::value(status))
            .col_expr(account::Column::FailedSignIns, Expr::value(20))
            .filter(account::Column::Id.eq(a.id))
            .exec(&w.svc.db)
            .await
            .unwrap();
        let r = set(&w, a.id, SetBy::Recovery { asked: None }).await;
        assert_eq!(r.is_ok(), outcome_ok, "{status}: {r:?}");
        let now = w.account(a.id).await;
        assert_eq!(now.status, after, "{status}");
        if outcome_ok {
            assert!(r.unwrap().lock_cleared);
            assert_eq!(now.failed_sign_ins, 0);
            assert!(!now.must_change_password);
            assert!(open_sessions(&w, a.id).await.is_empty());
        }
    }
}

#[tokio::test]
async fn staff_set_a_temporary_password_that_must_be_changed() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    let _s = w.caller("rosa", PW, Portal::Patient).await;
    let r = set(&w, a.id, SetBy::Staff).await.unwrap();
    assert!(r.account.must_change_password);
    assert!(open_sessions(&w, a.id).await.is_empty());
    assert_eq!(history(&w, a.id).await, 1);
}

#[tokio::test]
async fn the_persons_own_change_needs_the_current_password_and_counts_a_wrong_one() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    let me = w.caller("rosa", PW, Portal::Patient).await;
    assert!(matches!(
        w.svc
            .change_password(&me, "not-the-password-at-all", NEW, NEW)
            .await,
        Err(DomainError::CurrentPasswordIncorrect)
    ));
    assert_eq!(w.account(a.id).await.failed_sign_ins, 1);
    assert!(matches!(
        w.svc
            .change_password(&me, PW, NEW, "something-else-entirely")
            .await,
        Err(DomainError::PasswordsDiffer)
    ));
    w.svc.change_password(&me, PW, NEW, NEW).await.unwrap();
    // The old password is now history: changing back to it is refused (P5).
    assert!(matches!(
        w.svc.change_password(&me, NEW, PW, PW).await,
        Err(DomainError::PasswordRejected(_))
    ));
}

#[tokio::test]
async fn the_forced_change_leans_on_a_fresh_sign_in_and_only_there() {
    use crate::domain::signin::sessions::TEMPORARY_PASSWORD_PROOF;
    use std::time::Duration;
    const MINE: &str = "orchard-pepper-lantern-violet";
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    // Staff set NEW as a temporary password; the patient signs in with it.
    set(&w, a.id, SetBy::Staff).await.unwrap();
    let me = w.caller("rosa", NEW, Portal::Patient).await;
    let info = w.svc.whoami(&me);
    assert_eq!(
        info.temporary_password_proof_secs,
        TEMPORARY_PASSWORD_PROOF.as_secs()
    );
    // A minute before the proof runs out: the new password twice is enough.
    w.clock
        .advance(TEMPORARY_PASSWORD_PROOF - Duration::from_secs(60));
    let done = w.svc.change_password(&me, "", MINE, MINE).await.unwrap();
    assert!(!done.must_change_password);
    assert_eq!(done.temporary_password_proof_secs, 0);
    // A change in Settings always asks for the current password, however fresh the sign-in.
    let me = w.caller("rosa", MINE, Portal::Patient).await;
    assert!(matches!(
        w.svc.change_password(&me, "", PW, PW).await,
        Err(DomainError::CurrentPasswordIncorrect)
    ));
}

#[tokio::test]
async fn a_stale_sign_in_must_type_the_temporary_password_again() {
    use crate::domain::signin::sessions::TEMPORARY_PASSWORD_PROOF;
    use std::time::Duration;
    const MINE: &str = "orchard-pepper-lantern-violet";
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    set(&w, a.id, SetBy::Staff).await.unwrap();
    let me = w.caller("rosa", NEW, Portal::Patient).await;
    // Kept alive (idle logoff is 15 minutes) past the proof's end.
    w.clock.advance(TEMPORARY_PASSWORD_PROOF / 2);
    let me_again = w.svc.whoami(&me);
    assert!(me_again.temporary_password_proof_secs > 0);
    w.clock
        .advance(TEMPORARY_PASSWORD_PROOF / 2 + Duration::from_secs(1));
    assert_eq!(w.svc.whoami(&me).temporary_password_proof_secs, 0);
    assert!(matches!(
        w.svc.change_password(&me, "", MINE, MINE).await,
        Err(DomainError::CurrentPasswordIncorrect)
    ));
    w.svc.change_password(&me, NEW, MINE, MINE).await.unwrap();
}

/// Changes `rosa`'s password through each of `steps` in turn, from `PW`.
async fn change_through(w: &World, me: &crate::domain::caller::Caller, steps: &[&str]) {
    let mut current = PW;
    for next in steps {
        w.svc
            .change_password(me, current, next, next)
            .await
            .unwrap();
        current = next;
    }
}

/// `password.history` says how many passwords may not come back, the current one included:
/// with 3, the password three changes ago is allowed again and the two before now are not.
#[tokio::test]
async fn the_history_depth_is_the_clinics() {
    const STEPS: [&str; 3] = [
        "lantern-violin-harbor-quartz",
        "orchard-pepper-lantern-violet",
        "meadow-cobalt-willow-tundra",
    ];
    let w = testing::world_with(&[("CAREKEY_PASSWORD_HISTORY", "3")]).await;
    w.patient("rosa", PW, None, None).await;
    let me = w.caller("rosa", PW, Portal::Patient).await;
    change_through(&w, &me, &STEPS).await;
    let now = STEPS[2];
    for recent in [STEPS[2], STEPS[1], STEPS[0]] {
        assert!(
            matches!(
                w.svc.change_password(&me, now, recent, recent).await,
                Err(DomainError::PasswordRejected(_))
            ),
            "{recent} is one of the last 3"
        );
    }
    // Four passwords back: out of the history.
    w.svc.change_password(&me, now, PW, PW).await.unwrap();
}

/// With `password.history = 0` nothing is compared: no verification runs, only the new hash.
#[tokio::test]
async fn no_history_costs_one_hash() {
    let w = testing::world_with(&[("CAREKEY_PASSWORD_HISTORY", "0")]).await;
    let a = w.patient("rosa", PW, None, None).await;
    let stored = password_credential::Entity::find_by_id(a.id)
        .one(&w.svc.db)
        .await
        .unwrap();
    let before = w.svc.hasher.started();
    w.svc
        .hash_unless_recent(a.id, stored.as_ref(), PW)
        .await
        .unwrap();
    assert_eq!(w.svc.hasher.started(), before + 1);
}

/// The history is compared on the hashing pool all at once (P5): with the default depth and a
/// full history, the five comparisons and the new hash wait for a slot together, so under load
/// the check waits in the queue once, not six times one after another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_compared_side_by_side() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    let me = w.caller("rosa", PW, Portal::Patient).await;
    change_through(
        &w,
        &me,
        &[
            "lantern-violin-harbor-quartz",
            "orchard-pepper-lantern-violet",
            "meadow-cobalt-willow-tundra",
            "saffron-glacier-pillow-drum",
            "velvet-compass-thistle-ember",
        ],
    )
    .await;
    let stored = password_credential::Entity::find_by_id(a.id)
        .one(&w.svc.db)
        .await
        .unwrap();
    let recent = w.svc.recent_hashes(a.id, stored.as_ref()).await.unwrap();
    assert_eq!(recent.len(), 5, "the current password and the four before");

    let busy = w.svc.hasher.hold_every_slot().await;
    let check = w
        .svc
        .hash_unless_recent(a.id, stored.as_ref(), "quill-marigold-anchor-sleet");
    let watch = async {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while w.svc.hasher.queued() < 6 {
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of the six runs were queued at once",
                w.svc.hasher.queued()
            );
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        drop(busy);
    };
    let (phc, ()) = tokio::join!(check, watch);
    let phc = phc.unwrap();
    assert!(
        w.svc
            .hasher
            .verify("quill-marigold-anchor-sleet".into(), Some(phc))
            .await
            .unwrap()
            .ok
    );

    // A match ends the check: the current password and the oldest remembered are refused.
    let stored = password_credential::Entity::find_by_id(a.id)
        .one(&w.svc.db)
        .await
        .unwrap();
    for used in [
        "velvet-compass-thistle-ember",
        "orchard-pepper-lantern-violet",
    ] {
        assert!(
            matches!(
                w.svc.hash_unless_recent(a.id, stored.as_ref(), used).await,
                Err(DomainError::PasswordRejected(_))
            ),
            "{used}"
        );
    }
}
