//! `outbox` table. Messages waiting for, or done with, delivery.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// reset_code | reset_link | username | notice | …
    pub kind: String,
    /// email | sms | voice | dev
    pub channel: String,
    pub destination: String,
    pub account_id: Option<i64>,
    pub challenge_id: Option<i64>,
    /// Rendered message (JSON). Codes live here only until sent or expired.
    pub payload: String,
    /// queued | sending | sent | failed | expired
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    /// Never deliver after this (a code must not arrive after it expired).
    pub expires_at: Option<i64>,
    /// Dispatcher lease: another instance skips the row until this passes.
    pub lease_until: Option<i64>,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
