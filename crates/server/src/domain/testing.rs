//! Unit-test world for use cases: the real services on an in-memory SQLite database, with a
//! clock the test moves and the development outbox as the only transport. No HTTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::accounts::{NewAccount, NewPatient};
use super::caller::Caller;
use super::secrets::ServerKey;
use super::signin::Allow;
use super::{ClientMeta, Services};
use crate::clock::{ManualClock, OsEntropy};
use crate::delivery::dev::DevMessage;
use crate::delivery::seal::Sealer;
use crate::store::entities::account;

pub const START_MS: i64 = 1_800_000_000_000;

pub struct World {
    pub svc: Services,
    pub clock: ManualClock,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

pub fn meta() -> ClientMeta {
    ClientMeta {
        ip: "192.0.2.10".into(),
        user_agent: "unit test".into(),
        flow: None,
    }
}

/// The actor of a unit of work opened by a test.
pub fn meta_actor() -> super::audit::Actor {
    super::signin::actor_for(None, &meta())
}

/// Services on a fresh in-memory database; `settings` are `CAREKEY_*` overrides.
pub async fn world_with(settings: &[(&str, &str)]) -> World {
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("CAREKEY_DEV_MODE".into(), "true".into());
    env.insert(
        "CAREKEY_CLINIC_NAME".into(),
        "Hillside Family Clinic".into(),
    );
    for (k, v) in settings {
        env.insert((*k).into(), (*v).into());
    }
    let cfg = crate::config::load(None, false, &|k| env.get(k).cloned()).unwrap();
    let name = format!(
        "unit{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let db = crate::store::connect_memory(&name).await.unwrap();
    let key = ServerKey::from_bytes([42; 32]);
    let delivery = crate::app::delivery(&cfg, Sealer::new(key.derive("outbox-seal-v1"))).unwrap();
    let clock = ManualClock::new(START_MS);
    let svc = Services::new(
        db,
        Arc::new(cfg),
        Arc::new(clock.clone()),
        Arc::new(OsEntropy),
        key,
        crate::domain::audit::AuditKey::new(ServerKey::from_bytes([7; 32])),
        delivery,
    )
    .unwrap();
    World { svc, clock }
}

pub async fn world() -> World {
    world_with(&[]).await
}

impl World {
    /// A patient with a portal account and the given contacts.
    pub async fn patient(
        &self,
        username: &str,
        password: &str,
        email: Option<&str>,
        mobile: Option<&str>,
    ) -> account::Model {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let p = self
            .svc
            .create_patient(NewPatient {
                mrn: format!("9{n:05}"),
                first_name: "Rosa".into(),
                last_name: "Quintero".into(),
                date_of_birth: "1961-04-09".into(),
                zip: "97201".into(),
                email: email.map(str::to_owned),
                phone: mobile.map(|m| (m.to_owned(), true, true)),
                language: None,
            })
            .await
            .unwrap();
        self.account_of(
            account::Kind::Patient,
            username,
            "Rosa",
            Some(p.id),
            password,
        )
        .await
    }

    /// A staff member (`Staff` or `Admin`).
    pub async fn staff(
        &self,
        kind: account::Kind,
        username: &str,
        password: &str,
    ) -> account::Model {
        self.account_of(kind, username, username, None, password)
            .await
    }

    async fn account_of(
        &self,
        kind: account::Kind,
        username: &str,
        display_name: &str,
        patient_id: Option<i64>,
        password: &str,
    ) -> account::Model {
        self.svc
            .create_account(
                NewAccount {
                    kind,
                    username: username.into(),
                    display_name: display_name.into(),
                    patient_id,
                    email: None,
                    must_change_password: false,
                },
                password,
                None,
                &meta(),
            )
            .await
            .unwrap()
    }

    /// Signs in and resolves the session as the HTTP layer would.
    pub async fn caller(
        &self,
        username: &str,
        password: &str,
        portal: carekey_shared::Portal,
    ) -> Caller {
        let s = self
            .svc
            .sign_in(portal, username, password, None, &meta())
            .await
            .unwrap();
        self.svc
            .signed_in(Some(&s.token), Allow::DuringForcedChange, &meta())
            .await
            .unwrap()
    }

    pub async fn account(&self, id: i64) -> account::Model {
        use sea_orm::EntityTrait;
        account::Entity::find_by_id(id)
            .one(&self.svc.db)
            .await
            .unwrap()
            .unwrap()
    }

    /// Runs the recovery worker and the dispatcher until both are idle; answers what the
    /// development outbox received, newest first.
    pub async fn deliver(&self) -> Vec<DevMessage> {
        self.svc.process_recovery_requests().await.unwrap();
        let d = &self.svc.delivery;
        let dispatcher = crate::delivery::dispatcher::Dispatcher {
            db: self.svc.db.clone(),
            clock: self.svc.clock.clone(),
            entropy: self.svc.entropy.clone(),
            delivery: d.clone(),
            max_attempts: 3,
            voice_url: Arc::new(|id| format!("http://127.0.0.1/twilio/voice/{id}")),
            poll: std::time::Duration::from_secs(60),
            lease: self.svc.cfg.delivery_lease,
        };
        dispatcher.tick().await.unwrap();
        d.dev.as_ref().map(|o| o.list()).unwrap_or_default()
    }
}
