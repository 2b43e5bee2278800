//! Assembling a running server from configuration: used by `carekey serve` and by the
//! integration tests, which inject their own clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::clock::{Clock, OsEntropy};
use crate::config::Config;
use crate::delivery::dev::DevOutbox;
use crate::delivery::dispatcher::Dispatcher;
use crate::delivery::seal::Sealer;
use crate::delivery::smtp::Smtp;
use crate::delivery::twilio::TwilioTransport;
use crate::delivery::{Delivery, Letterhead, Renderer, Transport, Transports};
use crate::domain::audit::{self, Adoption, AuditKey};
use crate::domain::secrets::ServerKey;
use crate::domain::{DomainError, Services};
use crate::http::{self, AppState};
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the domain services: {0}")]
    Domain(#[from] DomainError),
    #[error("cannot check the audit trail: {0}")]
    Audit(#[from] sea_orm::DbErr),
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
    let key = ServerKey::load_or_create(&cfg.secret_key_file, &OsEntropy)?;
    let audit_key = audit_key(&db, &cfg, clock.now_ms()).await?;
    let delivery = delivery(&cfg, Sealer::new(key.derive("outbox-seal-v1")))?;
    Ok(Arc::new(Services::new(
        db,
        Arc::new(cfg),
        clock,
        Arc::new(OsEntropy),
        key,
        audit_key,
        delivery,
    )?))
}

/// The audit trail's key, created on first start, and the rows from before it brought under
/// it once (SECURITY.md S7). A new key is made as `<audit_key_file>.pending` and becomes the
/// key only once the trail is chained under it, so a start that stops halfway leaves nothing
/// stuck: the next start finishes with the same pending key. An instance whose key is not the
/// one the trail is under refuses to start rather than write rows no check can join. A trail
/// that cannot be adopted is logged, never hidden: the server still serves, and `carekey
/// audit verify` names the damage.
async fn audit_key(
    db: &sea_orm::DatabaseConnection,
    cfg: &Config,
    now_ms: i64,
) -> Result<AuditKey, AppError> {
    let path = &cfg.audit_key_file;
    let other_key = || {
        AppError::Wiring(format!(
            "the audit trail is chained under another key than {} holds: give every instance \
             the same audit_key_file (copy it from the first instance, or restore it from \
             backup); nothing was written",
            path.display()
        ))
    };
    if let Some(k) = ServerKey::read(path)? {
        let key = AuditKey::new(k);
        match audit::adopt_key(db, &key, false, now_ms).await? {
            Adoption::AlreadyKeyed | Adoption::Rechained { .. } => {}
            Adoption::OtherKey => return Err(other_key()),
            Adoption::Refused { rows } => tracing::error!(
                rows,
                key = %path.display(),
                "the audit trail is not chained under the audit key, though the key existed \
                 before this start: the trail may have been rewritten; run `carekey audit verify`"
            ),
        }
        return Ok(key);
    }
    let pending = path.with_extension("key.pending");
    let key = AuditKey::new(ServerKey::load_or_create(&pending, &OsEntropy)?);
    match audit::adopt_key(db, &key, true, now_ms).await? {
        Adoption::AlreadyKeyed => {}
        Adoption::Rechained {
            rows,
            broken_at: None,
        } => {
            if rows > 0 {
                tracing::info!(rows, "the audit trail is now chained under the audit key");
            }
        }
        Adoption::Rechained {
            rows,
            broken_at: Some(seq),
        } => tracing::error!(
            rows,
            broken_at_seq = seq,
            "the audit trail was re-chained under the audit key, but its earlier chain was \
             already broken at this row; this is recorded in the trail (audit_keyed)"
        ),
        // A new key is never refused; answered as a key that does not fit, should it be.
        Adoption::OtherKey | Adoption::Refused { .. } => return Err(other_key()),
    }
    std::fs::rename(&pending, path).map_err(|e| {
        AppError::Wiring(format!(
            "audit key {} could not be put in place as {}: {e}",
            pending.display(),
            path.display()
        ))
    })?;
    tracing::info!(path = %path.display(), "created the audit key");
    Ok(key)
}

/// Chooses a transport per channel: the configured one, else the development outbox in dev
/// mode, else none (and the channel is not offered to patients).
pub fn delivery(cfg: &Config, sealer: Sealer) -> Result<Delivery, AppError> {
    let dev = cfg.dev_mode.then(|| Arc::new(DevOutbox::default()));
    let as_transport = |d: &Arc<DevOutbox>| -> Arc<dyn Transport> { d.clone() };
    let email: Option<Arc<dyn Transport>> = match &cfg.smtp {
        Some(smtp) => Some(Arc::new(
            Smtp::new(smtp).map_err(|e| AppError::Wiring(format!("smtp: {e}")))?,
        )),
        None => dev.as_ref().map(as_transport),
    };
    let phone: Option<Arc<dyn Transport>> = match &cfg.twilio {
        Some(tw) => Some(Arc::new(
            TwilioTransport::new(tw).map_err(|e| AppError::Wiring(format!("twilio: {e}")))?,
        )),
        None => dev.as_ref().map(as_transport),
    };
    if email.is_none() {
        tracing::warn!("no SMTP server configured (smtp.host): patients cannot reset by email");
    }
    if phone.is_none() {
        tracing::warn!(
            "Twilio is not configured (twilio.account_sid): patients cannot reset by text or call"
        );
    }
    let uses_dev = cfg.dev_mode && (cfg.smtp.is_none() || cfg.twilio.is_none());
    // The clinic as every message presents it, from configuration: queued messages do not
    // carry it, so they are sent with the letterhead of the running server.
    let letterhead = Letterhead {
        clinic_name: cfg.clinic_name.clone(),
        clinic_phone: cfg.clinic_phone.clone(),
        public_url: cfg.public_url.clone(),
        address: cfg.clinic_address.clone(),
        sms_name: cfg.clinic_sms_name.clone(),
        language_help: cfg.clinic_language_help.clone(),
    };
    let renderer = Renderer::new(letterhead);
    // A text in two segments costs twice and can arrive split; the name is checked by the
    // configuration, but a long `public_url` host lengthens every code's last line.
    for text in renderer.texts_over_one_segment() {
        tracing::warn!(%text, "a text will need two segments: shorten clinic.sms_name or the public_url host");
    }
    Ok(Delivery {
        transports: Transports { email, phone },
        wake: Default::default(),
        dev: if uses_dev { dev } else { None },
        sealer,
        renderer: Arc::new(renderer),
    })
}

/// The signed URL Twilio fetches a call's script from. The origin is the configured one
/// (SECURITY.md R8), and the tag binds the URL to the one message.
pub fn voice_url(services: &Services, outbox_id: i64) -> String {
    format!(
        "{}/twilio/voice/{outbox_id}?t={}",
        services.cfg.public_url,
        services.key.tag(&["voice", &outbox_id.to_string()])
    )
}

/// Longest one round of the recovery worker (or of housekeeping) may take.
const WORKER_ROUND: Duration = Duration::from_secs(30);

/// The background workers: the recovery worker and the outbox dispatcher. They stop when
/// `stop` is set to true.
pub fn spawn_workers(services: Arc<Services>, stop: tokio::sync::watch::Receiver<bool>) {
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    // On PostgreSQL, two recovery workers per instance: their batches claim different rows
    // (leases) and lock different accounts, and one waits for the database while the other
    // works (issue 15). SQLite has one writer at a time, so one worker.
    let workers = match services.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => 2,
        _ => 1,
    };
    for _ in 0..workers {
        let svc = services.clone();
        let worker_stop = stopped(stop.clone());
        tokio::spawn(async move {
            tokio::pin!(worker_stop);
            let mut last_housekeeping = std::time::Instant::now();
            loop {
                // Each round is bounded (SECURITY.md F1): a database connection that went silent
                // mid-query would otherwise hold the worker until TCP gives up, while the portal
                // keeps saying "we sent it". A round cut short drops its transaction; requests it
                // had claimed come back when their lease ends.
                let mut more = false;
                match tokio::time::timeout(WORKER_ROUND, svc.process_recovery_requests()).await {
                    // A round that handled something may have stopped with a backlog left (its
                    // time is bounded): the next starts at once, not after the wait below.
                    Ok(Ok(handled)) => more = handled > 0,
                    Ok(Err(e)) => tracing::warn!(error = %e, "recovery worker: will retry"),
                    Err(_) => tracing::warn!(
                        "recovery worker: the database did not answer within {WORKER_ROUND:?}; will retry"
                    ),
                }
                if last_housekeeping.elapsed() > Duration::from_secs(600) {
                    last_housekeeping = std::time::Instant::now();
                    match tokio::time::timeout(WORKER_ROUND, svc.housekeeping()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::warn!(error = %e, "housekeeping: will retry"),
                        Err(_) => {
                            tracing::warn!("housekeeping: the database did not answer; will retry")
                        }
                    }
                }
                if more {
                    tokio::select! {
                        _ = &mut worker_stop => break,
                        _ = tokio::task::yield_now() => continue,
                    }
                }
                tokio::select! {
                    _ = &mut worker_stop => break,
                    _ = svc.recovery_wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
        });
    }
    let svc = services.clone();
    let dispatcher = Dispatcher {
        db: services.db.clone(),
        clock: services.clock.clone(),
        entropy: services.entropy.clone(),
        delivery: services.delivery.clone(),
        max_attempts: services.cfg.delivery_max_attempts,
        voice_url: Arc::new(move |id| voice_url(&svc, id)),
        poll: Duration::from_secs(2),
        lease: services.cfg.delivery_lease,
    };
    tokio::spawn(dispatcher.run(stopped(stop)));
}

/// Binds the listener (so the caller knows the port before serving).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, AppError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Bind { addr, source })
}

/// Serves plain HTTP until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    services: Arc<Services>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    http::check_server_fns_registered().map_err(AppError::Wiring)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    spawn_workers(services.clone(), stop_rx.clone());
    // `systemctl reload` sends SIGHUP; its default action would end the process (and systemd
    // counts that as a clean exit, so nothing restarts it). Plain HTTP has nothing to re-read.
    tokio::spawn(on_hangup(stop_rx, || async {
        tracing::info!("SIGHUP: nothing to re-read (no tls.cert_file; plain HTTP)");
    }));
    let app = http::router(AppState::new(services));
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(AppError::Serve);
    let _ = stop_tx.send(true);
    served
}

/// How long open connections get to finish once shutdown starts; a longer request than the
/// API deadline is a stuck client, not a patient mid-reset.
const HTTPS_DRAIN: Duration = Duration::from_secs(15);

/// Serves HTTPS with `tls` (loaded by `tls::load`) until `shutdown` resolves; re-reads the
/// certificate and key on SIGHUP, and, with `tls.redirect_bind`, answers plain HTTP there with
/// a redirect to `public_url`.
pub async fn serve_https(
    listener: TcpListener,
    services: Arc<Services>,
    tls: crate::tls::Loaded,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    http::check_server_fns_registered().map_err(AppError::Wiring)?;
    let tls_cfg = services
        .cfg
        .tls
        .clone()
        .ok_or_else(|| AppError::Wiring("serve_https without tls settings".into()))?;
    let redirect = match tls_cfg.redirect_bind {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    spawn_workers(services.clone(), stop_rx.clone());
    let rustls = axum_server::tls_rustls::RustlsConfig::from_config(tls.config);
    tokio::spawn(reload_on_hangup(
        rustls.clone(),
        tls_cfg.clone(),
        stop_rx.clone(),
    ));
    let handle = axum_server::Handle::new();
    let on_stop = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
        on_stop.graceful_shutdown(Some(HTTPS_DRAIN));
    });
    if let Some(plain) = redirect {
        let origin = services.cfg.public_url.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let served = axum::serve(plain, http::redirect_to_https(origin))
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|v| *v).await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the HTTP-to-HTTPS redirect stopped");
            }
        });
    }
    let app = http::router(AppState::new(services));
    let std_listener = listener.into_std().map_err(AppError::Serve)?;
    axum_server::from_tcp_rustls(std_listener, rustls)
        .map_err(AppError::Serve)?
        .handle(handle)
        .serve(app.into_make_service_with_connect_info::<SocketAddr>())
        .await
        .map_err(AppError::Serve)
}

/// SIGHUP (`systemctl reload carekey`) re-reads the certificate and key: new connections get
/// the renewed certificate, open ones are not dropped. A pair that does not load leaves the
/// old one in service and says why, so a bad renewal never takes the portal down.
async fn reload_on_hangup(
    rustls: axum_server::tls_rustls::RustlsConfig,
    cfg: crate::config::TlsConfig,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    on_hangup(stop, move || {
        let (rustls, cfg) = (rustls.clone(), cfg.clone());
        async move {
            match tokio::task::spawn_blocking(move || crate::tls::load(&cfg)).await {
                Ok(Ok(loaded)) => {
                    rustls.reload_from_config(loaded.config);
                    tracing::info!("SIGHUP: certificate and key re-read; new connections use them");
                }
                Ok(Err(e)) => tracing::error!(
                    error = %e,
                    "SIGHUP: the new certificate was not loaded; the old one is still served"
                ),
                Err(e) => tracing::error!(error = %e, "SIGHUP: certificate reload failed"),
            }
        }
    })
    .await
}

/// Runs `action` on every SIGHUP until `stop` is set. Listening at all replaces SIGHUP's
/// default action (ending the process).
async fn on_hangup<F, Fut>(mut stop: tokio::sync::watch::Receiver<bool>, action: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = stop.wait_for(|v| *v) => return,
                got = hangups.recv() => if got.is_none() { return },
            }
            action().await;
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (stop.wait_for(|v| *v).await, &action);
    }
}

/// The metrics listener (`metrics.bind`) with the recorder it renders, bound but not yet
/// serving.
pub struct MetricsListener {
    listener: TcpListener,
    addr: SocketAddr,
    handle: metrics_exporter_prometheus::PrometheusHandle,
}

/// Binds `metrics.bind` and installs the recorder, or None: metrics off, or (with a warning)
/// a port that is taken. Another instance or exporter on the port must not keep patients from
/// signing in; Prometheus shows the target down.
pub async fn metrics_listener(addr: Option<SocketAddr>) -> Option<MetricsListener> {
    let listener = match bind(addr?).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "metrics are off (metrics.bind)");
            return None;
        }
    };
    let addr = listener.local_addr().ok()?;
    // Only once there is somewhere to scrape it: a recorder nobody renders would keep every
    // histogram sample it is given.
    match crate::telemetry::install() {
        Ok(handle) => Some(MetricsListener {
            listener,
            addr,
            handle,
        }),
        Err(e) => {
            tracing::warn!(error = %e, "metrics are off");
            None
        }
    }
}

impl MetricsListener {
    /// The address bound (the port chosen, for `:0`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves in the background until the returned sender is dropped (or sent to).
    pub fn spawn(self, services: Arc<Services>) -> tokio::sync::oneshot::Sender<()> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stopped.await;
            };
            if let Err(e) = serve_metrics(self.listener, services, self.handle, stopped).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
        stop
    }
}

/// Serves `/metrics` on its own listener (`metrics.bind`) until `shutdown` resolves; the
/// histograms are drained every few seconds meanwhile, scraped or not, so they do not grow.
pub async fn serve_metrics(
    listener: TcpListener,
    services: Arc<Services>,
    handle: metrics_exporter_prometheus::PrometheusHandle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    let upkeep = handle.clone();
    let upkeep = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    let served = axum::serve(listener, http::observe::metrics_router(services, handle))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(AppError::Serve);
    upkeep.abort();
    served
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
