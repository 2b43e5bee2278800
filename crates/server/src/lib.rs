//! CareKey server: patient-portal sign-in and credential recovery.
//!
//! Layers, each importing only the ones below it: `http` (axum, server functions) → `domain`
//! (decisions, no HTTP) → `store` (sea-orm). `config` is read once at start-up.

pub mod app;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod http;
pub mod store;
