//! SECURITY.md P1–P6 as one table, run on every path that sets a password over HTTP: the
//! settings change, the forced change after a temporary password, and the recovery reset.
//! (The staff reset paths run the same table in the staff tests.)

mod common;

use std::time::Duration;

use common::TestServer;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use carekey_server::store::entities::account;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// Settings > Change password (maria, current password typed).
    Settings,
    /// The forced change after a temporary password (rosa, flagged before each attempt).
    Forced,
    /// Forgot password: code by text, then the new password (omar).
    Reset,
}

/// What one path needs to try a candidate, and what it has learned so far.
struct Runner<'a> {
    srv: &'a TestServer,
    path: Path,
    username: &'static str,
    current: String,
    /// Reset only: a grant not yet used (a refused password leaves it usable).
    grant: Option<String>,
    texts_seen: usize,
}

impl<'a> Runner<'a> {
    fn new(srv: &'a TestServer, path: Path) -> Self {
        let (username, current) = match path {
            Path::Settings => ("maria", "sunflower-teapot-harbor"),
            Path::Forced => ("rosa", "copper-kettle-meadow-song"),
            Path::Reset => ("omar", "saffron-harbor-window-kite"),
        };
        Self {
            srv,
            path,
            username,
            current: current.to_owned(),
            grant: None,
            texts_seen: 0,
        }
    }

    async fn set_must_change(&self) {
        let acct = account::Entity::find()
            .filter(account::Column::Username.eq(self.username))
            .one(&self.srv.services.db)
            .await
            .unwrap()
            .unwrap();
        let mut active: account::ActiveModel = acct.into();
        active.must_change_password = Set(true);
        active.update(&self.srv.services.db).await.unwrap();
    }

    /// A fresh reset grant: a text code from the development outbox, proved.
    async fn new_grant(&mut self) -> String {
        // Past the hour's request limit and the resend wait from the last round.
        self.srv.clock.advance(Duration::from_secs(3600));
        let r = self
            .srv
            .api(
                "request_reset",
                &[
                    ("who[identifier]", self.username),
                    ("who[email]", ""),
                    ("channel", "Sms"),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let dev = self.srv.services.delivery.dev.clone().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let text = loop {
            let texts: Vec<_> = dev
                .list()
                .into_iter()
                .filter(|m| m.kind == "reset_code" && m.to == "+15035550122")
                .collect();
            if texts.len() > self.texts_seen {
                self.texts_seen = texts.len();
                break texts[0].text.clone();
            }
            assert!(std::time::Instant::now() < deadline, "no text arrived");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let code: String = text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 8)
            .unwrap()
            .to_owned();
        let g = self
            .srv
            .api(
                "verify_reset_code",
                &[
                    ("who[identifier]", self.username),
                    ("who[email]", ""),
                    ("code", &code),
                ],
                None,
            )
            .await;
        assert_eq!(g.status, 200, "{}", g.body);
        let v: serde_json::Value = serde_json::from_str(&g.body).unwrap();
        v["grant"].as_str().unwrap().to_owned()
    }

    /// Tries `new` on this path: `Ok` when it was stored, else the server's answer body.
    async fn attempt(&mut self, new: &str) -> Result<(), String> {
        let r = match self.path {
            Path::Settings | Path::Forced => {
                if self.path == Path::Forced {
                    self.set_must_change().await;
                }
                let cookie = self
                    .srv
                    .session("Patient", self.username, &self.current)
                    .await;
                if self.path == Path::Forced {
                    let me = self.srv.api("whoami", &[], Some(&cookie)).await;
                    assert!(
                        me.body.contains("\"must_change_password\":true"),
                        "{}",
                        me.body
                    );
                }
                self.srv.change_password(&cookie, &self.current, new).await
            }
            Path::Reset => {
                let grant = match self.grant.take() {
                    Some(g) => g,
                    None => self.new_grant().await,
                };
                let r = self
                    .srv
                    .api(
                        "complete_reset",
                        &[("grant", &grant), ("new", new), ("repeat", new)],
                        None,
                    )
                    .await;
                if r.status != 200 {
                    self.grant = Some(grant);
                }
                r
            }
        };
        if r.status == 200 {
            self.current = new.to_owned();
            Ok(())
        } else {
            assert_eq!(r.status, 400, "{new:?} on {:?}: {}", self.path, r.body);
            Err(r.body)
        }
    }

    async fn signs_in_with(&self, pw: &str) -> bool {
        self.srv.sign_in("Patient", self.username, pw).await.status == 200
    }
}

fn refused_for(result: Result<(), String>, issue: &str, what: &str, path: Path) {
    match result {
        Ok(()) => panic!("{what} was accepted on {path:?}; expected {issue}"),
        Err(body) => assert!(body.contains(issue), "{what} on {path:?}: {body}"),
    }
}

async fn run_table(srv: &TestServer, path: Path) {
    let mut r = Runner::new(srv, path);
    let first = r.current.clone();

    // P1: 14 code points refused, 15 accepted.
    refused_for(
        r.attempt("violet-harbor1").await,
        "TooShort",
        "14 chars",
        path,
    );
    r.attempt("violet-harbor12").await.unwrap();

    // P2: a long password is stored whole: 128 accepted and its 127-character prefix does
    // not sign in; 257 code points are refused, never truncated.
    let long: String = "ember-lagoon-quartz-willow-"
        .repeat(5)
        .chars()
        .take(128)
        .collect();
    r.attempt(&long).await.unwrap();
    assert!(r.signs_in_with(&long).await, "{path:?}");
    let prefix: String = long.chars().take(127).collect();
    assert!(
        !r.signs_in_with(&prefix).await,
        "{path:?}: a prefix signed in"
    );
    let too_long: String = "x7-quiet-meadow-".repeat(17).chars().take(257).collect();
    refused_for(r.attempt(&too_long).await, "TooLong", "257 chars", path);

    // P3: no composition rule by default: lower-case words alone are fine.
    r.attempt("tangerine bicycle orchard").await.unwrap();

    // P4: common passwords, and words anyone who knows the person would try first.
    refused_for(
        r.attempt("passwordpassword").await,
        "Common",
        "common",
        path,
    );
    refused_for(
        r.attempt(&format!("{}-garden-lantern", r.username)).await,
        "ContainsPersonalInfo",
        "username",
        path,
    );
    refused_for(
        r.attempt("my-carekey-sign-in-phrase").await,
        "ContainsPersonalInfo",
        "carekey",
        path,
    );

    // P5: none of the last five again (the current one included); not a near copy of the
    // current one where the person has just typed it.
    refused_for(r.attempt(&long).await, "RecentlyUsed", "a recent one", path);
    // Where the current password was just typed, the same one is also "too similar" (edit
    // distance 0), which the policy checks first.
    let same_issue = if path == Path::Reset {
        "RecentlyUsed"
    } else {
        "TooSimilarToCurrent"
    };
    refused_for(
        r.attempt("tangerine bicycle orchard").await,
        same_issue,
        "the current one",
        path,
    );
    if path != Path::Reset {
        refused_for(
            r.attempt("tangerine bicycle orchard7").await,
            "TooSimilarToCurrent",
            "a near copy",
            path,
        );
    }

    // P6: stored normalised, so the composed and decomposed forms of "café" both sign in.
    let decomposed = "cafe\u{301} lantern harbor song";
    r.attempt(decomposed).await.unwrap();
    assert!(
        r.signs_in_with("caf\u{e9} lantern harbor song").await,
        "{path:?}"
    );
    assert!(r.signs_in_with(decomposed).await, "{path:?}");
    assert!(
        !r.signs_in_with(&first).await,
        "{path:?}: the first password still works"
    );
}

on_both_databases!(policy_table_on_the_settings_change, |srv| {
    run_table(&srv, Path::Settings).await;
});

on_both_databases!(policy_table_on_the_forced_change, |srv| {
    run_table(&srv, Path::Forced).await;
});

on_both_databases!(policy_table_on_the_recovery_reset, |srv| {
    run_table(&srv, Path::Reset).await;
});
