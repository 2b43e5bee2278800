//! `recovery_requests` table. Requests waiting for the recovery worker; deleted once handled.

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// What the visitor asked for.
    pub enum Kind {
        /// Forgot password.
        Reset = "reset",
        /// Forgot username.
        Username = "username",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recovery_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: Kind,
    /// JSON: what the visitor typed and chose.
    pub payload: String,
    /// The reference already shown to the visitor; the message will carry the same one.
    pub reference: String,
    pub ip: String,
    pub user_agent: String,
    /// Worker lease: another instance leaves the row alone until this passes.
    pub lease_until: Option<i64>,
    pub created_at: i64,
    /// The queue's order: how many requests this one's address or identifier (the larger)
    /// had made in the hour up to it. The worker takes the lowest first, oldest first among
    /// equals, so one address's flood waits behind everyone else's first request.
    pub fair_rank: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
