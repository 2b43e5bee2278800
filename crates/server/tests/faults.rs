//! Fault behaviour that needs a database server to take away (SECURITY.md F1).

mod common;

use sea_orm::{ConnectionTrait, Database};
use std::time::{Duration, Instant};

/// PostgreSQL refuses connections and drops the pool's: `/readyz` and the API answer 503 within
/// the pool timeout; when the database is back, both recover without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_while_the_database_is_gone_and_recovers() {
    let Some(srv) = common::start(common::Db::Postgres, "readyz").await else {
        return;
    };
    let (name, admin_url) = srv.pg.clone().unwrap();
    assert_eq!(srv.get("/readyz").await.status, 200);
    let admin = Database::connect(&admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    let started = Instant::now();
    let r = srv.get("/readyz").await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "answered within the pool timeout"
    );
    let api = srv
        .sign_in("Patient", "maria", "sunflower-teapot-harbor")
        .await;
    assert_eq!(api.status, 503, "{}", api.body);
    assert_eq!(api.body, "\"Unavailable\"");

    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let mut recovered = false;
    for _ in 0..20 {
        if srv.get("/readyz").await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "readyz recovers without a restart");
    assert_eq!(
        srv.sign_in("Patient", "maria", "sunflower-teapot-harbor")
            .await
            .status,
        200
    );
}
