//! Assembling a running server from configuration: used by `carekey serve` and by the
//! integration tests, which inject their own clock.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::domain::clock::{Clock, OsEntropy};
use crate::domain::{DomainError, Services};
use crate::http::{self, AppState};
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the domain services: {0}")]
    Domain(#[from] DomainError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Wiring(String),
    #[error("server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// Connects, migrates and builds the services.
pub async fn services(cfg: Config, clock: Arc<dyn Clock>) -> Result<Arc<Services>, AppError> {
    let db = store::connect(&cfg.database_url).await?;
    store::migrate(&db).await?;
    Ok(Arc::new(Services::new(
        db,
        Arc::new(cfg),
        clock,
        Arc::new(OsEntropy),
    )?))
}

/// Binds the listener (so the caller knows the port before serving).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, AppError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Bind { addr, source })
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    services: Arc<Services>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    http::check_server_fns_registered().map_err(AppError::Wiring)?;
    let app = http::router(AppState::new(services));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(AppError::Serve)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
