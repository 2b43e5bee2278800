//! `sessions` table. Server-side sessions.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 of the cookie token, hex: a database dump yields no usable session.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub account_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub revoked_at: Option<i64>,
    /// When this session's sign-in proved the password. The forced change right after a
    /// sign-in with a temporary password leans on it instead of asking for it again.
    pub password_proved_at: Option<i64>,
    pub user_agent: String,
    pub ip: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
