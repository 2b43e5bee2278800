//! `audit_log` table. Append-only, hash-chained record of every credential event (HIPAA 164.312(b)).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub seq: i64,
    pub at: i64,
    pub actor_account_id: Option<i64>,
    /// Username of the actor, or "anonymous".
    pub actor: String,
    pub target_account_id: Option<i64>,
    pub action: String,
    pub ip: String,
    pub user_agent: String,
    /// JSON with non-secret detail.
    pub details: String,
    pub prev_hash: String,
    /// SHA-256 over prev_hash and this row's fields: editing or deleting a row breaks the chain.
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
