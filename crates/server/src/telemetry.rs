//! Metrics and logs for the clinic's monitoring (issue 16).
//!
//! The code records through the `metrics` facade (like `tracing`, a no-op until a recorder is
//! installed); `carekey serve` installs the Prometheus recorder and serves its text on
//! `metrics.bind` (`app::serve_metrics`). Every label value is one of a fixed set of words
//! (`&'static str`, an HTTP status, or a store vocabulary word): never an identifier, a
//! username, an address or a phone number, so a scrape can be shipped anywhere without
//! becoming PHI.
//!
//! This module sits under every layer (the domain, delivery and store record through `names`);
//! it imports only configuration and the store's words.
//!
//! The queue gauges (outbox by channel and state, oldest waiting message, recovery requests
//! waiting) are read from the database at scrape time, so with several instances on one
//! PostgreSQL every instance reports the same numbers: aggregate them with `max`, not `sum`.

use std::io::IsTerminal;
use std::sync::Mutex;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::Iterable;

use crate::config::LogFormat;
use crate::store::entities::outbox::{Channel, Status};
use crate::store::stats;

/// Every metric's name, in one place for the README and the tests.
pub mod names {
    pub const HTTP_REQUESTS: &str = "carekey_http_requests_total";
    pub const HTTP_DURATION: &str = "carekey_http_request_duration_seconds";
    pub const ARGON2_QUEUE_DEPTH: &str = "carekey_argon2_queue_depth";
    pub const ARGON2_QUEUE_WAIT: &str = "carekey_argon2_queue_wait_seconds";
    pub const BUSY_ANSWERS: &str = "carekey_busy_answers_total";
    pub const SIGNIN_SUCCESSES: &str = "carekey_signin_successes_total";
    pub const SIGNIN_PACED: &str = "carekey_signin_paced_total";
    pub const SIGNIN_FAILURES: &str = "carekey_signin_failures_total";
    pub const LOCKOUTS: &str = "carekey_lockouts_total";
    pub const RECOVERY_REQUESTS: &str = "carekey_recovery_requests_total";
    pub const RECOVERY_LAG: &str = "carekey_recovery_worker_lag_seconds";
    pub const RECOVERY_WAITING: &str = "carekey_recovery_requests_waiting";
    pub const RECOVERY_OLDEST: &str = "carekey_recovery_oldest_waiting_seconds";
    pub const OUTBOX_QUEUED: &str = "carekey_outbox_queued_total";
    pub const OUTBOX_MESSAGES: &str = "carekey_outbox_messages";
    pub const OUTBOX_OLDEST: &str = "carekey_outbox_oldest_queued_seconds";
    pub const DELIVERIES: &str = "carekey_deliveries_total";
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("cannot set up metrics: {0}")]
    Metrics(#[from] BuildError),
}

/// The process's recorder: `metrics` has one global recorder, so it is installed once and every
/// later call (tests start several servers in one process) gets the same handle.
static INSTALLED: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs the Prometheus recorder (once per process) and returns a handle that renders it.
pub fn install() -> Result<PrometheusHandle, TelemetryError> {
    // A poisoned lock only means another thread panicked while installing; the value inside
    // is still either None or a working handle.
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(h) = installed.as_ref() {
        return Ok(h.clone());
    }
    // Buckets make true Prometheus histograms (summaries cannot be aggregated across
    // instances). Seconds: requests are mostly milliseconds, a hash ~50 ms, the hashing queue
    // gives up at 2 s, and the recovery worker polls every 2 s.
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(names::HTTP_DURATION.into()),
            &[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(names::ARGON2_QUEUE_WAIT.into()),
            &[0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0],
        )?
        .set_buckets_for_metric(
            Matcher::Full(names::RECOVERY_LAG.into()),
            &[0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0],
        )?
        .install_recorder()?;
    describe();
    *installed = Some(handle.clone());
    Ok(handle)
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    use names::*;
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by endpoint (route or server function), method and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by endpoint and method"
    );
    describe_gauge!(
        ARGON2_QUEUE_DEPTH,
        "Password hashes waiting for a hashing slot (one slot per core)"
    );
    describe_histogram!(
        ARGON2_QUEUE_WAIT,
        Unit::Seconds,
        "Time a password hash waited for a slot (refused as busy after 2 s)"
    );
    describe_counter!(
        BUSY_ANSWERS,
        "Answers of \"busy, try again in a moment\", by cause (hashing_queue, conflict)"
    );
    describe_counter!(SIGNIN_SUCCESSES, "Sign-ins that opened a session");
    describe_counter!(
        SIGNIN_PACED,
        "Sign-ins paced because their address was past its share of failures this hour"
    );
    describe_counter!(
        SIGNIN_FAILURES,
        "Failed password checks, by attempt (sign_in, password_change) and reason"
    );
    describe_counter!(
        LOCKOUTS,
        "Accounts paused (temporary) or locked (hard) after failed sign-ins"
    );
    describe_counter!(
        RECOVERY_REQUESTS,
        "Forgot-password and forgot-username requests, by kind and outcome (queued, or \
         address_limit: dropped by the per-address flood check)"
    );
    describe_histogram!(
        RECOVERY_LAG,
        Unit::Seconds,
        "Time from a recovery request to the worker taking it up"
    );
    describe_gauge!(
        RECOVERY_WAITING,
        "Recovery requests waiting for the worker (read from the database at scrape time)"
    );
    describe_gauge!(
        RECOVERY_OLDEST,
        "Age of the oldest recovery request waiting for the worker, 0 when none"
    );
    describe_counter!(
        OUTBOX_QUEUED,
        "Messages queued for delivery (committed), by channel"
    );
    describe_gauge!(
        OUTBOX_MESSAGES,
        "Outbox messages by channel and state (read from the database at scrape time)"
    );
    describe_gauge!(
        OUTBOX_OLDEST,
        "Age of the oldest message waiting to be sent (queued or sending), by channel; 0 when none"
    );
    describe_counter!(
        DELIVERIES,
        "Delivery attempts by channel and outcome (sent, retry, refused, gave_up, expired, \
         unreadable, no_transport)"
    );
}

/// Sets up logging: `RUST_LOG` decides what is logged (default CareKey's own info), `format`
/// how each line looks. In JSON every line is one object, its event's fields at the top
/// level, and a line logged while a request is handled carries the request's span
/// (`"span": {"name": "request", "request_id": …}`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "carekey=info,carekey_server=info,warn".into());
    // Colours only for a person at a terminal: in a file or a journal they are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    // try_init: a second call (none in the binary) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Sets the queue gauges from counts just read (`store::stats::queues`), at scrape time.
pub fn record_queues(q: &stats::Queues, now_ms: i64) {
    let age = |since: Option<i64>| since.map_or(0.0, |t| (now_ms - t).max(0) as f64 / 1000.0);
    // Every channel and state, zeros included: a series that vanished when its count fell to
    // zero would look like missing data, not like an empty queue.
    for channel in Channel::iter() {
        for state in Status::iter() {
            let n = q
                .outbox
                .iter()
                .find(|(c, s, _)| *c == channel && *s == state)
                .map_or(0, |(_, _, n)| *n);
            metrics::gauge!(names::OUTBOX_MESSAGES, "channel" => channel.as_str(), "state" => state.as_str())
                .set(n as f64);
        }
        let oldest = q
            .oldest_waiting
            .iter()
            .find(|(c, _)| *c == channel)
            .map(|(_, t)| *t);
        metrics::gauge!(names::OUTBOX_OLDEST, "channel" => channel.as_str()).set(age(oldest));
    }
    metrics::gauge!(names::RECOVERY_WAITING).set(q.recovery_waiting as f64);
    metrics::gauge!(names::RECOVERY_OLDEST).set(age(q.recovery_oldest));
}
