//! `accounts` table.
//!
//! Times throughout the store are unix milliseconds (UTC) in BIGINT columns: comparisons such
//! as `expires_at > now` are then exact and identical on SQLite and PostgreSQL.

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// Who an account belongs to, and so which portal it signs in to.
    pub enum Kind {
        Patient = "patient",
        Staff = "staff",
        Admin = "admin",
    }
}

vocabulary! {
    /// Whether an account may sign in. A temporary lock is `locked_until`, not a status.
    pub enum Status {
        Active = "active",
        /// Until a reset or a staff unlock.
        Locked = "locked",
        Disabled = "disabled",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: Kind,
    pub username: String,
    /// Lower-cased copy: usernames are unique case-insensitively on both databases.
    #[sea_orm(unique)]
    pub username_lower: String,
    pub display_name: String,
    pub status: Status,
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
