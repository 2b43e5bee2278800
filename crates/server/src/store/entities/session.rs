//! `sessions` table. Server-side sessions.

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// How far the sign-in that opened the session has got (issue 12, SECURITY.md M2).
    pub enum Stage {
        /// Signed in: the password, and the second step when the account has one.
        Full = "full",
        /// The password was right and the second step is still to come: this session reaches
        /// nothing but the second step, and only for a few minutes.
        SecondStep = "second_step",
        /// Signed in, but the clinic requires a second step the account does not have yet:
        /// this session reaches only the pages that add one (and a forced password change).
        Enrol = "enrol",
    }
}

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
    pub stage: Stage,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
