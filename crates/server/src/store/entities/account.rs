//! `accounts` table.
//!
//! Times throughout the store are unix milliseconds (UTC) in BIGINT columns: comparisons such
//! as `expires_at > now` are then exact and identical on SQLite and PostgreSQL.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// patient | staff | admin
    pub kind: String,
    pub username: String,
    /// Lower-cased copy: usernames are unique case-insensitively on both databases.
    #[sea_orm(unique)]
    pub username_lower: String,
    pub display_name: String,
    /// active | locked (until reset or staff unlock) | disabled
    pub status: String,
    pub lock_reason: Option<String>,
    pub must_change_password: bool,
    /// Consecutive failed sign-ins; drives the lockout schedule (SECURITY.md A1).
    pub failed_sign_ins: i32,
    /// Temporary lock end, unix ms.
    pub locked_until: Option<i64>,
    pub last_sign_in_at: Option<i64>,
    pub previous_sign_in_at: Option<i64>,
    pub failures_before_last_sign_in: i32,
    #[sea_orm(unique)]
    pub patient_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
