//! CareKey server: patient-portal sign-in and credential recovery.
//!
//! Layers, each importing only the ones below it: `http` (axum, server functions) → `domain`
//! (decisions, no HTTP) → `store` (sea-orm) and `delivery` (outbox, rendering, transports).
//! `config` is read once at start-up; `clock` (time and randomness) sits under every layer.
//! `backup` and `check` are the administrator's commands, beside `app` and `demo`; `tls` loads
//! the certificate for HTTPS without a proxy.

pub mod app;
pub mod backup;
pub mod check;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod http;
pub mod sms;
pub mod store;
pub mod telemetry;
pub mod tls;
