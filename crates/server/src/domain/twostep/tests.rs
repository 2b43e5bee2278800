//! Two-step verification without HTTP: in-memory SQLite and a clock the test moves.

use std::time::Duration;

use carekey_shared::{Portal, SecondStepMethod};

use super::totp;
use crate::domain::signin::Allow;
use crate::domain::testing::{self, World, meta};
use crate::domain::{DomainError, Services};

const PW: &str = "copper-kettle-meadow-song";

fn key_of(display: &str) -> Vec<u8> {
    data_encoding::BASE32_NOPAD
        .decode(display.replace(' ', "").as_bytes())
        .unwrap()
}

fn code_now(w: &World, key: &[u8], offset_steps: i64) -> String {
    totp::code_at(key, totp::step_at(w.svc.now()) + offset_steps)
}

/// Adds an authenticator app to the account signed in as `username`; answers its key and the
/// backup codes the first method makes.
async fn enrol(w: &World, username: &str) -> (Vec<u8>, Vec<String>) {
    let caller = w.caller(username, PW, Portal::Patient).await;
    let setup = w
        .svc
        .start_authenticator(&caller, "My phone")
        .await
        .unwrap();
    let key = key_of(&setup.key);
    let changed = w
        .svc
        .confirm_authenticator(&caller, setup.id, &code_now(w, &key, 0), PW)
        .await
        .unwrap();
    assert_eq!(changed.status.methods.len(), 1);
    // The confirming code's step is spent: the sign-in that follows needs the next one.
    w.clock.advance(Duration::from_secs(30));
    (key, changed.backup_codes)
}

/// A half-done sign-in (the password was right), resolved as the second step's call is.
async fn pending_caller(svc: &Services, username: &str) -> crate::domain::caller::Caller {
    let (token, _) = pending(svc, username).await;
    svc.signed_in(Some(&token), Allow::SecondStep, &meta())
        .await
        .unwrap()
}

async fn pending(svc: &Services, username: &str) -> (String, carekey_shared::SessionInfo) {
    let s = svc
        .sign_in(Portal::Patient, username, PW, None, &meta())
        .await
        .unwrap();
    (s.token, s.info)
}

#[tokio::test]
async fn a_right_password_alone_opens_nothing_until_the_app_code() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    let (key, codes) = enrol(&w, "rosa").await;
    assert_eq!(codes.len(), 10);
    let (token, info) = pending(&w.svc, "rosa").await;
    let offer = info.second_step.expect("a second step is asked");
    assert_eq!(offer.preferred, SecondStepMethod::AuthenticatorApp);
    assert_eq!(
        offer.methods,
        vec![
            SecondStepMethod::AuthenticatorApp,
            SecondStepMethod::BackupCode
        ]
    );
    for allow in [
        Allow::FullSessionOnly,
        Allow::DuringForcedChange,
        Allow::Enrolment,
    ] {
        assert!(matches!(
            w.svc.signed_in(Some(&token), allow, &meta()).await,
            Err(DomainError::NotSignedIn)
        ));
    }
    let pending = w
        .svc
        .signed_in(Some(&token), Allow::SecondStep, &meta())
        .await
        .unwrap();
    let done = w
        .svc
        .verify_second_step(
            &pending,
            SecondStepMethod::AuthenticatorApp,
            &code_now(&w, &key, 0),
            false,
        )
        .await
        .unwrap();
    assert!(done.info.second_step.is_none());
    assert_ne!(done.token, token, "a new token once the sign-in is whole");
    assert!(
        w.svc
            .signed_in(Some(&done.token), Allow::FullSessionOnly, &meta())
            .await
            .is_ok()
    );
    // The half-done session is over.
    assert!(
        w.svc
            .signed_in(Some(&token), Allow::SecondStep, &meta())
            .await
            .is_err()
    );
    assert_eq!(w.account(a.id).await.failed_sign_ins, 0);
}

#[tokio::test]
async fn a_used_step_and_a_wrong_code_are_refused_and_counted() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    let (key, _) = enrol(&w, "rosa").await;
    let code = code_now(&w, &key, 0);
    let p1 = pending_caller(&w.svc, "rosa").await;
    w.svc
        .verify_second_step(&p1, SecondStepMethod::AuthenticatorApp, &code, false)
        .await
        .unwrap();
    // The same code again (replayed within its 30 seconds): refused.
    let p2 = pending_caller(&w.svc, "rosa").await;
    assert!(matches!(
        w.svc
            .verify_second_step(&p2, SecondStepMethod::AuthenticatorApp, &code, false)
            .await,
        Err(DomainError::SecondStepFailed)
    ));
    assert_eq!(w.account(a.id).await.failed_sign_ins, 1);
    // The next step's code (a phone clock a little fast) works.
    w.svc
        .verify_second_step(
            &p2,
            SecondStepMethod::AuthenticatorApp,
            &code_now(&w, &key, 1),
            false,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_second_step_codes_pause_the_account_as_passwords_do() {
    let w = testing::world().await;
    let a = w.patient("rosa", PW, None, None).await;
    enrol(&w, "rosa").await;
    for i in 0..5 {
        // Signing in again between guesses does not clear the count.
        let p = pending_caller(&w.svc, "rosa").await;
        assert!(
            w.svc
                .verify_second_step(&p, SecondStepMethod::AuthenticatorApp, "000000", false)
                .await
                .is_err(),
            "guess {i}"
        );
    }
    let acct = w.account(a.id).await;
    assert_eq!(acct.failed_sign_ins, 5);
    assert!(acct.locked_until.is_some());
    // Paused: the right password gets the one failure answer, as any paused account does.
    assert!(matches!(
        w.svc
            .sign_in(Portal::Patient, "rosa", PW, None, &meta())
            .await,
        Err(DomainError::SignInFailed)
    ));
}

#[tokio::test]
async fn a_backup_code_works_once_and_regenerating_voids_the_old_set() {
    let w = testing::world().await;
    w.patient("rosa", PW, None, None).await;
    let (_, codes) = enrol(&w, "rosa").await;
    let p = pending_caller(&w.svc, "rosa").await;
    // Typed in capitals with spaces, as from a printed sheet.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let done = w
        .svc
        .verify_second_step(&p, SecondStepMethod::BackupCode, &typed, false)
        .await
        .unwrap();
    let p = pending_caller(&w.svc, "rosa").await;
    assert!(
        w.svc
            .verify_second_step(&p, SecondStepMethod::BackupCode, &codes[0], false)
            .await
            .is_err(),
        "a backup code works once"
    );
    let me = w
        .svc
        .signed_in(Some(&done.token), Allow::FullSessionOnly, &meta())
        .await
        .unwrap();
    assert_eq!(
        w.svc.two_step_status(&me).await.unwrap().backup_codes_left,
        9
    );
    let fresh = w.svc.regenerate_backup_codes(&me, PW).await.unwrap();
    assert_eq!(fresh.len(), 10);
    assert!(
        w.svc
            .verify_second_step(&p, SecondStepMethod::BackupCode, &codes[1], false)
            .await
            .is_err(),
        "the old set is void"
    );
    w.svc
        .verify_second_step(&p, SecondStepMethod::BackupCode, &fresh[0], false)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_half_done_sign_in_ends_after_five_minutes() {
    let w = testing::world().await;
    w.patient("rosa", PW, None, None).await;
    enrol(&w, "rosa").await;
    let (t, _) = pending(&w.svc, "rosa").await;
    w.clock.advance(super::PENDING);
    assert!(matches!(
        w.svc.signed_in(Some(&t), Allow::SecondStep, &meta()).await,
        Err(DomainError::NotSignedIn)
    ));
}

#[tokio::test]
async fn required_policy_walks_the_person_through_adding_one_first() {
    let w = testing::world_with(&[("CAREKEY_MFA_PATIENTS", "required")]).await;
    w.patient("rosa", PW, None, None).await;
    let s = w
        .svc
        .sign_in(Portal::Patient, "rosa", PW, None, &meta())
        .await
        .unwrap();
    assert!(s.info.must_add_second_step);
    assert!(s.info.second_step.is_none());
    assert!(matches!(
        w.svc
            .signed_in(Some(&s.token), Allow::FullSessionOnly, &meta())
            .await,
        Err(DomainError::SecondStepSetupRequired)
    ));
    let me = w
        .svc
        .signed_in(Some(&s.token), Allow::Enrolment, &meta())
        .await
        .unwrap();
    assert!(w.svc.two_step_status(&me).await.unwrap().required);
    let setup = w.svc.start_authenticator(&me, "").await.unwrap();
    let key = key_of(&setup.key);
    // Minutes after the sign-in, the password need not be typed again.
    let changed = w
        .svc
        .confirm_authenticator(&me, setup.id, &code_now(&w, &key, 0), "")
        .await
        .unwrap();
    assert!(!changed.session.must_add_second_step);
    assert_eq!(changed.backup_codes.len(), 10);
    assert_eq!(changed.status.methods[0].name, "Authenticator app");
    let me = w
        .svc
        .signed_in(Some(&s.token), Allow::FullSessionOnly, &meta())
        .await
        .unwrap();
    // The last method cannot go while the clinic requires one.
    let id = changed.status.methods[0].id;
    assert!(matches!(
        w.svc.remove_two_step_method(&me, id, PW).await,
        Err(DomainError::LastSecondStep)
    ));
}

#[tokio::test]
async fn a_wrong_setup_code_adds_nothing_and_removal_needs_the_password() {
    let w = testing::world().await;
    w.patient("rosa", PW, None, None).await;
    let me = w.caller("rosa", PW, Portal::Patient).await;
    let setup = w.svc.start_authenticator(&me, "Old phone").await.unwrap();
    let key = key_of(&setup.key);
    let wrong = if code_now(&w, &key, 0) == "123456" {
        "654321"
    } else {
        "123456"
    };
    assert!(matches!(
        w.svc.confirm_authenticator(&me, setup.id, wrong, PW).await,
        Err(DomainError::CodeRejected(_))
    ));
    assert!(w.svc.two_step_status(&me).await.unwrap().methods.is_empty());
    let changed = w
        .svc
        .confirm_authenticator(&me, setup.id, &code_now(&w, &key, 0), PW)
        .await
        .unwrap();
    let id = changed.status.methods[0].id;
    assert!(matches!(
        w.svc
            .remove_two_step_method(&me, id, "not-my-password")
            .await,
        Err(DomainError::CurrentPasswordIncorrect)
    ));
    let status = w.svc.remove_two_step_method(&me, id, PW).await.unwrap();
    assert!(status.methods.is_empty());
    // With the app gone, the backup codes go too: sign-in is back to the password alone.
    assert_eq!(status.backup_codes_left, 0);
    let s = w
        .svc
        .sign_in(Portal::Patient, "rosa", PW, None, &meta())
        .await
        .unwrap();
    assert!(s.info.second_step.is_none());
}

/// The eight-digit code in the newest sign-in code sent.
fn sign_in_code(sent: &[crate::delivery::dev::DevMessage]) -> String {
    let m = sent
        .iter()
        .find(|m| m.kind == "sign_in_code")
        .expect("a sign-in code was sent");
    m.text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 8)
        .unwrap()
        .to_owned()
}

/// Adds codes by text to rosa's mobile; answers the method's id.
async fn add_text_codes(w: &World) -> i64 {
    let caller = w.caller("rosa", PW, Portal::Patient).await;
    let status = w.svc.two_step_status(&caller).await.unwrap();
    assert_eq!(status.can_send_to.len(), 1, "the mobile, and no email");
    let started = w
        .svc
        .start_sent_code(&caller, status.can_send_to[0].id, PW)
        .await
        .unwrap();
    let code = sign_in_code(&w.deliver().await);
    let done = w
        .svc
        .confirm_sent_code(&caller, started.id, &code)
        .await
        .unwrap();
    assert_eq!(done.status.methods[0].kind, SecondStepMethod::SentCode);
    assert_eq!(done.backup_codes.len(), 10);
    started.id
}

#[tokio::test]
async fn a_sent_code_works_once_within_five_minutes_and_five_guesses() {
    let w = testing::world_with(&[("CAREKEY_LOCKOUT_THRESHOLD", "10")]).await;
    let a = w
        .patient("rosa", PW, Some("rosa@example.org"), Some("+15035550123"))
        .await;
    let method = add_text_codes(&w).await;
    let p = pending_caller(&w.svc, "rosa").await;
    let offer = w.svc.second_step_offer(&p).await.unwrap();
    assert_eq!(offer.preferred, SecondStepMethod::SentCode);
    assert_eq!(offer.targets[0].id, method);
    // No code yet: nothing to match.
    assert!(matches!(
        w.svc
            .verify_second_step(&p, SecondStepMethod::SentCode, "12345678", false)
            .await,
        Err(DomainError::SecondStepFailed)
    ));
    w.svc.send_second_step_code(&p, method).await.unwrap();
    let code = sign_in_code(&w.deliver().await);
    // Five minutes and a second: expired.
    w.clock.advance(Duration::from_secs(301));
    assert!(matches!(
        w.svc
            .verify_second_step(&p, SecondStepMethod::SentCode, &code, false)
            .await,
        Err(DomainError::SecondStepFailed)
    ));
    // A second short of five minutes: still good.
    let p = pending_caller(&w.svc, "rosa").await;
    w.svc.send_second_step_code(&p, method).await.unwrap();
    let code = sign_in_code(&w.deliver().await);
    w.clock.advance(Duration::from_secs(299));
    w.svc
        .verify_second_step(&p, SecondStepMethod::SentCode, &code, false)
        .await
        .unwrap();
    assert_eq!(w.account(a.id).await.failed_sign_ins, 0);
    // Five wrong guesses use the next code up: the right one is refused after them. (The
    // clinic here pauses sign-in after ten failures, so the code's own limit is what refuses.)
    let p = pending_caller(&w.svc, "rosa").await;
    w.svc.send_second_step_code(&p, method).await.unwrap();
    let code = sign_in_code(&w.deliver().await);
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for _ in 0..5 {
        assert!(
            w.svc
                .verify_second_step(&p, SecondStepMethod::SentCode, wrong, false)
                .await
                .is_err()
        );
    }
    assert!(matches!(
        w.svc
            .verify_second_step(&p, SecondStepMethod::SentCode, &code, false)
            .await,
        Err(DomainError::SecondStepFailed)
    ));
    let rosa = w.account(a.id).await;
    assert_eq!(rosa.failed_sign_ins, 6);
    assert_eq!(rosa.locked_until, None, "below the clinic's threshold");
}
